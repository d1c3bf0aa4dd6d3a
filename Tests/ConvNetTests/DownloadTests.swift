import ConvNet
import Dispatch
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
private let streamSocket = Int32(SOCK_STREAM.rawValue)
private let noSignal = Int32(MSG_NOSIGNAL)
#elseif canImport(Darwin)
import Darwin
private let streamSocket = SOCK_STREAM
private let noSignal: Int32 = 0
#endif

/// A minimal HTTP/1.1 server on 127.0.0.1 (an ephemeral port) that serves fixed responses, one
/// connection at a time, for the download tests. Nothing here contacts any other address.
final class LoopbackServer: Sendable {
    enum Route: Sendable {
        /// 200 with the bytes.
        case file([UInt8])
        /// 200 announcing `announced` bytes, then sends `bytes` (fewer) and closes.
        case truncated([UInt8], announced: Int)
        /// Reads the request, answers nothing for `seconds`, then closes.
        case stall(seconds: Double)
    }

    let port: UInt16
    private let listener: Int32
    private let routes: [String: Route]
    private let log = Locked<[String]>([])
    private let finished = DispatchSemaphore(value: 0)

    init(routes: [String: Route]) throws {
        self.routes = routes
        let listener = socket(AF_INET, streamSocket, 0)
        guard listener >= 0 else { throw FixtureError("socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) }
        }
        guard bound == 0, listen(listener, 16) == 0 else {
            close(listener)
            throw FixtureError("cannot listen on 127.0.0.1: errno \(errno)")
        }
        var actual = sockaddr_in()
        var actualLength = length
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &actualLength) }
        }
        self.listener = listener
        port = UInt16(bigEndian: actual.sin_port)
        let server = self
        Thread.detachNewThread { server.serve() }
    }

    func url(_ path: String) -> URL {
        URL(string: "http://127.0.0.1:\(port)\(path)")!  // a literal address: always a valid URL
    }

    /// The paths requested so far, in order.
    var requests: [String] { log.withLock { $0 } }

    /// Stops accepting connections and waits (at most 10 s) for the serving thread to end.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        _ = finished.wait(timeout: .now() + 10)
        close(listener)
    }

    private func serve() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { break }  // shut down
            respond(client)
            close(client)
        }
        finished.signal()
    }

    private func respond(_ client: Int32) {
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while request.count < 65536, !request.ends(with: Array("\r\n\r\n".utf8)) {
            let count = recv(client, &buffer, buffer.count, 0)
            guard count > 0 else { return }
            request += buffer[0..<count]
        }
        let requestLine = String(decoding: request.prefix(while: { $0 != 13 }), as: UTF8.self).split(separator: " ")
        let path = requestLine.count > 1 ? String(requestLine[1]) : "/"
        log.withLock { $0.append(path) }
        switch routes[path] {
        case let .file(bytes)?:
            transmit(client, header(200, "OK", length: bytes.count) + bytes)
        case let .truncated(bytes, announced)?:
            transmit(client, header(200, "OK", length: announced) + bytes)
        case let .stall(seconds)?:
            Thread.sleep(forTimeInterval: seconds)
        case nil:
            let body = Array("not found\n".utf8)
            transmit(client, header(404, "Not Found", length: body.count) + body)
        }
    }

    private func header(_ status: Int, _ reason: String, length: Int) -> [UInt8] {
        Array("HTTP/1.1 \(status) \(reason)\r\nContent-Type: application/octet-stream\r\nContent-Length: \(length)\r\nConnection: close\r\n\r\n".utf8)
    }

    private func transmit(_ client: Int32, _ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, noSignal) }
            guard count > 0 else { return }
            sent += count
        }
    }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool {
        count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix
    }
}

/// A port on 127.0.0.1 where nothing listens (a server's, after it stopped).
private func closedPort() throws -> UInt16 {
    let server = try LoopbackServer(routes: [:])
    server.stop()
    return server.port
}

