import ConvNetCore
@preconcurrency import CHDF5

/// Variable-length strings checked before libhdf5 converts them.
///
/// On disk each variable-length string is a 4-byte length followed by a global heap id (the
/// collection's address, "size of offsets" bytes, and the object's 4-byte index; HDF5 file format
/// specification, "Variable-length" datatype and "Global Heap ID"). libhdf5 1.10's `H5T__conv_vlen`
/// trusts both: it allocates what the length says (a damaged length asked for gigabytes, which the
/// fuzzer found), then `H5HG_read` copies the whole heap object into that buffer and indexes the
/// collection's object table without a bounds check. So before reading strings for real, ConvNet
/// reads the raw elements unconverted — through a conversion to an opaque type of the same size that
/// copies nothing (`rawElementConversion`, registered once) — and requires every length to be
/// that of an existing heap object, with the total under `AllocationLimit.maximumBytes`.
extension HDF5File {
    /// What checking variable-length elements needs to know about a file opened for reading.
    struct StoredLayout: Sendable {
        /// The superblock's "size of offsets": bytes of an address in the file.
        let addressSize: Int
        /// Where address 0 is in the file (the user block's size; 0 for h5py's files).
        let baseAddress: Int
        /// The file's global heap objects, checked for consistency when the file was opened.
        let heapObjects: GlobalHeapCheck.Objects

        /// Reads the sizes from the open file `file` and checks its heaps and the addresses its groups
        /// point at (`path` names it in errors).
        init(file: hid_t, path: String) throws {
            let properties = H5Fget_create_plist(file)
            guard properties >= 0 else { throw HDF5File.failure(path, "cannot read the file's layout") }
            defer { H5Pclose(properties) }
            var addressSize = 0
            var lengthSize = 0
            var userBlock: hsize_t = 0
            guard H5Pget_sizes(properties, &addressSize, &lengthSize) >= 0, H5Pget_userblock(properties, &userBlock) >= 0,
                  [2, 4, 8].contains(addressSize), let baseAddress = Int(exactly: userBlock) else {
                throw HDF5File.failure(path, "cannot read the file's layout")
            }
            self.addressSize = addressSize
            self.baseAddress = baseAddress
            // The file is read once for the three checks.
            heapObjects = try RawFileScan.withMappedBytes(path: path) { bytes in
                let objects = try GlobalHeapCheck.validate(bytes, path: path, lengthSize: lengthSize)
                try LocalHeapCheck.validate(bytes, path: path, lengthSize: lengthSize, addressSize: addressSize, baseAddress: baseAddress)
                try WrappingAddressCheck.validate(bytes, path: path, lengthSize: lengthSize, addressSize: addressSize, baseAddress: baseAddress)
                return objects
            } ?? GlobalHeapCheck.Objects()
        }
    }

