/// What a window that reaches outside an image reads there (Keras `RandomTranslation`'s
/// `fill_mode`, as far as ConvNet has them).
public enum FillMode: String, Sendable, Equatable, CaseIterable {
    /// Zeros (Keras `constant` with `fill_value=0`; numpy `pad(mode="constant")`).
    case constant
    /// The image mirrored about its edge pixels, which are not repeated: `d c b | a b c d | c b a`
    /// (Keras `mirror`; numpy and PyTorch call this `reflect`).
    case mirror
}

/// Geometric copies of images `(height, width, channels)` stored row-major: the one implementation
/// behind the augmentations, `Tensor.flippedHorizontally()`, `translated` and `cropped`, and the views
/// of test-time augmentation.
package enum ImageWindow {
    /// The image mirrored left–right: column `x` becomes column `width − 1 − x`.
    package static func flippedHorizontally(_ image: [Float], shape: [Int]) -> [Float] {
        let (height, width, channels) = (shape[0], shape[1], shape[2])
        var output = [Float](repeating: 0, count: image.count)
        for y in 0..<height {
            for x in 0..<width {
                let from = (y * width + x) * channels, to = (y * width + width - 1 - x) * channels
                for c in 0..<channels { output[to + c] = image[from + c] }
            }
        }
        return output
    }

    /// The `height × width` window whose top-left corner is input pixel `(top, left)` (which may be
    /// outside the image): output pixel `(y, x)` is input pixel `(top + y, left + x)`, or, where that
    /// is outside, 0 (`.constant`) or the pixel mirrored about the edge (`.mirror`).
    package static func window(_ image: [Float], shape: [Int], top: Int, left: Int, height: Int, width: Int,
                               fill: FillMode = .constant) -> [Float] {
        fill == .mirror
            ? mirroredWindow(image, shape: shape, top: top, left: left, height: height, width: width)
            : zeroFilledWindow(image, shape: shape, top: top, left: left, height: height, width: width)
    }

    /// `index` reflected into `0..<length` without repeating the edge (numpy `reflect`), for any
    /// distance outside: the pattern `0 1 … n−1 n−2 … 1` repeats with period `2(n − 1)`.
    package static func mirrored(_ index: Int, length: Int) -> Int {
        guard length > 1 else { return 0 }
        let period = 2 * (length - 1)
        let folded = ((index % period) + period) % period
        return folded < length ? folded : period - folded
    }

    private static func mirroredWindow(_ image: [Float], shape: [Int], top: Int, left: Int, height: Int, width: Int) -> [Float] {
        let (inHeight, inWidth, channels) = (shape[0], shape[1], shape[2])
        var output = [Float](repeating: 0, count: height * width * channels)
        let columns = (0..<width).map { mirrored(left + $0, length: inWidth) }
        for y in 0..<height {
            let row = mirrored(top + y, length: inHeight) * inWidth
            for (x, column) in columns.enumerated() {
                let from = (row + column) * channels, to = (y * width + x) * channels
                for c in 0..<channels { output[to + c] = image[from + c] }
            }
        }
        return output
    }

    private static func zeroFilledWindow(_ image: [Float], shape: [Int], top: Int, left: Int, height: Int, width: Int) -> [Float] {
        let (inHeight, inWidth, channels) = (shape[0], shape[1], shape[2])
        var output = [Float](repeating: 0, count: height * width * channels)
        // Output columns whose source column is inside the image: a contiguous run per row.
        let firstX = max(0, -left), endX = min(width, inWidth - left)
        guard firstX < endX else { return output }
        let run = (endX - firstX) * channels
        image.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                guard let from = source.baseAddress, let to = target.baseAddress else { return }
                for y in max(0, -top)..<max(max(0, -top), min(height, inHeight - top)) {
                    (to + (y * width + firstX) * channels)
                        .update(from: from + ((top + y) * inWidth + left + firstX) * channels, count: run)
                }
            }
        }
        return output
    }

    /// Applies `transform` to each image `(h, w, c)` of the image or batch `tensor`; the results are
    /// `outputSize` (height, width), or the input's size when `nil`.
    /// - Throws: `ConvNetError.shape` naming `op` unless `tensor` is `(h, w, c)` or `(m, h, w, c)`.
    package static func mapImages(_ tensor: Tensor, op: String, outputSize: (height: Int, width: Int)?,
                                  _ transform: ([Float], [Int]) -> [Float]) throws -> Tensor {
        guard tensor.rank == 3 || tensor.rank == 4 else {
            throw ConvNetError.shape(op: op, message: "expected (h, w, c) or (m, h, w, c), got \(describe(shape: tensor.shape))")
        }
        let imageShape = Array(tensor.shape.suffix(3)), images = tensor.rank == 4 ? tensor.shape[0] : 1
        let size = imageShape.reduce(1, *)
        let outputShape = [outputSize?.height ?? imageShape[0], outputSize?.width ?? imageShape[1], imageShape[2]]
        var output: [Float] = []
        output.reserveCapacity(images * outputShape.reduce(1, *))
        for index in 0..<images {
            output += transform(Array(tensor.scalars[(index * size)..<((index + 1) * size)]), imageShape)
        }
        return Tensor(validShape: (tensor.rank == 4 ? [images] : []) + outputShape, scalars: output)
    }
}

extension Tensor {
    /// Every image of `(h, w, c)` or `(m, h, w, c)` mirrored left–right (column `x` becomes
    /// `w − 1 − x`). Preprocessing: not recorded on a gradient tape.
    /// - Throws: `ConvNetError.shape` for another rank.
    public func flippedHorizontally() throws -> Tensor {
        try ImageWindow.mapImages(self, op: "flippedHorizontally", outputSize: nil) { image, shape in
            ImageWindow.flippedHorizontally(image, shape: shape)
        }
    }

    /// Every image of `(h, w, c)` or `(m, h, w, c)` shifted `down` rows and `right` columns (negative
    /// values shift up and left): output pixel `(y, x)` is input pixel `(y − down, x − right)`, with
    /// the uncovered pixels filled as `fill` says (zeros by default). The shape is unchanged.
    /// - Throws: `ConvNetError.shape` for another rank.
    public func translated(down: Int, right: Int, fill: FillMode = .constant) throws -> Tensor {
        try ImageWindow.mapImages(self, op: "translated", outputSize: nil) { image, shape in
            ImageWindow.window(image, shape: shape, top: -down, left: -right, height: shape[0], width: shape[1], fill: fill)
        }
    }

    /// Every image of `(h, w, c)` or `(m, h, w, c)` cut to the `height × width` window whose
    /// top-left corner is pixel `(top, left)`; the window may reach outside the image, where it
    /// reads as `fill` says (zeros by default, so `top = left = −p` and size `h + 2p` pads by `p`).
    /// - Returns: `(height, width, c)` or `(m, height, width, c)`.
    /// - Throws: `ConvNetError.shape` for another rank or a size below 1×1.
    public func cropped(top: Int, left: Int, height: Int, width: Int, fill: FillMode = .constant) throws -> Tensor {
        guard height > 0, width > 0 else {
            throw ConvNetError.shape(op: "cropped", message: "the window must be at least 1×1, got \(height)×\(width)")
        }
        return try ImageWindow.mapImages(self, op: "cropped", outputSize: (height, width)) { image, shape in
            ImageWindow.window(image, shape: shape, top: top, left: left, height: height, width: width, fill: fill)
        }
    }
}
