import ConvNetCore
@preconcurrency import CHDF5
import Foundation

/// An HDF5 file, opened for reading or created for writing.
///
/// Objects are named by paths from the root, `"model_weights/dense/kernel:0"`; `""` and `"/"` name
/// the root group. Every failure throws `ConvNetError.file(path:message:)` naming this file, the
/// object path inside it and what was expected.
///
/// Writing is atomic: `create` builds the file in memory, and only `commit()` writes it, through
/// `AtomicFile` (a temporary file created exclusively beside the target, then renamed onto it). A
/// writer that is closed or released without `commit()` writes nothing, and a crash or a full disk
/// leaves the target untouched. `write(to:_:)` wraps this for the common case.
///
/// An `HDF5File` belongs to one thread at a time; different files may be used from different
/// threads, since all calls into libhdf5 are serialised by a process-wide lock.
public final class HDF5File {
    /// The path given to `open` or `create`; error messages name it.
    public let path: String
    /// The libhdf5 file id; `nil` once closed.
    private var id: hid_t?
    /// Whether this file was created for writing and not yet committed or closed.
    private var isPendingWrite: Bool
    /// For a file opened for reading: its layout and global heap objects, which variable-length
    /// strings are checked against before libhdf5 reads them (`nil` for a file being written).
    let storedLayout: StoredLayout?

    private init(path: String, id: hid_t, writing: Bool, storedLayout: StoredLayout? = nil) {
        self.path = path
        self.id = id
        self.isPendingWrite = writing
        self.storedLayout = storedLayout
    }

    deinit { close() }

    /// Opens an existing file read-only.
    /// - Throws: `ConvNetError.file` when the file is missing, is not HDF5, or is truncated.
    public static func open(_ path: String) throws -> HDF5File {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConvNetError.file(path: path, message: "no such file")
        }
        let (id, layout) = try HDF5Library.locked { () throws -> (hid_t, StoredLayout) in
            let signature = H5Fis_hdf5(path)
            guard signature > 0 else {
                throw signature == 0
                    ? ConvNetError.file(path: path, message: "not an HDF5 file (no HDF5 signature found)")
                    : failure(path, "cannot read the file")
            }
            let id = try withStrongClosing(path, "truncated or corrupt HDF5 file") {
                H5Fopen(path, HDF5Library.openReadOnly, $0)
            }
            // Opening reads the superblock and the root group only; global heaps are read later.
            do {
                return (id, try StoredLayout(file: id, path: path))
            } catch {
                H5Fclose(id)
                throw error
            }
        }
        return HDF5File(path: path, id: id, writing: false, storedLayout: layout)
    }

    /// Starts writing a new file that will replace `path` when `commit()` succeeds. The file is
    /// built in memory (libhdf5's core driver, no backing store), so libhdf5 never writes to disk:
    /// `commit()` hands the finished image to `AtomicFile`, which reports a full disk as an error
    /// (libhdf5's own writer crashed on one) and never writes through a planted link. The cost is
    /// a second copy of the file in memory during `commit()`.
    public static func create(_ path: String) throws -> HDF5File {
        let id = try HDF5Library.locked { () throws -> hid_t in
            let access = H5Pcreate(H5P_CLS_FILE_ACCESS_ID_g)
            guard access >= 0 else { throw failure(path, "cannot start writing") }
            defer { H5Pclose(access) }
            // Grow the in-memory image by 1 MiB at a time; `false`: no backing file.
            guard H5Pset_fapl_core(access, 1 << 20, false) >= 0 else { throw failure(path, "cannot start writing in memory") }
            let id = H5Fcreate(path, HDF5Library.createTruncating, HDF5Library.defaults, access)
            guard id >= 0 else { throw failure(path, "cannot start writing") }
            return id
        }
        return HDF5File(path: path, id: id, writing: true)
    }

    /// Opens `path`, runs `body` on it and closes it.
    public static func read<T>(_ path: String, _ body: (HDF5File) throws -> T) throws -> T {
        let file = try open(path)
        defer { file.close() }
        return try body(file)
    }

    /// Creates `path` by running `body` on a new file, then commits it. If `body` throws, nothing is
    /// written: the temporary file is removed and an existing file at `path` is left as it was.
    public static func write(to path: String, _ body: (HDF5File) throws -> Void) throws {
        let file = try create(path)
        defer { file.close() }
        try body(file)
        try file.commit()
    }

    /// Finishes a write: takes the file's image from libhdf5 and writes it to `path` atomically
    /// (`AtomicFile`: a temporary file created exclusively beside it, synced, then renamed), so
    /// readers see it complete or not at all and a failure leaves the old file as it was.
    public func commit() throws {
        guard isPendingWrite, let id else {
            throw ConvNetError.file(path: path, message: "commit() needs a file created for writing and not yet closed")
        }
        self.id = nil
        isPendingWrite = false
        let image = try HDF5Library.locked { () throws -> [UInt8] in
            defer { H5Fclose(id) }
            guard H5Fflush(id, H5F_SCOPE_GLOBAL) >= 0 else { throw failure("cannot finish writing") }
            let size = H5Fget_file_image(id, nil, 0)
            guard size > 0 else { throw failure("cannot finish writing") }
            var image = [UInt8](repeating: 0, count: size)
            guard image.withUnsafeMutableBytes({ H5Fget_file_image(id, $0.baseAddress, size) }) == size else {
                throw failure("cannot finish writing")
            }
            return image
        }
        try image.withUnsafeBytes { try AtomicFile.write($0, to: path) }
    }

    /// Closes the file. A write that was not committed is abandoned: nothing reaches the disk.
    /// Closing twice does nothing.
    public func close() {
        if let id {
            self.id = nil
            HDF5Library.locked { _ = H5Fclose(id) }
        }
        isPendingWrite = false
    }

    /// Runs `open` with a file-access property list whose close degree is "strong", so that closing
    /// the file closes it for real even if an object id leaked, before it is renamed or removed,
    /// and without HDF5's `flock` file locking: a child process started while a file is open
    /// inherits its descriptor and would hold the lock until it exits, failing the next open of
    /// that file with "unable to lock file". Writers never share a file (each writes a temporary
    /// file and renames it), so the lock protects nothing here.
    /// Throws `failure(path, message)` when `open` returns a negative id.
    private static func withStrongClosing(_ path: String, _ message: String, _ open: (hid_t) -> hid_t) throws -> hid_t {
        let access = H5Pcreate(H5P_CLS_FILE_ACCESS_ID_g)
        guard access >= 0 else { throw failure(path, message) }
        defer { H5Pclose(access) }
        _ = H5Pset_fclose_degree(access, H5F_CLOSE_STRONG)
        _ = H5Pset_file_locking(access, false, true)  // no locking; ignore where the file system has none
        let id = open(access)
        // Before the deferred H5Pclose: every libhdf5 call clears the error stack that
        // `failure` reads.
        guard id >= 0 else { throw failure(path, message) }
        return id
    }
}

