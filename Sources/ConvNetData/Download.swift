import ConvNetCore
import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

/// One file of a downloadable dataset: where to get it and how to check it.
public struct RemoteFile: Sendable, Equatable {
    /// The file name in the dataset's folder, e.g. `train-images-idx3-ubyte.gz`.
    public let name: String
    /// Addresses to try in order (mirrors); the first that delivers a file with the right checksum wins.
    public let urls: [URL]
    /// The published digest a download must match before it is accepted.
    public let checksum: Checksum
    /// The size in bytes, when known: information for callers; downloading neither needs nor checks it.
    public let size: Int?

    /// - Parameters:
    ///   - name: The file name in the dataset's folder.
    ///   - urls: Addresses to try in order.
    ///   - checksum: The digest a download must match.
    ///   - size: The size in bytes, when known.
    public init(name: String, urls: [URL], checksum: Checksum, size: Int? = nil) {
        self.name = name
        self.urls = urls
        self.checksum = checksum
        self.size = size
    }
}

/// How downloads behave.
public struct DownloadOptions: Sendable {
    /// How a download shows its progress (on standard error, so standard output stays clean for
    /// `--json` and logs).
    public enum Progress: Sendable, Equatable {
        /// A live bar on a terminal, one line per file otherwise.
        case auto
        /// One line per file.
        case lines
        /// Nothing.
        case silent
    }

    /// Seconds without any data (connecting included) before a download is abandoned.
    public var timeout: Double
    /// Seconds a whole file may take.
    public var resourceTimeout: Double
    /// How progress is shown on standard error. Default: `.auto`.
    public var progress: Progress
    /// A base address that replaces the datasets' own: file `F` of dataset `D` is fetched from
    /// `<mirror>/D/F` (for a local or company mirror; `CONVNET_DATASET_MIRROR`).
    public var mirror: URL?

    /// - Parameters:
    ///   - timeout: Seconds without any data before a download is abandoned.
    ///   - resourceTimeout: Seconds a whole file may take.
    ///   - progress: How progress is shown.
    ///   - mirror: A base address that replaces the datasets' own, or nil.
    public init(timeout: Double = 30, resourceTimeout: Double = 3600, progress: Progress = .auto, mirror: URL? = nil) {
        self.timeout = timeout
        self.resourceTimeout = resourceTimeout
        self.progress = progress
        self.mirror = mirror
    }

    /// Default options with the mirror from `CONVNET_DATASET_MIRROR`, when set.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> DownloadOptions {
        DownloadOptions(mirror: environment["CONVNET_DATASET_MIRROR"].flatMap { $0.isEmpty ? nil : URL(string: $0) })
    }
}

/// A dataset that ConvNet can download when it is not found locally: MNIST, Fashion-MNIST and
/// CIFAR-10 (binary version), from their usual public addresses, checked against the published
/// MD5 checksums, into a cache folder.
///
/// The cache is `$CONVNET_DATA_DIR/<name>` when that variable is set, else
/// `$XDG_CACHE_HOME/convnet/<name>`, else `~/.cache/convnet/<name>`. Files are written to a
/// temporary file in the cache folder, verified, then renamed, so the cache never holds a
/// half-written or unverified file under a dataset file's name.
public struct RemoteDataset: Sendable, Equatable {
    /// How the files are laid out once downloaded, which decides when a folder holds the dataset.
    public enum Layout: Sendable, Equatable {
        /// The files themselves (IDX, optionally gzipped), directly in the folder.
        case files
        /// One `.tar.gz` archive, unpacked into the folder; it holds the dataset when every path
        /// in `contents` exists (directly, or under `folder`).
        case archive(folder: String, contents: [String])
    }

    /// The short name used for the cache folder and the `--dataset` flag, e.g. `fashion-mnist`.
    public let name: String
    /// The name people know it by, for messages.
    public let title: String
    /// The files to download, each with its addresses and checksum.
    public let files: [RemoteFile]
    /// Whether the files are used as they are or unpacked from an archive.
    public let layout: Layout

