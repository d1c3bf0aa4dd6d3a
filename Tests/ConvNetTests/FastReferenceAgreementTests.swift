import ConvNet
import Testing

/// The fast implementations (im2col + GEMM, single-pass pooling, BLAS) against the readable
/// reference loops, forward and backward, on random shapes, strides, paddings and dilations.
@Suite struct FastReferenceAgreementTests {
    /// A random padding of every kind.
    static func randomPadding(_ generator: inout RandomGenerator) -> Padding {
        switch generator.next() % 3 {
        case 0: return .valid
        case 1: return .same
        default:
            return .explicit(top: Int(generator.next() % 3), bottom: Int(generator.next() % 3),
                             left: Int(generator.next() % 3), right: Int(generator.next() % 3))
        }
    }

    /// Batch normalization through the ops, training and inference mode: outputs, batch statistics
    /// and the gradients of `x`, `γ` and `β` from a tape. The shapes span several summation blocks
    /// and threads, and channel counts that are not multiples of the vector width; the inputs sit
    /// away from zero, as activations do, which the two-pass variance must handle.
    @Test(arguments: [[2, 3], [7, 5, 5, 3], [16, 9, 9, 17], [64, 8, 8, 40]])
    func batchNormalizationAgrees(_ shape: [Int]) throws {
        var generator = RandomGenerator(seed: UInt64(shape.reduce(1, *)))
        let channels = shape[shape.count - 1]
        let x = Tensor.randomUniform(shape: shape, low: 2, high: 5, generator: &generator)
        let dy = Tensor.randomUniform(shape: shape, low: -1, high: 1, generator: &generator)
        let gamma = Tensor.randomUniform(shape: [channels], low: 0.5, high: 1.5, generator: &generator)
        let beta = Tensor.randomUniform(shape: [channels], low: -1, high: 1, generator: &generator)
        let mean = Tensor.randomUniform(shape: [channels], low: 2, high: 5, generator: &generator)
        let variance = Tensor.randomUniform(shape: [channels], low: 0.5, high: 2, generator: &generator)
        for training in [true, false] {
            func run(_ implementation: Implementation) throws -> (output: [Float], gradients: [[Float]], statistics: BatchStatistics?) {
                let tape = GradientTape()
                let (tx, tg, tb) = (tape.watch(x), tape.watch(gamma), tape.watch(beta))
                let (y, statistics): (Tensor, BatchStatistics?) = training
                    ? try batchNormTraining(tx, gamma: tg, beta: tb, implementation: implementation)
                    : (try batchNormInference(tx, gamma: tg, beta: tb, mean: mean, variance: variance, implementation: implementation), nil)
                let gradients = try tape.gradient(of: (y * dy).sum(), withRespectTo: [tx, tg, tb])
                return (y.scalars, gradients.map(\.scalars), statistics)
            }
            let (fast, reference) = (try run(.fast), try run(.reference))
            let mode = training ? "training" : "inference"
            #expect(allClose(fast.output, reference.output, absolute: 1e-5, relative: 1e-5), "\(mode) y \(shape)")
            for (index, name) in ["dx", "dγ", "dβ"].enumerated() {
                let (f, r) = (fast.gradients[index], reference.gradients[index])
                #expect(allClose(f, r, absolute: 1e-4, relative: 1e-4), "\(mode) \(name) \(shape): \(maxDifference(f, r))")
            }
            if let f = fast.statistics, let r = reference.statistics {
                #expect(allClose(f.mean, r.mean, absolute: 1e-6, relative: 1e-6), "mean \(shape)")
                #expect(allClose(f.variance, r.variance, absolute: 1e-6, relative: 1e-5), "variance \(shape)")
            }
        }
    }

