import ConvNetCore
/// The IDX format of MNIST, Fashion-MNIST, Kuzushiji-MNIST and EMNIST, gzipped or raw.
///
/// An IDX file is a big-endian header followed by the data in row-major order:
///
///     bytes 0-1  zero
///     byte  2    element type (0x08: unsigned byte, the only one these datasets use)
///     byte  3    number of dimensions d
///     d × UInt32 size of each dimension
///
/// so an image file (`…-images-idx3-ubyte`) starts with the magic number `0x00000803` and the
/// dimensions `(count, rows, columns)`, and a label file (`…-labels-idx1-ubyte`) with `0x00000801`
/// and `(count)`. Files may be gzipped; that is detected from their content.
public enum IDX {
    /// Magic number of an unsigned-byte IDX file with three dimensions (images).
    public static let imagesMagic: UInt32 = 0x0000_0803
    /// Magic number of an unsigned-byte IDX file with one dimension (labels).
    public static let labelsMagic: UInt32 = 0x0000_0801

    /// Reads an image file.
    /// - Parameters:
    ///   - path: The `…-images-idx3-ubyte` file, gzipped or not.
    ///   - limit: keep only the first `limit` images.
    /// - Returns: shape `(count, rows, columns, 1)`, pixel values `0...255`.
    /// - Throws: `ConvNetError.file` naming `path` for a missing, truncated or corrupt file, a wrong
    ///   magic number, or a byte count that disagrees with the header.
    public static func readImages(path: String, limit: Int? = nil) throws -> Tensor {
        try IDXArray(path: path, magic: imagesMagic).images(limit: limit)
    }

    /// Reads a label file.
    /// - Parameters:
    ///   - path: The `…-labels-idx1-ubyte` file, gzipped or not.
    ///   - limit: keep only the first `limit` labels.
    /// - Returns: the labels, `0...255` each.
    public static func readLabels(path: String, limit: Int? = nil) throws -> [Int] {
        try IDXArray(path: path, magic: labelsMagic).labels(limit: limit)
    }

    /// Writes `images` as an IDX image file, gzipped when `gzip` is true.
    /// - Parameters:
    ///   - images: shape `(count, rows, columns, 1)` or `(count, rows, columns)`; values are
    ///     rounded and clamped to `0...255`.
    ///   - path: The file to write; an existing file is replaced.
    ///   - gzip: Whether to gzip the file (name it `….gz` then, as the datasets do).
    public static func writeImages(_ images: Tensor, path: String, gzip: Bool = false) throws {
        guard images.rank == 3 || (images.rank == 4 && images.shape[3] == 1) else {
            throw ConvNetError.shape(op: "IDX.writeImages",
                                     message: "expected (count, rows, columns[, 1]), got \(describe(shape: images.shape))")
        }
        try write(magic: imagesMagic, dimensions: Array(images.shape.prefix(3)),
                  data: images.scalars.map(pixelByte), path: path, gzip: gzip)
    }

    /// Writes `labels` as an IDX label file, gzipped when `gzip` is true.
    /// - Throws: `ConvNetError.argument` for a label outside `0...255`.
    public static func writeLabels(_ labels: [Int], path: String, gzip: Bool = false) throws {
        if let bad = labels.first(where: { !(0...255).contains($0) }) {
            throw ConvNetError.argument("IDX.writeLabels: label \(bad) does not fit in an unsigned byte")
        }
        try write(magic: labelsMagic, dimensions: [labels.count], data: labels.map { UInt8($0) }, path: path, gzip: gzip)
    }

    private static func write(magic: UInt32, dimensions: [Int], data: [UInt8], path: String, gzip: Bool) throws {
        let header = ([magic] + dimensions.map { UInt32($0) }).flatMap(bigEndianBytes)
        let file = header + data
        try FileIO.write(gzip ? try Gzip.compress(file) : file, toPath: path)
    }

    private static func bigEndianBytes(_ value: UInt32) -> [UInt8] {
        [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) }
    }
}

/// A validated IDX file in memory: its dimensions and where its data starts.
struct IDXArray {
    let dimensions: [Int]
    private let bytes: [UInt8]
    private let dataOffset: Int

