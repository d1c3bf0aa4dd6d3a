import ConvNet
import Foundation
import Testing

/// Builds PNG files by hand, for colour types and bit depths the encoder does not write: the image
/// data is a zlib stream of uncompressed ("stored") deflate blocks, so no compressor is needed.
private enum HandmadePNG {
    /// A PNG of `width × height` with the given IHDR colour type and bit depth. `rows` are the raw
    /// scanlines (packed samples, without the filter byte); `chunks` go between IHDR and IDAT.
    static func make(width: Int, height: Int, bitDepth: UInt8, colorType: UInt8, rows: [[UInt8]],
                     chunks: [(type: String, data: [UInt8])] = []) -> [UInt8] {
        let header = bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [bitDepth, colorType, 0, 0, 0]
        let scanlines: [UInt8] = rows.flatMap { row -> [UInt8] in [0] + row } // filter type 0 (None) on every row
        // zlib header (deflate, 32 KiB window), one final stored block (LEN, ~LEN little-endian), Adler-32.
        let length = UInt16(scanlines.count)
        let blockHeader: [UInt8] = [0x01, UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8(~length >> 8)]
        let zlib: [UInt8] = [0x78, 0x01] + blockHeader + scanlines + bigEndian(adler32(scanlines))
        var file: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        for (type, data) in [("IHDR", header)] + chunks + [("IDAT", zlib), ("IEND", [])] {
            let typed = Array(type.utf8) + data
            file += bigEndian(UInt32(data.count)) + typed + bigEndian(crc32(typed))
        }
        return file
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }

    private static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var (a, b): (UInt32, UInt32) = (1, 0)
        for byte in bytes {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return b << 16 | a
    }

    private static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

/// An image whose pixel (y, x, c) is `(17y + 29x + 71c + offset) % 256`, clear of flat areas.
private func patternImage(height: Int, width: Int, channels: Int, offset: Int = 0) throws -> Tensor {
    var scalars: [Float] = []
    for y in 0..<height {
        for x in 0..<width {
            for c in 0..<channels { scalars.append(Float((17 * y + 29 * x + 71 * c + offset) % 256)) }
        }
    }
    return try Tensor(shape: [height, width, channels], scalars: scalars)
}

/// A smooth gradient, which JPEG reproduces within a few levels.
private func gradientImage(height: Int, width: Int, channels: Int) throws -> Tensor {
    var scalars: [Float] = []
    for y in 0..<height {
        for x in 0..<width {
            for c in 0..<channels { scalars.append(Float(40 + 6 * x + 4 * y + 30 * c)) }
        }
    }
    return try Tensor(shape: [height, width, channels], scalars: scalars)
}

@Suite("ImageCodec: PNG")
struct PNGCodecTests {
    @Test("gray and RGB PNGs round-trip exactly, with rounding and clamping", arguments: [1, 3])
    func roundTrip(channels: Int) throws {
        let image = try patternImage(height: 5, width: 7, channels: channels)
        let encoded = try ImageCodec.encodePNG(image)
        #expect(ImageCodec.format(of: encoded) == .png)
        #expect(try ImageCodec.decode(bytes: encoded, source: "memory") == image)

        let unrounded = try Tensor(shape: [1, 4, channels], scalars: [-3, 254.6, 300, .nan].flatMap { Array(repeating: $0, count: channels) })
        let decoded = try ImageCodec.decodePNG(bytes: try ImageCodec.encodePNG(unrounded), source: "memory")
        #expect(decoded.scalars == [0, 255, 255, 0].flatMap { Array(repeating: Float($0), count: channels) })
    }

    @Test("16-bit samples scale to 8 bits and gamma chunks are ignored")
    func sixteenBit() throws {
        // gAMA 100000 is gamma 1.0 (linear); libpng's simplified API would re-encode these as sRGB.
        let png = HandmadePNG.make(width: 4, height: 1, bitDepth: 16, colorType: 0,
                                   rows: [[0x00, 0x00, 0x80, 0x00, 0xFF, 0xFF, 0x10, 0x00]],
                                   chunks: [("gAMA", HandmadePNG.bigEndian(100_000))])
        let image = try ImageCodec.decodePNG(bytes: png, source: "memory")
        #expect(image.shape == [1, 4, 1])
        #expect(image.scalars == [0, 128, 255, 16]) // round(v · 255 / 65535)
        let gamma8 = HandmadePNG.make(width: 2, height: 1, bitDepth: 8, colorType: 0, rows: [[64, 128]],
                                      chunks: [("gAMA", HandmadePNG.bigEndian(100_000))])
        #expect(try ImageCodec.decodePNG(bytes: gamma8, source: "memory").scalars == [64, 128])
    }