    /// - Parameters:
    ///   - name: The short name for the cache folder and the `--dataset` flag.
    ///   - title: The name people know it by.
    ///   - files: The files to download.
    ///   - layout: How the files are laid out once downloaded.
    public init(name: String, title: String, files: [RemoteFile], layout: Layout) {
        self.name = name
        self.title = title
        self.files = files
        self.layout = layout
    }

    /// The four MNIST-style IDX files at `bases` (each ending in `/`), with their MD5s in the order
    /// train images, train labels, test images, test labels.
    private static func idxFiles(bases: [String], md5: [String], sizes: [Int]) -> [RemoteFile] {
        let names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
        return names.indices.map { index in
            RemoteFile(name: names[index], urls: bases.compactMap { URL(string: $0 + names[index]) },
                       checksum: .md5(md5[index]), size: sizes[index])
        }
    }

    /// MNIST, from PyTorch's and TensorFlow's mirrors (yann.lecun.com refuses most downloads);
    /// MD5s as published with torchvision.
    public static let mnist = RemoteDataset(
        name: "mnist", title: "MNIST",
        files: idxFiles(bases: ["https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"],
                        md5: ["f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
                              "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"],
                        sizes: [9_912_422, 28_881, 1_648_877, 4_542]),
        layout: .files)