    @Test func convolutionAgrees() throws {
        var generator = RandomGenerator(seed: 2024)
        var checked = 0
        while checked < 60 {
            func pick(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(generator.next() % UInt64(range.count)) }
            let input = [pick(1...3), pick(1...12), pick(1...12), pick(1...5)]
            let kernel = [pick(1...5), pick(1...5), input[3], pick(1...6)]
            let strides = (pick(1...3), pick(1...3)), dilation = (pick(1...2), pick(1...2))
            let padding = Self.randomPadding(&generator)
            guard let shape = try? ConvolutionShape(input: input, kernel: kernel, bias: nil, strides: strides,
                                                    padding: padding, dilation: dilation) else { continue }
            let x = Tensor.randomUniform(shape: input, low: -1, high: 1, generator: &generator)
            let w = Tensor.randomUniform(shape: kernel, low: -1, high: 1, generator: &generator)
            let b = Tensor.randomUniform(shape: [kernel[3]], low: -1, high: 1, generator: &generator)
            let dz = Tensor.randomUniform(shape: shape.outputShape, low: -1, high: 1, generator: &generator)

            let fast = ConvolutionFast.forward(input: x.scalars, kernel: w.scalars, bias: b.scalars, shape: shape)
            let reference = ConvolutionReference.forward(input: x.scalars, kernel: w.scalars, bias: b.scalars, shape: shape)
            #expect(allClose(fast, reference, absolute: 1e-5, relative: 1e-5), "forward \(shape): \(maxDifference(fast, reference))")

            let fastBack = ConvolutionFast.backward(input: x.scalars, kernel: w.scalars, upstream: dz.scalars, shape: shape)
            let refBack = ConvolutionReference.backward(input: x.scalars, kernel: w.scalars, upstream: dz.scalars, shape: shape)
            #expect(allClose(fastBack.input ?? [], refBack.input, absolute: 1e-4, relative: 1e-5), "dA \(shape)")
            #expect(allClose(fastBack.kernel, refBack.kernel, absolute: 1e-4, relative: 1e-5), "dW \(shape)")
            #expect(allClose(fastBack.bias, refBack.bias, absolute: 1e-4, relative: 1e-5), "db \(shape)")
            checked += 1
        }
    }

    /// One `ConvolutionDirect` loop against the reference loops (then `max(0, ·)` when `relu`) on
    /// random inputs, weights and biases in [-1, 1].
    static func expectDirectAgrees(_ shape: ConvolutionShape, loop: ConvolutionDirect.Loop, relu: Bool,
                                   _ generator: inout RandomGenerator) {
        let x = Tensor.randomUniform(shape: shape.inputShape, low: -1, high: 1, generator: &generator)
        let w = Tensor.randomUniform(shape: shape.kernelShape, low: -1, high: 1, generator: &generator)
        let b = Tensor.randomUniform(shape: [shape.outputChannels], low: -1, high: 1, generator: &generator)
        let direct = ConvolutionDirect.forward(input: x.scalars, kernel: w.scalars, bias: b.scalars, shape: shape, relu: relu, loop: loop)
        var reference = ConvolutionReference.forward(input: x.scalars, kernel: w.scalars, bias: b.scalars, shape: shape)
        if relu { reference = reference.map { max($0, 0) } }
        #expect(allClose(direct, reference, absolute: 1e-5, relative: 1e-5), "\(loop) \(shape) relu \(relu): \(maxDifference(direct, reference))")
    }

    /// The direct filter-block loop (`ConvolutionDirect`, C, in the build of the loop this CPU runs) on every kind of
    /// shape, whether or not `ConvolutionFast` would choose it: 1 to 3 blocks of 16 filters, the
    /// last one partial; strides, dilations, every padding; interior runs of four pixels and
    /// border pixels; with and without the fused ReLU.
    @Test func directConvolutionAgrees() throws {
        var generator = RandomGenerator(seed: 31)
        var checked = 0
        while checked < 80 {
            func pick(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(generator.next() % UInt64(range.count)) }
            let input = [pick(1...3), pick(1...14), pick(1...14), pick(1...7)]
            let kernel = [pick(1...5), pick(1...5), input[3], pick(1...40)]
            let strides = (pick(1...3), pick(1...3)), dilation = (pick(1...2), pick(1...2))
            guard let shape = try? ConvolutionShape(input: input, kernel: kernel, bias: [kernel[3]], strides: strides,
                                                    padding: Self.randomPadding(&generator), dilation: dilation) else { continue }
            Self.expectDirectAgrees(shape, loop: .filterBlocks, relu: checked % 2 == 1, &generator)
            checked += 1
        }
        // LeNet-5's second layer, which `ConvolutionFast` sends here on a CPU with AVX2 and FMA.
        let lenet = try ConvolutionShape(input: [64, 14, 14, 6], kernel: [5, 5, 6, 16], bias: [16], strides: (1, 1),
                                         padding: .valid, dilation: (1, 1))
        #expect(ConvolutionDirect.loop(for: lenet) == (ConvolutionDirect.isVectorised ? .filterBlocks : nil))
    }

