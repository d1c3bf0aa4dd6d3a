import ConvNetCore

/// A check of an HDF5 file's local heaps before libhdf5 reads them.
///
/// A group's link names live in a local heap, whose free space is a linked list of blocks inside
/// the heap's data segment. libhdf5 1.10 (`H5HL__fl_deserialize`) follows that list allocating a
/// node per block and never notices a cycle: one damaged "next" offset makes it allocate until the
/// machine runs out of memory (a 29 KB file found by the fuzzer took 22 GB in `convnet predict`).
/// This check walks every local heap's free list as libhdf5 does (HDF5 file format specification,
/// "Local Heap": `HEAP`, version 0, 3 reserved bytes, the data segment's size and the offset of
/// the free list's head, both lengths, then the data segment's address; each free block starts
/// with the offset of the next and its own size; offset 1 ends the list) and refuses a file whose
/// list comes back to a block it has visited.
enum LocalHeapCheck {
    /// `H5HL_FREE_NULL`: the offset that ends a free list.
    private static let endOfList: UInt64 = 1

    /// Walks the free list of every local heap in `bytes`, the file at `path`, whose lengths and
    /// addresses are `lengthSize` and `addressSize` bytes and whose address 0 is at byte `baseAddress`.
    /// - Throws: `ConvNetError.file` naming `path` when a free list runs in a circle.
    static func validate(_ bytes: UnsafeRawBufferPointer, path: String, lengthSize: Int, addressSize: Int, baseAddress: Int) throws {
        guard [2, 4, 8].contains(lengthSize), [2, 4, 8].contains(addressSize) else { return }
        let headerSize = 8 + 2 * lengthSize + addressSize
        try RawFileScan.forEachOccurrence(of: "HEAP", in: bytes, minimumLength: headerSize) { start in
            // Version 0 is the only one; anything else is data that happens to spell HEAP.
            guard bytes[start + 4] == 0 else { return }
            let size = RawFileScan.integer(bytes, at: start + 8, length: lengthSize)
            let head = RawFileScan.integer(bytes, at: start + 8 + lengthSize, length: lengthSize)
            let address = RawFileScan.integer(bytes, at: start + 8 + 2 * lengthSize, length: addressSize)
            // A data segment outside the file is not one libhdf5 can read (it fails cleanly).
            guard size > 0, address <= UInt64(bytes.count), size <= UInt64(bytes.count) - address,
                  Int(address) + baseAddress + Int(size) <= bytes.count else { return }
            try walkFreeList(bytes, segment: Int(address) + baseAddress, size: size, head: head, lengthSize: lengthSize,
                             heapAt: start, path: path)
        }
    }

    /// Follows one heap's free list from `head` as `H5HL__fl_deserialize` does: a step libhdf5
    /// would refuse ends the walk (libhdf5 then fails cleanly); coming back to a block is damage.
    private static func walkFreeList(_ bytes: UnsafeRawBufferPointer, segment: Int, size: UInt64, head: UInt64,
                                     lengthSize: Int, heapAt start: Int, path: String) throws {
        var visited: Set<UInt64> = []
        var block = head
        while block != endOfList {
            guard block < size, block + 2 * UInt64(lengthSize) <= size else { return }
            guard visited.insert(block).inserted else {
                throw ConvNetError.file(path: path, message: "damaged HDF5 file: the free list of the local heap at byte \(start) runs in a circle (block \(block) comes back)")
            }
            block = RawFileScan.integer(bytes, at: segment + Int(block), length: lengthSize)
            guard block != 0 else { return }
        }
    }
}
