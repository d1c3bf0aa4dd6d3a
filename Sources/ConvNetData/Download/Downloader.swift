import ConvNetCore
import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

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

/// HTTP(S) downloads through `URLSession` (FoundationNetworking on Linux).
public enum Downloader {
    /// Downloads the first of `urls` that works to `path`.
    ///
    /// The data goes through `AtomicFile.Writer` to a temporary file created exclusively beside
    /// `path` (`.<name>.convnet-tmp-<pid>-XXXXXX`: an unpredictable name, never a planted link)
    /// while its checksum is computed; only a complete file with the right checksum is synced and
    /// renamed onto `path`. On any failure the temporary file is removed and `path` is left as it was.
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
        let file = try AtomicFile.Writer(path: path)  // removed when released uncommitted
        let source = url.absoluteString
        var progress = DownloadProgressLine(label: (path as NSString).lastPathComponent, source: source, style: options.progress)
        progress.start()
        let transfer = Transfer(file: file, hasher: checksum?.makeHasher(), progress: progress)

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
        // The temporary file goes now on every failure, not when URLSession lets go of the delegate.
        defer { transfer.abandon() }

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
        do {
            try transfer.commit()
        } catch {
            progress.finish(succeeded: false, bytes: outcome.bytes)
            throw error
        }
        progress.finish(succeeded: true, bytes: outcome.bytes)
    }
}

/// The state of one transfer, written by URLSession's delegate calls (one at a time, on a serial
/// queue) and read by the waiting thread once `done` is signalled.
private final class Transfer: NSObject, URLSessionDataDelegate, Sendable {
    struct State: ~Copyable {
        var file: AtomicFile.Writer
        var hasher: StreamingHasher?
        var progress: DownloadProgressLine
        var bytes = 0
        var failure: String?
        var digest: String?
    }

    let done = DispatchSemaphore(value: 0)
    private let state: Locked<State>

    init(file: sending AtomicFile.Writer, hasher: sending StreamingHasher?, progress: DownloadProgressLine) {
        state = Locked(State(file: file, hasher: hasher, progress: progress))
    }

    /// Renames the complete download onto its target (`AtomicFile.Writer.commit`).
    func commit() throws {
        try state.withLock { try $0.file.commit() }
    }

    /// Removes the temporary file unless `commit` succeeded (`AtomicFile.Writer.abandon`).
    func abandon() {
        state.withLock { $0.file.abandon() }
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
                try state.file.append(data)
            } catch {
                state.failure = "cannot write the download to disk: \(error)"
                dataTask.cancel()
                return
            }
            state.hasher?.update(data)
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

