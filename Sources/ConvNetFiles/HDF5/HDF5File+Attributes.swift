import ConvNetCore
@preconcurrency import CHDF5

/// Attributes of groups and datasets (`object` is an object path; `""` or `"/"` is the root group).
///
/// Strings are read whichever way they are stored: variable-length (h5py's `str`, how Keras 3 writes
/// `model_config`) or fixed-length (h5py's numpy `S` arrays, how Keras 2 writes `layer_names`).
extension HDF5File {
    /// The attribute names of an object, in name order.
    public func attributeNames(of object: String) throws -> [String] {
        try HDF5Library.locked {
            try withObject(object) { id in
                // libhdf5 1.10.8's H5Aiterate2 dereferences NULL when an attribute message fails to
                // decode while it builds its table (a SIGSEGV the hdf5 fuzz target found).
                // H5Aexists_by_name decodes every attribute message as it looks for a name that is
                // not there, and fails cleanly on a damaged one.
                guard H5Aexists_by_name(id, ".", "\u{1}no such attribute", HDF5Library.defaults) >= 0 else {
                    throw failure("cannot list the attributes of \(Self.display(object))")
                }
                var names: [String] = []
                let status = withUnsafeMutablePointer(to: &names) { pointer in
                    H5Aiterate2(id, H5_INDEX_NAME, H5_ITER_INC, nil, { _, name, _, context in
                        guard let name, let context else { return -1 }
                        context.assumingMemoryBound(to: [String].self).pointee.append(String(cString: name))
                        return 0
                    }, pointer)
                }
                guard status >= 0 else { throw failure("cannot list the attributes of \(Self.display(object))") }
                return names
            }
        }
    }

    /// Whether `object` has an attribute called `name`.
    /// - Throws: `ConvNetError.file` when `object` does not exist.
    public func hasAttribute(_ name: String, of object: String) throws -> Bool {
        try HDF5Library.locked {
            guard try objectKind(object) != nil else { throw notFound(object) }
            return H5Aexists_by_name(try fileID(), Self.locationName(object), name, HDF5Library.defaults) > 0
        }
    }

    /// A string attribute's elements: one for a scalar, all of them for an array. An empty numeric
    /// array (what h5py stores for an empty Python list, as Keras does for a layer without weights)
    /// reads as no strings.
    public func readStrings(attribute name: String, of object: String) throws -> [String] {
        try HDF5Library.locked {
            try withAttribute(name, of: object) { id, type, count, what in
                let typeClass = H5Tget_class(type)
                if count == 0 && (typeClass == H5T_STRING || typeClass == H5T_FLOAT || typeClass == H5T_INTEGER) {
                    return []
                }
                guard typeClass == H5T_STRING else {
                    throw ConvNetError.file(path: path, message: "\(what) holds \(Self.typeClassName(typeClass)), expected strings")
                }
                return try readStrings(type: type, count: count, what) { H5Aread(id, $0, $1) }
            }
        }
    }

    /// A string attribute holding exactly one string (scalar or one-element array).
    public func readString(attribute name: String, of object: String) throws -> String {
        let strings = try readStrings(attribute: name, of: object)
        guard strings.count == 1 else {
            throw ConvNetError.file(path: path, message: "attribute \(name) of \(Self.display(object)) holds \(strings.count) strings, expected one")
        }
        return strings[0]
    }

    /// A numeric attribute's elements of any integer or floating-point type, as `Double`.
    public func readNumbers(attribute name: String, of object: String) throws -> [Double] {
        try HDF5Library.locked {
            try withAttribute(name, of: object) { id, type, count, what in
                let typeClass = H5Tget_class(type)
                guard typeClass == H5T_INTEGER || typeClass == H5T_FLOAT else {
                    throw ConvNetError.file(path: path, message: "\(what) holds \(Self.typeClassName(typeClass)), expected numbers")
                }
                try checkStoredNumberType(type, count: count, what)
                var values = [Double](repeating: 0, count: count)
                if count > 0 {
                    guard H5Aread(id, Double.memoryType, &values) >= 0 else { throw failure("cannot read \(what)") }
                }
                return values
            }
        }
    }