// MARK: - Helpers for the other HDF5File files. Call them with the lock held.

extension HDF5File {
    /// The open file id, or an error if the file was closed.
    func fileID() throws -> hid_t {
        guard let id else { throw ConvNetError.file(path: path, message: "the file is closed") }
        return id
    }

    /// An error naming this file, with libhdf5's innermost message appended when it has one.
    func failure(_ message: String) -> ConvNetError {
        Self.failure(path, message)
    }

    static func failure(_ path: String, _ message: String) -> ConvNetError {
        let detail = HDF5Library.takeErrorDetail().map { " (HDF5: \($0))" } ?? ""
        return ConvNetError.file(path: path, message: message + detail)
    }

    /// `"/a/b/"` → `"a/b"`; the root is `""`.
    static func normalized(_ objectPath: String) -> String {
        objectPath.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
    }

    /// The name libhdf5 resolves relative to the file id: `"."` for the root.
    static func locationName(_ objectPath: String) -> String {
        let path = normalized(objectPath)
        return path.isEmpty ? "." : path
    }

    /// `parent/child` with the root written as `""`.
    static func join(_ parent: String, _ child: String) -> String {
        normalized(parent + "/" + child)
    }

    /// How a path is shown in messages: `model_weights/dense`, or `/` for the root.
    static func display(_ objectPath: String) -> String {
        let path = normalized(objectPath)
        return path.isEmpty ? "/" : path
    }

