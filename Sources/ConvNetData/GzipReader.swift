import ConvNetCore
import CZlibSystem
import Foundation

/// Decompresses gzip data (RFC 1952, through zlib) piece by piece, so that an archive of any size
/// is read with a bounded amount of memory: the compressed input is taken from `source` a piece at
/// a time, and `read(upTo:)` returns at most the bytes asked for.
///
/// Several concatenated members decompress to their concatenation, as with `gunzip`. zlib checks
/// each member's CRC-32 and length, so a truncated or corrupt stream is an error naming `path`,
/// never silently short data.
final class GzipReader {
    /// Names the data in errors.
    let path: String
    /// zlib's stream state, at a fixed address: zlib keeps a pointer back to it.
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private let source: () throws -> [UInt8]
    /// The compressed piece being read, and how much of it zlib has consumed.
    private var piece: [UInt8] = []
    private var pieceOffset = 0
    private var sourceEnded = false
    private var finished = false
    private var compressedBytes = 0
    private var decompressedBytes = 0
    /// Raw (not gzip) data is passed through unchanged, for `init(fileAt:)`.
    private let passThrough: Bool

    /// A reader of the gzip data that `source` delivers in pieces (an empty piece marks the end).
    init(path: String, passThrough: Bool = false, source: @escaping () throws -> [UInt8]) throws {
        self.path = path
        self.source = source
        self.passThrough = passThrough
        stream.initialize(to: z_stream())
        // 16 + MAX_WBITS: expect a gzip wrapper (not zlib's) around a 32 KiB-window deflate stream.
        guard inflateInit2_(stream, 16 + MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw ConvNetError.file(path: path, message: "zlib could not start decompressing (out of memory)")
        }
    }

    /// A reader of the file at `path`, read `chunkSize` bytes at a time: decompressed when it starts
    /// with the gzip magic number `1f 8b`, passed through as stored otherwise.
    convenience init(fileAt path: String, chunkSize: Int = 1 << 20) throws {
        guard FileIO.isFile(path), let handle = FileHandle(forReadingAtPath: path) else {
            throw ConvNetError.file(path: path, message: FileIO.isDirectory(path) ? "is a folder, expected a file" : "no such file")
        }
        func next() throws -> [UInt8] {
            do {
                return try handle.read(upToCount: chunkSize).map { [UInt8]($0) } ?? []
            } catch {
                throw ConvNetError.file(path: path, message: "cannot read: \(error.localizedDescription)")
            }
        }
        let first = try next()
        var pending: [UInt8]? = first
        try self.init(path: path, passThrough: !Gzip.isGzip(first) && !first.isEmpty) {
            if let piece = pending {
                pending = nil
                return piece
            }
            let piece = try next()
            if piece.isEmpty { try? handle.close() }
            return piece
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// The next decompressed bytes, at most `maxCount` and fewer only at the end of the data;
    /// empty once everything has been read.
    func read(upTo maxCount: Int) throws -> [UInt8] {
        guard !finished, maxCount > 0 else { return [] }
        if passThrough { return try readStored(upTo: maxCount) }
        var output = [UInt8](repeating: 0, count: maxCount)
        var produced = 0
        while produced < maxCount {
            try refillIfEmpty()
            let available = min(piece.count - pieceOffset, Int(UInt32.max))
            let room = min(maxCount - produced, Int(UInt32.max))
            let (status, consumed, made) = piece.withUnsafeBufferPointer { input in
                output.withUnsafeMutableBufferPointer { buffer in
                    stream.pointee.next_in = available > 0 ? input.baseAddress.map { UnsafeMutablePointer(mutating: $0 + pieceOffset) } : nil
                    stream.pointee.avail_in = UInt32(available)
                    stream.pointee.next_out = buffer.baseAddress.map { $0 + produced }
                    stream.pointee.avail_out = UInt32(room)
                    let status = inflate(stream, Z_NO_FLUSH)
                    return (status, available - Int(stream.pointee.avail_in), room - Int(stream.pointee.avail_out))
                }
            }
            pieceOffset += consumed
            compressedBytes += consumed
            produced += made
            decompressedBytes += made
            switch status {
            case Z_OK:
                continue
            case Z_STREAM_END:
                guard try startNextMember() else {
                    finished = true
                    output.removeLast(maxCount - produced)
                    return output
                }
            case Z_BUF_ERROR where available == 0 && sourceEnded:
                throw ConvNetError.file(path: path, message: "truncated gzip file: the compressed data ends after "
                                        + "\(compressedBytes) bytes, before the end of the stream (\(decompressedBytes) bytes decompressed)")
            case Z_BUF_ERROR:
                continue  // no progress without more input: the next turn refills
            default:
                let reason = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw ConvNetError.file(path: path, message: "corrupt gzip data (\(reason)) after \(decompressedBytes) decompressed bytes")
            }
        }
        return output
    }

    /// Reads the next piece from `source` when the current one is used up.
    private func refillIfEmpty() throws {
        while pieceOffset == piece.count, !sourceEnded {
            piece = try source()
            pieceOffset = 0
            sourceEnded = piece.isEmpty
        }
    }

    /// After a member's end: true when another member follows (and inflate is reset for it),
    /// false at the end of the data; anything else after a member is an error.
    private func startNextMember() throws -> Bool {
        try refillIfEmpty()
        if pieceOffset == piece.count { return false }
        // The next member's magic number may straddle two pieces.
        if piece.count - pieceOffset == 1, !sourceEnded {
            let rest = try source()
            sourceEnded = rest.isEmpty
            piece = [piece[pieceOffset]] + rest
            pieceOffset = 0
        }
        guard piece.count - pieceOffset >= 2, piece[pieceOffset] == 0x1F, piece[pieceOffset + 1] == 0x8B else {
            throw ConvNetError.file(path: path, message: "unexpected data after the gzip stream at compressed byte \(compressedBytes)")
        }
        inflateReset(stream)
        return true
    }

    /// `read(upTo:)` for data that is not gzip: the stored bytes.
    private func readStored(upTo maxCount: Int) throws -> [UInt8] {
        var output: [UInt8] = []
        while output.count < maxCount {
            try refillIfEmpty()
            guard pieceOffset < piece.count else {
                finished = true
                break
            }
            let take = min(maxCount - output.count, piece.count - pieceOffset)
            output += piece[pieceOffset..<(pieceOffset + take)]
            pieceOffset += take
        }
        return output
    }
}