    /// The direct pixel-run loop (single input channel, stride 1) against the reference: 1 to 3
    /// groups of six filters, the last one partial; kernels up to 7x7; every padding; rows whose
    /// width is not a multiple of 16 (the last run overlaps the one before); with and without ReLU.
    @Test func pixelRunConvolutionAgrees() throws {
        var generator = RandomGenerator(seed: 37)
        var checked = 0
        while checked < 80 {
            func pick(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(generator.next() % UInt64(range.count)) }
            let input = [pick(1...3), pick(1...20), pick(16...40), 1]
            let kernel = [pick(1...7), pick(1...7), 1, pick(1...14)]
            guard let shape = try? ConvolutionShape(input: input, kernel: kernel, bias: [kernel[3]], strides: (1, 1),
                                                    padding: Self.randomPadding(&generator), dilation: (1, 1)),
                  ConvolutionDirect.runsOverPixels(shape) else { continue }
            Self.expectDirectAgrees(shape, loop: .pixelRuns, relu: checked % 2 == 1, &generator)
            checked += 1
        }
        // LeNet-5's first layer (6 filters on one channel) runs here on a CPU with AVX2 and FMA; a
        // strided one and one with 8 filters do not.
        let lenet = try ConvolutionShape(input: [64, 28, 28, 1], kernel: [5, 5, 1, 6], bias: [6], strides: (1, 1),
                                         padding: .same, dilation: (1, 1))
        #expect(ConvolutionDirect.loop(for: lenet) == (ConvolutionDirect.isVectorised ? .pixelRuns : nil))
        let strided = try ConvolutionShape(input: [64, 28, 28, 1], kernel: [5, 5, 1, 6], bias: [6], strides: (2, 2),
                                           padding: .same, dilation: (1, 1))
        #expect(ConvolutionDirect.loop(for: strided) == nil)
        let eight = try ConvolutionShape(input: [64, 28, 28, 1], kernel: [5, 5, 1, 8], bias: [8], strides: (1, 1),
                                         padding: .same, dilation: (1, 1))
        #expect(ConvolutionDirect.loop(for: eight) != .pixelRuns)
    }

    /// The kernel gradient of the layers the pixel-run loop takes (`ConvolutionDirect.kernelGradient`,
    /// reached through `ConvolutionFast.backward`) against the reference: random single-channel
    /// layers with fewer than 8 filters, every padding, rows not a multiple of 16, with and without
    /// the ReLU mask, the input and bias gradients alongside; and LeNet-5's first layer at batch 64,
    /// whose images are split over the threads.
    @Test func pixelRunKernelGradientAgrees() throws {
        var generator = RandomGenerator(seed: 43)
        var shapes: [ConvolutionShape] = [try ConvolutionShape(input: [64, 28, 28, 1], kernel: [5, 5, 1, 6], bias: [6],
                                                               strides: (1, 1), padding: .same, dilation: (1, 1))]
        while shapes.count < 60 {
            func pick(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(generator.next() % UInt64(range.count)) }
            let input = [pick(1...4), pick(1...20), pick(16...40), 1], kernel = [pick(1...7), pick(1...7), 1, pick(1...7)]
            guard let shape = try? ConvolutionShape(input: input, kernel: kernel, bias: [kernel[3]], strides: (1, 1),
                                                    padding: Self.randomPadding(&generator), dilation: (1, 1)),
                  ConvolutionDirect.runsOverPixels(shape) else { continue }
            shapes.append(shape)
        }
        for (index, shape) in shapes.enumerated() {
            #expect(ConvolutionDirect.loop(for: shape) == (ConvolutionDirect.isVectorised ? .pixelRuns : nil))
            let x = Tensor.randomUniform(shape: shape.inputShape, low: -1, high: 1, generator: &generator).scalars
            let w = Tensor.randomUniform(shape: shape.kernelShape, low: -1, high: 1, generator: &generator).scalars
            let dz = Tensor.randomUniform(shape: shape.outputShape, low: -1, high: 1, generator: &generator).scalars
            let relu = index % 2 == 1
            let y = ConvolutionReference.forward(input: x, kernel: w, bias: nil, shape: shape).map { max($0, 0) }
            let masked = relu ? zip(dz, y).map { $1 > 0 ? $0 : 0 } : dz
            let fast = ConvolutionFast.backward(input: x, kernel: w, upstream: dz, shape: shape, needInput: index % 3 == 0,
                                                reluOutput: relu ? y : nil)
            let reference = ConvolutionReference.backward(input: x, kernel: w, upstream: masked, shape: shape)
            // Each gradient sums one product per output pixel of the batch (50,176 for LeNet-5), the
            // reference one by one in float: its own rounding grows with that count.
            let tolerance = max(1e-5, 2e-8 * Float(shape.outputShape.dropLast().reduce(1, *)))
            #expect(allClose(fast.kernel, reference.kernel, absolute: tolerance, relative: 1e-5),
                    "\(shape) relu \(relu): \(maxDifference(fast.kernel, reference.kernel))")
            #expect(allClose(fast.bias, reference.bias, absolute: tolerance, relative: 1e-5))
            if index % 3 == 0 { #expect(allClose(fast.input ?? [], reference.input, absolute: 1e-5, relative: 1e-5)) }
        }
    }

