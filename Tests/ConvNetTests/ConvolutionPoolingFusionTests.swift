import ConvNet
import Testing

/// `conv2dMaxPool2d` (a stride-1 convolution and 2x2 max pooling as one op, pooled inside
/// Winograd's output transform) and its use by `Model.forward` for `Conv2D` → `MaxPooling2D`:
/// equal to the two fast ops to the last bit, close to the reference loops, and checked by finite
/// differences.
@Suite struct ConvolutionPoolingFusionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let input: [Int], kernel: [Int], padding: Padding
        var testDescription: String { "in \(input) k \(kernel) \(padding)" }
    }

    /// airbench94's layer shapes (odd and even outputs: 31 → 15, 15 → 7, 7 → 3, with a dropped last
    /// row and column), a valid-padded and an asymmetric layer, one image (one task, threaded
    /// GEMMs), a batch large enough for several image groups per thread, and a 7x7 layer.
    static let cases: [Case] = [
        Case(input: [2, 31, 31, 24], kernel: [3, 3, 24, 64], padding: .same),
        Case(input: [3, 15, 15, 64], kernel: [3, 3, 64, 256], padding: .same),
        Case(input: [4, 7, 7, 256], kernel: [3, 3, 256, 256], padding: .same),
        Case(input: [2, 10, 9, 8], kernel: [3, 3, 8, 16], padding: .valid),
        Case(input: [3, 8, 12, 16], kernel: [3, 3, 16, 8], padding: .explicit(top: 2, bottom: 0, left: 1, right: 1)),
        Case(input: [1, 12, 12, 16], kernel: [3, 3, 16, 16], padding: .same),
        Case(input: [40, 31, 31, 64], kernel: [3, 3, 64, 64], padding: .same),
        // F(2x2, 7x7): each 2x2 output tile is one pooling window.
        Case(input: [2, 16, 15, 8], kernel: [7, 7, 8, 16], padding: .valid),
    ]

    static func random(_ shape: [Int], seed: UInt64) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        return Tensor.randomUniform(shape: shape, low: -1, high: 1, generator: &generator)
    }

    /// The output and the gradients of `Σ weights ⊙ f(x, W, b)` with respect to x, W and b.
    static func evaluate(_ c: Case, seed: UInt64, kernelScale: Float = 1,
                         _ f: (Tensor, Tensor, Tensor) throws -> Tensor) throws -> [[Float]] {
        let x = random(c.input, seed: seed), w = random(c.kernel, seed: seed + 1) * kernelScale
        let b = random([c.kernel[3]], seed: seed + 2)
        let tape = GradientTape()
        let (tx, tw, tb) = (tape.watch(x), tape.watch(w), tape.watch(b))
        let y = try f(tx, tw, tb)
        let gradients = try tape.gradient(of: (y * random(y.shape, seed: seed + 3)).sum(), withRespectTo: [tx, tw, tb])
        return [y.scalars] + gradients.map(\.scalars)
    }

    @Test(arguments: cases, [false, true])
    func equalsTheTwoFastOpsBitForBit(_ c: Case, withReLU: Bool) throws {
        let fused = try Self.evaluate(c, seed: 1) { x, w, b in
            try conv2dMaxPool2d(x, kernel: w, bias: b, padding: c.padding, fusingReLU: withReLU)
        }
        let separate = try Self.evaluate(c, seed: 1) { x, w, b in
            let z = try conv2d(x, kernel: w, bias: b, padding: c.padding)
            return try maxPool2d(withReLU ? relu(z) : z, size: (2, 2))
        }
        for (name, (a, b)) in zip(["output", "dA", "dW", "db"], zip(fused, separate)) {
            #expect(a == b, "\(name): largest difference \(maxDifference(a, b))")
        }
    }

    @Test(arguments: cases)
    func matchesTheReference(_ c: Case) throws {
        let fast = try Self.evaluate(c, seed: 5) { try conv2dMaxPool2d($0, kernel: $1, bias: $2, padding: c.padding, fusingReLU: true) }
        let reference = try Self.evaluate(c, seed: 5) {
            try conv2dMaxPool2d($0, kernel: $1, bias: $2, padding: c.padding, fusingReLU: true, implementation: .reference)
        }
        // As the convolution's own tests: Winograd F(4x4, 3x3) is within about 1.2e-5 of the largest output.
        for (name, (a, b)) in zip(["output", "dA", "dW", "db"], zip(fast, reference)) {
            #expect(allClose(a, b, absolute: 1e-3, relative: 1e-4), "\(name): largest difference \(maxDifference(a, b))")
        }
    }

    /// Ties go to the first pixel of the window in scan order (with a zero kernel every output is
    /// the bias), and with ReLU a window whose maximum is not positive passes no gradient (bias −0.5).
    @Test(arguments: [Float(0.5), -0.5])
    func tiesAndDeadWindowsRouteLikeTheReference(_ bias: Float) throws {
        let c = Case(input: [2, 9, 8, 8], kernel: [3, 3, 8, 16], padding: .same)
        for withReLU in [false, true] {
            let fused = try Self.evaluate(c, seed: 9, kernelScale: 0) {
                try conv2dMaxPool2d($0, kernel: $1, bias: $2 * 0 + bias, padding: c.padding, fusingReLU: withReLU)
            }
            let reference = try Self.evaluate(c, seed: 9, kernelScale: 0) {
                try conv2dMaxPool2d($0, kernel: $1, bias: $2 * 0 + bias, padding: c.padding, fusingReLU: withReLU,
                                    implementation: .reference)
            }
            #expect(fused[0] == reference[0], "output, relu \(withReLU), bias \(bias)")
            for (a, b) in zip(fused.dropFirst(), reference.dropFirst()) {
                #expect(allClose(a, b, absolute: 1e-4, relative: 1e-4), "gradients, relu \(withReLU), bias \(bias)")
            }
            #expect(fused[2].contains { $0 != 0 } == !(withReLU && bias < 0), "dW is zero exactly when every window is dead")
        }
    }

    /// With the default step (1e-2): F(4x4, 3x3)'s rounding, about 1e-5 of the output, divided by a
    /// step of 1e-3 is already as large as the tolerance.
    @Test(arguments: [false, true])
    func finiteDifferences(_ withReLU: Bool) throws {
        let x = GradientCheck.random([2, 6, 5, 8], seed: 21), w = GradientCheck.random([3, 3, 8, 8], seed: 22)
        let b = GradientCheck.random([8], seed: 23)
        try GradientCheck.check([x, w, b]) {
            try conv2dMaxPool2d($0[0], kernel: $0[1], bias: $0[2], padding: .same, fusingReLU: withReLU)
        }
    }

    /// A model fuses `Conv2D` → `MaxPooling2D` pairs; asking for the convolution's output (which
    /// must then exist) runs the layers one by one. Both give the same output and input gradient.
    @Test func modelFusionChangesNothingButSpeed() throws {
        let model = try Model(inputShape: [12, 11, 8], seed: 3) {
            Conv2D(16, kernelSize: 3, padding: .same, activation: .relu)
            MaxPooling2D(poolSize: 2)
            Conv2D(16, kernelSize: 3, padding: .same, useBias: false)
            MaxPooling2D(poolSize: 2)
            Flatten()
            Dense(3)
        }
        let x = Self.random([5, 12, 11, 8], seed: 31)
        func run(outputs: Set<Int>) throws -> [[Float]] {
            var copy = model, context = ForwardContext(training: true)
            let tape = GradientTape()
            let watched = tape.watch(x)
            let y = try copy.forward(watched, context: &context, outputs: outputs).output
            return [y.scalars, try tape.gradient(of: (y * y).sum(), withRespectTo: [watched])[0].scalars]
        }
        let fused = try run(outputs: []), separate = try run(outputs: [0, 2])
        #expect(fused[0] == separate[0], "output")
        #expect(fused[1] == separate[1], "input gradient")
    }
}
