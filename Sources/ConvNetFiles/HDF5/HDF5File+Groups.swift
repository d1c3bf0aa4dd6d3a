import ConvNetCore
@preconcurrency import CHDF5

/// What an object path names.
public enum HDF5ObjectKind: Sendable, Equatable {
    case group, dataset
    /// A named datatype or another kind of object ConvNet does not read.
    case other

    /// For messages: "group model_weights not found".
    var noun: String {
        switch self {
        case .group: return "group"
        case .dataset: return "dataset"
        case .other: return "named datatype"
        }
    }
}

/// A named member of a group.
public struct HDF5Link: Sendable, Equatable {
    /// The member's name within its group.
    public let name: String
    /// Whether the member is a group or a dataset.
    public let kind: HDF5ObjectKind

    /// A member named `name` of the given kind.
    public init(name: String, kind: HDF5ObjectKind) {
        self.name = name
        self.kind = kind
    }
}

extension HDF5File {
    /// The kind of object at `objectPath`, or `nil` when there is none.
    public func kind(of objectPath: String) throws -> HDF5ObjectKind? {
        try HDF5Library.locked { try objectKind(objectPath) }
    }

    /// The members of a group, in libhdf5's name order (byte-wise, so `"10"` sorts before `"2"`).
    /// - Throws: `ConvNetError.file` for a member whose name is empty, `.` or `..` or holds a `/`
    ///   (a damaged link name: joined to the group's path it would name the group itself, and a
    ///   walk would recurse into it forever at the same depth).
    public func children(of group: String) throws -> [HDF5Link] {
        try HDF5Library.locked {
            let location = try require(.group, at: group)
            let id = H5Gopen2(try fileID(), location, HDF5Library.defaults)
            guard id >= 0 else { throw failure("cannot open group \(Self.display(group))") }
            defer { H5Gclose(id) }
            var info = H5G_info_t()
            guard H5Gget_info(id, &info) >= 0 else { throw failure("cannot list group \(Self.display(group))") }
            return try (0..<info.nlinks).map { index in
                let name = try linkName(in: id, at: index, group: group)
                guard !name.isEmpty, name != ".", name != "..", !name.contains("/") else {
                    throw ConvNetError.file(path: path, message: "damaged HDF5 file: group \(Self.display(group)) has a member named '\(name)'")
                }
                guard let kind = try objectKind(Self.join(group, name)) else {
                    // A soft or external link whose target is missing.
                    throw ConvNetError.file(path: path, message: "\(Self.join(group, name)) is a dangling link")
                }
                return HDF5Link(name: name, kind: kind)
            }
        }
    }

    /// The deepest nesting of groups that readers walking a file follow. Real files nest a few
    /// levels; a hard link from a group to one above it makes the nesting endless, and a walk that
    /// goes deeper than this reports the cycle instead of running forever.
    public static let maximumGroupDepth = 32

    /// Throws when `group`, reached by a walk from the root, is nested more than
    /// `maximumGroupDepth` levels deep: a cycle of hard links.
    public func checkWalkDepth(_ group: String) throws {
        let depth = Self.normalized(group).split(separator: "/").count
        guard depth <= Self.maximumGroupDepth else {
            let start = Self.normalized(group).split(separator: "/").prefix(3).joined(separator: "/")
            throw ConvNetError.file(path: path, message: "groups under \(start) nest more than \(Self.maximumGroupDepth) levels deep: "
                                    + "a group links to itself or to a group above it (a link cycle)")
        }
    }

    /// Makes `linkPath` a second name (a hard link) of the object at `target`.
    public func createHardLink(to target: String, at linkPath: String) throws {
        try HDF5Library.locked {
            let file = try fileID()
            guard try objectKind(target) != nil else { throw ConvNetError.file(path: path, message: "\(Self.display(target)) not found") }
            let status = H5Lcreate_hard(file, Self.locationName(target), file, Self.locationName(linkPath), HDF5Library.defaults, HDF5Library.defaults)
            guard status >= 0 else { throw failure("cannot link \(Self.display(linkPath)) to \(Self.display(target))") }
        }
    }

    /// Creates a group, and any missing groups above it.
    /// - Throws: `ConvNetError.file` when something already exists at `objectPath`.
    public func createGroup(_ objectPath: String) throws {
        try HDF5Library.locked {
            guard try objectKind(objectPath) == nil else {
                throw ConvNetError.file(path: path, message: "cannot create group \(Self.display(objectPath)): it already exists")
            }
            let file = try fileID()
            let id = try withIntermediateGroups("cannot create group \(Self.display(objectPath))") {
                H5Gcreate2(file, Self.locationName(objectPath), $0, HDF5Library.defaults, HDF5Library.defaults)
            }
            H5Gclose(id)
        }
    }

    private func linkName(in group: hid_t, at index: hsize_t, group groupPath: String) throws -> String {
        // The first call measures the name; the second fills a buffer one byte longer for the NUL.
        let length = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, HDF5Library.defaults)
        guard length >= 0 else { throw failure("cannot list group \(Self.display(groupPath))") }
        var buffer = [CChar](repeating: 0, count: Int(length) + 1)
        guard H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, buffer.count, HDF5Library.defaults) >= 0 else {
            throw failure("cannot list group \(Self.display(groupPath))")
        }
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Runs `create` with a link-creation property list that makes missing parent groups, so that a
    /// Keras weight name such as `conv2d/kernel:0` can be written in one call. Throws
    /// `failure(message)` when `create` returns a negative id.
    func withIntermediateGroups(_ message: String, _ create: (hid_t) -> hid_t) throws -> hid_t {
        let linkCreation = H5Pcreate(H5P_CLS_LINK_CREATE_ID_g)
        guard linkCreation >= 0 else { throw failure(message) }
        defer { H5Pclose(linkCreation) }
        _ = H5Pset_create_intermediate_group(linkCreation, 1)
        let id = create(linkCreation)
        // Before the deferred H5Pclose, which would clear the error stack `failure` reads.
        guard id >= 0 else { throw failure(message) }
        return id
    }
}
