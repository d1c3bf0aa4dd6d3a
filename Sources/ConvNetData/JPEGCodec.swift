import ConvNetCore
import CImageShims

extension ImageCodec {
    /// Decodes baseline or progressive JPEG data; `source` names it in errors.
    ///
    /// Grayscale files give 1 channel, colour (YCbCr) files 3 RGB channels; CMYK files are rejected.
    /// libjpeg's default decoding (accurate integer IDCT, smooth chroma upsampling) is used, as in
    /// PIL. A truncated or corrupt stream is an error, as in PIL, rather than an image padded with grey.
    /// - Returns: shape `(height, width, channels)`.
    public static func decodeJPEG(bytes: [UInt8], source: String) throws -> Tensor {
        try decodeWithShim(bytes: bytes, source: source, format: .jpeg, decoder: convnet_jpeg_decode)
    }

    /// Encodes a gray or RGB JPEG (4:2:0 chroma subsampling for RGB, libjpeg's default).
    /// - Parameters:
    ///   - image: shape `(height, width, 1)` or `(height, width, 3)`; values are rounded and
    ///     clamped to `0...255`.
    ///   - quality: 1...100 on libjpeg's scale.
    /// - Returns: the JPEG file's bytes.
    public static func encodeJPEG(_ image: Tensor, quality: Int = 90) throws -> [UInt8] {
        let op = "encodeJPEG"
        guard (1...100).contains(quality) else {
            throw ConvNetError.argument("\(op): quality must be in 1...100, got \(quality)")
        }
        let (samples, height, width, channels) = try encodableSamples(of: image, op: op)
        // JPEG stores dimensions in 16 bits and libjpeg caps them at 65500.
        guard height <= 65500, width <= 65500 else {
            throw ConvNetError.shape(op: op, message: "JPEG images are at most 65500×65500, got \(describe(shape: image.shape))")
        }
        var encoded: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = convnet_jpeg_encode(samples, Int32(width), Int32(height), Int32(channels), Int32(quality),
                                         &encoded, &size, &message, message.count)
        guard status == 0, let encoded else {
            throw ConvNetError.argument("\(op): libjpeg: \(message.withUnsafeBytes(cString))")
        }
        defer { convnet_image_free(encoded) }
        return Array(UnsafeBufferPointer(start: encoded, count: Int(size)))
    }
}
