import ConvNet
import Dispatch
import Testing

/// The fast paths added for speed, against the reference implementations: the fused convolution
/// and ReLU, the single-channel (`colsᵀ`) convolution layout, Winograd's 3x3 and 7x7 convolutions, images
/// split into several groups per thread, GEMM split over threads, concurrent and nested parallel regions, max pooling's routing
/// with ties, in-place optimizer updates and gradient accumulation, and bit-identical training.
/// No timing here: `convnet bench` measures speed.
@Suite struct PerformancePathTests {
    struct ConvCase: CustomTestStringConvertible, Sendable {
        let input: [Int], kernel: [Int], strides: (Int, Int), padding: Padding, dilation: (Int, Int)
        var testDescription: String { "in \(input) k \(kernel) s \(strides) \(padding) d \(dilation)" }
    }

    /// LeNet's and conv4x7's first layers (one input channel), strided and dilated single-channel
    /// layers, a pointwise layer, and batches large enough that every thread works through several
    /// groups of images (the im2col buffer holds only a few of these images).
    static let convCases: [ConvCase] = [
        ConvCase(input: [64, 28, 28, 1], kernel: [5, 5, 1, 6], strides: (1, 1), padding: .same, dilation: (1, 1)),
        ConvCase(input: [9, 28, 28, 1], kernel: [7, 7, 1, 32], strides: (1, 1), padding: .valid, dilation: (1, 1)),
        ConvCase(input: [5, 13, 11, 1], kernel: [3, 4, 1, 3], strides: (2, 3), padding: .same, dilation: (1, 1)),
        ConvCase(input: [3, 12, 12, 1], kernel: [3, 3, 1, 2], strides: (1, 2), padding: .explicit(top: 2, bottom: 0, left: 1, right: 3),
                 dilation: (2, 2)),
        ConvCase(input: [7, 6, 6, 24], kernel: [1, 1, 24, 40], strides: (1, 1), padding: .valid, dilation: (1, 1)),
        ConvCase(input: [5, 40, 40, 16], kernel: [5, 5, 16, 8], strides: (1, 1), padding: .same, dilation: (1, 1)),
        ConvCase(input: [6, 16, 16, 12], kernel: [3, 3, 12, 20], strides: (2, 2), padding: .same, dilation: (1, 2)),
        // Winograd F(2x2, 3x3): even and odd output sizes, every padding, several groups per thread.
        ConvCase(input: [3, 9, 7, 16], kernel: [3, 3, 16, 24], strides: (1, 1), padding: .same, dilation: (1, 1)),
        ConvCase(input: [2, 8, 8, 8], kernel: [3, 3, 8, 16], strides: (1, 1), padding: .valid, dilation: (1, 1)),
        ConvCase(input: [4, 7, 10, 8], kernel: [3, 3, 8, 8], strides: (1, 1), padding: .explicit(top: 2, bottom: 0, left: 0, right: 1),
                 dilation: (1, 1)),
        ConvCase(input: [9, 16, 16, 64], kernel: [3, 3, 64, 128], strides: (1, 1), padding: .same, dilation: (1, 1)),
        // Winograd's backward pass: one image (a single task with threaded GEMMs), and two groups per thread.
        ConvCase(input: [1, 11, 9, 16], kernel: [3, 3, 16, 8], strides: (1, 1), padding: .same, dilation: (1, 1)),
        ConvCase(input: [8, 31, 31, 64], kernel: [3, 3, 64, 64], strides: (1, 1), padding: .valid, dilation: (1, 1)),
        // Winograd F(2x2, 7x7): odd output sizes with every padding, one image, several groups per thread.
        ConvCase(input: [3, 13, 11, 8], kernel: [7, 7, 8, 16], strides: (1, 1), padding: .same, dilation: (1, 1)),
        ConvCase(input: [1, 9, 10, 16], kernel: [7, 7, 16, 8], strides: (1, 1), padding: .valid, dilation: (1, 1)),
        ConvCase(input: [4, 8, 9, 8], kernel: [7, 7, 8, 8], strides: (1, 1), padding: .explicit(top: 3, bottom: 0, left: 1, right: 2),
                 dilation: (1, 1)),
        ConvCase(input: [24, 22, 22, 32], kernel: [7, 7, 32, 64], strides: (1, 1), padding: .valid, dilation: (1, 1)),
        // airbench's 2x2 whitening layer: several im2col groups per thread.
        ConvCase(input: [200, 31, 31, 3], kernel: [2, 2, 3, 24], strides: (1, 1), padding: .valid, dilation: (1, 1)),
    ]

