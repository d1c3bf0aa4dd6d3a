import ConvNetCore
import Foundation

/// Where downloaded datasets are kept, how a folder is recognised as holding one, and how a
/// downloaded archive is unpacked (streamed: see `TarArchive`).
extension RemoteDataset {
    /// The folder all datasets are cached under (see the type's description).
    public static func cacheRoot(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let root = environment["CONVNET_DATA_DIR"], !root.isEmpty { return root }
        if let cache = environment["XDG_CACHE_HOME"], !cache.isEmpty { return cache + "/convnet" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.cache/convnet"
    }

    /// This dataset's cache folder, `<cacheRoot>/<name>`.
    public func cacheDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        Self.cacheRoot(environment: environment) + "/" + name
    }

    /// Whether `directory` holds the whole dataset: for IDX files, each file gzipped or not; for an
    /// archive, its contents directly in `directory` or in its folder inside `directory`.
    public func isPresent(in directory: String) -> Bool {
        switch layout {
        case .files:
            return files.allSatisfy { file in
                let path = directory + "/" + file.name
                return FileIO.isFile(path) || (file.name.hasSuffix(".gz") && FileIO.isFile(String(path.dropLast(3))))
            }
        case let .archive(folder, contents):
            return [directory + "/" + folder, directory].contains { base in contents.allSatisfy { FileIO.isFile(base + "/" + $0) } }
        }
    }

    /// The first of `candidates` that holds the dataset, then the cache folder; failing those,
    /// downloads into the cache folder (when `download` is true) and returns it.
    /// - Returns: a folder to hand to `MNISTStyle.load` / `CIFAR10.load`.
    /// - Throws: `ConvNetError.file` naming the cache folder, saying where it looked, why the
    ///   download failed (or that downloads are off), and where to put the files by hand.
    public func locate(candidates: [String], download: Bool = true, options: DownloadOptions = .fromEnvironment(),
                       environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        let cache = cacheDirectory(environment: environment)
        var looked: [String] = []
        for folder in candidates + [cache] where !looked.contains(folder) {
            if isPresent(in: folder) { return folder }
            looked.append(folder)
        }
        let manual = "To install it by hand, download \(files.map { $0.urls.first?.absoluteString ?? $0.name }.joined(separator: ", ")) "
            + "on a machine with internet access and put \(files.count == 1 ? "it" : "them") in \(cache)"
            + (files.count == 1 && layout != .files ? " (or the unpacked folder there)" : "")
            + ", or pass --data-dir with a folder holding the files"
        let notFound = "\(title) not found (looked in \(looked.joined(separator: ", ")))"
        do {
            try obtain(into: cache, options: options, fetch: download)
        } catch let ConvNetError.file(path, message) {
            let reason = download ? "the download failed: \(path): \(message)" : "downloading is switched off"
            throw ConvNetError.file(path: cache, message: "\(notFound) and \(reason). \(manual)")
        }
        return cache
    }

    /// Downloads every file that is not already in `directory` with the right checksum, and
    /// unpacks an archive (also one put there by hand).
    /// - Throws: `ConvNetError.file` naming the file or address that failed.
    public func download(into directory: String, options: DownloadOptions = .fromEnvironment()) throws {
        try obtain(into: directory, options: options, fetch: true)
    }

    /// Uses the files already in `directory` whose checksums match, fetches the others when
    /// `fetch` is true (else throws), then unpacks an archive.
    private func obtain(into directory: String, options: DownloadOptions, fetch: Bool) throws {
        if isPresent(in: directory) { return }
        for file in files {
            let target = directory + "/" + file.name
            if FileIO.isFile(target), (try? file.checksum.digest(ofFileAt: target)) == file.checksum.hexDigest { continue }
            guard fetch else {
                throw ConvNetError.file(path: target, message: "missing, or its \(file.checksum.algorithm) is not \(file.checksum.hexDigest)")
            }
            let urls = options.mirror.map { [$0.appendingPathComponent(name).appendingPathComponent(file.name)] } ?? file.urls
            try Downloader.fetch(urls, to: target, checksum: file.checksum, options: options)
        }
        if case let .archive(folder, _) = layout {
            for file in files {
                try unpack(archive: directory + "/" + file.name, folder: folder, into: directory)
            }
        }
    }

    /// Unpacks a `.tar.gz`, streamed, into a temporary folder beside the target, moves its `folder` into
    /// place, and deletes the archive. The temporary folder is made by `mkdtemp` (a fresh folder of
    /// an unpredictable name, only the owner's), so nothing planted in advance is written through.
    private func unpack(archive: String, folder: String, into directory: String) throws {
        var template = Array((directory + "/.unpack-\(ProcessInfo.processInfo.processIdentifier)-XXXXXX").utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw ConvNetError.file(path: directory, message: "cannot create a folder to unpack \((archive as NSString).lastPathComponent) in: \(String(cString: strerror(errno)))")
        }
        let staging = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        defer { try? FileManager.default.removeItem(atPath: staging) }
        try TarArchive.extract(from: try GzipReader(fileAt: archive), into: staging, source: archive)
        let unpacked = staging + "/" + folder, target = directory + "/" + folder
        guard FileIO.isDirectory(unpacked) else {
            throw ConvNetError.file(path: archive, message: "the archive has no folder \(folder)")
        }
        try? FileManager.default.removeItem(atPath: target)  // an incomplete earlier copy
        guard rename(unpacked, target) == 0 else {
            throw ConvNetError.file(path: target, message: "cannot move the unpacked files into place: \(String(cString: strerror(errno)))")
        }
        try? FileManager.default.removeItem(atPath: archive)
    }
}

