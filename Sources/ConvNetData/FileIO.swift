import ConvNetCore
import Foundation

/// Whole-file reads and writes for the dataset loaders and image codecs, with errors that name the
/// file.
enum FileIO {
    /// The bytes of the file at `path`, as stored.
    static func readBytes(atPath path: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConvNetError.file(path: path, message: "no such file")
        }
        guard !isDirectory.boolValue else {
            throw ConvNetError.file(path: path, message: "is a folder, expected a file")
        }
        do {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ConvNetError.file(path: path, message: "cannot read: \(error.localizedDescription)")
        }
    }

    /// Writes `bytes` to `path` atomically (`AtomicFile`), replacing the file if it exists.
    static func write(_ bytes: [UInt8], toPath path: String) throws {
        try bytes.withUnsafeBytes { try AtomicFile.write($0, to: path) }
    }

    /// True when `path` names an existing folder.
    static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// True when `path` names an existing file that is not a folder.
    static func isFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }
}