    /// Checks the `count` variable-length strings of stored type `type` that `read` would convert:
    /// their characters must be single bytes (the type's base type is stored in the file too, and
    /// libhdf5 allocates length × its size), and, read raw (with an opaque memory type, see above),
    /// each must be null or name an existing global heap object of exactly its declared length,
    /// all of them together under `AllocationLimit.maximumBytes`. The raw check is skipped for a
    /// file being written (its strings are ours). Call with the lock held.
    /// - Parameter read: `H5Aread` or `H5Dread` of all elements with the given memory type.
    func checkVariableLengthStrings(type: hid_t, count: Int, _ what: String,
                                    read: (_ memoryType: hid_t, UnsafeMutableRawPointer) -> herr_t) throws {
        let characterType = H5Tget_super(type)
        guard characterType >= 0 else { throw failure("cannot read the character type of \(what)") }
        let characterSize = H5Tget_size(characterType)
        H5Tclose(characterType)
        guard characterSize == 1 else {
            throw ConvNetError.file(path: path, message: "damaged HDF5 file: \(what) holds variable-length strings of \(characterSize)-byte characters, expected 1-byte ones")
        }
        guard let layout = storedLayout, count > 0 else { return }
        let elementSize = 4 + layout.addressSize + 4
        var raw = [UInt8](repeating: 0, count: try elementCount([count, elementSize], elementSize: 1, what))
        let rawType = try Self.rawElementType(size: elementSize)
        defer { H5Tclose(rawType) }
        guard raw.withUnsafeMutableBytes({ read(rawType, $0.baseAddress!) }) >= 0 else { throw failure("cannot read \(what)") }
        var total = 0
        try raw.withUnsafeBytes { bytes in
            for element in 0..<count {
                let start = element * elementSize
                let length = RawFileScan.integer(bytes, at: start, length: 4)
                let address = RawFileScan.integer(bytes, at: start + 4, length: layout.addressSize)
                let index = RawFileScan.integer(bytes, at: start + 4 + layout.addressSize, length: 4)
                guard address != 0 else { continue }  // a null string: nothing is read or allocated
                guard let offset = Int(exactly: address), case (let collection, false) = layout.baseAddress.addingReportingOverflow(offset),
                      let stored = layout.heapObjects.size(collectionAt: collection, index: Int(index)) else {
                    throw ConvNetError.file(path: path, message: "damaged HDF5 file: string \(element) of \(what) refers to global heap object \(index) at address \(address), which does not exist")
                }
                guard stored == length else {
                    throw ConvNetError.file(path: path, message: "damaged HDF5 file: string \(element) of \(what) declares \(length) bytes, its global heap object holds \(stored)")
                }
                total += Int(length)  // each at most the file's size, so no overflow
            }
        }
        guard total <= AllocationLimit.maximumBytes else {
            throw ConvNetError.file(path: path, message: "\(what) holds \(total) bytes of strings, more than the \(AllocationLimit.maximumBytes) bytes allowed (AllocationLimit.maximumBytes)")
        }
    }

    /// The opaque memory type that receives `size`-byte raw variable-length elements; the caller closes it.
    private static func rawElementType(size: Int) throws -> hid_t {
        if !rawConversionRegistered {
            let source = H5Tcopy(H5T_C_S1_g)
            let destination = H5Tcreate(H5T_OPAQUE, 16)
            defer {
                if source >= 0 { H5Tclose(source) }
                if destination >= 0 { H5Tclose(destination) }
            }
            guard source >= 0, destination >= 0, H5Tset_size(source, HDF5Library.variableLength) >= 0,
                  H5Tregister(H5T_PERS_SOFT, "convnet_raw_vlen", source, destination, rawElementConversion) >= 0 else {
                throw ConvNetError.file(path: "libhdf5", message: "cannot register the raw variable-length element conversion")
            }
            rawConversionRegistered = true
        }
        let type = H5Tcreate(H5T_OPAQUE, size)
        guard type >= 0, H5Tset_tag(type, rawElementTag) >= 0 else {
            if type >= 0 { H5Tclose(type) }
            throw ConvNetError.file(path: "libhdf5", message: "cannot create an opaque type of \(size) bytes")
        }
        return type
    }
}

/// Whether `rawElementConversion` is registered with libhdf5; read and written with the lock held.
nonisolated(unsafe) private var rawConversionRegistered = false

/// The tag of the opaque types `rawElementConversion` converts to; no other opaque type is touched.
private let rawElementTag = "ConvNet raw variable-length element"

/// A libhdf5 soft conversion from a variable-length string in the file to an opaque type of the
/// same size that leaves the bytes as they are: libhdf5 copies the stored elements into the
/// conversion buffer before converting, so the caller receives them unconverted and nothing is
/// allocated or read from the global heap. `H5T_CONV_INIT` accepts only that pair of types.
private let rawElementConversion: H5T_conv_t = { source, destination, data, _, _, _, _, _, _ in
    guard let data else { return -1 }
    switch data.pointee.command {
    case H5T_CONV_INIT:
        guard H5Tis_variable_str(source) > 0, H5Tget_class(destination) == H5T_OPAQUE,
              H5Tget_size(source) == H5Tget_size(destination), let tag = H5Tget_tag(destination) else { return -1 }
        defer { H5free_memory(tag) }
        guard String(cString: tag) == rawElementTag else { return -1 }
        data.pointee.need_bkg = H5T_BKG_NO
        return 0
    case H5T_CONV_CONV, H5T_CONV_FREE:
        return 0  // the elements are already where the caller reads them
    default:
        return -1
    }
}
