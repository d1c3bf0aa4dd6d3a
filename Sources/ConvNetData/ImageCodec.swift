import ConvNetCore
import CImageShims
import Foundation
import Synchronization

/// Reading and writing PNG and JPEG images as tensors.
///
/// A decoded image has shape `(height, width, channels)`, rows top to bottom, and pixel values
/// `0...255` as `Float` (8-bit samples; 16-bit PNG samples are scaled to 8 bits). Channels are the
/// file's own: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA; use `converted(toChannels:)` to unify them.
/// Encoders take the same layout with 1 or 3 channels and round and clamp values to `0...255`.
///
/// libpng and libjpeg report errors by longjmp or `exit()`; the C shims in `CImageShims` catch
/// them, so a corrupt file becomes a `ConvNetError.file` naming it, never a crash.
public enum ImageCodec {
    /// An encoded image format; the raw value is the usual file extension.
    public enum Format: String, Sendable {
        /// PNG: lossless, 8- or 16-bit samples.
        case png
        /// JPEG (JFIF): lossy, 8-bit samples.
        case jpeg
    }

    /// The format of encoded image data, from its signature (`89 50 4E 47 0D 0A 1A 0A` for PNG,
    /// `FF D8 FF` for JPEG), or `nil` for anything else.
    public static func format(of bytes: [UInt8]) -> Format? {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        return nil
    }

    /// The format a file name asks for: `.png`, or `.jpg`/`.jpeg` (any case); `nil` otherwise.
    public static func format(ofFileName name: String) -> Format? {
        switch (name as NSString).pathExtension.lowercased() {
        case "png": return .png
        case "jpg", "jpeg": return .jpeg
        default: return nil
        }
    }

    /// Decodes the PNG or JPEG file at `path`, recognised by its content rather than its name.
    /// - Returns: shape `(height, width, channels)`, pixel values `0...255`.
    /// - Throws: `ConvNetError.file` naming `path` when it is missing, not a PNG or JPEG, or corrupt.
    public static func decode(path: String) throws -> Tensor {
        try decode(bytes: FileIO.readBytes(atPath: path), source: path)
    }

    /// Decodes PNG or JPEG data; `source` names it in errors.
    public static func decode(bytes: [UInt8], source: String) throws -> Tensor {
        switch format(of: bytes) {
        case .png: return try decodePNG(bytes: bytes, source: source)
        case .jpeg: return try decodeJPEG(bytes: bytes, source: source)
        case nil: throw ConvNetError.file(path: source, message: "not a PNG or JPEG image (unrecognised file signature)")
        }
    }

    /// Encodes `image` in the format its file name asks for (`.png`, `.jpg`, `.jpeg`) and writes it.
    /// - Parameters:
    ///   - image: shape `(height, width, 1)` or `(height, width, 3)`, values `0...255`.
    ///   - path: The file to write; its extension chooses the format, and an existing file is replaced.
    ///   - jpegQuality: 1...100, used for JPEG only.
    public static func write(_ image: Tensor, to path: String, jpegQuality: Int = 90) throws {
        switch format(ofFileName: path) {
        case .png: try FileIO.write(encodePNG(image), toPath: path)
        case .jpeg: try FileIO.write(encodeJPEG(image, quality: jpegQuality), toPath: path)
        case nil: throw ConvNetError.file(path: path, message: "unknown image type: use a .png, .jpg or .jpeg file name")
        }
    }

    private static let pixelLimit = Atomic<Int>(
        ProcessInfo.processInfo.environment["CONVNET_MAX_IMAGE_PIXELS"].flatMap { Int($0) }.map { max($0, 1) } ?? 89_478_485)

    /// The most pixels (width × height) an image may have to be decoded; larger ones are refused
    /// from their header, before anything is allocated, as a small file may declare a huge image
    /// (a "decompression bomb"). The default is Pillow's `Image.MAX_IMAGE_PIXELS`, 89,478,485
    /// (about 1 GiB of 24-bit pixels / 3); the environment variable `CONVNET_MAX_IMAGE_PIXELS`
    /// sets another at start-up.
    public static var maximumPixels: Int {
        get { pixelLimit.load(ordering: .relaxed) }
        set { pixelLimit.store(max(newValue, 1), ordering: .relaxed) }
    }

    /// Runs a shim decoder, copying its 8-bit pixels into a tensor and freeing them.
    static func decodeWithShim(bytes: [UInt8], source: String, format: Format,
                               decoder: (UnsafePointer<UInt8>?, Int, Int, UnsafeMutablePointer<ConvNetDecodedImage>,
                                         UnsafeMutablePointer<CChar>, Int) -> Int32) throws -> Tensor {
        var image = ConvNetDecodedImage()
        var message = [CChar](repeating: 0, count: 256)
        let limit = maximumPixels
        let status = bytes.withUnsafeBufferPointer { buffer in
            decoder(buffer.baseAddress, buffer.count, limit, &image, &message, message.count)
        }
        if status == 2 {
            throw ConvNetError.file(path: source, message: "the image is \(image.width)x\(image.height), "
                                    + "\(Int(image.width) * Int(image.height)) pixels, more than the limit of \(limit) "
                                    + "(ImageCodec.maximumPixels; CONVNET_MAX_IMAGE_PIXELS changes it)")
        }
        guard status == 0, let pixels = image.pixels else {
            let reason = message.withUnsafeBytes(cString)
            throw ConvNetError.file(path: source, message: "corrupt \(format == .png ? "PNG" : "JPEG") image: \(reason)")
        }
        defer { convnet_image_free(pixels) }
        let shape = [Int(image.height), Int(image.width), Int(image.channels)]
        return Tensor(validShape: shape, scalars: pixelValues(UnsafeBufferPointer(start: pixels, count: shape.reduce(1, *))))
    }

    /// The 8-bit samples of an image to encode, with its height, width and channel count.
    /// - Throws: `ConvNetError.shape` unless `image` is `(height, width, 1 or 3)` and non-empty.
    static func encodableSamples(of image: Tensor, op: String) throws -> (samples: [UInt8], height: Int, width: Int, channels: Int) {
        try image.expectRank(3, op: op, "image")
        try image.expectNonEmpty(op: op, "image")
        guard image.shape[2] == 1 || image.shape[2] == 3 else {
            throw ConvNetError.shape(op: op, message: "expected 1 (gray) or 3 (RGB) channels, got shape \(describe(shape: image.shape))")
        }
        return (image.scalars.map(pixelByte), image.shape[0], image.shape[1], image.shape[2])
    }

    /// The NUL-terminated UTF-8 string at the start of a C `char` buffer (a shim's or libpng's message).
    static func cString(_ buffer: UnsafeRawBufferPointer) -> String {
        String(decoding: buffer.prefix(while: { $0 != 0 }), as: UTF8.self)
    }
}