    @Test("palette with transparency expands to RGBA; 1-bit gray to 0/255; gray+alpha keeps 2 channels")
    func expandedFormats() throws {
        let palette = HandmadePNG.make(width: 3, height: 1, bitDepth: 8, colorType: 3, rows: [[0, 1, 2]],
                                       chunks: [("PLTE", [255, 0, 0, 0, 255, 0, 0, 0, 255]), ("tRNS", [255, 128])])
        let rgba = try ImageCodec.decodePNG(bytes: palette, source: "memory")
        #expect(rgba.shape == [1, 3, 4])
        #expect(rgba.scalars == [255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 255])

        let bits = HandmadePNG.make(width: 8, height: 1, bitDepth: 1, colorType: 0, rows: [[0b1011_0000]])
        #expect(try ImageCodec.decodePNG(bytes: bits, source: "memory").scalars == [255, 0, 255, 255, 0, 0, 0, 0])

        let grayAlpha = HandmadePNG.make(width: 2, height: 2, bitDepth: 8, colorType: 4, rows: [[1, 2, 3, 4], [5, 6, 7, 8]])
        let decoded = try ImageCodec.decodePNG(bytes: grayAlpha, source: "memory")
        #expect(decoded.shape == [2, 2, 2])
        #expect(decoded.scalars == [1, 2, 3, 4, 5, 6, 7, 8])
    }

    @Test("corrupt and truncated PNGs are errors naming the file, not crashes")
    func corrupt() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        let encoded = try ImageCodec.encodePNG(try patternImage(height: 16, width: 16, channels: 3))
        try folder.write(Array(encoded.prefix(encoded.count / 2)), to: "truncated.png")
        let truncated = dataFileError(naming: folder.file("truncated.png")) { _ = try ImageCodec.decode(path: folder.file("truncated.png")) }
        #expect(truncated.contains("corrupt PNG"))
        // A flipped byte in the image data breaks the IDAT chunk's CRC, which libpng must reject.
        var flipped = encoded
        let idat = try #require((0..<(encoded.count - 4)).first { encoded[$0..<($0 + 4)].elementsEqual("IDAT".utf8) })
        flipped[idat + 10] ^= 0x55
        try folder.write(flipped, to: "flipped.png")
        _ = dataFileError(naming: folder.file("flipped.png")) { _ = try ImageCodec.decode(path: folder.file("flipped.png")) }
        try folder.write(Array("not an image".utf8), to: "text.png")
        let text = dataFileError(naming: folder.file("text.png")) { _ = try ImageCodec.decode(path: folder.file("text.png")) }
        #expect(text.contains("not a PNG or JPEG"))
    }

    @Test("only (height, width, 1 or 3) images can be encoded")
    func encoderShapes() {
        #expect(throws: ConvNetError.self) { _ = try ImageCodec.encodePNG(Tensor(shape: [2, 2, 2])) }
        #expect(throws: ConvNetError.self) { _ = try ImageCodec.encodePNG(Tensor(shape: [2, 2])) }
        #expect(throws: ConvNetError.self) { _ = try ImageCodec.encodePNG(Tensor(shape: [0, 2, 1])) }
    }
}

@Suite("ImageCodec: JPEG")
struct JPEGCodecTests {
    @Test("gray and RGB JPEGs decode to 1 and 3 channels close to the encoded pixels", arguments: [1, 3])
    func roundTrip(channels: Int) throws {
        let image = try gradientImage(height: 12, width: 20, channels: channels)
        let encoded = try ImageCodec.encodeJPEG(image, quality: 95)
        #expect(ImageCodec.format(of: encoded) == .jpeg)
        let decoded = try ImageCodec.decode(bytes: encoded, source: "memory")
        #expect(decoded.shape == [12, 20, channels])
        let maxError = zip(decoded.scalars, image.scalars).map { abs($0 - $1) }.max() ?? .infinity
        #expect(maxError <= 4, "largest difference \(maxError)")
    }

