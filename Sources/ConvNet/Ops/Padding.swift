/// How a convolution or pooling window treats the border.
public enum Padding: Sendable, Equatable, Hashable {
    /// No padding: `n_out = ⌊(n_in − k_eff) / s⌋ + 1`, where `k_eff = (k − 1)·d + 1`.
    case valid
    /// TensorFlow's rule: `n_out = ⌈n_in / s⌉`; the total padding `max((n_out − 1)·s + k_eff − n_in, 0)`
    /// is split with the odd row/column at the bottom/right.
    case same
    /// Explicit zero padding on each side: `n_out = ⌊(n_in + p_top + p_bottom − k_eff) / s⌋ + 1`.
    case explicit(top: Int, bottom: Int, left: Int, right: Int)

    /// The same padding `p` on all four sides (the decks' `p`).
    public static func uniform(_ p: Int) -> Padding { .explicit(top: p, bottom: p, left: p, right: p) }
}

/// The sliding-window arithmetic shared by convolution and pooling, for one `(n_H, n_W)` plane.
public struct WindowGeometry: Sendable, Equatable {
    public let inputHeight: Int, inputWidth: Int
    public let kernelHeight: Int, kernelWidth: Int
    public let strideHeight: Int, strideWidth: Int
    public let dilationHeight: Int, dilationWidth: Int
    public let padTop: Int, padBottom: Int, padLeft: Int, padRight: Int
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
        let effectiveHeight = (kernel.0 - 1) * dilation.0 + 1
        let effectiveWidth = (kernel.1 - 1) * dilation.1 + 1
        func samePadding(_ size: Int, _ stride: Int, _ effective: Int) -> (Int, Int) {
            let out = (size + stride - 1) / stride
            let total = max((out - 1) * stride + effective - size, 0)
            return (total / 2, total - total / 2)
        }
        switch padding {
        case .valid:
            (padTop, padBottom, padLeft, padRight) = (0, 0, 0, 0)
        case .same:
            (padTop, padBottom) = samePadding(inputHeight, strides.0, effectiveHeight)
            (padLeft, padRight) = samePadding(inputWidth, strides.1, effectiveWidth)
        case let .explicit(top, bottom, left, right):
            guard top >= 0, bottom >= 0, left >= 0, right >= 0 else {
                throw ConvNetError.argument("\(op): padding must not be negative, got \(padding)")
            }
            (padTop, padBottom, padLeft, padRight) = (top, bottom, left, right)
        }
        let paddedHeight = inputHeight + padTop + padBottom, paddedWidth = inputWidth + padLeft + padRight
        guard effectiveHeight <= paddedHeight, effectiveWidth <= paddedWidth else {
            throw ConvNetError.shape(op: op, message:
                "window \(effectiveHeight)x\(effectiveWidth) is larger than the padded input \(paddedHeight)x\(paddedWidth)")
        }
        outputHeight = (paddedHeight - effectiveHeight) / strides.0 + 1
        outputWidth = (paddedWidth - effectiveWidth) / strides.1 + 1
    }

    /// The input row read by output row `h` at kernel row `i` (may lie in the padding: < 0 or ≥ n_H).
    @inline(__always) func inputRow(_ h: Int, _ i: Int) -> Int { h * strideHeight + i * dilationHeight - padTop }
    /// The input column read by output column `w` at kernel column `j`.
    @inline(__always) func inputColumn(_ w: Int, _ j: Int) -> Int { w * strideWidth + j * dilationWidth - padLeft }
}
