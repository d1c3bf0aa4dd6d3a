import ConvNetCore
import ConvNetData
import Foundation

/// Writes pictures to files atomically (a temporary file in the same folder, then a rename, via
/// `writeAtomically`), so a viewer never sees a half-written image.
public enum VisualOutput {
    /// Encodes `image` as PNG (`.png`) or JPEG (`.jpg`, `.jpeg`), chosen by the file name, and writes it.
    /// - Parameters:
    ///   - image: `(height, width, 1 or 3)`, values rounded and clamped to `0...255`.
    ///   - path: The file to write; its extension chooses the format, and an existing file is replaced.
    ///   - jpegQuality: 1...100, used for JPEG only.
    /// - Throws: `ConvNetError.file` naming `path` for another extension or a failed write;
    ///   `ConvNetError.shape` for an image the encoders cannot take.
    public static func writeImage(_ image: Tensor, to path: String, jpegQuality: Int = 92) throws {
        let bytes: [UInt8]
        switch ImageCodec.format(ofFileName: path) {
        case .png: bytes = try ImageCodec.encodePNG(image)
        case .jpeg: bytes = try ImageCodec.encodeJPEG(image, quality: jpegQuality)
        case nil: throw ConvNetError.file(path: path, message: "unknown image type: use a .png, .jpg or .jpeg file name")
        }
        try writeAtomically(Data(bytes), to: path)
    }

    /// Writes UTF-8 text (an SVG document, a CSV table).
    public static func writeText(_ text: String, to path: String) throws {
        try writeAtomically(Data(text.utf8), to: path)
    }
}