    /// The kind of object at `objectPath`, or `nil` when nothing is there.
    func objectKind(_ objectPath: String) throws -> HDF5ObjectKind? {
        let file = try fileID()
        let components = Self.normalized(objectPath).split(separator: "/")
        // H5Lexists fails rather than answering "no" when an intermediate link is missing.
        for last in components.indices {
            let prefix = components[...last].joined(separator: "/")
            guard H5Lexists(file, prefix, HDF5Library.defaults) > 0 else {
                _ = HDF5Library.takeErrorDetail()
                return nil
            }
        }
        let object = H5Oopen(file, Self.locationName(objectPath), HDF5Library.defaults)
        guard object >= 0 else { throw failure("cannot open \(Self.display(objectPath))") }
        defer { H5Oclose(object) }
        switch H5Iget_type(object) {
        case H5I_GROUP: return .group
        case H5I_DATASET: return .dataset
        default: return .other
        }
    }

    /// Throws unless `objectPath` names an object of the given kind; returns its location name.
    @discardableResult
    func require(_ kind: HDF5ObjectKind, at objectPath: String) throws -> String {
        switch try objectKind(objectPath) {
        case nil:
            throw ConvNetError.file(path: path, message: "\(kind.noun) \(Self.display(objectPath)) not found")
        case let found? where found != kind:
            throw ConvNetError.file(path: path, message: "\(Self.display(objectPath)) is a \(found.noun), expected a \(kind.noun)")
        default:
            return Self.locationName(objectPath)
        }
    }

    /// The shape of a dataspace: `[]` for a scalar, `[0]` for an empty (null) one. Throws when its
    /// element count would not fit in an `Int`, so callers can allocate `shape.reduce(1, *)` safely.
    func shape(ofDataspace space: hid_t, _ what: String) throws -> [Int] {
        if H5Sget_simple_extent_type(space) == H5S_NULL { return [0] }
        let rank = H5Sget_simple_extent_ndims(space)
        guard rank >= 0 else { throw failure("cannot read the shape of \(what)") }
        var dimensions = [hsize_t](repeating: 0, count: Int(rank))
        guard H5Sget_simple_extent_dims(space, &dimensions, nil) == rank else {
            throw failure("cannot read the shape of \(what)")
        }
        var count = 1
        var shape: [Int] = []
        for dimension in dimensions {
            guard let extent = Int(exactly: dimension) else {
                throw ConvNetError.file(path: path, message: "\(what) has an impossible dimension \(dimension)")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            guard !overflow else {
                throw ConvNetError.file(path: path, message: "\(what) is too large: \(dimensions)")
            }
            count = product
            shape.append(extent)
        }
        return shape
    }

    /// The number of elements of `shape`, refused (naming this file and `what`, with the bytes
    /// asked for) when `elementSize`-byte elements would take more than `AllocationLimit.maximumBytes`:
    /// a damaged or hostile file may declare any shape.
    func elementCount(_ shape: [Int], elementSize: Int, _ what: String) throws -> Int {
        do {
            return try AllocationLimit.elementCount(shape, elementSize: elementSize, what)
        } catch let error as ConvNetError {
            throw ConvNetError.file(path: path, message: error.description)
        }
    }

    /// Throws unless the stored numeric `type` of `count` elements (integers or floating point)
    /// has an element size a number can have, 1 to 16 bytes, and the elements fit under
    /// `AllocationLimit.maximumBytes` at that size: libhdf5 1.10 sizes its conversion buffer by
    /// the stored type, whose size comes from the file (a damaged one declared 1.6 GB per float).
    func checkStoredNumberType(_ type: hid_t, count: Int, _ what: String) throws {
        let size = H5Tget_size(type)
        guard (1...16).contains(size) else {
            throw ConvNetError.file(path: path, message: "damaged HDF5 file: \(what) declares numbers of \(size) bytes each, expected 1 to 16")
        }
        _ = try elementCount([count], elementSize: size, what)
    }

    /// A dataspace for `shape` (`[]` is a scalar), closed after `body`.
    func withDataspace<T>(_ shape: [Int], _ what: String, _ body: (hid_t) throws -> T) throws -> T {
        let dimensions = shape.map { hsize_t($0) }
        let space = shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(shape.count), dimensions, nil)
        guard space >= 0 else { throw failure("cannot describe the shape \(describe(shape: shape)) of \(what)") }
        defer { H5Sclose(space) }
        return try body(space)
    }
}