    /// Larger layers go through BLAS's multithreaded paths and the chunked im2col.
    @Test func convolutionAgreesOnLargerLayers() throws {
        var generator = RandomGenerator(seed: 7)
        for (input, kernel, padding) in [([4, 28, 28, 1], [5, 5, 1, 6], Padding.same), ([3, 16, 16, 32], [7, 7, 32, 16], .valid),
                                         ([2, 14, 14, 24], [1, 1, 24, 40], .valid)] {
            let shape = try ConvolutionShape(input: input, kernel: kernel, bias: [kernel[3]], strides: (1, 1),
                                             padding: padding, dilation: (1, 1))
            let x = Tensor.randomUniform(shape: input, low: -1, high: 1, generator: &generator)
            let w = Tensor.randomUniform(shape: kernel, low: -1, high: 1, generator: &generator)
            let b = Tensor.randomUniform(shape: [kernel[3]], low: -1, high: 1, generator: &generator)
            let dz = Tensor.randomUniform(shape: shape.outputShape, low: -1, high: 1, generator: &generator)
            let fast = ConvolutionFast.forward(input: x.scalars, kernel: w.scalars, bias: b.scalars, shape: shape)
            let reference = ConvolutionReference.forward(input: x.scalars, kernel: w.scalars, bias: b.scalars, shape: shape)
            // 1e-3: outputs reach about 50 here, and the 7x7 layer runs Winograd F(2x2, 7x7), within
            // about 1e-5 of the largest output (`WinogradAccuracyTests`).
            #expect(allClose(fast, reference, absolute: 1e-3, relative: 1e-4), "\(maxDifference(fast, reference))")
            let fastBack = ConvolutionFast.backward(input: x.scalars, kernel: w.scalars, upstream: dz.scalars, shape: shape)
            let refBack = ConvolutionReference.backward(input: x.scalars, kernel: w.scalars, upstream: dz.scalars, shape: shape)
            #expect(allClose(fastBack.input ?? [], refBack.input, absolute: 1e-3, relative: 1e-4))
            #expect(allClose(fastBack.kernel, refBack.kernel, absolute: 1e-3, relative: 1e-4))
            #expect(allClose(fastBack.bias, refBack.bias, absolute: 1e-3, relative: 1e-4))
        }
    }

    @Test(arguments: [PoolingMode.max, .average])
    func poolingAgrees(mode: PoolingMode) throws {
        var generator = RandomGenerator(seed: mode == .max ? 11 : 12)
        var checked = 0
        while checked < 60 {
            func pick(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(generator.next() % UInt64(range.count)) }
            let input = [pick(1...3), pick(1...12), pick(1...12), pick(1...20)]
            let padding = Self.randomPadding(&generator)
            guard let shape = try? PoolingShape(op: "test", input: input, size: (pick(1...4), pick(1...4)),
                                                strides: (pick(1...3), pick(1...3)), padding: padding) else { continue }
            let x = Tensor.randomUniform(shape: input, low: -1, high: 1, generator: &generator)
            let dz = Tensor.randomUniform(shape: shape.outputShape, low: -1, high: 1, generator: &generator)
            let fast = PoolingFast.forward(input: x.scalars, mode: mode, shape: shape)
            let reference = PoolingReference.forward(input: x.scalars, mode: mode, shape: shape)
            #expect(allClose(fast, reference, absolute: 1e-6, relative: 1e-6), "forward \(shape)")
            let fastBack = PoolingFast.backward(input: x.scalars, upstream: dz.scalars, mode: mode, shape: shape)
            let refBack = PoolingReference.backward(input: x.scalars, upstream: dz.scalars, mode: mode, shape: shape)
            #expect(allClose(fastBack, refBack, absolute: 1e-6, relative: 1e-6), "backward \(shape)")
            checked += 1
        }
    }

