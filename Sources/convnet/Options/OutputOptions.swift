import ArgumentParser
import Foundation

/// `-o/--output`, the file a command writes, checked before any work starts.
struct OutputOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "The output file.") var output: String

    func validate() throws { try OutputPath.check(output, flag: "--output") }

    /// The output's extension, lowercased.
    var pathExtension: String { (output as NSString).pathExtension.lowercased() }
}

/// Checks of file names given on the command line, so that a run never fails at its end for a
/// typo in a path.
enum OutputPath {
    /// Throws a usage error naming `flag` when `path`'s folder does not exist or `path` is a folder.
    static func check(_ path: String?, flag: String) throws {
        guard let path else { return }
        let folder = (path as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        guard folder.isEmpty || FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) && isDirectory.boolValue else {
            throw ValidationError("\(flag) \(path): the folder \(folder) does not exist")
        }
        guard !(FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue) else {
            throw ValidationError("\(flag) \(path): is a folder, expected a file name")
        }
    }

    /// Throws a usage error naming `flag` when `path` is not an existing file.
    static func checkInput(_ path: String?, flag: String) throws {
        guard let path else { return }
        guard FileManager.default.isReadableFile(atPath: path) else { throw ValidationError("\(flag) \(path): no such file") }
    }
}

/// `HxW` image sizes, as `--resize` takes them.
enum ImageSize {
    /// `128x96` → (height 128, width 96).
    static func parse(_ text: String, flag: String = "--resize") throws -> (height: Int, width: Int) {
        let parts = text.lowercased().split(separator: "x").map { Int($0) }
        guard parts.count == 2, let height = parts[0], let width = parts[1], (1...8192).contains(height), (1...8192).contains(width) else {
            throw ValidationError("\(flag) \(text): expected HxW, e.g. 128x128")
        }
        return (height, width)
    }
}
