/// Max or average pooling.
public enum PoolingMode: Sendable, Equatable {
    case max, average
}

/// The validated shapes of one pooling op: input `(m, n_H_prev, n_W_prev, n_C)`, output
/// `(m, n_H, n_W, n_C)`; pooling acts on each channel separately.
public struct PoolingShape: Sendable, Equatable {
    /// `m`, the number of images in the batch.
    public let batch: Int
    /// `n_C`, the channels of both input and output.
    public let channels: Int
    /// The sliding-window arithmetic of one image plane: sizes, strides, padding, output size.
    public let window: WindowGeometry

    /// `[m, n_H_prev, n_W_prev, n_C]`.
    public var inputShape: [Int] { [batch, window.inputHeight, window.inputWidth, channels] }
    /// `[m, n_H, n_W, n_C]`, with `n_H`, `n_W` from the window arithmetic (see ``Padding``).
    public var outputShape: [Int] { [batch, window.outputHeight, window.outputWidth, channels] }

    /// Checks the input shape and window, and computes the output size.
    ///
    /// - Parameters:
    ///   - op: The op's name for error messages, e.g. `"maxPool2d"`.
    ///   - input: `(m, n_H_prev, n_W_prev, n_C)`.
    ///   - size: The window `(f_h, f_w)` (Keras `pool_size`).
    ///   - strides: `(s_h, s_w)`, each at least 1.
    ///   - padding: How the window treats the border; each resolved pad must be smaller than the
    ///     window, so that no window sees only padding (PyTorch has the same rule).
    /// - Throws: `ConvNetError.shape` for an input that is not 4-D, has a zero dimension or is
    ///   smaller than the window; `ConvNetError.argument` for non-positive sizes or strides, or a
    ///   pad as wide as the window.
    public init(op: String, input: [Int], size: (Int, Int), strides: (Int, Int), padding: Padding) throws {
        guard input.count == 4 else {
            throw ConvNetError.shape(op: op, message: "expected input (m, n_H, n_W, n_C), got \(describe(shape: input))")
        }
        guard !input.contains(0) else {
            throw ConvNetError.shape(op: op, message: "input has a zero-sized dimension: \(describe(shape: input))")
        }
        batch = input[0]
        channels = input[3]
        window = try WindowGeometry(op: op, inputHeight: input[1], inputWidth: input[2], kernel: size,
                                    strides: strides, padding: padding)
        // A pad as wide as the window would create windows that see only padding, whose max or
        // mean is undefined (PyTorch likewise requires pad ≤ size / 2).
        guard window.padTop < size.0, window.padBottom < size.0, window.padLeft < size.1, window.padRight < size.1 else {
            throw ConvNetError.argument("\(op): padding \(padding) must be smaller than the window \(size) on every side")
        }
    }

    /// Whether no input element lies under two windows: each stride at least its window side.
    public var windowsAreDisjoint: Bool {
        window.strideHeight >= window.kernelHeight && window.strideWidth >= window.kernelWidth
    }

    /// The input rows `[y0, y1)` and columns `[x0, x1)` under output pixel `(h, w)`, clipped to the
    /// image: padded positions take no part (TensorFlow: max ignores them, average excludes them
    /// from the count).
    @inline(__always) func bounds(h: Int, w: Int) -> (y0: Int, y1: Int, x0: Int, x1: Int) {
        let g = window
        let y0 = g.inputRow(h, 0), x0 = g.inputColumn(w, 0)
        return (max(y0, 0), min(y0 + g.kernelHeight, g.inputHeight), max(x0, 0), min(x0 + g.kernelWidth, g.inputWidth))
    }
}
