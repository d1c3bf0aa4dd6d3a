import ConvNetCore
extension Tensor {
    /// Converts between colour layouts along the last (channel) axis, for `(h, w, c)` images or
    /// `(m, h, w, c)` batches.
    ///
    /// Sources: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA. Targets: 1 gray or 3 RGB. As PIL's
    /// `convert` and TensorFlow's `decode_image(channels:)` do:
    /// - alpha is dropped (not composited);
    /// - gray from RGB is the ITU-R 601-2 luma `L = 0.299 R + 0.587 G + 0.114 B` (PIL's
    ///   `convert("L")`; PIL then rounds to a byte, this keeps the exact `Float`);
    /// - RGB from gray repeats the gray value in each channel.
    /// - Throws: `ConvNetError.argument` for an unsupported channel count.
    public func converted(toChannels target: Int) throws -> Tensor {
        guard let source = shape.last, (1...4).contains(source), target == 1 || target == 3 else {
            throw ConvNetError.argument("converted(toChannels:): cannot convert \(shape.last.map(String.init) ?? "no") "
                                        + "channels to \(target); sources have 1 to 4 channels, targets 1 or 3")
        }
        let hasColor = source >= 3
        guard source != target else { return self }
        let pixels = count / source
        var output = [Float](repeating: 0, count: pixels * target)
        for pixel in 0..<pixels {
            let input = pixel * source
            switch (hasColor, target) {
            case (true, 1):
                output[pixel] = 0.299 * scalars[input] + 0.587 * scalars[input + 1] + 0.114 * scalars[input + 2]
            case (true, _):
                for channel in 0..<3 { output[pixel * 3 + channel] = scalars[input + channel] }
            case (false, 1):
                output[pixel] = scalars[input]
            case (false, _):
                for channel in 0..<3 { output[pixel * 3 + channel] = scalars[input] }
            }
        }
        return Tensor(validShape: Array(shape.dropLast()) + [target], scalars: output)
    }
}
