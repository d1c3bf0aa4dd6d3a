import ConvNet
import Testing

/// Batch normalization with a fused activation (`batchNormTraining(activation:)`,
/// `batchNormInference(activation:)`) and its use by `Model.forward` for `BatchNormalization` →
/// `Activation`: equal to the two fast ops to the last bit, close to the reference loops, and
/// checked by finite differences.
@Suite struct BatchNormalizationActivationFusionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let shape: [Int], activation: ActivationFunction, training: Bool
        var testDescription: String { "\(shape) \(activation) \(training ? "training" : "inference")" }
    }

    /// airbench94's channel counts (24, 64), one with a tail of 5 channels past the eight-lane groups,
    /// fewer channels than a lane group, and rows enough for several 64-row blocks on each thread.
    static let cases: [Case] = [[4, 7, 7, 24], [2, 5, 5, 64], [3, 4, 6, 13], [2, 3, 3, 3], [64, 8, 8, 16]].flatMap { shape in
        [ActivationFunction.relu, .gelu].flatMap { activation in
            [true, false].map { Case(shape: shape, activation: activation, training: $0) }
        }
    }

    static func random(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        return Tensor.randomUniform(shape: shape, low: low, high: high, generator: &generator)
    }

    /// The output and the gradients of `Σ weights ⊙ f(x, γ, β)` with respect to x, γ and β. The input
    /// is offset per channel (up to ±2) and scaled (up to 3), so that the statistics matter.
    static func evaluate(_ c: Case, seed: UInt64, _ f: (Tensor, Tensor, Tensor, Tensor, Tensor) throws -> Tensor) throws -> [[Float]] {
        let channels = c.shape[3]
        let x = try random(c.shape, seed: seed) * 3 + random([channels], seed: seed + 1) * 2
        let gamma = random([channels], seed: seed + 2, low: 0.5, high: 1.5), beta = random([channels], seed: seed + 3)
        let mean = random([channels], seed: seed + 4), variance = random([channels], seed: seed + 5, low: 0.5, high: 4)
        let tape = GradientTape()
        let (tx, tg, tb) = (tape.watch(x), tape.watch(gamma), tape.watch(beta))
        let y = try f(tx, tg, tb, mean, variance)
        let gradients = try tape.gradient(of: (y * random(y.shape, seed: seed + 6)).sum(), withRespectTo: [tx, tg, tb])
        return [y.scalars] + gradients.map(\.scalars)
    }

    static func normalize(_ c: Case, activation: ActivationFunction, implementation: Implementation = .fast)
        -> (Tensor, Tensor, Tensor, Tensor, Tensor) throws -> Tensor {
        { x, gamma, beta, mean, variance in
            c.training
                ? try batchNormTraining(x, gamma: gamma, beta: beta, epsilon: 1e-3, activation: activation,
                                        implementation: implementation).output
                : try batchNormInference(x, gamma: gamma, beta: beta, mean: mean, variance: variance, epsilon: 1e-3,
                                         activation: activation, implementation: implementation)
        }
    }

    @Test(arguments: cases)
    func equalsTheTwoFastOpsBitForBit(_ c: Case) throws {
        let fused = try Self.evaluate(c, seed: 1, Self.normalize(c, activation: c.activation))
        let linear = Self.normalize(c, activation: .linear)
        let separate = try Self.evaluate(c, seed: 1) { activate(try linear($0, $1, $2, $3, $4), c.activation) }
        for (name, (a, b)) in zip(["output", "dx", "dγ", "dβ"], zip(fused, separate)) {
            #expect(a == b, "\(name): largest difference \(maxDifference(a, b))")
        }
    }

    @Test(arguments: cases)
    func matchesTheReference(_ c: Case) throws {
        let fast = try Self.evaluate(c, seed: 5, Self.normalize(c, activation: c.activation))
        let reference = try Self.evaluate(c, seed: 5, Self.normalize(c, activation: c.activation, implementation: .reference))
        for (name, (a, b)) in zip(["output", "dx", "dγ", "dβ"], zip(fast, reference)) {
            #expect(allClose(a, b, absolute: 1e-4, relative: 1e-4), "\(name): largest difference \(maxDifference(a, b))")
        }
    }

    /// An activation without a fused loop (sigmoid) runs after the op: the same as the two ops.
    @Test func otherActivationsRunAfterTheOp() throws {
        let c = Case(shape: [3, 4, 4, 8], activation: .sigmoid, training: true)
        let fused = try Self.evaluate(c, seed: 7, Self.normalize(c, activation: .sigmoid))
        let separate = try Self.evaluate(c, seed: 7) { activate(try Self.normalize(c, activation: .linear)($0, $1, $2, $3, $4), .sigmoid) }
        #expect(fused == separate)
    }

    /// GELU is smooth, so its fused gradient can be checked by finite differences in both modes (ReLU's
    /// kink at 0 moves with the batch statistics; its fused gradient equals the separate ops' above).
    @Test(arguments: [true, false], [Implementation.reference, .fast])
    func finiteDifferences(_ training: Bool, _ implementation: Implementation) throws {
        let x = GradientCheck.random([3, 2, 2, 5], seed: 19, low: -2, high: 2)
        let gamma = GradientCheck.random([5], seed: 20, low: 0.5, high: 1.5), beta = GradientCheck.random([5], seed: 21)
        let f = Self.normalize(Case(shape: x.shape, activation: .gelu, training: training), activation: .gelu,
                               implementation: implementation)
        let mean = GradientCheck.random([5], seed: 22), variance = GradientCheck.random([5], seed: 23, low: 0.5, high: 2)
        try GradientCheck.check([x, gamma, beta]) { try f($0[0], $0[1], $0[2], mean, variance) }
    }

    /// A model fuses `BatchNormalization` → `Activation` pairs (after the `Conv2D` → `MaxPooling2D`
    /// pair, as airbench94); asking for the normalization's output runs the layers one by one. Both
    /// give the same output, input gradient and moving statistics, in training and in inference.
    @Test func modelFusionChangesNothingButSpeed() throws {
        let model = try Model(inputShape: [12, 11, 8], seed: 3) {
            Conv2D(16, kernelSize: 3, padding: .same, useBias: false)
            MaxPooling2D(poolSize: 2)
            BatchNormalization(momentum: 0.6, epsilon: 1e-12, scale: false)
            Activation(.gelu)
            Conv2D(16, kernelSize: 3, padding: .same)
            BatchNormalization()
            Activation(.relu)
            Flatten()
            Dense(3)
        }
        let x = Self.random([5, 12, 11, 8], seed: 31)
        for training in [true, false] {
            let fused = try forwardAndBackward(model, x, training: training, outputs: [])
            let separate = try forwardAndBackward(model, x, training: training, outputs: [2, 5])
            #expect(fused.count == 6)
            #expect(fused == separate, "training \(training)")
        }
        #expect(try forwardAndBackward(model, x, training: true, outputs: [])[2] != model.layers[2].nonTrainableWeights[0].scalars,
                "training moved the moving mean")
    }
}
