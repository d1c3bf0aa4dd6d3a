import ConvNetCore
import Foundation

/// A check of an HDF5 file's global heap collections before libhdf5 reads them.
///
/// Variable-length strings (Keras's `model_config`, `layer_names`, ConvNet's metadata) live in
/// global heap collections. libhdf5 1.10 trusts the size each heap object declares: a damaged size
/// makes `H5HG_read` copy that many bytes into a buffer sized for the string (a SIGSEGV in memcpy
/// on one flipped byte of a Keras `.h5`). This check walks every collection the way libhdf5 parses
/// it (HDF5 file format specification, "Global Heap": `GCOL`, version 1, 3 reserved bytes, the
/// collection size; then objects of index (2 bytes), reference count (2), 4 reserved bytes, size
/// and data padded to 8 bytes; index 0 is free space, whose size counts its header) and refuses a file whose objects do not
/// fit in their collection.
enum GlobalHeapCheck {
    /// Throws `ConvNetError.file` naming `path` when a global heap collection of the file is damaged.
    static func validate(path: String) throws {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else { return }
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            guard let base = bytes.baseAddress, bytes.count >= 16 else { return }
            let lengthSize = sizeOfLengths(bytes)
            var offset = 0
            let signature: [UInt8] = Array("GCOL".utf8)
            while offset + 16 <= bytes.count, let found = memchr(base + offset, Int32(signature[0]), bytes.count - offset) {
                let start = base.distance(to: UnsafeRawPointer(found))
                offset = start + 1
                guard start + 16 <= bytes.count, memcmp(found, signature, 4) == 0 else { continue }
                // Version 1 is the only one; anything else is data that happens to spell GCOL.
                guard bytes[start + 4] == 1, start + 8 + lengthSize <= bytes.count else { continue }
                let size = integer(bytes, at: start + 8, length: lengthSize)
                let headerSize = 8 + lengthSize
                // libhdf5 makes collections of at least 4096 bytes (H5HG_MINSIZE). Bytes that spell
                // GCOL by chance (in weights) with an implausible size are not a collection; a real
                // one whose size field is damaged makes libhdf5 fail to read it, cleanly.
                guard size >= 4096, size <= UInt64(bytes.count - start) else { continue }
                try validateObjects(bytes, collection: start, size: Int(size), headerSize: headerSize,
                                    lengthSize: lengthSize, path: path)
            }
        }
    }

    /// Walks the objects of one collection as `H5HG__cache_heap_deserialize` does.
    private static func validateObjects(_ bytes: UnsafeRawBufferPointer, collection start: Int, size: Int,
                                        headerSize: Int, lengthSize: Int, path: String) throws {
        let end = start + size
        let objectHeader = 8 + lengthSize
        var position = start + headerSize
        while position + objectHeader <= end {
            let index = Int(bytes[position]) | Int(bytes[position + 1]) << 8
            let objectSize = integer(bytes, at: position + 8, length: lengthSize)
            let available = UInt64(end - position - objectHeader)
            if index == 0 {
                // Free space: its size counts its own header (libhdf5 steps by it; 0 would loop forever).
                guard objectSize >= UInt64(objectHeader), objectSize <= UInt64(end - position) else {
                    throw damaged(path, start, "the free space declares \(objectSize) bytes, the collection has \(end - position) left")
                }
                position += Int(objectSize)
                continue
            }
            guard objectSize <= available else {
                throw damaged(path, start, "object \(index) declares \(objectSize) bytes, the collection has \(available) left")
            }
            position += objectHeader + (Int(objectSize) + 7) / 8 * 8
        }
    }

    /// The superblock's "size of lengths" (byte 13 in versions 0 and 1, byte 10 in 2 and 3), 8 if unreadable.
    private static func sizeOfLengths(_ bytes: UnsafeRawBufferPointer) -> Int {
        let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]
        guard bytes.count > 13, bytes.prefix(8).elementsEqual(signature) else { return 8 }
        let size = Int(bytes[8] <= 1 ? bytes[13] : bytes[10])
        return [2, 4, 8].contains(size) ? size : 8
    }

    /// A little-endian unsigned integer of `length` bytes.
    private static func integer(_ bytes: UnsafeRawBufferPointer, at offset: Int, length: Int) -> UInt64 {
        (0..<length).reversed().reduce(0) { $0 << 8 | UInt64(bytes[offset + $1]) }
    }

    private static func damaged(_ path: String, _ offset: Int, _ detail: String) -> ConvNetError {
        ConvNetError.file(path: path, message: "damaged HDF5 file: the global heap at byte \(offset) is inconsistent (\(detail))")
    }
}
