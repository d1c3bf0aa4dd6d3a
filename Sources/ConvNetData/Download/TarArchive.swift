import ConvNetCore
import Foundation

/// Reading tar archives (POSIX ustar and GNU), enough to unpack a downloaded dataset such as
/// `cifar-10-binary.tar.gz`, streamed from a `GzipReader`: headers are read one 512-byte block at a
/// time and each file's data is copied to disk in pieces of at most `chunkSize` bytes, so memory use
/// does not grow with the archive (CIFAR-10's is 170 MB compressed, 185 MB unpacked).
///
/// Only regular files and folders are extracted; links, devices and the like are skipped. Entry
/// names that are absolute or contain `..` are refused, so an archive cannot write outside the
/// target folder. Each header's checksum is verified, so a corrupt archive is an error.
enum TarArchive {
    private static let blockSize = 512
    /// The longest GNU long name (`L` entry) accepted; real paths are far shorter.
    private static let longNameLimit = 1 << 16

    /// Extracts the tar archive that `reader` delivers (decompressed) into `directory`, creating it
    /// if needed.
    /// - Parameters:
    ///   - source: names the archive in errors.
    ///   - chunkSize: the most bytes of an entry held in memory at once.
    /// - Returns: the relative paths of the files written, in archive order.
    /// - Throws: `ConvNetError.file` naming `source` for a truncated or corrupt archive or an unsafe
    ///   entry name, or naming a file that cannot be written.
    @discardableResult
    static func extract(from reader: GzipReader, into directory: String, source: String, chunkSize: Int = 1 << 20) throws -> [String] {
        try createFolder(directory)
        var written: [String] = []
        var offset = 0
        var longName: String?
        while true {
            let header = try reader.read(upTo: blockSize)
            guard header.count == blockSize else {
                throw ConvNetError.file(path: source, message: "truncated tar archive: it ends after \(offset + header.count) bytes without the end-of-archive marker")
            }
            if header.allSatisfy({ $0 == 0 }) { return written }  // end-of-archive marker
            guard checksumIsValid(header[...]) else {
                throw ConvNetError.file(path: source, message: "corrupt tar archive: bad header checksum at byte \(offset)")
            }
            let size = try number(header[...], at: 124, length: 12, source: source)
            let type = header[156]
            let entryOffset = offset
            offset += blockSize
            let padded = (size + blockSize - 1) / blockSize * blockSize
            /// Hands the entry's data to `consume` in pieces, then skips the padding to the next block.
            func copyData(_ consume: ([UInt8]) throws -> Void) throws {
                var remaining = padded
                while remaining > 0 {
                    let piece = try reader.read(upTo: min(chunkSize, remaining))
                    guard !piece.isEmpty else {
                        throw ConvNetError.file(path: source, message: "truncated tar archive: the entry at byte \(entryOffset) needs \(size) bytes, "
                                                + "the archive ends after \(offset + padded - remaining)")
                    }
                    let dataEnd = max(0, min(piece.count, size - (padded - remaining)))
                    if dataEnd > 0 { try consume(Array(piece[0..<dataEnd])) }
                    remaining -= piece.count
                }
                offset += padded
            }
            switch type {
            case UInt8(ascii: "L"):  // GNU: the next entry's long name
                guard size <= longNameLimit else {
                    throw ConvNetError.file(path: source, message: "corrupt tar archive: a long name of \(size) bytes at byte \(entryOffset)")
                }
                var name: [UInt8] = []
                try copyData { name += $0 }
                longName = string(name[...])
                continue
            case UInt8(ascii: "x"), UInt8(ascii: "g"):  // PAX attributes: not needed for dataset archives
                try copyData { _ in }
                continue
            default:
                break
            }
            let name = longName ?? entryName(header[...])
            longName = nil
            let relative = try safeRelativePath(name, source: source)
            let target = directory + "/" + relative
            switch type {
            case 0, UInt8(ascii: "0"), UInt8(ascii: "7"):
                guard !relative.isEmpty else { try copyData { _ in }; continue }
                try createFolder((target as NSString).deletingLastPathComponent)
                guard FileManager.default.createFile(atPath: target, contents: nil), let file = FileHandle(forWritingAtPath: target) else {
                    throw ConvNetError.file(path: target, message: "cannot create the file")
                }
                defer { try? file.close() }
                try copyData { piece in
                    do {
                        try file.write(contentsOf: piece)
                    } catch {
                        throw ConvNetError.file(path: target, message: "cannot write: \(error.localizedDescription)")
                    }
                }
                written.append(relative)
            case UInt8(ascii: "5"):
                if !relative.isEmpty { try createFolder(target) }
                try copyData { _ in }
            default:
                try copyData { _ in }  // links, devices, FIFOs
            }
        }
    }

    /// The sum of the header's bytes with the checksum field counted as spaces, compared with the
    /// stored octal checksum.
    private static func checksumIsValid(_ header: ArraySlice<UInt8>) -> Bool {
        let base = header.startIndex
        let stored = string(header[(base + 148)..<(base + 156)]).trimmingCharacters(in: .whitespaces)
        guard let expected = Int(stored, radix: 8) else { return false }
        let sum = header.enumerated().reduce(0) { total, element in
            total + ((148..<156).contains(element.offset) ? 32 : Int(element.element))
        }
        return sum == expected
    }

    /// A numeric field: octal text, or GNU's base-256 when the first byte has its high bit set.
    private static func number(_ header: ArraySlice<UInt8>, at position: Int, length: Int, source: String) throws -> Int {
        let field = header[(header.startIndex + position)..<(header.startIndex + position + length)]
        if let first = field.first, first & 0x80 != 0 {
            let value = field.dropFirst().reduce(UInt64(first & 0x7F)) { $0 << 8 | UInt64($1) }
            guard let result = Int(exactly: value) else {
                throw ConvNetError.file(path: source, message: "corrupt tar archive: impossible entry size")
            }
            return result
        }
        let text = string(field).trimmingCharacters(in: .whitespaces)
        guard let value = text.isEmpty ? 0 : Int(text, radix: 8) else {
            throw ConvNetError.file(path: source, message: "corrupt tar archive: entry size '\(text)' is not an octal number")
        }
        return value
    }

    /// `prefix/name` for ustar headers, `name` otherwise.
    private static func entryName(_ header: ArraySlice<UInt8>) -> String {
        let base = header.startIndex
        let name = string(header[base..<(base + 100)])
        let isUstar = header[(base + 257)..<(base + 262)].elementsEqual("ustar".utf8)
        let prefix = isUstar ? string(header[(base + 345)..<(base + 500)]) : ""
        return prefix.isEmpty ? name : prefix + "/" + name
    }

    /// The text up to the first NUL.
    private static func string(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
    }

    /// `name` without `./` and trailing `/`; refuses absolute paths and `..`.
    private static func safeRelativePath(_ name: String, source: String) throws -> String {
        let components = name.split(separator: "/").filter { $0 != "." }
        guard !name.hasPrefix("/"), !components.contains("..") else {
            throw ConvNetError.file(path: source, message: "unsafe tar entry '\(name)': absolute or with '..'; refusing to extract it")
        }
        return components.joined(separator: "/")
    }

    private static func createFolder(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw ConvNetError.file(path: path, message: "cannot create the folder: \(error.localizedDescription)")
        }
    }
}
