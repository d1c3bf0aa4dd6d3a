import ConvNetCore
import Crypto
import Foundation

/// The expected digest of a downloaded file, as the dataset's authors (or a well-known mirror)
/// publish it: MD5 for MNIST, Fashion-MNIST and CIFAR-10, SHA-256 where one is available.
///
/// MD5 is no defence against a malicious server, but it is what the datasets publish, and it
/// catches what checksums are for here: truncated, corrupt or wrong files.
public enum Checksum: Sendable, Equatable, CustomStringConvertible {
    /// 32 hexadecimal digits.
    case md5(String)
    /// 64 hexadecimal digits.
    case sha256(String)

    /// The expected digest in lowercase hexadecimal.
    public var hexDigest: String {
        switch self {
        case let .md5(digest), let .sha256(digest): return digest.lowercased()
        }
    }

    /// The algorithm's name, as `md5sum`/`sha256sum` would say it.
    public var algorithm: String {
        switch self {
        case .md5: return "MD5"
        case .sha256: return "SHA-256"
        }
    }

    /// A one-line, human-readable form.
    public var description: String { "\(algorithm) \(hexDigest)" }

    /// The digest of `bytes` with this checksum's algorithm, in lowercase hexadecimal.
    public func digest(of bytes: some Sequence<UInt8>) -> String {
        var hasher = makeHasher()
        hasher.update(Array(bytes))
        return hasher.finalize()
    }

    /// The digest of the file at `path`, read in 1 MiB blocks (so a 170 MB archive is not held in
    /// memory twice).
    /// - Throws: `ConvNetError.file` naming `path` when it cannot be read.
    public func digest(ofFileAt path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ConvNetError.file(path: path, message: "cannot open the file to compute its \(algorithm)")
        }
        defer { try? handle.close() }
        var hasher = makeHasher()
        do {
            while let block = try handle.read(upToCount: 1 << 20), !block.isEmpty {
                hasher.update(block)
            }
        } catch {
            throw ConvNetError.file(path: path, message: "cannot read the file to compute its \(algorithm): \(error.localizedDescription)")
        }
        return hasher.finalize()
    }

    /// A streaming hasher for this checksum's algorithm.
    func makeHasher() -> StreamingHasher {
        StreamingHasher(for: self)
    }
}

/// MD5 (RFC 1321) or SHA-256 (FIPS 180-4) over data fed in pieces of any size, computed by
/// swift-crypto (`Insecure.MD5`, `SHA256`: BoringSSL's implementations on Linux, CryptoKit's on
/// Apple platforms). Not `Sendable` (swift-crypto's hash functions are not): a hasher belongs to one
/// download, behind its lock.
struct StreamingHasher {
    private enum State {
        case md5(Insecure.MD5)
        case sha256(SHA256)
    }

    private var state: State

    /// A hasher for `checksum`'s algorithm (its expected digest is not used here).
    init(for checksum: Checksum) {
        switch checksum {
        case .md5: state = .md5(Insecure.MD5())
        case .sha256: state = .sha256(SHA256())
        }
    }

    /// Feeds the next piece of the data.
    mutating func update(_ bytes: some DataProtocol) {
        switch state {
        case var .md5(hasher):
            hasher.update(data: bytes)
            state = .md5(hasher)
        case var .sha256(hasher):
            hasher.update(data: bytes)
            state = .sha256(hasher)
        }
    }

    /// The digest of everything fed so far, in lowercase hexadecimal.
    func finalize() -> String {
        let digest: [UInt8]
        switch state {
        case let .md5(hasher): digest = Array(hasher.finalize())
        case let .sha256(hasher): digest = Array(hasher.finalize())
        }
        return digest.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
