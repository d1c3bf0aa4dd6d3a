import CKernels

/// Convolution computed directly from the NHWC input, forward pass only (the loops are in C,
/// `Sources/CKernels/DirectConvolution.c`, compiled for AVX2 + FMA and for the baseline, the
/// CPU's flags choosing):
///
///     Z[i, h, w, c] = b[c] + Σ_{p, q, k} A[i, h·s_h + p·d_h − pad_top, w·s_w + q·d_w − pad_left, k] · W[p, q, k, c]
///
/// No im2col matrix is written and no GEMM packs anything, which is most of the time of a small
/// layer such as LeNet-5's (`(64, 14, 14, 6)` ∗ `(5, 5, 6, 16)`: 150 taps, 16 filters). Two loops
/// (`Loop`) cover the small layers: vectors of 16 filters, or, for a single input channel with few
/// filters, vectors of 16 output pixels. `ConvolutionFast` sends each layer where one of them wins
/// (`loop(for:)`); the backward passes stay im2col + GEMM, except the kernel gradient of a
/// pixel-run layer, and its bias gradient (`kernelGradient`). The sums run in another order than
/// GEMM's (and with fused multiply-adds), so results agree with the reference to rounding
/// (`FastReferenceAgreementTests`).
public enum ConvolutionDirect {
    /// Which loop of `DirectConvolution.c` computes a layer.
    public enum Loop: Sendable {
        /// One 16-float accumulator per output pixel and block of 16 filters, four pixels sharing
        /// each weight load; any strides, dilations and padding.
        case filterBlocks
        /// One 16-float accumulator per run of 16 output pixels and filter, six filters sharing each
        /// input load, the image copied into its zero border first: a single input channel, stride
        /// and dilation 1, outputs at least 16 pixels wide.
        case pixelRuns
    }

    /// Filters at most, and weights at most (after padding the filters to blocks of 16), for which
    /// the filter-block loop beats im2col + GEMM: a few blocks of filters, each block's weights in
    /// the 32 KiB L1 cache. Larger layers amortise GEMM's packing and run at its full speed.
    static let maximumFilters = 32
    static let maximumPackedWeights = 8_192

    /// Whether the loops run with AVX2 and FMA on this CPU; their baseline (SSE2) builds are no
    /// faster than im2col + OpenBLAS, so then `loop(for:)` is nil.
    public static let isVectorised = convnet_direct_convolution_is_vectorised() != 0

    /// The loop `ConvolutionFast` should run this layer's forward pass with, or nil for im2col +
    /// GEMM: on a CPU where the loops are vectorised, for a layer Winograd does not take,
    /// - `filterBlocks` for few filters and weights with at least half of the vector lanes
    ///   holding filters (8 to 32 filters);
    /// - `pixelRuns` for fewer than 8 filters on a single input channel (LeNet-5's first layer,
    ///   6 filters, which would leave 10 of 16 filter lanes idle): `docs/PERFORMANCE.md`.
    public static func loop(for s: ConvolutionShape) -> Loop? {
        guard isVectorised, !ConvolutionWinograd.applies(to: s) else { return nil }
        let block = Int(CONVNET_DIRECT_BLOCK)
        let lanes = (s.outputChannels + block - 1) / block * block
        if s.outputChannels <= maximumFilters && 2 * s.outputChannels >= lanes && packedCount(s) <= maximumPackedWeights {
            return .filterBlocks
        }
        if 2 * s.outputChannels < block && runsOverPixels(s) { return .pixelRuns }
        return nil
    }

    /// Whether `ConvolutionFast` runs this layer's forward pass here.
    public static func applies(to s: ConvolutionShape) -> Bool { loop(for: s) != nil }

    /// Whether the pixel-run loop can compute the layer: one input channel, stride and dilation 1
    /// (the 16 inputs a tap meets are then contiguous), at least 16 output columns.
    public static func runsOverPixels(_ s: ConvolutionShape) -> Bool {
        let g = s.window
        return s.inputChannels == 1 && g.strideHeight == 1 && g.strideWidth == 1 && g.dilationHeight == 1
            && g.dilationWidth == 1 && g.outputWidth >= Int(CONVNET_DIRECT_BLOCK)
    }

