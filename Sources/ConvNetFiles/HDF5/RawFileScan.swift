import Foundation

/// The raw bytes of an HDF5 file, read once for the structure checks that run before libhdf5
/// parses a structure it would trust (`GlobalHeapCheck`, `LocalHeapCheck`, `WrappingAddressCheck`).
///
/// HDF5 structures begin with a 4-byte signature (`GCOL`, `HEAP`, …; HDF5 file format
/// specification, "Disk Format: Level 1"). The checks find them by their signature anywhere in
/// the file, then decide from the fields that follow whether the bytes are a real structure or
/// weights that happen to spell it.
enum RawFileScan {
    /// Calls `body` with the file at `path` mapped into memory, or returns `nil` without calling it
    /// when the file cannot be mapped (libhdf5, which opened it, then reports the problem itself).
    static func withMappedBytes<Result>(path: String, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result? {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else { return nil }
        return try data.withUnsafeBytes(body)
    }

    /// Calls `body` with the byte offset of every occurrence of `signature` in `bytes` at which at
    /// least `minimumLength` bytes remain, in increasing order (overlapping occurrences included).
    static func forEachOccurrence(of signature: String, in bytes: UnsafeRawBufferPointer, minimumLength: Int,
                                  _ body: (Int) throws -> Void) rethrows {
        guard let base = bytes.baseAddress else { return }
        let pattern = Array(signature.utf8)
        var offset = 0
        // memchr for the first byte, then compare the rest (memmem is a GNU extension Swift's Glibc does not export).
        while offset + max(minimumLength, pattern.count) <= bytes.count,
              let found = memchr(base + offset, Int32(pattern[0]), bytes.count - offset) {
            let start = base.distance(to: UnsafeRawPointer(found))
            offset = start + 1
            guard start + max(minimumLength, pattern.count) <= bytes.count else { return }
            guard memcmp(found, pattern, pattern.count) == 0 else { continue }
            try body(start)
        }
    }

    /// A little-endian unsigned integer of `length` bytes at byte `offset` of `bytes`.
    static func integer(_ bytes: UnsafeRawBufferPointer, at offset: Int, length: Int) -> UInt64 {
        (0..<length).reversed().reduce(0) { $0 << 8 | UInt64(bytes[offset + $1]) }
    }
}