/// An uncompressed tar archive (ustar) of regular files, as `tar cf` writes it.
private func tarArchive(_ entries: [(name: String, bytes: [UInt8])]) -> [UInt8] {
    var archive: [UInt8] = []
    for entry in entries {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int) { for (i, byte) in text.utf8.enumerated() { header[offset + i] = byte } }
        func octal(_ value: Int, width: Int) -> String {
            let digits = String(value, radix: 8)
            return String(repeating: "0", count: width - digits.count) + digits
        }
        put(entry.name, at: 0)
        put("0000644", at: 100)
        put("0000000", at: 108)
        put("0000000", at: 116)
        put(octal(entry.bytes.count, width: 11), at: 124)
        put("00000000000", at: 136)
        put("        ", at: 148)
        put("0", at: 156)
        put("ustar", at: 257)
        put("00", at: 263)
        put(octal(header.reduce(0) { $0 + Int($1) }, width: 6), at: 148)
        header[154] = 0
        archive += header + entry.bytes + [UInt8](repeating: 0, count: (512 - entry.bytes.count % 512) % 512)
    }
    return archive + [UInt8](repeating: 0, count: 1024)
}

private let silent = DownloadOptions(timeout: 5, resourceTimeout: 30, progress: .silent)

/// The files in `path`, hidden ones included, sorted.
private func listing(_ path: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
}

