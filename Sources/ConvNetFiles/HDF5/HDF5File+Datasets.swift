import ConvNetCore
@preconcurrency import CHDF5

/// The contents of a dataset: its shape and its elements in row-major order (the last axis varies
/// fastest), `values.count == shape.reduce(1, *)`. A scalar dataset has shape `[]`.
public struct HDF5Array<Element: Sendable & Equatable>: Sendable, Equatable {
    /// The dataset's dimensions.
    public let shape: [Int]
    /// The elements in row-major order.
    public let values: [Element]

    /// - Throws: `ConvNetError.shape` when the element count does not match the shape.
    public init(shape: [Int], values: [Element]) throws {
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == values.count else {
            throw ConvNetError.shape(op: "HDF5Array", message: "shape \(describe(shape: shape)) does not hold \(values.count) values")
        }
        self.shape = shape
        self.values = values
    }
}

extension HDF5File {
    /// Reads a numeric dataset of any integer or floating-point stored type, converted to `Float`,
    /// with its stored shape (a conv kernel stored by Keras comes back as `(k_h, k_w, c_in, c_out)`).
    public func readTensor(_ dataset: String) throws -> Tensor {
        let array: HDF5Array<Float> = try readDataset(dataset)
        return try Tensor(shape: array.shape, scalars: array.values)
    }

    /// Reads a numeric dataset converted to `UInt8`, such as the SIGNS images `train_set_x`
    /// `(m, 64, 64, 3)`. Values outside `0...255` are clipped by libhdf5's conversion.
    public func readUInt8(_ dataset: String) throws -> HDF5Array<UInt8> {
        try readDataset(dataset)
    }

    /// Reads a numeric dataset converted to `Int64`, such as the SIGNS labels `train_set_y` `(m,)`.
    public func readInt64(_ dataset: String) throws -> HDF5Array<Int64> {
        try readDataset(dataset)
    }

    /// The shape of a dataset, without reading its elements.
    public func shape(ofDataset dataset: String) throws -> [Int] {
        try HDF5Library.locked {
            try withDataset(dataset) { _, _, shape in shape }
        }
    }

    /// Writes a tensor as a new 32-bit little-endian float dataset with the tensor's shape, creating
    /// missing parent groups.
    public func write(_ tensor: Tensor, to dataset: String) throws {
        try writeDataset(tensor.scalars, shape: tensor.shape, to: dataset)
    }

    /// Writes an unsigned 8-bit dataset (image data stored as bytes).
    public func write(_ array: HDF5Array<UInt8>, to dataset: String) throws {
        try writeDataset(array.values, shape: array.shape, to: dataset)
    }

    /// Writes a signed 64-bit little-endian dataset (class labels as numpy's default int64).
    public func write(_ array: HDF5Array<Int64>, to dataset: String) throws {
        try writeDataset(array.values, shape: array.shape, to: dataset)
    }

    /// Reads a dataset of strings, fixed or variable length (what h5py writes for a numpy `S`
    /// array or a list of `str`), such as the cat/non-cat set's `list_classes`.
    public func readStrings(_ dataset: String) throws -> [String] {
        try HDF5Library.locked {
            try withDataset(dataset) { id, storedType, shape in
                let what = "dataset \(Self.display(dataset))"
                let typeClass = H5Tget_class(storedType)
                guard typeClass == H5T_STRING else {
                    throw ConvNetError.file(path: path, message: "\(what) holds \(Self.typeClassName(typeClass)), expected strings")
                }
                return try readStrings(type: storedType, count: try elementCount(shape, elementSize: 1, what), what) {
                    H5Dread(id, $0, HDF5Library.wholeDataspace, HDF5Library.wholeDataspace, HDF5Library.defaults, $1)
                }
            }
        }
    }

    /// Writes a one-dimensional dataset of fixed-length, NUL-padded UTF-8 strings (a numpy `S`
    /// array, as in the cat/non-cat set's `list_classes`).
    public func write(_ strings: [String], to dataset: String) throws {
        try HDF5Library.locked {
            let (type, bytes) = try fixedLengthStrings(strings)
            defer { H5Tclose(type) }
            try createDataset(dataset, type: type, shape: [strings.count]) { id in
                bytes.withUnsafeBytes { H5Dwrite(id, type, HDF5Library.wholeDataspace, HDF5Library.wholeDataspace, HDF5Library.defaults, $0.baseAddress) }
            }
        }
    }

    private func readDataset<Element: HDF5Scalar>(_ dataset: String) throws -> HDF5Array<Element> {
        try HDF5Library.locked {
            try withDataset(dataset) { id, storedType, shape in
                let what = "dataset \(Self.display(dataset))"
                let typeClass = H5Tget_class(storedType)
                guard typeClass == H5T_INTEGER || typeClass == H5T_FLOAT else {
                    throw ConvNetError.file(path: path, message: "\(what) holds \(Self.typeClassName(typeClass)), expected numbers")
                }
                let count = try elementCount(shape, elementSize: MemoryLayout<Element>.size, what)
                try checkStoredNumberType(storedType, count: count, what)
                var values = [Element](repeating: .zero, count: count)
                if !values.isEmpty {
                    // libhdf5 converts from the stored type to the requested in-memory type.
                    let status = values.withUnsafeMutableBytes {
                        H5Dread(id, Element.memoryType, HDF5Library.wholeDataspace, HDF5Library.wholeDataspace, HDF5Library.defaults, $0.baseAddress)
                    }
                    guard status >= 0 else { throw failure("cannot read \(what)") }
                }
                return try HDF5Array(shape: shape, values: values)
            }
        }
    }