    /// Reads (and if needed decompresses) the file and checks its header against `magic`, whose
    /// low byte is the number of dimensions, and its size against the dimensions. A gzipped file's
    /// header is checked from the first bytes decompressed, and it may not decompress to more than
    /// its header declares, so a wrong or hostile file is refused before it fills the memory.
    init(path: String, magic: UInt32) throws {
        let bytes = try Gzip.readFile(atPath: path) { prefix in
            try Self.declaredSize(prefix, magic: magic, path: path, complete: false)
        }
        let headerSize = 4 + 4 * Int(magic & 0xFF)
        guard let expected = try Self.declaredSize(bytes, magic: magic, path: path, complete: true) else {
            throw ConvNetError.file(path: path, message: "truncated IDX file")  // not reached: complete headers give a size
        }
        guard bytes.count == expected else {
            throw ConvNetError.file(path: path, message: (bytes.count < expected ? "truncated IDX file: " : "IDX file too long: ")
                                    + "the header describes \(Self.dimensions(bytes, rank: Int(magic & 0xFF)).map(String.init).joined(separator: "×")) bytes, "
                                    + "so the file should have \(expected) bytes, it has \(bytes.count)")
        }
        self.dimensions = Self.dimensions(bytes, rank: Int(magic & 0xFF))
        self.bytes = bytes
        self.dataOffset = headerSize
    }

    /// The file size the header at the start of `prefix` declares (header plus data), or `nil`
    /// when `prefix` is shorter than the header and more may follow (`complete` false).
    /// - Throws: `ConvNetError.file` for a wrong magic number, a truncated header, or a declared
    ///   size above `AllocationLimit.maximumBytes`.
    private static func declaredSize(_ prefix: [UInt8], magic: UInt32, path: String, complete: Bool) throws -> Int? {
        let rank = Int(magic & 0xFF)
        let headerSize = 4 + 4 * rank
        let kind = rank == 1 ? "label" : "image"
        let truncatedHeader = ConvNetError.file(path: path, message: "truncated IDX file: the \(kind) header needs "
                                                + "\(headerSize) bytes, the file has \(prefix.count)")
        guard prefix.count >= 4 else {
            if complete { throw truncatedHeader }
            return nil
        }
        let found = field(prefix, 0)
        guard found == magic else {
            throw ConvNetError.file(path: path, message: "not an IDX \(kind) file: magic number \(hex(found)), expected \(hex(magic))"
                                    + " (unsigned bytes, \(rank) dimension\(rank == 1 ? "" : "s"))")
        }
        guard prefix.count >= headerSize else {
            if complete { throw truncatedHeader }
            return nil
        }
        let dataSize: Int
        do {
            let sizes = dimensions(prefix, rank: rank)
            dataSize = try AllocationLimit.elementCount(sizes, elementSize: 1, "IDX \(kind) data")
            // With a count of 0 the product is 0 whatever the rows and columns; one image (as
            // Float) must still be possible, or its size overflows later (found by fuzzing).
            _ = try AllocationLimit.elementCount(Array(sizes.dropFirst()), elementSize: MemoryLayout<Float>.size, "one IDX \(kind)")
        } catch let error as ConvNetError {
            throw ConvNetError.file(path: path, message: error.description)
        }
        return headerSize + dataSize
    }

    /// The `rank` big-endian 32-bit sizes after the magic number.
    private static func dimensions(_ bytes: [UInt8], rank: Int) -> [Int] {
        (1...rank).map { Int(field(bytes, $0)) }
    }

    /// The big-endian 32-bit field `index` of the header.
    private static func field(_ bytes: [UInt8], _ index: Int) -> UInt32 {
        bytes[(4 * index)..<(4 * index + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// The first dimension: the number of images or labels.
    var count: Int { dimensions[0] }

    /// The first `limit` images as `(count, rows, columns, 1)`.
    func images(limit: Int?) throws -> Tensor {
        let kept = try sampleCount(available: count, limit: limit)
        let imageShape = [dimensions[1], dimensions[2], 1]
        let pixels = bytes[dataOffset..<(dataOffset + kept * imageShape.reduce(1, *))]
        return Tensor(validShape: [kept] + imageShape, scalars: pixelValues(pixels))
    }

    /// The first `limit` labels.
    func labels(limit: Int?) throws -> [Int] {
        let kept = try sampleCount(available: count, limit: limit)
        return bytes[dataOffset..<(dataOffset + kept)].map(Int.init)
    }
}

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
