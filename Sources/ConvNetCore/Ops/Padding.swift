/// How a convolution or pooling window treats the border.
public enum Padding: Sendable, Equatable, Hashable {
    /// No padding: `n_out = ⌊(n_in − k_eff) / s⌋ + 1`, where `k_eff = (k − 1)·d + 1`.
    case valid
    /// TensorFlow's rule: `n_out = ⌈n_in / s⌉`; the total padding `max((n_out − 1)·s + k_eff − n_in, 0)`
    /// is split with the odd row/column at the bottom/right.
    case same
    /// Explicit zero padding on each side: `n_out = ⌊(n_in + p_top + p_bottom − k_eff) / s⌋ + 1`.
    case explicit(top: Int, bottom: Int, left: Int, right: Int)

    /// The same padding `p` on all four sides (the lecture notes' `p`).
    public static func uniform(_ p: Int) -> Padding { .explicit(top: p, bottom: p, left: p, right: p) }
}

/// The sliding-window arithmetic shared by convolution and pooling, for one `(n_H, n_W)` plane.
public struct WindowGeometry: Sendable, Equatable {
    /// `n_H_prev`, `n_W_prev`: the input plane, before padding.
    public let inputHeight: Int, inputWidth: Int
    /// `f_h`, `f_w`: the window size, before dilation.
    public let kernelHeight: Int, kernelWidth: Int
    /// `s_h`, `s_w`: how far the window moves between neighbouring outputs, in input pixels.
    public let strideHeight: Int, strideWidth: Int
    /// `d_h`, `d_w`: the spacing between kernel taps (1 means adjacent); the window covers
    /// `(f − 1)·d + 1` input pixels.
    public let dilationHeight: Int, dilationWidth: Int
    /// The zero rows and columns added on each side, as resolved from ``Padding`` (never negative).
    public let padTop: Int, padBottom: Int, padLeft: Int, padRight: Int
    /// `n_H`, `n_W`: the output plane, `⌊(n_in + pads − k_eff) / s⌋ + 1` along each axis.
    public let outputHeight: Int, outputWidth: Int

    /// - Throws: `ConvNetError.shape` naming `op` when the window does not fit the padded input, or
    ///   `ConvNetError.argument` for non-positive kernel sizes, strides or dilations.
    public init(op: String, inputHeight: Int, inputWidth: Int, kernel: (Int, Int), strides: (Int, Int),
                dilation: (Int, Int) = (1, 1), padding: Padding) throws {
        guard kernel.0 > 0, kernel.1 > 0, strides.0 > 0, strides.1 > 0, dilation.0 > 0, dilation.1 > 0 else {
            throw ConvNetError.argument("\(op): kernel size \(kernel), strides \(strides) and dilation \(dilation) must be positive")
        }
        guard inputHeight > 0, inputWidth > 0 else {
            throw ConvNetError.shape(op: op, message: "input plane \(inputHeight)x\(inputWidth) is empty")
        }
        self.inputHeight = inputHeight; self.inputWidth = inputWidth
        kernelHeight = kernel.0; kernelWidth = kernel.1
        strideHeight = strides.0; strideWidth = strides.1
        dilationHeight = dilation.0; dilationWidth = dilation.1
        let vertical = try Self.axis(op: op, length: inputHeight, kernel: kernel.0, stride: strides.0,
                                     dilation: dilation.0, padding: padding, vertical: true)
        let horizontal = try Self.axis(op: op, length: inputWidth, kernel: kernel.1, stride: strides.1,
                                       dilation: dilation.1, padding: padding, vertical: false)
        (padTop, padBottom, outputHeight) = vertical
        (padLeft, padRight, outputWidth) = horizontal
    }

    /// The padding before and after, and the output length, along one axis (see `Padding`).
    /// - Throws: when the (dilated) window does not fit the padded length, or a pad is negative.
    public static func axis(op: String, length: Int, kernel: Int, stride: Int, dilation: Int, padding: Padding,
                            vertical: Bool) throws -> (before: Int, after: Int, output: Int) {
        // Sizes may come from a model file: zero would divide by zero, huge ones overflow.
        let limit = 1 << 31
        guard (1...limit).contains(kernel), (1...limit).contains(stride), (1...limit).contains(dilation) else {
            throw ConvNetError.argument("\(op): kernel size \(kernel), stride \(stride) and dilation \(dilation) must be in 1...\(limit)")
        }
        guard (1...limit).contains(length) else {
            throw ConvNetError.shape(op: op, message: "input size \(length) along the \(vertical ? "height" : "width") must be in 1...\(limit)")
        }
        if case let .explicit(top, bottom, left, right) = padding, [top, bottom, left, right].contains(where: { $0 > limit }) {
            throw ConvNetError.argument("\(op): padding must be at most \(limit), got \(padding)")
        }
        let effective = (kernel - 1) * dilation + 1
        let before: Int, after: Int
        switch padding {
        case .valid:
            (before, after) = (0, 0)
        case .same:
            let total = max(((length + stride - 1) / stride - 1) * stride + effective - length, 0)
            (before, after) = (total / 2, total - total / 2)
        case let .explicit(top, bottom, left, right):
            (before, after) = vertical ? (top, bottom) : (left, right)
            guard before >= 0, after >= 0 else {
                throw ConvNetError.argument("\(op): padding must not be negative, got \(padding)")
            }
        }
        let padded = length + before + after
        guard effective <= padded else {
            throw ConvNetError.shape(op: op, message:
                "window \(effective) is larger than the padded input \(padded) along the \(vertical ? "height" : "width")")
        }
        return (before, after, (padded - effective) / stride + 1)
    }

    /// The input row read by output row `h` at kernel row `i` (may lie in the padding: < 0 or ≥ n_H).
    @inline(__always) func inputRow(_ h: Int, _ i: Int) -> Int { h * strideHeight + i * dilationHeight - padTop }
    /// The input column read by output column `w` at kernel column `j`.
    @inline(__always) func inputColumn(_ w: Int, _ j: Int) -> Int { w * strideWidth + j * dilationWidth - padLeft }
}
