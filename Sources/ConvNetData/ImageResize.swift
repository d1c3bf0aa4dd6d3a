import ConvNetCore
extension Tensor {
    /// Bilinear resizing of `(h, w, c)` images or `(m, h, w, c)` batches to `height × width`.
    ///
    /// Matches TensorFlow's `tf.image.resize(method="bilinear", antialias=False)`, which Keras's
    /// `image_dataset_from_directory` and `Resizing` layer use: half-pixel centres
    /// (`align_corners = false`), so output pixel `i` samples the input at
    ///
    ///     s = (i + 0.5) · (inSize / outSize) − 0.5
    ///
    /// between input pixels `max(⌊s⌋, 0)` and `min(⌈s⌉, inSize − 1)` with weight `s − ⌊s⌋` on the
    /// second, first along the width, then along the height. Downscaling does not antialias.
    /// - Throws: `ConvNetError.shape` for another rank, an empty image or a target size below 1.
    public func resizedBilinear(height: Int, width: Int) throws -> Tensor {
        let op = "resizedBilinear"
        guard rank == 3 || rank == 4 else {
            throw ConvNetError.shape(op: op, message: "expected (h, w, c) or (m, h, w, c), got \(describe(shape: shape))")
        }
        try expectNonEmpty(op: op)
        guard height > 0, width > 0 else {
            throw ConvNetError.shape(op: op, message: "target size must be at least 1×1, got \(height)×\(width)")
        }
        let (inHeight, inWidth, channels) = (shape[rank - 3], shape[rank - 2], shape[rank - 1])
        if (inHeight, inWidth) == (height, width) { return self }
        let images = rank == 4 ? shape[0] : 1
        let rows = interpolation(from: inHeight, to: height)
        let columns = interpolation(from: inWidth, to: width)

        var output = [Float](repeating: 0, count: images * height * width * channels)
        for image in 0..<images {
            let input = image * inHeight * inWidth * channels
            for (y, row) in rows.enumerated() {
                let top = input + row.lower * inWidth * channels, bottom = input + row.upper * inWidth * channels
                for (x, column) in columns.enumerated() {
                    let left = column.lower * channels, right = column.upper * channels
                    let out = ((image * height + y) * width + x) * channels
                    for c in 0..<channels {
                        // TensorFlow's compute_lerp, in the same order so results agree to the bit.
                        let upper = scalars[top + left + c] + (scalars[top + right + c] - scalars[top + left + c]) * column.weight
                        let lower = scalars[bottom + left + c] + (scalars[bottom + right + c] - scalars[bottom + left + c]) * column.weight
                        output[out + c] = upper + (lower - upper) * row.weight
                    }
                }
            }
        }
        return Tensor(validShape: Array(shape.dropLast(3)) + [height, width, channels], scalars: output)
    }
}

/// For each output index along one axis, the two input indices it blends and the weight of the second.
private func interpolation(from inSize: Int, to outSize: Int) -> [(lower: Int, upper: Int, weight: Float)] {
    let scale = Float(inSize) / Float(outSize)
    return (0..<outSize).map { index in
        let source = (Float(index) + 0.5) * scale - 0.5
        let floor = source.rounded(.down)
        return (Swift.max(Int(floor), 0), Swift.min(Int(source.rounded(.up)), inSize - 1), source - floor)
    }
}
