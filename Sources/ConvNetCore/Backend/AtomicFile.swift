import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files so that a reader, a crash or a full disk leaves either the old file or the new one,
/// never a half-written file, and never writes through a link someone planted.
///
/// The bytes go to a temporary file created exclusively (`mkstemp`: `O_CREAT | O_EXCL`, so an
/// existing name or symbolic link is never opened) in the target's folder under an unpredictable
/// name, `.<name>.convnet-tmp-<pid>-XXXXXX`; it is synced to disk, given the usual permissions
/// (`0666` less the umask) and renamed onto the target. `rename(2)` replaces a symbolic link at the
/// target itself rather than the file it points to. Temporary files of processes that no longer
/// run (a `kill -9` during a save) are recognised by that name and removed at the next save of the
/// same target.
public enum AtomicFile {
    /// What temporary files' names contain after the target's name.
    public static let temporaryMarker = ".convnet-tmp-"

    /// Writes `bytes` to `path` atomically.
    /// - Throws: `ConvNetError.file` naming `path` when the folder is missing or not writable, the
    ///   disk is full, or the rename fails; the old file at `path` is then left as it was.
    public static func write(_ bytes: UnsafeRawBufferPointer, to path: String) throws {
        removeStaleTemporaries(of: path)
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var template = Array((folder + "/." + url.lastPathComponent + temporaryMarker
                              + "\(ProcessInfo.processInfo.processIdentifier)-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw failure(path, "cannot create a temporary file in \(folder)", errno)
        }
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var closed = false
        defer {
            if !closed { _ = close(descriptor) }
        }
        do {
            var offset = 0
            while offset < bytes.count {
                let written = systemWrite(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    let code = errno
                    if code == EINTR { continue }
                    throw failure(path, "cannot write (\(offset) of \(bytes.count) bytes written)", code)
                }
                offset += written
            }
            guard fchmod(descriptor, 0o666 & ~creationMask) == 0 else { throw failure(path, "cannot set the permissions of \(temporary)", errno) }
            guard fsync(descriptor) == 0 else { throw failure(path, "cannot sync \(temporary) to disk", errno) }
            closed = true
            guard close(descriptor) == 0 else { throw failure(path, "cannot finish writing \(temporary)", errno) }
            guard rename(temporary, path) == 0 else { throw failure(path, "cannot replace it", errno) }
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Writes `data` to `path` atomically (see `write(_:to:)`).
    public static func write(_ data: Data, to path: String) throws {
        try data.withUnsafeBytes { try write($0, to: path) }
    }

    /// The process's umask, read without changing it where Linux shows it (`/proc/self/status`),
    /// since setting it to read it back would briefly affect files other threads create.
    private static let creationMask: mode_t = {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Umask:") }),
           let mask = mode_t(line.dropFirst("Umask:".count).trimmingCharacters(in: .whitespaces), radix: 8) {
            return mask
        }
        let mask = umask(0)
        umask(mask)
        return mask
    }()

    /// Removes the temporary files of `path` left by processes that no longer run: this tool's
    /// (`.<name>.convnet-tmp-<pid>-XXXXXX`) and those of earlier versions (`<name>.tmp-<pid>-<n>`,
    /// `.<name>.tmp-<pid>`). Files of running processes are left alone.
    public static func removeStaleTemporaries(of path: String) {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path, name = url.lastPathComponent
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        let prefixes = ["." + name + temporaryMarker, name + ".tmp-", "." + name + ".tmp-"]
        for entry in entries {
            guard let prefix = prefixes.first(where: { entry.hasPrefix($0) }) else { continue }
            let rest = entry.dropFirst(prefix.count)
            guard let pid = Int32(rest.prefix { $0 != "-" }), pid > 0, pid != ProcessInfo.processInfo.processIdentifier else { continue }
            if kill(pid, 0) != 0, errno == ESRCH {
                unlink(folder + "/" + entry)
            }
        }
    }

    private static func failure(_ path: String, _ message: String, _ code: Int32) -> ConvNetError {
        ConvNetError.file(path: path, message: "\(message): \(String(cString: strerror(code)))")
    }

    /// `write(2)`, named apart from this type's own `write` methods.
    private static func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        Glibc.write(descriptor, buffer, count)
        #else
        Darwin.write(descriptor, buffer, count)
        #endif
    }
}

/// Writes `data` to `path` atomically through `AtomicFile`: a temporary file created exclusively in
/// the same folder, synced and renamed, so readers and crashes never see a half-written file.
public func writeAtomically(_ data: Data, to path: String) throws {
    try AtomicFile.write(data, to: path)
}