/// The message of the `ConvNetError.file` that `body` throws, checking it names `path`.
private func downloadError(naming path: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> String {
    dataFileError(naming: path, sourceLocation: sourceLocation, body)
}

@Suite("Download: checksums")
struct DownloadChecksumTests {
    @Test("MD5 and SHA-256 match the standard test vectors")
    func vectors() throws {
        let cases: [(String, String, String)] = [
            ("", "d41d8cd98f00b204e9800998ecf8427e", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ("The quick brown fox jumps over the lazy dog", "9e107d9d372bb6826bd81d3542a419d6",
             "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"),
            (String(repeating: "a", count: 1_000_000), "7707d6ae4e027c70eea2a935c2296f21",
             "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
        ]
        for (text, md5, sha256) in cases {
            #expect(Checksum.md5(md5).digest(of: Array(text.utf8)) == md5)
            #expect(Checksum.sha256(sha256).digest(of: Array(text.utf8)) == sha256)
        }
        #expect(Checksum.md5("ABC").hexDigest == "abc")
        #expect(Checksum.sha256("00").description == "SHA-256 00")
    }

    @Test("file digests read in blocks agree with md5sum/sha256sum (Debian's Fashion-MNIST test labels)",
          .enabled(if: FileManager.default.fileExists(atPath: MNISTStyle.fashionMNISTDirectory + "/t10k-labels-idx1-ubyte.gz")))
    func fileDigest() throws {
        let path = MNISTStyle.fashionMNISTDirectory + "/t10k-images-idx3-ubyte.gz"  // 4.4 MB: several 1 MiB blocks
        #expect(try Checksum.md5("").digest(ofFileAt: path) == "f78720b4224f21cce2f2ccf2d7a94c9a")
        #expect(try Checksum.sha256("").digest(ofFileAt: path) == "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa")
    }
}

@Suite("Download: from a loopback HTTP server", .serialized)
struct DownloadServerTests {
    let fixture: [UInt8]
    let folder: DataTestFolder

    init() throws {
        folder = try DataTestFolder()
        let images = try Tensor(shape: [3, 4, 4, 1], scalars: (0..<48).map { Float($0 * 5) })
        try IDX.writeImages(images, path: folder.file("fixture-images.gz"), gzip: true)
        fixture = try folder.read("fixture-images.gz")
        try FileManager.default.removeItem(atPath: folder.file("fixture-images.gz"))
    }

    @Test("a download lands complete, verified, with no temporary file left")
    func success() throws {
        defer { folder.remove() }
        let server = try LoopbackServer(routes: ["/data/images.gz": .file(fixture)])
        defer { server.stop() }
        let target = folder.file("cache/images.gz")
        for checksum in [Checksum.md5(Checksum.md5("").digest(of: fixture)), .sha256(Checksum.sha256("").digest(of: fixture))] {
            try? FileManager.default.removeItem(atPath: target)
            try Downloader.fetch([server.url("/data/images.gz")], to: target, checksum: checksum, options: silent)
            #expect(try folder.read("cache/images.gz") == fixture)
            #expect(listing(folder.file("cache")) == ["images.gz"])
        }
        #expect(try IDX.readImages(path: target).shape == [3, 4, 4, 1])
        #expect(server.requests == ["/data/images.gz", "/data/images.gz"])
    }

    @Test("a wrong checksum is rejected and leaves no file")
    func wrongChecksum() throws {
        defer { folder.remove() }
        let server = try LoopbackServer(routes: ["/images.gz": .file(fixture)])
        defer { server.stop() }
        let url = server.url("/images.gz")
        let message = downloadError(naming: url.absoluteString) {
            try Downloader.fetch([url], to: folder.file("cache/images.gz"), checksum: .md5(String(repeating: "0", count: 32)), options: silent)
        }
        #expect(message.contains("checksum mismatch") && message.contains(Checksum.md5("").digest(of: fixture)))
        #expect(listing(folder.file("cache")) == [])
    }

    @Test("404, a refused connection, a truncated body and a stalled server are clear errors that leave no file")
    func failures() throws {
        defer { folder.remove() }
        let server = try LoopbackServer(routes: [
            "/short.gz": .truncated(Array(fixture.prefix(20)), announced: fixture.count),
            "/slow.gz": .stall(seconds: 2),
        ])
        defer { server.stop() }
        let target = folder.file("cache/images.gz")
        let checksum = Checksum.md5(Checksum.md5("").digest(of: fixture))

        let missing = server.url("/missing.gz")
        var message = downloadError(naming: missing.absoluteString) { try Downloader.fetch([missing], to: target, checksum: checksum, options: silent) }
        #expect(message.contains("404"))

        let refused = try #require(URL(string: "http://127.0.0.1:\(try closedPort())/images.gz"))
        message = downloadError(naming: refused.absoluteString) { try Downloader.fetch([refused], to: target, checksum: checksum, options: silent) }
        #expect(message.contains("could not connect"))

        let short = server.url("/short.gz")
        _ = downloadError(naming: short.absoluteString) { try Downloader.fetch([short], to: target, checksum: checksum, options: silent) }

        let slow = server.url("/slow.gz")
        let start = Date()
        message = downloadError(naming: slow.absoluteString) {
            try Downloader.fetch([slow], to: target, checksum: checksum,
                                 options: DownloadOptions(timeout: 0.5, resourceTimeout: 5, progress: .silent))
        }
        #expect(message.contains("timed out"))
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(listing(folder.file("cache")) == [])
    }

    @Test("downloads go through AtomicFile: planted links are replaced, not written through; a failure keeps the old file; dead downloads' temporaries are removed")
    func atomicWrites() throws {
        defer { folder.remove() }
        let server = try LoopbackServer(routes: ["/images.gz": .file(fixture)])
        defer { server.stop() }
        let cache = folder.file("cache")
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        let victim = folder.file("victim.txt"), target = cache + "/images.gz"
        try Data("precious".utf8).write(to: URL(fileURLWithPath: victim))
        // Links at the target and at the names earlier versions used for the partial download
        // (`.<name>.part-<pid>-<n>`, predictable), and a dead process's partial download.
        let pid = ProcessInfo.processInfo.processIdentifier
        try FileManager.default.createSymbolicLink(atPath: target, withDestinationPath: victim)
        for serial in 1...4 { try FileManager.default.createSymbolicLink(atPath: cache + "/.images.gz.part-\(pid)-\(serial)", withDestinationPath: victim) }
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let deadPartial = ".images.gz\(AtomicFile.temporaryMarker)\(child.processIdentifier)-a1b2c3"
        try Data("half".utf8).write(to: URL(fileURLWithPath: cache + "/" + deadPartial))

        let checksum = Checksum.md5(Checksum.md5("").digest(of: fixture))
        try Downloader.fetch([server.url("/images.gz")], to: target, checksum: checksum, options: silent)
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious")
        #expect(try FileManager.default.attributesOfItem(atPath: target)[.type] as? FileAttributeType == .typeRegular)
        #expect(try folder.read("cache/images.gz") == fixture)
        #expect(!listing(cache).contains(deadPartial))
        #expect(listing(cache).allSatisfy { !$0.contains(AtomicFile.temporaryMarker) })

        // A failed download (a wrong checksum) leaves the old file as it was and no temporary file.
        try Data("old".utf8).write(to: URL(fileURLWithPath: target))
        _ = downloadError(naming: server.url("/images.gz").absoluteString) {
            try Downloader.fetch([server.url("/images.gz")], to: target, checksum: .md5(String(repeating: "0", count: 32)), options: silent)
        }
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "old")
        #expect(listing(cache).allSatisfy { !$0.contains(AtomicFile.temporaryMarker) })
    }

    @Test("mirrors are tried in order until one works")
    func fallback() throws {
        defer { folder.remove() }
        let server = try LoopbackServer(routes: ["/b/images.gz": .file(fixture)])
        defer { server.stop() }
        try Downloader.fetch([server.url("/a/images.gz"), server.url("/b/images.gz")], to: folder.file("images.gz"),
                             checksum: .md5(Checksum.md5("").digest(of: fixture)), options: silent)
        #expect(server.requests == ["/a/images.gz", "/b/images.gz"])
        #expect(try folder.read("images.gz") == fixture)
    }
}

@Suite("Download: datasets into the cache", .serialized)
struct DownloadDatasetTests {
    /// An MNIST-style dataset of four small files served by `server`, with their checksums.
    private func mnistStyle(server: LoopbackServer, files: [String: [UInt8]]) -> RemoteDataset {
        RemoteDataset(name: "tiny-mnist", title: "Tiny MNIST", files: files.keys.sorted().map { name in
            RemoteFile(name: name, urls: [server.url("/" + name)], checksum: .sha256(Checksum.sha256("").digest(of: files[name] ?? [])))
        }, layout: .files)
    }

    private func mnistFiles(in folder: DataTestFolder) throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        try FileManager.default.createDirectory(atPath: folder.file("src"), withIntermediateDirectories: true)
        for (prefix, count) in [("train", 5), ("t10k", 2)] {
            try IDX.writeImages(Tensor(shape: [count, 28, 28, 1], repeating: 7), path: folder.file("src/\(prefix)-images-idx3-ubyte.gz"), gzip: true)
            try IDX.writeLabels((0..<count).map { $0 % 10 }, path: folder.file("src/\(prefix)-labels-idx1-ubyte.gz"), gzip: true)
            files["\(prefix)-images-idx3-ubyte.gz"] = try folder.read("src/\(prefix)-images-idx3-ubyte.gz")
            files["\(prefix)-labels-idx1-ubyte.gz"] = try folder.read("src/\(prefix)-labels-idx1-ubyte.gz")
        }
        return files
    }

    @Test("locate downloads a missing dataset into the cache once, then finds it there")
    func locateDownloads() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        let files = try mnistFiles(in: folder)
        let server = try LoopbackServer(routes: Dictionary(uniqueKeysWithValues: files.map { ("/" + $0.key, LoopbackServer.Route.file($0.value)) }))
        defer { server.stop() }
        let dataset = mnistStyle(server: server, files: files)
        let environment = ["CONVNET_DATA_DIR": folder.file("cache")]
        #expect(dataset.cacheDirectory(environment: environment) == folder.file("cache/tiny-mnist"))

        let found = try dataset.locate(candidates: [folder.file("empty")], options: silent, environment: environment)
        #expect(found == folder.file("cache/tiny-mnist"))
        #expect(listing(found) == files.keys.sorted())
        let train = try MNISTStyle.load(directory: found, split: .train, classNames: MNISTStyle.digitClassNames)
        #expect(train.count == 5)
        #expect(server.requests.count == 4)

        // Found in the cache: no second download. A candidate that holds the files comes first.
        #expect(try dataset.locate(candidates: [], options: silent, environment: environment) == found)
        #expect(try dataset.locate(candidates: [folder.file("src")], options: silent, environment: environment) == folder.file("src"))
        #expect(server.requests.count == 4)
    }

    @Test("offline, or with downloads off, the error says where it looked and where to put the files")
    func offline() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        let port = try closedPort()
        let dataset = RemoteDataset(name: "tiny", title: "Tiny", files: [
            RemoteFile(name: "a.gz", urls: [URL(string: "http://127.0.0.1:\(port)/a.gz")].compactMap { $0 }, checksum: .md5("00")),
        ], layout: .files)
        let environment = ["CONVNET_DATA_DIR": folder.file("cache")]
        let cache = folder.file("cache/tiny")
        var message = dataFileError(naming: cache) {
            _ = try dataset.locate(candidates: [folder.file("elsewhere")], options: silent, environment: environment)
        }
        #expect(message.contains("looked in \(folder.file("elsewhere")), \(cache)"))
        #expect(message.contains("could not connect"))
        #expect(message.contains("put it in \(cache)") && message.contains("--data-dir"))
        #expect(listing(cache) == [])

        message = dataFileError(naming: cache) {
            _ = try dataset.locate(candidates: [], download: false, options: silent, environment: environment)
        }
        #expect(message.contains("switched off") && message.contains("http://127.0.0.1:\(port)/a.gz"))
    }

    @Test("CIFAR-10's archive is downloaded, verified, unpacked into cifar-10-batches-bin and removed")
    func cifarArchive() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        func batch(_ labels: [UInt8]) -> [UInt8] {
            labels.flatMap { [$0] + [UInt8](repeating: $0 &* 20, count: 3072) }
        }
        let names = (1...5).map { "data_batch_\($0).bin" } + ["test_batch.bin"]
        let entries = names.enumerated().map { ("cifar-10-batches-bin/" + $0.element, batch([UInt8($0.offset), 9])) }
            + [("cifar-10-batches-bin/batches.meta.txt", Array(CIFAR10.classNames.joined(separator: "\n").utf8))]
        let archive = try Gzip.compress(tarArchive(entries))
        let server = try LoopbackServer(routes: ["/cifar10/cifar-10-binary.tar.gz": .file(archive)])
        defer { server.stop() }
        let dataset = RemoteDataset(name: "cifar10", title: "CIFAR-10", files: [
            RemoteFile(name: "cifar-10-binary.tar.gz", urls: [server.url("/cifar10/cifar-10-binary.tar.gz")],
                       checksum: .md5(Checksum.md5("").digest(of: archive))),
        ], layout: RemoteDataset.cifar10.layout)
        let environment = ["CONVNET_DATA_DIR": folder.file("cache")]
        let found = try dataset.locate(candidates: [], options: silent, environment: environment)
        #expect(listing(found) == ["cifar-10-batches-bin"])  // archive and staging folder gone
        let train = try CIFAR10.load(directory: found, split: .train)
        #expect(train.labels == [0, 9, 1, 9, 2, 9, 3, 9, 4, 9])
        #expect(try CIFAR10.load(directory: found, split: .test).labels == [5, 9])

        // An archive put in the cache by hand is verified and unpacked even with downloads off.
        let manual = folder.file("manual")
        try folder.write(archive, to: "manual/cifar10/cifar-10-binary.tar.gz")
        let unpacked = try dataset.locate(candidates: [], download: false, options: silent, environment: ["CONVNET_DATA_DIR": manual])
        #expect(try CIFAR10.load(directory: unpacked, split: .test).labels == [5, 9])
        #expect(server.requests.count == 1)
    }

    @Test("an archive entry that would escape the folder is refused")
    func unsafeArchive() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        let archive = try Gzip.compress(tarArchive([("cifar-10-batches-bin/../../evil.bin", [1, 2, 3])]))
        let server = try LoopbackServer(routes: ["/x.tar.gz": .file(archive)])
        defer { server.stop() }
        let dataset = RemoteDataset(name: "cifar10", title: "CIFAR-10", files: [
            RemoteFile(name: "x.tar.gz", urls: [server.url("/x.tar.gz")], checksum: .md5(Checksum.md5("").digest(of: archive))),
        ], layout: RemoteDataset.cifar10.layout)
        let cache = folder.file("cache/cifar10")
        let message = dataFileError(naming: cache) {
            _ = try dataset.locate(candidates: [], options: silent, environment: ["CONVNET_DATA_DIR": folder.file("cache")])
        }
        #expect(message.contains("unsafe tar entry"))
        #expect(!FileManager.default.fileExists(atPath: folder.file("evil.bin")))
        #expect(!listing(cache).contains { $0.hasPrefix(".unpack") })
    }

    @Test("a mirror replaces the official addresses: the built-in MNIST is asked of 127.0.0.1 only")
    func mirror() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        let server = try LoopbackServer(routes: ["/mnist/train-images-idx3-ubyte.gz": .file([1, 2, 3])])
        defer { server.stop() }
        let options = DownloadOptions(timeout: 5, resourceTimeout: 30, progress: .silent, mirror: server.url("/"))
        let cache = folder.file("cache/mnist")
        let message = dataFileError(naming: cache) {
            _ = try RemoteDataset.mnist.locate(candidates: [], options: options, environment: ["CONVNET_DATA_DIR": folder.file("cache")])
        }
        #expect(message.contains("checksum mismatch") && message.contains("f68b3c2dcbeaaa9fbdd348bbdeb94873"))
        #expect(server.requests == ["/mnist/train-images-idx3-ubyte.gz"])
        #expect(listing(cache) == [])
        #expect(DownloadOptions.fromEnvironment(["CONVNET_DATASET_MIRROR": "http://127.0.0.1:1/"]).mirror?.absoluteString == "http://127.0.0.1:1/")
    }

    @Test("the cache is $CONVNET_DATA_DIR, else $XDG_CACHE_HOME/convnet, else ~/.cache/convnet")
    func cacheLocation() {
        #expect(RemoteDataset.cacheRoot(environment: ["CONVNET_DATA_DIR": "/d", "XDG_CACHE_HOME": "/x", "HOME": "/h"]) == "/d")
        #expect(RemoteDataset.cacheRoot(environment: ["XDG_CACHE_HOME": "/x", "HOME": "/h"]) == "/x/convnet")
        #expect(RemoteDataset.cacheRoot(environment: ["HOME": "/h"]) == "/h/.cache/convnet")
        #expect(RemoteDataset.fashionMNIST.cacheDirectory(environment: ["HOME": "/h"]) == "/h/.cache/convnet/fashion-mnist")
        #expect(RemoteDataset.named("cifar10") == .cifar10)
        #expect(RemoteDataset.fashionMNIST.isPresent(in: MNISTStyle.fashionMNISTDirectory)
                == FileManager.default.fileExists(atPath: MNISTStyle.fashionMNISTDirectory + "/train-images-idx3-ubyte.gz"))
    }
}