    private func writeDataset<Element: HDF5Scalar>(_ values: [Element], shape: [Int], to dataset: String) throws {
        try HDF5Library.locked {
            try createDataset(dataset, type: Element.fileType, shape: shape) { id in
                values.withUnsafeBytes {
                    H5Dwrite(id, Element.memoryType, HDF5Library.wholeDataspace, HDF5Library.wholeDataspace, HDF5Library.defaults, $0.baseAddress)
                }
            }
        }
    }

    /// Creates a new dataset of stored `type` and `shape` (with any missing parent groups) and fills
    /// it with `write` unless it is empty. Lock held.
    private func createDataset(_ dataset: String, type: hid_t, shape: [Int], write: (hid_t) -> herr_t) throws {
        let what = "dataset \(Self.display(dataset))"
        guard !Self.normalized(dataset).isEmpty else {
            throw ConvNetError.file(path: path, message: "a dataset needs a name")
        }
        guard try objectKind(dataset) == nil else {
            throw ConvNetError.file(path: path, message: "cannot write \(what): it already exists")
        }
        try withDataspace(shape, what) { space in
            let file = try fileID()
            let id = try withIntermediateGroups("cannot create \(what)") {
                H5Dcreate2(file, Self.locationName(dataset), type, space, $0, HDF5Library.defaults, HDF5Library.defaults)
            }
            defer { H5Dclose(id) }
            if shape.reduce(1, *) > 0 {
                guard write(id) >= 0 else { throw failure("cannot write \(what)") }
            }
        }
    }

    /// Creates a 32-bit float dataset of `shape` stored in chunks of `chunks` and writes none of
    /// its elements: they read as 0 until written, and the file holds only the chunks written
    /// (a large array to fill part by part).
    public func createDataset(_ dataset: String, shape: [Int], chunks: [Int]) throws {
        guard chunks.count == shape.count, chunks.allSatisfy({ $0 > 0 }), shape.allSatisfy({ $0 >= 0 }) else {
            throw ConvNetError.argument("\(path): dataset \(dataset): chunks \(describe(shape: chunks)) do not fit the shape \(describe(shape: shape))")
        }
        try HDF5Library.locked {
            let creation = H5Pcreate(H5P_CLS_DATASET_CREATE_ID_g)
            guard creation >= 0 else { throw failure("cannot create dataset \(Self.display(dataset))") }
            defer { H5Pclose(creation) }
            guard H5Pset_chunk(creation, Int32(chunks.count), chunks.map { hsize_t($0) }) >= 0 else {
                throw failure("cannot create dataset \(Self.display(dataset)) in chunks \(describe(shape: chunks))")
            }
            try withDataspace(shape, "dataset \(Self.display(dataset))") { space in
                let file = try fileID()
                let id = try withIntermediateGroups("cannot create dataset \(Self.display(dataset))") {
                    H5Dcreate2(file, Self.locationName(dataset), Float.fileType, space, $0, creation, HDF5Library.defaults)
                }
                H5Dclose(id)
            }
        }
    }

    /// Opens a dataset, its stored type and its shape for `body`, then closes them.
    private func withDataset<T>(_ dataset: String,
                                _ body: (_ id: hid_t, _ storedType: hid_t, _ shape: [Int]) throws -> T) throws -> T {
        let what = "dataset \(Self.display(dataset))"
        let location = try require(.dataset, at: dataset)
        let id = H5Dopen2(try fileID(), location, HDF5Library.defaults)
        guard id >= 0 else { throw failure("cannot open \(what)") }
        defer { H5Dclose(id) }
        let storedType = H5Dget_type(id)
        guard storedType >= 0 else { throw failure("cannot read the type of \(what)") }
        defer { H5Tclose(storedType) }
        let space = H5Dget_space(id)
        guard space >= 0 else { throw failure("cannot read the shape of \(what)") }
        defer { H5Sclose(space) }
        return try body(id, storedType, try shape(ofDataspace: space, what))
    }

    /// A type class in words, for messages.
    static func typeClassName(_ typeClass: H5T_class_t) -> String {
        switch typeClass {
        case H5T_INTEGER: return "integers"
        case H5T_FLOAT: return "floating-point numbers"
        case H5T_STRING: return "strings"
        case H5T_COMPOUND: return "compound records"
        case H5T_ENUM: return "enumerated values"
        case H5T_ARRAY: return "fixed-size arrays"
        case H5T_VLEN: return "variable-length sequences"
        default: return "values of HDF5 type class \(typeClass.rawValue)"
        }
    }
}
