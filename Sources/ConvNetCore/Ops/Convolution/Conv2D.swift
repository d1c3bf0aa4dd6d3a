/// 2-D convolution (cross-correlation, as every CNN library computes it: the kernel is not flipped).
///
///     Z[i, h, w, c] = b[c] + Σ_{p, q, k} A[i, h·s_h + p·d_h − pad_top, w·s_w + q·d_w − pad_left, k] · W[p, q, k, c]
///
/// - Parameters:
///   - input: `(m, n_H_prev, n_W_prev, n_C_prev)`.
///   - kernel: `(f_h, f_w, n_C_prev, n_C)`.
///   - bias: `(n_C)`, optional.
///   - strides: `(s_h, s_w)`.
///   - padding: `.valid`, `.same` (TensorFlow's rule) or explicit per side.
///   - dilation: `(d_h, d_w)`; the kernel then spans `(f − 1)·d + 1` pixels.
///   - implementation: `.fast` (im2col + GEMM or Winograd) or `.reference` (the lecture notes' loops, for checking).
/// - Returns: `(m, n_H, n_W, n_C)`, with `n_H` given by `WindowGeometry`.
/// - Throws: `ConvNetError.shape` naming the shapes when they do not fit together.
public func conv2d(_ input: Tensor, kernel: Tensor, bias: Tensor? = nil, strides: (Int, Int) = (1, 1),
                   padding: Padding = .valid, dilation: (Int, Int) = (1, 1),
                   implementation: Implementation = .fast) throws -> Tensor {
    try conv2d(input, kernel: kernel, bias: bias, strides: strides, padding: padding, dilation: dilation,
               implementation: implementation, fusingReLU: false)
}

/// `conv2d`, followed by `relu` when `fusingReLU`: one op whose fast kernels apply the ReLU as each
/// group of output rows leaves GEMM, and mask the upstream gradient group by group in the backward
/// pass (`dZ = y > 0 ? dY : 0`), instead of two more passes over the output (`Conv2D` layers with
/// `activation: .relu` use it).
func conv2d(_ input: Tensor, kernel: Tensor, bias: Tensor?, strides: (Int, Int), padding: Padding, dilation: (Int, Int),
            implementation: Implementation, fusingReLU: Bool) throws -> Tensor {
    let shape = try ConvolutionShape(input: input.shape, kernel: kernel.shape, bias: bias?.shape,
                                     strides: strides, padding: padding, dilation: dilation)
    // The patches a forward pass may keep serve only the kernel gradient.
    let recordingKernel = kernel.tapeEntry != nil
    let (output, patches) = implementation.convolutionKernels.forward(
        input: input.scalars, kernel: kernel.scalars, bias: bias?.scalars, shape: shape, relu: fusingReLU,
        recording: recordingKernel)
    return record(Tensor(validShape: shape.outputShape, scalars: output), inputs: [input, kernel, bias]) { upstream, needed in
        // The kernels are looked up again: a metatype existential is not `Sendable`.
        let gradients = implementation.convolutionKernels.backward(
            input: input.scalars, kernel: kernel.scalars, upstream: upstream.scalars, shape: shape,
            needInput: needed[0], needKernel: needed[1], reluOutput: fusingReLU ? output : nil, patches: patches)
        return [gradients.input.map { Tensor(validShape: shape.inputShape, scalars: $0) },
                needed[1] ? Tensor(validShape: shape.kernelShape, scalars: gradients.kernel) : nil,
                Tensor(validShape: [shape.outputChannels], scalars: gradients.bias)]
    }
}

/// The loops behind `conv2d`, as `ConvolutionReference` (the textbook loops, the oracle) and
/// `ConvolutionFast` (im2col + GEMM or Winograd, over the cores) write them.
protocol ConvolutionKernels {
    /// `Z`, or `max(0, Z)` when `relu`. When `recording` (the output will be differentiated), a
    /// kernel may also return intermediate data (`patches`) for its own `backward`.
    static func forward(input: [Float], kernel: [Float], bias: [Float]?, shape: ConvolutionShape, relu: Bool,
                        recording: Bool) -> (output: [Float], patches: [Float]?)
    /// The gradients with respect to the input (when `needInput`), the kernel (when `needKernel`;
    /// a kernel may skip it and return anything there otherwise) and the bias. `reluOutput` is the
    /// output of a forward pass with `relu`, whose mask applies to `upstream` first; `patches` are
    /// what that forward pass returned.
    static func backward(input: [Float], kernel: [Float], upstream: [Float], shape: ConvolutionShape, needInput: Bool,
                         needKernel: Bool, reluOutput: [Float]?, patches: [Float]?)
        -> (input: [Float]?, kernel: [Float], bias: [Float])
}

extension ConvolutionReference: ConvolutionKernels {
    static func forward(input: [Float], kernel: [Float], bias: [Float]?, shape: ConvolutionShape, relu: Bool,
                        recording: Bool) -> (output: [Float], patches: [Float]?) {
        let z = forward(input: input, kernel: kernel, bias: bias, shape: shape)
        return (relu ? mapScalars(z) { max($0, 0) } : z, nil)
    }

    static func backward(input: [Float], kernel: [Float], upstream: [Float], shape: ConvolutionShape, needInput: Bool,
                         needKernel: Bool, reluOutput: [Float]?, patches: [Float]?)
        -> (input: [Float]?, kernel: [Float], bias: [Float]) {
        let dZ = reluOutput.map { mapScalars(upstream, $0) { dy, y in y > 0 ? dy : 0 } } ?? upstream
        let g = backward(input: input, kernel: kernel, upstream: dZ, shape: shape)
        return (g.input, g.kernel, g.bias)
    }
}
