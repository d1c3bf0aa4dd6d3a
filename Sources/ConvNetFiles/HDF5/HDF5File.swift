import ConvNetCore
@preconcurrency import CHDF5
import Foundation
import Synchronization

/// An HDF5 file, opened for reading or created for writing.
///
/// Objects are named by paths from the root, `"model_weights/dense/kernel:0"`; `""` and `"/"` name
/// the root group. Every failure throws `ConvNetError.file(path:message:)` naming this file, the
/// object path inside it and what was expected.
///
/// Writing is atomic: `create` writes to a temporary file beside the target
/// (`<target>.tmp-<pid>-<n>`), and only `commit()` renames it onto the target. A writer that is
/// closed or released without `commit()` removes its temporary file, and a crash leaves the target
/// untouched. `write(to:_:)` wraps this for the common case.
///
/// An `HDF5File` belongs to one thread at a time; different files may be used from different
/// threads, since all calls into libhdf5 are serialised by a process-wide lock.
public final class HDF5File {
    /// The path given to `open` or `create`; error messages name it.
    public let path: String
    /// The libhdf5 file id; `nil` once closed.
    private var id: hid_t?
    /// The temporary file of a write that has not been committed yet.
    private var pendingTemporaryPath: String?

    private static let temporaryCounter = Atomic<Int>(0)

    private init(path: String, id: hid_t, temporaryPath: String?) {
        self.path = path
        self.id = id
        self.pendingTemporaryPath = temporaryPath
    }

    deinit { close() }

    /// Opens an existing file read-only.
    /// - Throws: `ConvNetError.file` when the file is missing, is not HDF5, or is truncated.
    public static func open(_ path: String) throws -> HDF5File {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConvNetError.file(path: path, message: "no such file")
        }
        let id = try HDF5Library.locked { () throws -> hid_t in
            let signature = H5Fis_hdf5(path)
            guard signature > 0 else {
                throw signature == 0
                    ? ConvNetError.file(path: path, message: "not an HDF5 file (no HDF5 signature found)")
                    : failure(path, "cannot read the file")
            }
            return try withStrongClosing(path, "truncated or corrupt HDF5 file") {
                H5Fopen(path, HDF5Library.openReadOnly, $0)
            }
        }
        return HDF5File(path: path, id: id, temporaryPath: nil)
    }

    /// Starts writing a new file that will replace `path` when `commit()` succeeds.
    public static func create(_ path: String) throws -> HDF5File {
        let serial = temporaryCounter.add(1, ordering: .relaxed).newValue
        let temporaryPath = "\(path).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(serial)"
        let id = try HDF5Library.locked { () throws -> hid_t in
            do {
                return try withStrongClosing(path, "cannot create temporary file \(temporaryPath)") {
                    H5Fcreate(temporaryPath, HDF5Library.createTruncating, HDF5Library.defaults, $0)
                }
            } catch {
                try? FileManager.default.removeItem(atPath: temporaryPath)
                throw error
            }
        }
        return HDF5File(path: path, id: id, temporaryPath: temporaryPath)
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

    /// Finishes a write: flushes and closes the temporary file, syncs it to disk and renames it
    /// onto the target, which readers then see complete or not at all.
    public func commit() throws {
        guard let temporaryPath = pendingTemporaryPath, let id else {
            throw ConvNetError.file(path: path, message: "commit() needs a file created for writing and not yet closed")
        }
        self.id = nil
        defer { discardPendingWrite() }
        try HDF5Library.locked {
            guard H5Fclose(id) >= 0 else { throw failure("cannot finish writing \(temporaryPath)") }
        }
        do {
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: temporaryPath))
            try handle.synchronize()
            try handle.close()
        } catch {
            throw ConvNetError.file(path: path, message: "cannot sync \(temporaryPath) to disk: \(error.localizedDescription)")
        }
        guard rename(temporaryPath, path) == 0 else {
            throw ConvNetError.file(path: path, message: "cannot rename \(temporaryPath) onto it: \(String(cString: strerror(errno)))")
        }
        pendingTemporaryPath = nil
    }

    /// Closes the file. A write that was not committed is abandoned and its temporary file removed.
    /// Closing twice does nothing.
    public func close() {
        if let id {
            self.id = nil
            HDF5Library.locked { _ = H5Fclose(id) }
        }
        discardPendingWrite()
    }

    private func discardPendingWrite() {
        if let temporaryPath = pendingTemporaryPath {
            pendingTemporaryPath = nil
            try? FileManager.default.removeItem(atPath: temporaryPath)
        }
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

    /// A dataspace for `shape` (`[]` is a scalar), closed after `body`.
    func withDataspace<T>(_ shape: [Int], _ what: String, _ body: (hid_t) throws -> T) throws -> T {
        let dimensions = shape.map { hsize_t($0) }
        let space = shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(shape.count), dimensions, nil)
        guard space >= 0 else { throw failure("cannot describe the shape \(describe(shape: shape)) of \(what)") }
        defer { H5Sclose(space) }
        return try body(space)
    }
}
