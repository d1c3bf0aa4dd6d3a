import ConvNetCore
import CImageShims
import CPNG

extension ImageCodec {
    /// Decodes PNG data of any colour type and bit depth (see `ImageCodec`); `source` names it in errors.
    ///
    /// Palette images become RGB, or RGBA with a transparency chunk; gray below 8 bits is scaled to
    /// 8 bits; 16-bit samples become `round(v · 255 / 65535)`. Gamma and colour-profile chunks are
    /// ignored: the values are the stored samples, as PIL and `tf.io.decode_png` return them.
    /// - Returns: shape `(height, width, channels)`, channels 1, 2, 3 or 4.
    public static func decodePNG(bytes: [UInt8], source: String) throws -> Tensor {
        try decodeWithShim(bytes: bytes, source: source, format: .png, decoder: convnet_png_decode)
    }

    /// Encodes an 8-bit gray or RGB PNG.
    /// - Parameter image: shape `(height, width, 1)` or `(height, width, 3)`; values are rounded
    ///   and clamped to `0...255`.
    /// - Returns: the PNG file's bytes.
    public static func encodePNG(_ image: Tensor) throws -> [UInt8] {
        let op = "encodePNG"
        let (samples, height, width, channels) = try encodableSamples(of: image, op: op)
        // libpng's simplified write API reports failure through its return value, not longjmp.
        var description = png_image()
        description.version = UInt32(PNG_IMAGE_VERSION)
        description.width = UInt32(width)
        description.height = UInt32(height)
        description.format = channels == 1 ? UInt32(PNG_FORMAT_GRAY) : UInt32(PNG_FORMAT_RGB)
        defer { png_image_free(&description) }

        // A first call with no output buffer computes the size; the second writes.
        var size = 0
        return try samples.withUnsafeBytes { pixels in
            guard png_image_write_to_memory(&description, nil, &size, 0, pixels.baseAddress, 0, nil) != 0 else {
                throw ConvNetError.argument("\(op): libpng: \(message(of: description))")
            }
            var encoded = [UInt8](repeating: 0, count: size)
            let written = encoded.withUnsafeMutableBytes { output in
                png_image_write_to_memory(&description, output.baseAddress, &size, 0, pixels.baseAddress, 0, nil)
            }
            guard written != 0 else {
                throw ConvNetError.argument("\(op): libpng: \(message(of: description))")
            }
            return Array(encoded.prefix(size))
        }
    }

    /// The message libpng's simplified API leaves in `png_image.message` (a C `char[64]`).
    private static func message(of description: png_image) -> String {
        withUnsafeBytes(of: description.message, cString)
    }
}
