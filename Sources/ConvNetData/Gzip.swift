import ConvNetCore
import CZlibSystem

/// gzip (RFC 1952) through zlib, for dataset files such as `train-images-idx3-ubyte.gz`.
///
/// Files are recognised by their content, the magic number `1f 8b`, not by their name, so a
/// dataset may be stored gzipped or raw. zlib checks each member's CRC-32 and length, so a
/// truncated or corrupt file is an error instead of silently short data.
public enum Gzip {
    /// True when `bytes` start with the gzip magic number `1f 8b`.
    public static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// The content of the file at `path`: decompressed when it is gzip, as stored otherwise.
    /// `declaredSize` (see `decompress`) checks the content's header from its first bytes and
    /// bounds its size, so a decompression bomb is refused early.
    /// - Throws: `ConvNetError.file` naming `path` when it is missing, unreadable, or gzip data
    ///   that is truncated or corrupt.
    public static func readFile(atPath path: String, declaredSize: (_ prefix: [UInt8]) throws -> Int? = { _ in nil }) throws -> [UInt8] {
        let bytes = try FileIO.readBytes(atPath: path)
        return isGzip(bytes) ? try decompress(bytes, path: path, declaredSize: declaredSize) : bytes
    }

    /// Decompresses gzip data; several concatenated members decompress to their concatenation, as
    /// with `gunzip`. `path` names the source in errors. (`GzipReader` does the work; this is the
    /// whole-buffer case, for files that are needed whole, such as IDX.)
    ///
    /// The output is bounded, so that a small file cannot expand into gigabytes (a "decompression
    /// bomb"): after each 256 KiB of output, `declaredSize` is given what has been decompressed so
    /// far until it returns a size, which it reads from the content's own header (an IDX file's
    /// dimensions) or throws for a wrong header; more output than that size is an error. Until
    /// then, and without a header, the output may not pass `AllocationLimit.maximumBytes`.
    public static func decompress(_ bytes: [UInt8], path: String,
                                  declaredSize: (_ prefix: [UInt8]) throws -> Int? = { _ in nil }) throws -> [UInt8] {
        var delivered = false
        let reader = try GzipReader(path: path) {
            defer { delivered = true }
            return delivered ? [] : bytes
        }
        var output: [UInt8] = []
        var limit: Int?
        output.reserveCapacity(min(expectedSize(ofGzip: bytes), 1 << 28))
        while true {
            let piece = try reader.read(upTo: 1 << 18)
            if piece.isEmpty { return output }
            output += piece
            if limit == nil, let declared = try declaredSize(output) { limit = declared }
            if output.count > (limit ?? AllocationLimit.maximumBytes) {
                throw ConvNetError.file(path: path, message: limit.map { "the decompressed data is longer than the \($0) bytes its header declares" }
                    ?? "decompresses to more than \(AllocationLimit.readable(bytes: Double(AllocationLimit.maximumBytes))) (CONVNET_MAX_ALLOCATION_BYTES)")
            }
        }
    }

    /// Compresses `bytes` into one gzip member at `level` 0 (store) ... 9 (smallest).
    public static func compress(_ bytes: [UInt8], level: Int = 6) throws -> [UInt8] {
        guard (0...9).contains(level) else {
            throw ConvNetError.argument("gzip compression level must be in 0...9, got \(level)")
        }
        guard bytes.count <= Int(UInt32.max) else {
            throw ConvNetError.argument("gzip: inputs over 4 GiB are not supported")
        }
        var stream = z_stream()
        // windowBits 16 + MAX_WBITS writes a gzip wrapper; memLevel 8 is zlib's default.
        guard deflateInit2_(&stream, Int32(level), Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY,
                            zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ConvNetError.argument("gzip: zlib could not start compressing (out of memory)")
        }
        defer { deflateEnd(&stream) }
        // deflateBound is an upper bound on the output, wrapper included, so one call finishes.
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))))
        let status = bytes.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { buffer in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                stream.avail_in = UInt32(input.count)
                stream.next_out = buffer.baseAddress
                stream.avail_out = UInt32(buffer.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else {
            throw ConvNetError.argument("gzip: zlib failed to compress (status \(status))")
        }
        output.removeLast(Int(stream.avail_out))
        return output
    }

    /// The decompressed size recorded in the last member's trailer (ISIZE, little-endian, modulo
    /// 2³²), capped at deflate's maximum ratio (about 1032:1) so a corrupt trailer cannot trigger a
    /// huge allocation. Only a capacity hint: the real size is whatever inflate produces.
    private static func expectedSize(ofGzip bytes: [UInt8]) -> Int {
        guard bytes.count >= 18 else { return 0 }
        let trailer = bytes[(bytes.count - 4)...]
        let size = trailer.reversed().reduce(0) { $0 << 8 | Int($1) }
        return min(size, bytes.count * 1032)
    }
}
