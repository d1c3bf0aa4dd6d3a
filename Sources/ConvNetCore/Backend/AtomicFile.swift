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
        let writer = try Writer(path: path)
        try writer.append(bytes)
        try writer.commit()
    }

    /// A file written piece by piece (a download, say) that appears at its path complete or not at
    /// all: `init` creates the temporary file exclusively (see `AtomicFile`), `append` adds bytes,
    /// `commit` syncs it and renames it onto the target. A writer released without a successful
    /// `commit` (an error, a cancelled download) removes its temporary file and leaves the target
    /// as it was. One thread at a time.
    public final class Writer {
        /// The file this writer will replace.
        public let path: String
        /// The temporary file's path, `<folder>/.<name>.convnet-tmp-<pid>-XXXXXX`.
        public let temporaryPath: String
        /// Bytes appended so far.
        public private(set) var bytesWritten = 0
        /// The open temporary file, or -1 once closed.
        private var descriptor: Int32
        /// Whether the temporary file was renamed into place or removed.
        private var isFinished = false

        /// Creates the temporary file for `path` in its folder (removing stale temporaries of the
        /// same target first).
        /// - Throws: `ConvNetError.file` naming `path` when the folder is missing or not writable.
        public init(path: String) throws {
            removeStaleTemporaries(of: path)
            let url = URL(fileURLWithPath: path)
            let folder = url.deletingLastPathComponent().path
            var template = Array((folder + "/." + url.lastPathComponent + temporaryMarker
                                  + "\(ProcessInfo.processInfo.processIdentifier)-XXXXXX").utf8CString)
            let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard descriptor >= 0 else {
                throw failure(path, "cannot create a temporary file in \(folder)", errno)
            }
            self.path = path
            self.descriptor = descriptor
            temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        }

        deinit { abandon() }

        /// Appends `bytes` to the temporary file.
        /// - Throws: `ConvNetError.file` naming `path` (a full disk, say); the writer is then abandoned.
        public func append(_ bytes: UnsafeRawBufferPointer) throws {
            guard descriptor >= 0 else { throw ConvNetError.file(path: path, message: "the write was already finished or abandoned") }
            var offset = 0
            while offset < bytes.count {
                let written = systemWrite(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    let code = errno
                    if code == EINTR { continue }
                    abandon()
                    throw failure(path, "cannot write (\(bytesWritten + offset) bytes written)", code)
                }
                offset += written
            }
            bytesWritten += bytes.count
        }

        /// Appends `data` to the temporary file (see `append(_:)` for bytes).
        public func append(_ data: Data) throws {
            try data.withUnsafeBytes { try append($0) }
        }

        /// Gives the temporary file the usual permissions (`0666` less the umask), syncs it to disk
        /// and renames it onto `path`.
        /// - Throws: `ConvNetError.file` naming `path`; the temporary file is then removed and the
        ///   old file at `path` is left as it was.
        public func commit() throws {
            guard descriptor >= 0 else { throw ConvNetError.file(path: path, message: "the write was already finished or abandoned") }
            do {
                guard fchmod(descriptor, 0o666 & ~creationMask) == 0 else { throw failure(path, "cannot set the permissions of \(temporaryPath)", errno) }
                guard fsync(descriptor) == 0 else { throw failure(path, "cannot sync \(temporaryPath) to disk", errno) }
                let closing = descriptor
                descriptor = -1
                guard close(closing) == 0 else { throw failure(path, "cannot finish writing \(temporaryPath)", errno) }
                guard rename(temporaryPath, path) == 0 else { throw failure(path, "cannot replace it", errno) }
                isFinished = true
            } catch {
                abandon()
                throw error
            }
        }

        /// Closes and removes the temporary file unless committed; the target is untouched.
        /// Calling it again does nothing.
        public func abandon() {
            if descriptor >= 0 {
                _ = close(descriptor)
                descriptor = -1
            }
            if !isFinished {
                unlink(temporaryPath)
                isFinished = true
            }
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
    /// `.<name>.tmp-<pid>`, downloads' `.<name>.part-<pid>-<n>`). Files of running processes are left alone.
    public static func removeStaleTemporaries(of path: String) {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path, name = url.lastPathComponent
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        let prefixes = ["." + name + temporaryMarker, name + ".tmp-", "." + name + ".tmp-", "." + name + ".part-"]
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
