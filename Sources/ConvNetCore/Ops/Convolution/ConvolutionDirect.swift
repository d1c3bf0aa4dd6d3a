import CKernels

/// Convolution computed directly from the NHWC input, forward pass only (the loop is in C,
/// `Sources/CKernels/DirectConvolution.c`, compiled for AVX2 + FMA and for the baseline, the
/// CPU's flags choosing):
///
///     Z[i, h, w, c] = b[c] + Σ_{p, q, k} A[i, h·s_h + p·d_h − pad_top, w·s_w + q·d_w − pad_left, k] · W[p, q, k, c]
///
/// One 16-float accumulator per output pixel and block of 16 filters, four pixels at a time: no
/// im2col matrix is written and no GEMM packs anything, which is most of the time of a small
/// layer such as LeNet-5's (`(64, 14, 14, 6)` ∗ `(5, 5, 6, 16)`: 150 taps, 16 filters).
/// `ConvolutionFast` sends it the layers where that wins (`applies(to:)`); the backward passes
/// stay im2col + GEMM. The sums run in another order than GEMM's (and with fused multiply-adds),
/// so results agree with the reference to rounding (`FastReferenceAgreementTests`).
public enum ConvolutionDirect {
    /// Filters at most, and weights at most (after padding the filters to blocks of 16), for which
    /// the direct loop beats im2col + GEMM: a few blocks of filters, each block's weights in the
    /// 32 KiB L1 cache. Larger layers amortise GEMM's packing and run at its full speed.
    static let maximumFilters = 32
    static let maximumPackedWeights = 8_192

    /// Whether the loop runs with AVX2 and FMA on this CPU; its baseline (SSE2) build is no faster
    /// than im2col + OpenBLAS, so then `applies(to:)` is false.
    public static let isVectorised = convnet_direct_convolution_is_vectorised() != 0

    /// Whether `ConvolutionFast` should run this layer's forward pass here: on a CPU where the loop
    /// is vectorised, for a layer Winograd does not take, with few filters and weights, and at
    /// least half of the vector lanes holding filters. (LeNet-5's first layer, 6 filters on one
    /// channel, would leave 10 of 16 lanes idle; im2col's tap-major layout multiplies it as fast:
    /// `docs/PERFORMANCE.md`.)
    public static func applies(to s: ConvolutionShape) -> Bool {
        let block = Int(CONVNET_DIRECT_BLOCK)
        let lanes = (s.outputChannels + block - 1) / block * block
        return isVectorised && !ConvolutionWinograd.applies(to: s) && s.outputChannels <= maximumFilters
            && 2 * s.outputChannels >= lanes && packedCount(s) <= maximumPackedWeights
    }

    /// The shape as the C loop takes it.
    static func cShape(_ s: ConvolutionShape) -> convnet_convolution_shape {
        let g = s.window
        return convnet_convolution_shape(
            inputHeight: Int32(g.inputHeight), inputWidth: Int32(g.inputWidth), inputChannels: Int32(s.inputChannels),
            kernelHeight: Int32(g.kernelHeight), kernelWidth: Int32(g.kernelWidth), outputChannels: Int32(s.outputChannels),
            outputHeight: Int32(g.outputHeight), outputWidth: Int32(g.outputWidth),
            strideHeight: Int32(g.strideHeight), strideWidth: Int32(g.strideWidth),
            dilationHeight: Int32(g.dilationHeight), dilationWidth: Int32(g.dilationWidth),
            padTop: Int32(g.padTop), padLeft: Int32(g.padLeft))
    }

    /// Floats of the kernel rearranged in blocks of 16 filters.
    static func packedCount(_ s: ConvolutionShape) -> Int {
        var shape = cShape(s)
        return Int(convnet_direct_convolution_packed_count(&shape))
    }

    /// `Z`, or `max(0, Z)` when `relu`, `(m, n_H, n_W, n_C)`; the images are split over the cores.
    /// Runs on any shape (the tests call it directly); `applies(to:)` says when it is the fast choice.
    public static func forward(input: [Float], kernel: [Float], bias: [Float], shape s: ConvolutionShape, relu: Bool = false) -> [Float] {
        var shape = cShape(s)
        var packed = [Float](repeating: 0, count: packedCount(s))
        convnet_direct_convolution_pack(kernel, &shape, &packed)
        let tasks = Parallel.chunks(s.batch, costPerItem: s.outputPixels * s.patchLength * s.outputChannels)
        let frozenShape = shape
        return [Float](unsafeUninitializedCapacity: s.batch * s.outputPixels * s.outputChannels) { output, initialized in
            let z = SendableMutablePointer(output.baseAddress!)
            withSendablePointers([input, packed, bias]) { p in
                Parallel.run(tasks: tasks.count) { task in
                    var shape = frozenShape
                    convnet_direct_convolution_forward(p[0].pointer, p[1].pointer, p[2].pointer, z.pointer, &shape,
                                                       Int32(tasks[task].lowerBound), Int32(tasks[task].count), relu ? 1 : 0)
                }
            }
            initialized = output.count
        }
    }
}