    /// A numeric attribute holding exactly one number.
    public func readNumber(attribute name: String, of object: String) throws -> Double {
        let numbers = try readNumbers(attribute: name, of: object)
        guard numbers.count == 1 else {
            throw ConvNetError.file(path: path, message: "attribute \(name) of \(Self.display(object)) holds \(numbers.count) numbers, expected one")
        }
        return numbers[0]
    }

    /// Writes a scalar variable-length UTF-8 string attribute, as h5py does for a Python `str`.
    /// Replaces an existing attribute of that name.
    public func writeString(_ value: String, attribute name: String, of object: String) throws {
        try HDF5Library.locked {
            let type = try stringType(size: HDF5Library.variableLength)
            defer { H5Tclose(type) }
            _ = H5Tset_cset(type, H5T_CSET_UTF8)
            try createAttribute(name, of: object, type: type, shape: []) { id in
                value.withCString { string in
                    var pointers: [UnsafePointer<CChar>?] = [string]
                    return H5Awrite(id, type, &pointers)
                }
            }
        }
    }

    /// Writes a one-dimensional array of fixed-length, NUL-padded byte strings (UTF-8), as h5py does
    /// for a numpy `S` array: Keras 2's `layer_names` and `weight_names`. An empty array is stored
    /// as an empty float64 array, as h5py stores an empty Python list. Replaces an existing attribute.
    public func writeStrings(_ values: [String], attribute name: String, of object: String) throws {
        try HDF5Library.locked {
            guard !values.isEmpty else {
                try createAttribute(name, of: object, type: Double.fileType, shape: [0]) { _ in 0 }
                return
            }
            let (type, bytes) = try fixedLengthStrings(values)
            defer { H5Tclose(type) }
            try createAttribute(name, of: object, type: type, shape: [values.count]) { H5Awrite($0, type, bytes) }
        }
    }

    /// Writes a scalar float64 attribute. Replaces an existing attribute of that name.
    public func writeNumber(_ value: Double, attribute name: String, of object: String) throws {
        try HDF5Library.locked {
            try createAttribute(name, of: object, type: Double.fileType, shape: []) { id in
                var value = value
                return H5Awrite(id, Double.memoryType, &value)
            }
        }
    }

    // MARK: - Lock held from here on.

    /// `count` strings of the stored string `type` (variable or fixed length), read by `read` into
    /// a buffer of the memory type it is given (`H5Aread` or `H5Dread`); `what` names the object
    /// for errors. Variable-length strings are checked raw first (`checkVariableLengthStrings`).
    func readStrings(type: hid_t, count: Int, _ what: String,
                     _ read: (_ memoryType: hid_t, UnsafeMutableRawPointer) -> herr_t) throws -> [String] {
        if H5Tis_variable_str(type) > 0 {
            try checkVariableLengthStrings(type: type, count: count, what, read: read)
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            guard pointers.withUnsafeMutableBytes({ read(type, $0.baseAddress!) }) >= 0 else { throw failure("cannot read \(what)") }
            // libhdf5 allocated each string; it must free them too.
            defer { pointers.forEach { H5free_memory($0) } }
            return pointers.map { $0.map { String(cString: $0) } ?? "" }
        }
        let size = H5Tget_size(type)
        guard size > 0 else {
            throw ConvNetError.file(path: path, message: "\(what) has an invalid string size \(size)")
        }
        _ = try elementCount([count, size], elementSize: 1, what)
        var bytes = [UInt8](repeating: 0, count: max(count * size, 1))
        guard bytes.withUnsafeMutableBytes({ read(type, $0.baseAddress!) }) >= 0 else { throw failure("cannot read \(what)") }
        let spacePadded = H5Tget_strpad(type) == H5T_STR_SPACEPAD
        return (0..<count).map { index in
            var string = bytes[index * size..<(index + 1) * size]
            // NUL-terminated and NUL-padded strings end at the first NUL; space-padded ones are trimmed.
            if let end = string.firstIndex(of: 0) { string = string[..<end] }
            if spacePadded { while string.last == UInt8(ascii: " ") { string = string.dropLast() } }
            return String(decoding: string, as: UTF8.self)
        }
    }