    /// BLAS against the triple loop for every transpose combination, odd sizes, row strides
    /// wider than the matrix, α/β, and a size large enough for OpenBLAS's threaded kernels.
    @Test func gemmAgreesWithReference() throws {
        var generator = RandomGenerator(seed: 3)
        let sizes = [(1, 1, 1), (3, 5, 7), (17, 33, 9), (64, 10, 400), (130, 257, 129), (300, 200, 500)]
        for (m, n, k) in sizes {
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    let lda = (transposeA ? m : k) + 3, ldb = (transposeB ? k : n) + 1, ldc = n + 2
                    let a = Tensor.randomUniform(shape: [(transposeA ? k : m) * lda], low: -1, high: 1, generator: &generator).scalars
                    let b = Tensor.randomUniform(shape: [(transposeB ? n : k) * ldb], low: -1, high: 1, generator: &generator).scalars
                    let c0 = Tensor.randomUniform(shape: [m * ldc], low: -1, high: 1, generator: &generator).scalars
                    var fast = c0, reference = c0
                    a.withUnsafeBufferPointer { a in
                        b.withUnsafeBufferPointer { b in
                            fast.withUnsafeMutableBufferPointer { c in
                                GEMM.multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.5,
                                              a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb, beta: 2,
                                              c: c.baseAddress!, ldc: ldc)
                            }
                            reference.withUnsafeMutableBufferPointer { c in
                                GEMM.reference(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.5,
                                               a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb, beta: 2,
                                               c: c.baseAddress!, ldc: ldc)
                            }
                        }
                    }
                    #expect(allClose(fast, reference, absolute: 1e-4, relative: 1e-4),
                            "m \(m) n \(n) k \(k) tA \(transposeA) tB \(transposeB): \(maxDifference(fast, reference))")
                }
            }
        }
    }

    /// `GEMM.multiplySmall` (Winograd's products: `convnet_small_gemm` on an AVX2 CPU) against the
    /// triple loop: every remainder of the 6-row blocks, 8- and 16-column strips, `A` and `Aᵀ`,
    /// overwriting and accumulating, row strides wider than the matrices, a long `k` (the kernel
    /// gradient's sum over a group of tiles), and sizes on both sides of `smallProductLimit`.
    @Test func smallGEMMAgreesWithReference() throws {
        var generator = RandomGenerator(seed: 11)
        let sizes = [(1, 8, 1), (5, 8, 3), (6, 16, 16), (7, 24, 9), (37, 16, 16), (113, 32, 16), (40, 64, 64),
                     (64, 32, 700), (100, 256, 64), (90, 256, 96)]
        for (m, n, k) in sizes {
            for transposeA in [false, true] {
                for accumulate in [false, true] {
                    let lda = (transposeA ? m : k) + 3, ldb = n + 8, ldc = n + 16
                    let a = Tensor.randomUniform(shape: [(transposeA ? k : m) * lda], low: -1, high: 1, generator: &generator).scalars
                    let b = Tensor.randomUniform(shape: [k * ldb], low: -1, high: 1, generator: &generator).scalars
                    let c0 = Tensor.randomUniform(shape: [m * ldc], low: -1, high: 1, generator: &generator).scalars
                    var fast = c0, reference = c0
                    a.withUnsafeBufferPointer { a in
                        b.withUnsafeBufferPointer { b in
                            fast.withUnsafeMutableBufferPointer { c in
                                GEMM.multiplySmall(transposeA: transposeA, m: m, n: n, k: k, a: a.baseAddress!, lda: lda,
                                                   b: b.baseAddress!, ldb: ldb, accumulate: accumulate, c: c.baseAddress!, ldc: ldc)
                            }
                            reference.withUnsafeMutableBufferPointer { c in
                                GEMM.reference(transposeA: transposeA, m: m, n: n, k: k, a: a.baseAddress!, lda: lda,
                                               b: b.baseAddress!, ldb: ldb, beta: accumulate ? 1 : 0, c: c.baseAddress!, ldc: ldc)
                            }
                        }
                    }
                    // Columns beyond n (the row strides' slack) are left alone.
                    #expect(allClose(fast, reference, absolute: 1e-4, relative: 1e-4),
                            "m \(m) n \(n) k \(k) tA \(transposeA) accumulate \(accumulate): \(maxDifference(fast, reference))")
                }
            }
        }
    }

    @Test func gemmBackendIsDescribed() {
        #expect(!GEMM.backendDescription.isEmpty)
    }
}
