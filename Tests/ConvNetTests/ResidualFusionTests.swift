import ConvNet
import Testing

/// Batch normalization that adds a residual block's shortcut before its activation
/// (`batchNormTraining(adding:)`, `batchNormInference(adding:)`), and its use by `Model.forward` for
/// `BatchNormalization` → `Add` → `Activation`, the end of every ResNet block: equal to the separate
/// fast ops to the last bit, close to the reference loops, and checked by finite differences.
@Suite struct ResidualFusionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let shape: [Int], activation: ActivationFunction, training: Bool
        var testDescription: String { "\(shape) \(activation) \(training ? "training" : "inference")" }
    }

    /// ResNet-20's channel counts (16, 32), a tail of 5 channels past the eight-lane groups, fewer
    /// channels than a lane group, and rows enough for several 64-row blocks on each thread; with
    /// ReLU (the ResNets), GELU, and no activation (an `Add` with nothing after it).
    static let cases: [Case] = [[4, 8, 8, 16], [2, 4, 4, 32], [3, 4, 6, 13], [2, 3, 3, 3], [64, 8, 8, 16]].flatMap { shape in
        [ActivationFunction.relu, .gelu, .linear].flatMap { activation in
            [true, false].map { Case(shape: shape, activation: activation, training: $0) }
        }
    }

    static func random(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        return Tensor.randomUniform(shape: shape, low: low, high: high, generator: &generator)
    }

    /// `f(x, γ, β, residual)` for the case's mode: the fused op, or with `separate` batch
    /// normalization, the addition and the activation as three ops.
    static func normalize(_ c: Case, separate: Bool = false, implementation: Implementation = .fast)
        -> (Tensor, Tensor, Tensor, Tensor) throws -> Tensor {
        let channels = c.shape[3]
        let mean = random([channels], seed: 40), variance = random([channels], seed: 41, low: 0.5, high: 4)
        return { x, gamma, beta, residual in
            let activation = separate ? ActivationFunction.linear : c.activation, adding = separate ? nil : residual
            let y = c.training
                ? try batchNormTraining(x, gamma: gamma, beta: beta, epsilon: 1e-3, activation: activation, adding: adding,
                                        implementation: implementation).output
                : try batchNormInference(x, gamma: gamma, beta: beta, mean: mean, variance: variance, epsilon: 1e-3,
                                         activation: activation, adding: adding, implementation: implementation)
            return separate ? activate(try residual + y, c.activation) : y
        }
    }

    /// The output and the gradients of `Σ weights ⊙ f(x, γ, β, residual)` with respect to all four.
    /// The input is offset per channel (up to ±2) and scaled (up to 3), so that the statistics matter.
    static func evaluate(_ c: Case, seed: UInt64, _ f: (Tensor, Tensor, Tensor, Tensor) throws -> Tensor) throws -> [[Float]] {
        let channels = c.shape[3]
        let x = try random(c.shape, seed: seed) * 3 + random([channels], seed: seed + 1) * 2
        let gamma = random([channels], seed: seed + 2, low: 0.5, high: 1.5), beta = random([channels], seed: seed + 3)
        let residual = random(c.shape, seed: seed + 4, low: -2, high: 2)
        let tape = GradientTape()
        let watched = [x, gamma, beta, residual].map(tape.watch)
        let y = try f(watched[0], watched[1], watched[2], watched[3])
        let gradients = try tape.gradient(of: (y * random(y.shape, seed: seed + 6)).sum(), withRespectTo: watched)
        return [y.scalars] + gradients.map(\.scalars)
    }

    static let names = ["output", "dx", "dγ", "dβ", "d residual"]

    @Test(arguments: cases)
    func equalsTheSeparateFastOpsBitForBit(_ c: Case) throws {
        let fused = try Self.evaluate(c, seed: 1, Self.normalize(c))
        let separate = try Self.evaluate(c, seed: 1, Self.normalize(c, separate: true))
        #expect(fused.count == 5)
        for (name, (a, b)) in zip(Self.names, zip(fused, separate)) {
            #expect(a == b, "\(name): largest difference \(maxDifference(a, b))")
        }
    }

    @Test(arguments: cases)
    func matchesTheReference(_ c: Case) throws {
        let fast = try Self.evaluate(c, seed: 5, Self.normalize(c))
        let reference = try Self.evaluate(c, seed: 5, Self.normalize(c, implementation: .reference))
        for (name, (a, b)) in zip(Self.names, zip(fast, reference)) {
            #expect(allClose(a, b, absolute: 1e-4, relative: 1e-4), "\(name): largest difference \(maxDifference(a, b))")
        }
    }

    /// With GELU (smooth) and without an activation, by finite differences in both modes and both
    /// implementations, for all four inputs.
    @Test(arguments: [true, false], [Implementation.reference, .fast])
    func finiteDifferences(_ training: Bool, _ implementation: Implementation) throws {
        let x = GradientCheck.random([3, 2, 2, 5], seed: 19, low: -2, high: 2)
        let gamma = GradientCheck.random([5], seed: 20, low: 0.5, high: 1.5), beta = GradientCheck.random([5], seed: 21)
        let residual = GradientCheck.random([3, 2, 2, 5], seed: 22, low: -1, high: 1)
        for activation in [ActivationFunction.gelu, .linear] {
            let f = Self.normalize(Case(shape: x.shape, activation: activation, training: training), implementation: implementation)
            try GradientCheck.check([x, gamma, beta, residual]) { try f($0[0], $0[1], $0[2], $0[3]) }
        }
    }

    @Test func aResidualOfAnotherShapeIsRejected() throws {
        let x = Self.random([2, 3, 3, 4], seed: 1), gamma = Tensor(shape: [4], repeating: 1), beta = Tensor(shape: [4], repeating: 0)
        #expect(throws: ConvNetError.self) {
            try batchNormTraining(x, gamma: gamma, beta: beta, adding: Self.random([2, 3, 3, 5], seed: 2))
        }
        #expect(throws: ConvNetError.self) {
            try batchNormInference(x, gamma: gamma, beta: beta, mean: beta, variance: gamma, adding: Self.random([2, 9, 4], seed: 2))
        }
    }

    /// ResNet-20 runs each block's last batch normalization, the join and its ReLU as one op; asking
    /// for the normalizations' outputs (`forward(outputs:)`) runs every layer alone. Both give the same
    /// output, input gradient and moving statistics, in training and in inference.
    @Test func modelFusionChangesNothingButSpeed() throws {
        let model = try ModelZoo.model(named: "resnet20", seed: 3)
        let normalizations = Set(model.layers.indices.filter { model.layers[$0] is BatchNormalization })
        #expect(normalizations.count == model.layers.filter { $0 is Conv2D }.count)  // one after each convolution
        let x = Self.random([4, 32, 32, 3], seed: 31)
        for training in [true, false] {
            let fused = try forwardAndBackward(model, x, training: training, outputs: [])
            let separate = try forwardAndBackward(model, x, training: training, outputs: normalizations)
            #expect(fused.count == 2 + 2 * normalizations.count)
            #expect(fused == separate, "training \(training)")
        }
    }
}