    @Test("truncated and corrupt JPEGs are errors naming the file, not crashes")
    func corrupt() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        let encoded = try ImageCodec.encodeJPEG(try patternImage(height: 32, width: 32, channels: 3))
        try folder.write(Array(encoded.prefix(encoded.count * 2 / 3)), to: "truncated.jpg")
        let truncated = dataFileError(naming: folder.file("truncated.jpg")) { _ = try ImageCodec.decode(path: folder.file("truncated.jpg")) }
        #expect(truncated.contains("corrupt JPEG"))
        try folder.write(Array(encoded.prefix(3)) + Array(repeating: 0x42, count: 200), to: "garbage.jpg")
        _ = dataFileError(naming: folder.file("garbage.jpg")) { _ = try ImageCodec.decode(path: folder.file("garbage.jpg")) }
    }

    @Test("write(_:to:) picks the format from the file name")
    func writeByExtension() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        let image = try gradientImage(height: 4, width: 4, channels: 3)
        try ImageCodec.write(image, to: folder.file("a.png"))
        try ImageCodec.write(image, to: folder.file("b.JPEG"))
        #expect(ImageCodec.format(of: try folder.read("a.png")) == .png)
        #expect(ImageCodec.format(of: try folder.read("b.JPEG")) == .jpeg)
        #expect(try ImageCodec.decode(path: folder.file("a.png")) == image)
        _ = dataFileError(naming: folder.file("c.bmp")) { try ImageCodec.write(image, to: folder.file("c.bmp")) }
        #expect(throws: ConvNetError.self) { _ = try ImageCodec.encodeJPEG(image, quality: 0) }
    }
}

@Suite("ImageCodec: image folders")
struct ImageFolderTests {
    /// root/cats/{a.png, b.PNG, .DS_Store}, root/dogs/{c.jpg, nested/d.png}, root/README (ignored).
    private func writeTwoClasses(in folder: DataTestFolder) throws {
        try ImageCodec.write(try patternImage(height: 4, width: 6, channels: 3, offset: 1), to: folder.file("root/cats/b.PNG").ensuringFolder())
        try ImageCodec.write(try patternImage(height: 4, width: 6, channels: 1, offset: 2), to: folder.file("root/cats/a.png").ensuringFolder())
        try folder.write([1, 2, 3], to: "root/cats/.DS_Store")
        try ImageCodec.write(try gradientImage(height: 4, width: 6, channels: 3), to: folder.file("root/dogs/c.jpg").ensuringFolder())
        try ImageCodec.write(try patternImage(height: 4, width: 6, channels: 3, offset: 4), to: folder.file("root/dogs/nested/d.png").ensuringFolder())
        try folder.write(Array("about".utf8), to: "root/README")
    }

    @Test("two classes load with sorted class names, sorted files and labels")
    func twoClasses() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        try writeTwoClasses(in: folder)
        let data = try ImageFolder.load(root: folder.file("root"))
        #expect(data.classNames == ["cats", "dogs"])
        #expect(data.labels == [0, 0, 1, 1])
        #expect(data.images.shape == [4, 4, 6, 3])
        let size = 4 * 6 * 3
        // a.png is gray, so its RGB channels repeat the gray value.
        let grayAsRGB = try patternImage(height: 4, width: 6, channels: 1, offset: 2).converted(toChannels: 3)
        #expect(Array(data.images.scalars[0..<size]) == grayAsRGB.scalars)
        #expect(Array(data.images.scalars[size..<(2 * size)]) == (try patternImage(height: 4, width: 6, channels: 3, offset: 1)).scalars)
        #expect(Array(data.images.scalars[(3 * size)...]) == (try patternImage(height: 4, width: 6, channels: 3, offset: 4)).scalars)

