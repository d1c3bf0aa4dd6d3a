import ConvNetCore

/// A check of the addresses an HDF5 file's groups point at, before libhdf5 follows them.
///
/// libhdf5 1.10 checks a metadata read of `size` bytes at `address` against the end of the file
/// by comparing `address + size`, which wraps around 2⁶⁴ at the top of the range. The undefined
/// address (every byte 0xff, which `H5F_addr_decode` turns into `HADDR_UNDEF`, 2⁶⁴ − 1) gets
/// through where libhdf5 does not test for it first, and the metadata accumulator then copies
/// into a null buffer: a segmentation fault, not an error. The hdf5 fuzz target found it on
/// 2026-12-03 in a group's B-tree whose first child address was damaged to all ones (`convnet
/// summary` crashed inside `H5Gget_info`); a local heap whose data segment address is all ones
/// crashes the same way. Addresses just below it libhdf5 refuses itself ("addr overflow"); this
/// check refuses the top `margin` bytes of the range with one message. (A symbol table entry's
/// undefined object header address libhdf5 refuses: "address undefined".)
///
/// The structures, found by their signatures (HDF5 file format specification, "Disk Format:
/// Level 1"):
/// - version 1 B-tree nodes of groups (`TREE`, node type 0): node level, entries used (2 bytes),
///   left and right sibling, then keys (a heap offset, "size of lengths" bytes) and child
///   addresses alternating, starting and ending with a key. Only the children in use are read;
///   siblings are not checked (libhdf5 writes the undefined address for a missing one);
/// - local heaps (`HEAP`, version 0): the data segment's size and its address.
enum WrappingAddressCheck {
    /// Addresses within this many bytes of 2⁶⁴ (plus the file's base address) are refused: more
    /// than any B-tree node libhdf5 reads in one piece.
    static let margin: UInt64 = 1 << 32

    /// Checks every group B-tree node and local heap in `bytes`, the file at
    /// `path` (addresses of `addressSize` bytes, lengths of `lengthSize`, address 0 at byte
    /// `baseAddress`).
    /// - Throws: `ConvNetError.file` naming `path`, the structure's byte offset and the address.
    static func validate(_ bytes: UnsafeRawBufferPointer, path: String, lengthSize: Int, addressSize: Int, baseAddress: Int) throws {
        guard [2, 4, 8].contains(lengthSize), [2, 4, 8].contains(addressSize) else { return }
        func address(at offset: Int) -> UInt64 {
            (offset..<offset + addressSize).allSatisfy({ bytes[$0] == 0xff }) ? .max
                : RawFileScan.integer(bytes, at: offset, length: addressSize)
        }
        func check(_ value: UInt64, size: UInt64 = margin, _ what: @autoclosure () -> String) throws {
            let (end, overflow) = value.addingReportingOverflow(UInt64(baseAddress))
            guard overflow || end.addingReportingOverflow(size).overflow else { return }
            throw ConvNetError.file(path: path, message: "damaged HDF5 file: \(what()) points at address \(value), "
                                    + "beyond any file (libhdf5 would wrap around 2^64 reading it)")
        }
        // TREE: signature, type, level, entries used (2 bytes), two siblings.
        let treeHeader = 8 + 2 * addressSize
        try RawFileScan.forEachOccurrence(of: "TREE", in: bytes, minimumLength: treeHeader) { start in
            guard bytes[start + 4] == 0 else { return }  // group nodes; chunk nodes' keys have other sizes
            let used = Int(RawFileScan.integer(bytes, at: start + 6, length: 2))
            for child in 0..<used {
                let offset = start + treeHeader + lengthSize + child * (lengthSize + addressSize)
                guard offset + addressSize <= bytes.count else { return }
                try check(address(at: offset), "the group B-tree node at byte \(start), child \(child),")
            }
        }
        // HEAP: signature, version 0, 3 reserved bytes, segment size, free-list head, segment address.
        try RawFileScan.forEachOccurrence(of: "HEAP", in: bytes, minimumLength: 8 + 2 * lengthSize + addressSize) { start in
            guard bytes[start + 4] == 0 else { return }
            // A segment inside the file is read whole: its size must not wrap either. (Bytes that
            // spell HEAP by chance name an address inside the file with almost no probability.)
            let segment = address(at: start + 8 + 2 * lengthSize)
            let size = segment < UInt64(bytes.count) ? max(RawFileScan.integer(bytes, at: start + 8, length: lengthSize), margin) : margin
            try check(segment, size: size, "the local heap at byte \(start)")
        }
    }
}