    /// `values` as UTF-8 in one buffer of fixed-length, NUL-padded strings, with the string type
    /// that describes it (as h5py stores a numpy `S` array); the caller closes the type.
    func fixedLengthStrings(_ values: [String]) throws -> (type: hid_t, bytes: [UInt8]) {
        let encoded = values.map { Array($0.utf8) }
        let size = max(1, encoded.map(\.count).max() ?? 0)
        var bytes = [UInt8](repeating: 0, count: encoded.count * size)
        for (index, string) in encoded.enumerated() {
            bytes.replaceSubrange(index * size..<index * size + string.count, with: string)
        }
        let type = try stringType(size: size)
        _ = H5Tset_strpad(type, H5T_STR_NULLPAD)
        return (type, bytes)
    }

    /// A C string type of `size` bytes, or variable-length for `HDF5Library.variableLength`.
    private func stringType(size: Int) throws -> hid_t {
        let type = H5Tcopy(H5T_C_S1_g)
        guard type >= 0 else { throw failure("cannot create a string type") }
        guard H5Tset_size(type, size) >= 0 else {
            let error = failure("cannot create a string type of \(size) bytes")  // before H5Tclose clears the error stack
            H5Tclose(type)
            throw error
        }
        return type
    }

    private func notFound(_ object: String) -> ConvNetError {
        ConvNetError.file(path: path, message: "object \(Self.display(object)) not found")
    }

    /// Opens any object (group or dataset) for `body`.
    private func withObject<T>(_ object: String, _ body: (hid_t) throws -> T) throws -> T {
        guard try objectKind(object) != nil else { throw notFound(object) }
        let id = H5Oopen(try fileID(), Self.locationName(object), HDF5Library.defaults)
        guard id >= 0 else { throw failure("cannot open \(Self.display(object))") }
        defer { H5Oclose(id) }
        return try body(id)
    }

    /// Opens an attribute with its stored type and element count for `body`; `what` names it.
    private func withAttribute<T>(_ name: String, of object: String,
                                  _ body: (_ id: hid_t, _ type: hid_t, _ count: Int, _ what: String) throws -> T) throws -> T {
        let what = "attribute \(name) of \(Self.display(object))"
        return try withObject(object) { objectID in
            guard H5Aexists(objectID, name) > 0 else {
                throw ConvNetError.file(path: path, message: "\(what) not found")
            }
            let id = H5Aopen(objectID, name, HDF5Library.defaults)
            guard id >= 0 else { throw failure("cannot open \(what)") }
            defer { H5Aclose(id) }
            let type = H5Aget_type(id)
            guard type >= 0 else { throw failure("cannot read the type of \(what)") }
            defer { H5Tclose(type) }
            let space = H5Aget_space(id)
            guard space >= 0 else { throw failure("cannot read the shape of \(what)") }
            defer { H5Sclose(space) }
            // Bounded by the largest element read (a `Double`, or a string pointer).
            let count = try elementCount(try shape(ofDataspace: space, what), elementSize: MemoryLayout<Double>.size, what)
            return try body(id, type, count, what)
        }
    }

    /// Creates (or replaces) an attribute of the given stored type and shape, filled by `write`.
    private func createAttribute(_ name: String, of object: String, type: hid_t, shape: [Int],
                                 write: (hid_t) -> herr_t) throws {
        let what = "attribute \(name) of \(Self.display(object))"
        try withObject(object) { objectID in
            if H5Aexists(objectID, name) > 0 {
                guard H5Adelete(objectID, name) >= 0 else { throw failure("cannot replace \(what)") }
            }
            try withDataspace(shape, what) { space in
                let id = H5Acreate2(objectID, name, type, space, HDF5Library.defaults, HDF5Library.defaults)
                guard id >= 0 else { throw failure("cannot create \(what)") }
                defer { H5Aclose(id) }
                guard write(id) >= 0 else { throw failure("cannot write \(what)") }
            }
        }
    }
}