    /// Fashion-MNIST, from Keras's mirror and Zalando's own bucket; MD5s from Zalando's README.
    public static let fashionMNIST = RemoteDataset(
        name: "fashion-mnist", title: "Fashion-MNIST",
        files: idxFiles(bases: ["https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
                                "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
                        md5: ["8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
                              "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"],
                        sizes: [26_421_880, 29_515, 4_422_102, 5_148]),
        layout: .files)

    /// CIFAR-10's binary version from its authors' page; MD5 as published there.
    public static let cifar10 = RemoteDataset(
        name: "cifar10", title: "CIFAR-10",
        files: [RemoteFile(name: "cifar-10-binary.tar.gz",
                           urls: [URL(string: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz")].compactMap { $0 },
                           checksum: .md5("c32a1d4ab5d03f1284b67883e8d87530"), size: 170_052_171)],
        layout: .archive(folder: "cifar-10-batches-bin",
                         contents: (1...5).map { "data_batch_\($0).bin" } + ["test_batch.bin", "batches.meta.txt"]))

    /// The built-in datasets by `name`: `mnist`, `fashion-mnist`, `cifar10`.
    public static func named(_ name: String) -> RemoteDataset? {
        [mnist, fashionMNIST, cifar10].first { $0.name == name }
    }

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

    /// Unpacks a `.tar.gz` into a temporary folder beside the target, moves its `folder` into
    /// place, and deletes the archive.
    private func unpack(archive: String, folder: String, into directory: String) throws {
        let staging = directory + "/.unpack-\(ProcessInfo.processInfo.processIdentifier)-\(Downloader.nextSerial())"
        defer { try? FileManager.default.removeItem(atPath: staging) }
        try TarArchive.extract(try Gzip.readFile(atPath: archive), into: staging, source: archive)
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

/// HTTP(S) downloads through `URLSession` (FoundationNetworking on Linux).
public enum Downloader {
    private static let serial = Atomic<Int>(0)

    static func nextSerial() -> Int { serial.add(1, ordering: .relaxed).newValue }

    /// Downloads the first of `urls` that works to `path`.
    ///
    /// The data goes to a temporary file beside `path` (`.<name>.part-<pid>-<n>`) while its
    /// checksum is computed; only a complete file with the right checksum is renamed onto `path`.
    /// On any failure the temporary file is removed and `path` is left as it was.
    /// - Throws: `ConvNetError.file(path: url, ...)` for the last address tried: HTTP status, no
    ///   connection, timeout, or checksum mismatch (giving both digests).
    public static func fetch(_ urls: [URL], to path: String, checksum: Checksum?, options: DownloadOptions = DownloadOptions()) throws {
        guard !urls.isEmpty else { throw ConvNetError.file(path: path, message: "no address to download it from") }
        var lastError: (any Error)?
        for url in urls {
            do {
                try fetch(url, to: path, checksum: checksum, options: options)
                return
            } catch {
                lastError = error
            }
        }
        throw lastError ?? ConvNetError.file(path: path, message: "download failed")
    }

    private static func fetch(_ url: URL, to path: String, checksum: Checksum?, options: DownloadOptions) throws {
        let folder = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: folder.isEmpty ? "." : folder, withIntermediateDirectories: true)
        } catch {
            throw ConvNetError.file(path: folder, message: "cannot create the download folder: \(error.localizedDescription)")
        }
        let temporary = (folder.isEmpty ? "" : folder + "/")
            + ".\((path as NSString).lastPathComponent).part-\(ProcessInfo.processInfo.processIdentifier)-\(nextSerial())"
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        guard FileManager.default.createFile(atPath: temporary, contents: nil), let handle = FileHandle(forWritingAtPath: temporary) else {
            throw ConvNetError.file(path: temporary, message: "cannot create the temporary download file")
        }
        let source = url.absoluteString
        var progress = DownloadProgressLine(label: (path as NSString).lastPathComponent, source: source, style: options.progress)
        progress.start()
        let transfer = Transfer(handle: handle, hasher: checksum?.makeHasher(), progress: progress)

        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = options.timeout
        configuration.timeoutIntervalForResource = options.resourceTimeout
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1  // delegate calls one at a time, in order
        let session = URLSession(configuration: configuration, delegate: transfer, delegateQueue: queue)
        session.dataTask(with: url).resume()
        // URLSession enforces both timeouts; this bound only guards against a lost completion.
        let finished = transfer.done.wait(timeout: .now() + options.resourceTimeout + options.timeout + 5) == .success
        session.invalidateAndCancel()  // releases the delegate
        try? handle.close()

        let outcome = transfer.outcome()
        guard finished else {
            progress.finish(succeeded: false, bytes: outcome.bytes)
            throw ConvNetError.file(path: source, message: "the download did not finish within \(Int(options.resourceTimeout)) s")
        }
        if let failure = outcome.failure {
            progress.finish(succeeded: false, bytes: outcome.bytes)
            throw ConvNetError.file(path: source, message: failure)
        }
        if let checksum, let digest = outcome.digest, digest != checksum.hexDigest {
            progress.finish(succeeded: false, bytes: outcome.bytes)
            throw ConvNetError.file(path: source, message: "checksum mismatch: expected \(checksum), the downloaded "
                                    + "\(outcome.bytes) bytes have \(checksum.algorithm) \(digest); the file was not kept")
        }
        guard rename(temporary, path) == 0 else {
            progress.finish(succeeded: false, bytes: outcome.bytes)
            throw ConvNetError.file(path: path, message: "cannot move the download into place: \(String(cString: strerror(errno)))")
        }
        progress.finish(succeeded: true, bytes: outcome.bytes)
    }
}

/// The state of one transfer, written by URLSession's delegate calls (one at a time, on a serial
/// queue) and read by the waiting thread once `done` is signalled.
private final class Transfer: NSObject, URLSessionDataDelegate, Sendable {
    struct State: ~Copyable {
        var handle: FileHandle
        var hasher: StreamingHasher?
        var progress: DownloadProgressLine
        var bytes = 0
        var failure: String?
        var digest: String?
    }

    let done = DispatchSemaphore(value: 0)
    private let state: Mutex<State>

    init(handle: FileHandle, hasher: StreamingHasher?, progress: DownloadProgressLine) {
        state = Mutex(State(handle: handle, hasher: hasher, progress: progress))
    }

    func outcome() -> (bytes: Int, failure: String?, digest: String?) {
        state.withLock { ($0.bytes, $0.failure, $0.digest) }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void) {
        let status = (response as? HTTPURLResponse)?.statusCode ?? 200
        guard status == 200 else {
            state.withLock { $0.failure = "HTTP status \(status) (\(HTTPURLResponse.localizedString(forStatusCode: status)))" }
            completionHandler(.cancel)
            return
        }
        let expected = response.expectedContentLength
        state.withLock { $0.progress.expectedBytes = expected > 0 ? Int(expected) : nil }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        state.withLock { state in
            guard state.failure == nil else { return }
            do {
                try state.handle.write(contentsOf: data)
            } catch {
                state.failure = "cannot write the download to disk: \(error.localizedDescription)"
                dataTask.cancel()
                return
            }
            state.hasher?.update([UInt8](data))
            state.bytes += data.count
            state.progress.update(bytes: state.bytes)
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        state.withLock { state in
            if state.failure == nil, let error {
                state.failure = Self.describe(error)
            }
            if state.failure == nil { state.digest = state.hasher?.finalize() }
        }
        done.signal()
    }

    /// "could not connect to the server" and the like, without NSError's domain noise.
    private static func describe(_ error: any Error) -> String {
        let error = error as NSError
        switch error.code {
        case NSURLErrorTimedOut: return "timed out (no data for too long)"
        case NSURLErrorCannotConnectToHost: return "could not connect to the server (connection refused)"
        case NSURLErrorCannotFindHost, NSURLErrorDNSLookupFailed: return "could not find the server (no network or DNS?)"
        case NSURLErrorNotConnectedToInternet: return "no internet connection"
        default: return error.localizedDescription
        }
    }
}

/// A download's progress on standard error: a live bar on a terminal
/// (`train-images-idx3-ubyte.gz  42% ━━━━━━━━──────────── 11.1/26.4 MB  5.2 MB/s`), or one line per
/// file otherwise (`Downloading URL ... done, 26.4 MB in 3.1 s`).
struct DownloadProgressLine: Sendable {
    let label: String
    let source: String
    let live: Bool
    let enabled: Bool
    var expectedBytes: Int?
    private var startTime: UInt64 = 0
    private var lastDraw: UInt64 = 0

    init(label: String, source: String, style: DownloadOptions.Progress) {
        self.label = label
        self.source = source
        enabled = style != .silent
        live = style == .auto && isatty(STDERR_FILENO) != 0
    }

    mutating func start() {
        startTime = DispatchTime.now().uptimeNanoseconds
        guard enabled else { return }
        Self.write(live ? "Downloading \(source)\n" : "Downloading \(source) ... ")
    }

    /// Redraws the bar at most ten times a second.
    mutating func update(bytes: Int) {
        guard enabled, live else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard now - lastDraw > 100_000_000 else { return }
        lastDraw = now
        Self.write("\r\u{1B}[K" + line(bytes: bytes, now: now))
    }

    func finish(succeeded: Bool, bytes: Int) {
        guard enabled else { return }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - startTime) / 1e9
        let summary = succeeded ? "done, \(Self.megabytes(bytes)) MB in \(String(format: "%.1f", seconds)) s" : "failed"
        Self.write(live ? "\r\u{1B}[K\(label): \(summary)\n" : summary + "\n")
    }

    private func line(bytes: Int, now: UInt64) -> String {
        let seconds = max(Double(now - startTime) / 1e9, 1e-3)
        let rate = "\(Self.megabytes(Int(Double(bytes) / seconds))) MB/s"
        guard let expected = expectedBytes, expected > 0 else {
            return "\(label)  \(Self.megabytes(bytes)) MB  \(rate)"
        }
        let fraction = min(Double(bytes) / Double(expected), 1)
        let done = Int(fraction * 20)
        return "\(label) \(String(format: "%3d", Int(fraction * 100)))% " + String(repeating: "━", count: done)
            + "\u{1B}[2m" + String(repeating: "━", count: 20 - done) + "\u{1B}[0m "
            + "\(Self.megabytes(bytes))/\(Self.megabytes(expected)) MB  \(rate)"
    }

    private static func megabytes(_ bytes: Int) -> String {
        String(format: "%.1f", Double(bytes) / 1e6)
    }

    private static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
