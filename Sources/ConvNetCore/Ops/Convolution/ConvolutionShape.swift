/// The validated shapes of one 2-D convolution: input `(m, n_H_prev, n_W_prev, n_C_prev)`,
/// kernel `(f_h, f_w, n_C_prev, n_C)`, bias `(n_C)`, output `(m, n_H, n_W, n_C)`.
public struct ConvolutionShape: Sendable, Equatable {
    /// `m`, the number of images in the batch.
    public let batch: Int
    /// `n_C_prev`, the channels of the input (and the third dimension of the kernel).
    public let inputChannels: Int
    /// `n_C`, the number of filters: the channels of the output.
    public let outputChannels: Int
    /// The sliding-window arithmetic of one image plane: sizes, strides, dilation, padding, output size.
    public let window: WindowGeometry

    /// `[m, n_H_prev, n_W_prev, n_C_prev]`.
    public var inputShape: [Int] { [batch, window.inputHeight, window.inputWidth, inputChannels] }
    /// `[f_h, f_w, n_C_prev, n_C]`, Keras's `Conv2D` kernel layout.
    public var kernelShape: [Int] { [window.kernelHeight, window.kernelWidth, inputChannels, outputChannels] }
    /// `[m, n_H, n_W, n_C]`, with `n_H`, `n_W` from the window arithmetic (see ``Padding``).
    public var outputShape: [Int] { [batch, window.outputHeight, window.outputWidth, outputChannels] }
    /// Rows of the im2col matrix for one image: `n_H · n_W`.
    var outputPixels: Int { window.outputHeight * window.outputWidth }
    /// Columns of the im2col matrix: `f_h · f_w · n_C_prev`, the length of one flattened receptive field.
    var patchLength: Int { window.kernelHeight * window.kernelWidth * inputChannels }

    /// Checks that the shapes fit together and computes the output size.
    ///
    /// - Parameters:
    ///   - input: `(m, n_H_prev, n_W_prev, n_C_prev)`.
    ///   - kernel: `(f_h, f_w, n_C_prev, n_C)`; its `n_C_prev` must equal the input's.
    ///   - bias: `(n_C)`, or nil for a convolution without bias.
    ///   - strides: `(s_h, s_w)`, each at least 1.
    ///   - padding: How the window treats the border.
    ///   - dilation: `(d_h, d_w)`, the spacing between kernel taps, each at least 1 (1 is an ordinary convolution).
    /// - Throws: `ConvNetError.shape` when a shape has the wrong rank, a zero dimension, mismatched
    ///   channels or bias, or the window does not fit; `ConvNetError.argument` for non-positive
    ///   kernel sizes, strides or dilations.
    public init(input: [Int], kernel: [Int], bias: [Int]?, strides: (Int, Int), padding: Padding,
                dilation: (Int, Int)) throws {
        let op = "conv2d"
        guard input.count == 4 else {
            throw ConvNetError.shape(op: op, message: "expected input (m, n_H, n_W, n_C), got \(describe(shape: input))")
        }
        guard kernel.count == 4 else {
            throw ConvNetError.shape(op: op, message: "expected kernel (f_h, f_w, n_C_prev, n_C), got \(describe(shape: kernel))")
        }
        guard !input.contains(0), !kernel.contains(0) else {
            throw ConvNetError.shape(op: op, message: "zero-sized dimension in input \(describe(shape: input)) or kernel \(describe(shape: kernel))")
        }
        guard input[3] == kernel[2] else {
            throw ConvNetError.shape(op: op, message:
                "input \(describe(shape: input)) has \(input[3]) channels but kernel \(describe(shape: kernel)) expects \(kernel[2])")
        }
        if let bias, bias != [kernel[3]] {
            throw ConvNetError.shape(op: op, message: "bias \(describe(shape: bias)) does not match \(kernel[3]) filters")
        }
        batch = input[0]
        inputChannels = input[3]
        outputChannels = kernel[3]
        window = try WindowGeometry(op: op, inputHeight: input[1], inputWidth: input[2], kernel: (kernel[0], kernel[1]),
                                    strides: strides, dilation: dilation, padding: padding)
    }
}
