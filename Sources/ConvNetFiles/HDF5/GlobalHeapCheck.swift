import ConvNetCore

/// A check of an HDF5 file's global heap collections before libhdf5 reads them, and the index of
/// their objects that `HDF5File` checks variable-length strings against.
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
    /// The objects of a file's global heap collections: for each collection's byte offset in the
    /// file, each object's index and data size in bytes (the last object of an index wins, as in
    /// libhdf5's `H5HG__cache_heap_deserialize`).
    struct Objects: Sendable {
        /// Collection offset in the file → object index → object size in bytes.
        var collections: [Int: [Int: UInt64]] = [:]

        /// The size of object `index` of the collection at byte `offset`, or `nil` when there is
        /// no such collection or object.
        func size(collectionAt offset: Int, index: Int) -> UInt64? {
            collections[offset]?[index]
        }
    }

    /// Walks every global heap collection in `bytes`, the file at `path`, whose lengths are
    /// `lengthSize` bytes (the superblock's "size of lengths", from libhdf5), and returns their objects.
    /// - Throws: `ConvNetError.file` naming `path` when a collection is damaged.
    static func validate(_ bytes: UnsafeRawBufferPointer, path: String, lengthSize: Int) throws -> Objects {
        guard [2, 4, 8].contains(lengthSize) else { return Objects() }
        var objects = Objects()
        let headerSize = 8 + lengthSize
        try RawFileScan.forEachOccurrence(of: "GCOL", in: bytes, minimumLength: max(16, headerSize)) { start in
            // Version 1 is the only one; anything else is data that happens to spell GCOL.
            guard bytes[start + 4] == 1 else { return }
            let size = RawFileScan.integer(bytes, at: start + 8, length: lengthSize)
            // libhdf5 makes collections of at least 4096 bytes (H5HG_MINSIZE). Bytes that spell
            // GCOL by chance (in weights) with an implausible size are not a collection; a real
            // one whose size field is damaged makes libhdf5 fail to read it, cleanly.
            guard size >= 4096, size <= UInt64(bytes.count - start) else { return }
            objects.collections[start] = try validateObjects(bytes, collection: start, size: Int(size), headerSize: headerSize,
                                                             lengthSize: lengthSize, path: path)
        }
        return objects
    }

    /// Walks the objects of one collection as `H5HG__cache_heap_deserialize` does; returns their sizes by index.
    private static func validateObjects(_ bytes: UnsafeRawBufferPointer, collection start: Int, size: Int,
                                        headerSize: Int, lengthSize: Int, path: String) throws -> [Int: UInt64] {
        let end = start + size
        let objectHeader = 8 + lengthSize
        var position = start + headerSize
        var sizes: [Int: UInt64] = [:]
        while position + objectHeader <= end {
            let index = Int(bytes[position]) | Int(bytes[position + 1]) << 8
            let objectSize = RawFileScan.integer(bytes, at: position + 8, length: lengthSize)
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
            sizes[index] = objectSize
            position += objectHeader + (Int(objectSize) + 7) / 8 * 8
        }
        return sizes
    }

    private static func damaged(_ path: String, _ offset: Int, _ detail: String) -> ConvNetError {
        ConvNetError.file(path: path, message: "damaged HDF5 file: the global heap at byte \(offset) is inconsistent (\(detail))")
    }
}