@Suite("Download: streamed unpacking and digests")
struct StreamedArchiveTests {
    @Test("a .tar.gz made by GNU tar, larger than the 1 MiB extraction chunk, unpacks byte for byte",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/bin/tar")))
    func unpacksLargeArchive() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        var generator = RandomGenerator(seed: 3)
        // Random bytes do not compress, so the archive itself is larger than a chunk too; sizes that
        // are not multiples of 512 exercise the padding, a 150-character name GNU tar's long names.
        let longName = "sub/" + String(repeating: "n", count: 150) + ".bin"
        let files: [(String, [UInt8])] = [
            ("big.bin", (0..<(2_621_440 + 77)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }),
            ("small.txt", Array("hello\n".utf8)),
            ("empty.bin", []),
            (longName, (0..<1_048_576 + 1).map { UInt8(truncatingIfNeeded: $0 &* 7) }),
        ]
        for (name, bytes) in files { try folder.write(bytes, to: "source/set/" + name) }
        let archive = folder.file("cache/streamed/set.tar.gz")
        try FileManager.default.createDirectory(atPath: folder.file("cache/streamed"), withIntermediateDirectories: true)
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/bin/tar")
        tar.arguments = ["-czf", archive, "-C", folder.file("source"), "set"]
        try tar.run()
        tar.waitUntilExit()
        #expect(tar.terminationStatus == 0)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: archive)[.size] as? Int)
        #expect(size > 2 << 20)  // more than two chunks

        let dataset = RemoteDataset(name: "streamed", title: "Streamed", files: [
            RemoteFile(name: "set.tar.gz", urls: [], checksum: .md5(try Checksum.md5("").digest(ofFileAt: archive))),
        ], layout: .archive(folder: "set", contents: files.map(\.0)))
        let found = try dataset.locate(candidates: [], download: false, options: silent,
                                       environment: ["CONVNET_DATA_DIR": folder.file("cache")])
        for (name, bytes) in files {
            #expect(try folder.read("cache/streamed/set/" + name) == bytes, "\(name)")
        }
        #expect(found == folder.file("cache/streamed"))
        #expect(!FileManager.default.fileExists(atPath: archive))
    }

    @Test("file digests are streamed in blocks and match hashlib's for 3,000,007 bytes of 'a'")
    func streamedFileDigest() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        let bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 3_000_007)  // three 1 MiB blocks and a partial one
        try folder.write(bytes, to: "a.bin")
        // python3 -c "import hashlib; d=b'a'*3_000_007; print(hashlib.md5(d).hexdigest(), hashlib.sha256(d).hexdigest())"
        let md5 = "bddac1bf227bb444188f8c3ec7ad0978", sha256 = "3e53e6daddb23fa76801d9e61a78ed0c74f6d2ed3dbc09b0c01d3ed4605d2aa4"
        #expect(try Checksum.md5(md5).digest(ofFileAt: folder.file("a.bin")) == md5)
        #expect(try Checksum.sha256(sha256).digest(ofFileAt: folder.file("a.bin")) == sha256)
        #expect(Checksum.md5(md5).digest(of: bytes) == md5)
        #expect(Checksum.sha256(sha256).digest(of: bytes) == sha256)
    }
}