    static func random(_ shape: [Int], seed: UInt64) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        return Tensor.randomUniform(shape: shape, low: -1, high: 1, generator: &generator)
    }

    @Test(arguments: convCases)
    func convolutionMatchesReference(_ c: ConvCase) throws {
        let shape = try ConvolutionShape(input: c.input, kernel: c.kernel, bias: [c.kernel[3]], strides: c.strides,
                                         padding: c.padding, dilation: c.dilation)
        let x = Self.random(c.input, seed: 1), w = Self.random(c.kernel, seed: 2), b = Self.random([c.kernel[3]], seed: 3)
        let dz = Self.random(shape.outputShape, seed: 4)
        let fast = ConvolutionFast.forward(input: x.scalars, kernel: w.scalars, bias: b.scalars, shape: shape)
        let reference = ConvolutionReference.forward(input: x.scalars, kernel: w.scalars, bias: b.scalars, shape: shape)
        // 1e-3: outputs reach about 25 here, and F(4x4, 3x3) Winograd is within about 1.2e-5 of the largest.
        #expect(allClose(fast, reference, absolute: 1e-3, relative: 1e-4), "forward: \(maxDifference(fast, reference))")
        let fastBack = ConvolutionFast.backward(input: x.scalars, kernel: w.scalars, upstream: dz.scalars, shape: shape)
        let refBack = ConvolutionReference.backward(input: x.scalars, kernel: w.scalars, upstream: dz.scalars, shape: shape)
        #expect(allClose(fastBack.input ?? [], refBack.input, absolute: 1e-3, relative: 1e-4), "dA")
        #expect(allClose(fastBack.kernel, refBack.kernel, absolute: 1e-3, relative: 1e-4), "dW")
        #expect(allClose(fastBack.bias, refBack.bias, absolute: 1e-3, relative: 1e-4), "db")
        let withoutInput = ConvolutionFast.backward(input: x.scalars, kernel: w.scalars, upstream: dz.scalars, shape: shape,
                                                    needInput: false)
        #expect(withoutInput.input == nil && withoutInput.kernel == fastBack.kernel && withoutInput.bias == fastBack.bias)
        // A frozen kernel: no kernel gradient, and the others bit for bit as before.
        let withoutKernel = ConvolutionFast.backward(input: x.scalars, kernel: w.scalars, upstream: dz.scalars, shape: shape,
                                                     needKernel: false)
        #expect(withoutKernel.kernel.isEmpty && withoutKernel.input == fastBack.input && withoutKernel.bias == fastBack.bias)
    }

    /// `forward(relu: true)` is `max(0, Z)`, and `backward(reluOutput:)` masks the upstream gradient.
    @Test(arguments: convCases)
    func fusedReLUMatchesReference(_ c: ConvCase) throws {
        let shape = try ConvolutionShape(input: c.input, kernel: c.kernel, bias: [c.kernel[3]], strides: c.strides,
                                         padding: c.padding, dilation: c.dilation)
        let x = Self.random(c.input, seed: 5), w = Self.random(c.kernel, seed: 6), b = Self.random([c.kernel[3]], seed: 7)
        let dy = Self.random(shape.outputShape, seed: 8)
        let y = ConvolutionFast.forward(input: x.scalars, kernel: w.scalars, bias: b.scalars, shape: shape, relu: true)
        let z = ConvolutionReference.forward(input: x.scalars, kernel: w.scalars, bias: b.scalars, shape: shape)
        #expect(allClose(y, z.map { max($0, 0) }, absolute: 1e-3, relative: 1e-4))
        let fast = ConvolutionFast.backward(input: x.scalars, kernel: w.scalars, upstream: dy.scalars, shape: shape,
                                            reluOutput: y)
        let masked = zip(dy.scalars, y).map { $1 > 0 ? $0 : 0 }
        let reference = ConvolutionReference.backward(input: x.scalars, kernel: w.scalars, upstream: masked, shape: shape)
        #expect(allClose(fast.input ?? [], reference.input, absolute: 1e-3, relative: 1e-4), "dA")
        #expect(allClose(fast.kernel, reference.kernel, absolute: 1e-3, relative: 1e-4), "dW")
        #expect(allClose(fast.bias, reference.bias, absolute: 1e-3, relative: 1e-4), "db")
    }

    /// On a tape, the fast convolution keeps its patches for the backward pass: the gradients are
    /// exactly those of a backward pass that builds them again.
    @Test(arguments: convCases)
    func keptPatchesGiveTheSameGradients(_ c: ConvCase) throws {
        let shape = try ConvolutionShape(input: c.input, kernel: c.kernel, bias: [c.kernel[3]], strides: c.strides,
                                         padding: c.padding, dilation: c.dilation)
        let x = Self.random(c.input, seed: 91), w = Self.random(c.kernel, seed: 92), b = Self.random([c.kernel[3]], seed: 93)
        let weights = Self.random(shape.outputShape, seed: 94)
        let tape = GradientTape()
        let (tx, tw, tb) = (tape.watch(x), tape.watch(w), tape.watch(b))
        let y = try conv2d(tx, kernel: tw, bias: tb, strides: c.strides, padding: c.padding, dilation: c.dilation)
        let gradients = try tape.gradient(of: (y * weights).sum(), withRespectTo: [tx, tw, tb])
        let rebuilt = ConvolutionFast.backward(input: x.scalars, kernel: w.scalars, upstream: weights.scalars, shape: shape)
        #expect(gradients[0].scalars == rebuilt.input)
        #expect(gradients[1].scalars == rebuilt.kernel)
        #expect(gradients[2].scalars == rebuilt.bias)
    }

    /// A `Conv2D` layer with ReLU (which fuses the two) computes `relu(conv2d(...))` and its gradients.
    @Test func conv2DLayerWithReLUMatchesSeparateOps() throws {
        var generator = RandomGenerator(seed: 11)
        var layer = Conv2D(5, kernelSize: 3, padding: .same, activation: .relu)
        try layer.build(inputShapes: [[9, 9, 3]], generator: &generator)
        let x = Self.random([4, 9, 9, 3], seed: 12), weights = Self.random([4, 9, 9, 5], seed: 13)
        guard let kernel = layer.kernel, let bias = layer.bias else { throw FixtureError("layer not built") }

        let tape = GradientTape()
        let (wk, wb, wx) = (tape.watch(kernel), tape.watch(bias), tape.watch(x))
        (layer.kernel, layer.bias) = (wk, wb)
        var context = ForwardContext(training: true)
        let fused = try layer.forward([wx], context: &context)
        let fusedGradients = try tape.gradient(of: (fused * weights).sum(), withRespectTo: [wx, wk, wb])

        let separateTape = GradientTape()
        let (sk, sb, sx) = (separateTape.watch(kernel), separateTape.watch(bias), separateTape.watch(x))
        let separate = relu(try conv2d(sx, kernel: sk, bias: sb, padding: .same, implementation: .reference))
        let separateGradients = try separateTape.gradient(of: (separate * weights).sum(), withRespectTo: [sx, sk, sb])

        #expect(allClose(fused.scalars, separate.scalars, absolute: 1e-5, relative: 1e-5))
        for (a, b) in zip(fusedGradients, separateGradients) {
            #expect(allClose(a.scalars, b.scalars, absolute: 1e-4, relative: 1e-4))
        }
    }

    /// GEMM split by rows and by columns (including a width that is not a multiple of the split
    /// alignment), with transposes and strided rows, against the triple loop.
    @Test func threadedGEMMMatchesReference() throws {
        var generator = RandomGenerator(seed: 21)
        for (m, n, k) in [(700, 40, 300), (20, 333, 400), (64, 517, 260)] {
            for (transposeA, transposeB) in [(false, false), (true, false), (false, true), (true, true)] {
                let lda = (transposeA ? m : k) + 2, ldb = (transposeB ? k : n) + 3, ldc = n + 1
                let a = Tensor.randomUniform(shape: [(transposeA ? k : m) * lda], low: -1, high: 1, generator: &generator).scalars
                let b = Tensor.randomUniform(shape: [(transposeB ? n : k) * ldb], low: -1, high: 1, generator: &generator).scalars
                var fast = Tensor.randomUniform(shape: [m * ldc], low: -1, high: 1, generator: &generator).scalars
                var reference = fast
                a.withUnsafeBufferPointer { a in
                    b.withUnsafeBufferPointer { b in
                        fast.withUnsafeMutableBufferPointer { c in
                            GEMM.multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.5,
                                          a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb, beta: 1.5,
                                          c: c.baseAddress!, ldc: ldc)
                        }
                        reference.withUnsafeMutableBufferPointer { c in
                            GEMM.reference(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.5,
                                           a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb, beta: 1.5,
                                           c: c.baseAddress!, ldc: ldc)
                        }
                    }
                }
                #expect(allClose(fast, reference, absolute: 1e-3, relative: 1e-4),
                        "m \(m) n \(n) k \(k) tA \(transposeA) tB \(transposeB): \(maxDifference(fast, reference))")
            }
        }
    }

    /// Several threads running parallel kernels at once (so regions nest inside others or run on
    /// the calling thread) get exactly the results of one thread.
    @Test func concurrentCallersGetTheSameResults() throws {
        let shape = try ConvolutionShape(input: [16, 20, 20, 4], kernel: [3, 3, 4, 8], bias: [8], strides: (1, 1),
                                         padding: .same, dilation: (1, 1))
        let x = Self.random(shape.inputShape, seed: 31), w = Self.random(shape.kernelShape, seed: 32)
        let b = Self.random([8], seed: 33), dz = Self.random(shape.outputShape, seed: 34)
        let expected = ConvolutionFast.forward(input: x.scalars, kernel: w.scalars, bias: b.scalars, shape: shape)
        let expectedBack = ConvolutionFast.backward(input: x.scalars, kernel: w.scalars, upstream: dz.scalars, shape: shape)
        let agreed = Synchronized(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let output = ConvolutionFast.forward(input: x.scalars, kernel: w.scalars, bias: b.scalars, shape: shape)
            let back = ConvolutionFast.backward(input: x.scalars, kernel: w.scalars, upstream: dz.scalars, shape: shape)
            if output == expected, back.input == expectedBack.input, back.kernel == expectedBack.kernel,
               back.bias == expectedBack.bias {
                agreed.increment()
            }
        }
        #expect(agreed.value == 8)
    }

    /// Max pooling routes each gradient to the first maximum of its window, ties included, whether
    /// the forward output is passed in (as the op does) or recomputed.
    @Test func maxPoolingRoutesTiesLikeTheReference() throws {
        var generator = RandomGenerator(seed: 41)
        let input = [6, 9, 9, 5]
        let x = (0..<input.reduce(1, *)).map { _ in Float(generator.next() % 3) }  // many ties
        let shape = try PoolingShape(op: "test", input: input, size: (3, 3), strides: (2, 2), padding: .same)
        let dz = Self.random(shape.outputShape, seed: 42).scalars
        let output = PoolingFast.forward(input: x, mode: .max, shape: shape)
        let reference = PoolingReference.backward(input: x, upstream: dz, mode: .max, shape: shape)
        #expect(PoolingFast.backward(input: x, upstream: dz, mode: .max, shape: shape, output: output) == reference)
        #expect(PoolingFast.backward(input: x, upstream: dz, mode: .max, shape: shape) == reference)
    }

    /// The same for windows that share no input element (`routeToDisjointMaxima`: written, not
    /// added, 8 channels at a time with spare lanes), for channel counts below, at and above a
    /// multiple of 8, odd input sizes that leave columns uncovered, strides wider than the window
    /// and padding; exactly the reference's gradients.
    @Test(arguments: [1, 3, 6, 8, 11, 16, 21])
    func disjointMaxPoolingRoutesLikeTheReference(channels: Int) throws {
        var generator = RandomGenerator(seed: UInt64(60 + channels))
        let cases: [(input: [Int], size: (Int, Int), strides: (Int, Int), padding: Padding)] = [
            ([5, 28, 28, channels], (2, 2), (2, 2), .valid),
            ([3, 9, 11, channels], (2, 2), (2, 2), .valid),
            ([3, 9, 11, channels], (2, 3), (3, 4), .valid),
            ([2, 7, 10, channels], (3, 3), (3, 3), .same),
            ([1, 1, 5, channels], (1, 2), (1, 2), .valid),
        ]
        for c in cases {
            let shape = try PoolingShape(op: "test", input: c.input, size: c.size, strides: c.strides, padding: c.padding)
            #expect(shape.windowsAreDisjoint)
            let x = (0..<c.input.reduce(1, *)).map { _ in Float(generator.next() % 3) }  // many ties
            let dz = (0..<shape.outputShape.reduce(1, *)).map { _ in Float(generator.next() % 1000) / 100 - 5 }
            let reference = PoolingReference.backward(input: x, upstream: dz, mode: .max, shape: shape)
            let routedLikeTheReference = PoolingFast.backward(input: x, upstream: dz, mode: .max, shape: shape) == reference
            #expect(routedLikeTheReference, "\(c)")
        }
    }

    /// Adam on tensors large enough to be split over threads follows the formula element by element,
    /// and leaves other holders of the weights' old storage untouched (copy on write still applies).
    @Test func adamUpdatesLargeTensorsElementwise() throws {
        let w0 = Self.random([300, 257], seed: 51), g = Self.random([300, 257], seed: 52)
        var weights = [w0]
        var adam = Adam(learningRate: 0.01)
        try adam.update(&weights, gradients: [g])
        #expect(w0 == Self.random([300, 257], seed: 51))
        let (b1, b2, eps, lr): (Float, Float, Float, Float) = (0.9, 0.999, 1e-8, 0.01)
        let expected = zip(w0.scalars, g.scalars).map { w, g -> Float in
            let v = (1 - b1) * g, s = (1 - b2) * g * g
            return w - lr * (v / (1 - b1)) / (s / (1 - b2) + eps).squareRoot()
        }
        #expect(allClose(weights[0].scalars, expected, absolute: 1e-6, relative: 1e-5))
    }

    /// A tensor used several times, with the same shape and broadcast, accumulates its gradients.
    @Test func gradientsAccumulateOverUses() throws {
        let tape = GradientTape()
        let x = tape.watch(Self.random([4, 3], seed: 61)), bias = tape.watch(Self.random([3], seed: 62))
        let y = try (x * x + x + bias + bias).sum()
        let gradients = try tape.gradient(of: y, withRespectTo: [x, bias])
        #expect(allClose(gradients[0].scalars, x.scalars.map { 2 * $0 + 1 }))
        #expect(gradients[1].scalars == [8, 8, 8])
    }

    /// `trainOnBatch` is one step of `fit`.
    @Test func trainOnBatchMatchesOneFitStep() throws {
        var fitted = try ModelZoo.model(named: "lenet5", seed: 3)
        fitted.compile(optimizer: Adam(), loss: .sparseCategoricalCrossentropy(), metrics: [])
        var stepped = fitted
        let x = Self.random([32, 28, 28, 1], seed: 71)
        let labels = (0..<32).map { $0 % 10 }
        try fitted.fit(x: x, y: labels, epochs: 1, batchSize: 32, shuffle: false, verbosity: .silent)
        var context = ForwardContext(training: true)
        _ = try stepped.trainOnBatch(Batch(inputs: x, labels: labels), context: &context)
        #expect(fitted.trainableWeights == stepped.trainableWeights)
    }

    /// LeNet-5 at batch 64 takes every parallel path (convolution tasks, split GEMMs, pooling,
    /// the optimizer); two runs from one seed end with bit-identical weights.
    @Test func parallelTrainingIsDeterministic() throws {
        func train() throws -> [Tensor] {
            var model = try ModelZoo.model(named: "lenet5", seed: 5)
            model.compile(optimizer: Adam(), loss: .sparseCategoricalCrossentropy(), metrics: [])
            var context = ForwardContext(training: true)
            for step in 0..<3 {
                let batch = Batch(inputs: Self.random([64, 28, 28, 1], seed: 80 + UInt64(step)),
                                  labels: (0..<64).map { ($0 * 7 + step) % 10 })
                _ = try model.trainOnBatch(batch, context: &context)
            }
            return model.trainableWeights
        }
        #expect(try train() == train())
    }
}

/// A counter that threads may increment.
private final class Synchronized: @unchecked Sendable {
    private let lock = DispatchSemaphore(value: 1)
    private var count: Int
    init(_ count: Int) { self.count = count }
    func increment() { lock.wait(); count += 1; lock.signal() }
    var value: Int { lock.wait(); defer { lock.signal() }; return count }
}