    /// The kernel gradient of a pixel-run layer (`loop(for:) == .pixelRuns`) over `images`, with
    /// the same layout turned around (`DirectConvolution.c`): no `colsᵀ` matrix is built, which was
    /// most of the time of LeNet-5's first layer's backward pass.
    ///
    ///     dW[p, q, 0, c] = Σ_{i ∈ images, h, w} A[i, h + p − pad_top, w + q − pad_left, 0] · dZ[i, h, w, c]
    ///
    /// with `dZ` taken as 0 where `reluOutput` (a forward pass with `relu`) is not positive, into
    /// `dW` when given (nil: a frozen kernel); and the bias gradient `db[c] = Σ dZ[i, h, w, c]`.
    /// Overwrites `dW` `(f_h, f_w, 1, n_C)` and `db` `(n_C)`. Needs `runsOverPixels(s)`.
    static func kernelGradient(images: Range<Int>, input: UnsafePointer<Float>, upstream: UnsafePointer<Float>,
                               reluOutput: UnsafePointer<Float>?, into dW: UnsafeMutablePointer<Float>?,
                               biasGradient db: UnsafeMutablePointer<Float>, shape s: ConvolutionShape) {
        var shape = cShape(s)
        ScratchBuffers.withBuffer(count: Int(convnet_direct_pixel_runs_gradient_scratch_count(&shape))) { scratch in
            convnet_direct_pixel_runs_kernel_gradient(input, upstream, reluOutput, dW, db, &shape, Int32(images.lowerBound),
                                                      Int32(images.count), scratch)
        }
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
    /// `loop` defaults to `loop(for:)`'s choice, else `filterBlocks`, which runs on any shape (the
    /// tests name the loop); `pixelRuns` needs `runsOverPixels(s)`.
    public static func forward(input: [Float], kernel: [Float], bias: [Float], shape s: ConvolutionShape, relu: Bool = false,
                               loop: Loop? = nil) -> [Float] {
        let loop = loop ?? self.loop(for: s) ?? .filterBlocks
        precondition(loop == .filterBlocks || runsOverPixels(s), "pixel runs need one input channel, stride 1 and 16 output columns")
        var shape = cShape(s)
        var packed: [Float], scratchCount = 0
        switch loop {
        case .filterBlocks:
            packed = [Float](repeating: 0, count: Int(convnet_direct_convolution_packed_count(&shape)))
            convnet_direct_convolution_pack(kernel, &shape, &packed)
        case .pixelRuns:
            packed = [Float](repeating: 0, count: Int(convnet_direct_pixel_runs_packed_count(&shape)))
            convnet_direct_pixel_runs_pack(kernel, &shape, &packed)
            scratchCount = Int(convnet_direct_pixel_runs_scratch_count(&shape))
        }
        let tasks = Parallel.chunks(s.batch, costPerItem: s.outputPixels * s.patchLength * s.outputChannels)
        let (frozenShape, borderedCount) = (shape, scratchCount)
        return [Float](unsafeUninitializedCapacity: s.batch * s.outputPixels * s.outputChannels) { output, initialized in
            let z = SendableMutablePointer(output.baseAddress!)
            withSendablePointers([input, packed, bias]) { p in
                Parallel.run(tasks: tasks.count) { task in
                    var shape = frozenShape
                    let (first, count) = (Int32(tasks[task].lowerBound), Int32(tasks[task].count))
                    switch loop {
                    case .filterBlocks:
                        convnet_direct_convolution_forward(p[0].pointer, p[1].pointer, p[2].pointer, z.pointer, &shape,
                                                           first, count, relu ? 1 : 0)
                    case .pixelRuns:
                        var bordered = [Float](repeating: 0, count: borderedCount)
                        convnet_direct_pixel_runs_forward(p[0].pointer, p[1].pointer, p[2].pointer, z.pointer, &shape,
                                                    first, count, relu ? 1 : 0, &bordered)
                    }
                }
            }
            initialized = output.count
        }
    }
}