        let gray = try ImageFolder.load(root: folder.file("root"), channels: 1, limit: 3)
        #expect(gray.images.shape == [3, 4, 6, 1])
        #expect(gray.labels == [0, 0, 1])
        #expect(gray.classNames == ["cats", "dogs"])
    }

    @Test("an image size resizes every image bilinearly")
    func resizing() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        let small = try patternImage(height: 2, width: 3, channels: 3)
        try ImageCodec.write(small, to: folder.file("root/a/small.png").ensuringFolder())
        try ImageCodec.write(try patternImage(height: 8, width: 5, channels: 3), to: folder.file("root/b/large.png").ensuringFolder())
        let data = try ImageFolder.load(root: folder.file("root"), imageSize: (height: 4, width: 6))
        #expect(data.images.shape == [2, 4, 6, 3])
        #expect(Array(data.images.scalars.prefix(4 * 6 * 3)) == (try small.resizedBilinear(height: 4, width: 6)).scalars)
    }

    @Test("without an image size, a differently sized image is an error naming it and both sizes")
    func mismatchedSizes() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        try ImageCodec.write(try patternImage(height: 2, width: 3, channels: 3), to: folder.file("root/a/1.png").ensuringFolder())
        try ImageCodec.write(try patternImage(height: 5, width: 4, channels: 3), to: folder.file("root/b/2.png").ensuringFolder())
        let message = dataFileError(naming: folder.file("root/b/2.png")) { _ = try ImageFolder.load(root: folder.file("root")) }
        #expect(message.contains("5×4") && message.contains("2×3"))
    }

    @Test("errors: missing root, no class folders, empty class folder, non-image file, corrupt image")
    func errors() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        _ = dataFileError(naming: folder.file("missing")) { _ = try ImageFolder.load(root: folder.file("missing")) }
        try folder.write(Array("about".utf8), to: "flat/README")
        let noClasses = dataFileError(naming: folder.file("flat")) { _ = try ImageFolder.load(root: folder.file("flat")) }
        #expect(noClasses.contains("no class folders"))

        try ImageCodec.write(try patternImage(height: 2, width: 2, channels: 3), to: folder.file("root/full/1.png").ensuringFolder())
        try FileManager.default.createDirectory(atPath: folder.file("root/empty"), withIntermediateDirectories: true)
        let empty = dataFileError(naming: folder.file("root/empty")) { _ = try ImageFolder.load(root: folder.file("root")) }
        #expect(empty.contains("'empty'"))

        try ImageCodec.write(try patternImage(height: 2, width: 2, channels: 3), to: folder.file("root/empty/1.png"))
        try folder.write(Array("notes".utf8), to: "root/full/notes.txt")
        let notImage = dataFileError(naming: folder.file("root/full/notes.txt")) { _ = try ImageFolder.load(root: folder.file("root")) }
        #expect(notImage.contains("not an image file"))

        try FileManager.default.removeItem(atPath: folder.file("root/full/notes.txt"))
        try folder.write(Array(repeating: 0x89, count: 40), to: "root/full/2.png")
        _ = dataFileError(naming: folder.file("root/full/2.png")) { _ = try ImageFolder.load(root: folder.file("root")) }
        #expect(throws: ConvNetError.self) { _ = try ImageFolder.load(root: folder.file("root"), channels: 2) }
    }

    @Test("many files decode in parallel into the right slots")
    func parallelDecoding() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        for index in 0..<60 {
            let image = Tensor(shape: [3, 3, 1], repeating: Float(index))
            try ImageCodec.write(image, to: folder.file("root/class\(index % 3)/\(String(format: "%03d", index)).png").ensuringFolder())
        }
        let data = try ImageFolder.load(root: folder.file("root"), channels: 1)
        #expect(data.labels == (0..<60).map { $0 / 20 })
        // Class c holds indices c, c+3, c+6, ... in sorted file order.
        let expected = (0..<3).flatMap { c in stride(from: c, to: 60, by: 3).map { Float($0) } }
        #expect((0..<60).map { data.images.scalars[$0 * 9] } == expected)
        #expect((0..<60).allSatisfy { n in data.images.scalars[(n * 9)..<(n * 9 + 9)].allSatisfy { $0 == expected[n] } })
    }
}

private extension String {
    /// Creates the folder that will hold the file at this path; returns the path.
    func ensuringFolder() throws -> String {
        try FileManager.default.createDirectory(atPath: (self as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        return self
    }
}
