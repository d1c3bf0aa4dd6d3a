import ConvNetCore
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
                hasher.update([UInt8](block))
            }
        } catch {
            throw ConvNetError.file(path: path, message: "cannot read the file to compute its \(algorithm): \(error.localizedDescription)")
        }
        return hasher.finalize()
    }

    /// A streaming hasher for this checksum's algorithm.
    func makeHasher() -> StreamingHasher {
        switch self {
        case .md5: return StreamingHasher(algorithm: .md5)
        case .sha256: return StreamingHasher(algorithm: .sha256)
        }
    }
}

/// MD5 (RFC 1321) or SHA-256 (FIPS 180-4) over data fed in pieces of any size.
///
/// Both are Merkle–Damgård hashes over 64-byte blocks whose padding differs only in the byte order
/// of the length, so one buffer-and-pad loop serves both.
struct StreamingHasher: Sendable {
    enum Algorithm: Sendable { case md5, sha256 }

    let algorithm: Algorithm
    private var state: [UInt32]
    private var pending: [UInt8] = []
    private var length: UInt64 = 0

    init(algorithm: Algorithm) {
        self.algorithm = algorithm
        switch algorithm {
        case .md5: state = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476]
        case .sha256: state = [0x6A09_E667, 0xBB67_AE85, 0x3C6E_F372, 0xA54F_F53A, 0x510E_527F, 0x9B05_688C, 0x1F83_D9AB, 0x5BE0_CD19]
        }
        pending.reserveCapacity(128)
    }

    mutating func update(_ bytes: [UInt8]) {
        length &+= UInt64(bytes.count)
        var start = 0
        if !pending.isEmpty {
            let take = min(64 - pending.count, bytes.count)
            pending += bytes[0..<take]
            start = take
            guard pending.count == 64 else { return }
            compress(pending[...])
            pending.removeAll(keepingCapacity: true)
        }
        while bytes.count - start >= 64 {
            compress(bytes[start..<(start + 64)])
            start += 64
        }
        pending += bytes[start...]
    }

    /// Pads, processes the last blocks and returns the digest in lowercase hexadecimal.
    mutating func finalize() -> String {
        let bits = length &* 8
        var tail = pending + [0x80]
        while tail.count % 64 != 56 { tail.append(0) }
        let lengthBytes = (0..<8).map { UInt8(truncatingIfNeeded: bits >> (8 * $0)) }  // little-endian
        tail += algorithm == .md5 ? lengthBytes : lengthBytes.reversed()
        for start in stride(from: 0, to: tail.count, by: 64) { compress(tail[start..<(start + 64)]) }
        pending.removeAll()
        let bytes = state.flatMap { word -> [UInt8] in
            let littleEndian = (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) }
            return algorithm == .md5 ? littleEndian : littleEndian.reversed()
        }
        return bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    private mutating func compress(_ block: ArraySlice<UInt8>) {
        switch algorithm {
        case .md5: compressMD5(block)
        case .sha256: compressSHA256(block)
        }
    }

    private static func rotateLeft(_ x: UInt32, _ n: UInt32) -> UInt32 { x << n | x >> (32 - n) }
    private static func rotateRight(_ x: UInt32, _ n: UInt32) -> UInt32 { x >> n | x << (32 - n) }

    private static let md5Shifts: [UInt32] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21]
    /// `floor(2³² · |sin(i + 1)|)`, RFC 1321's table T (written out, so no libm is involved).
    private static let md5Constants: [UInt32] = [
        0xD76A_A478, 0xE8C7_B756, 0x2420_70DB, 0xC1BD_CEEE, 0xF57C_0FAF, 0x4787_C62A, 0xA830_4613, 0xFD46_9501,
        0x6980_98D8, 0x8B44_F7AF, 0xFFFF_5BB1, 0x895C_D7BE, 0x6B90_1122, 0xFD98_7193, 0xA679_438E, 0x49B4_0821,
        0xF61E_2562, 0xC040_B340, 0x265E_5A51, 0xE9B6_C7AA, 0xD62F_105D, 0x0244_1453, 0xD8A1_E681, 0xE7D3_FBC8,
        0x21E1_CDE6, 0xC337_07D6, 0xF4D5_0D87, 0x455A_14ED, 0xA9E3_E905, 0xFCEF_A3F8, 0x676F_02D9, 0x8D2A_4C8A,
        0xFFFA_3942, 0x8771_F681, 0x6D9D_6122, 0xFDE5_380C, 0xA4BE_EA44, 0x4BDE_CFA9, 0xF6BB_4B60, 0xBEBF_BC70,
        0x289B_7EC6, 0xEAA1_27FA, 0xD4EF_3085, 0x0488_1D05, 0xD9D4_D039, 0xE6DB_99E5, 0x1FA2_7CF8, 0xC4AC_5665,
        0xF429_2244, 0x432A_FF97, 0xAB94_23A7, 0xFC93_A039, 0x655B_59C3, 0x8F0C_CC92, 0xFFEF_F47D, 0x8584_5DD1,
        0x6FA8_7E4F, 0xFE2C_E6E0, 0xA301_4314, 0x4E08_11A1, 0xF753_7E82, 0xBD3A_F235, 0x2AD7_D2BB, 0xEB86_D391,
    ]

    private mutating func compressMD5(_ block: ArraySlice<UInt8>) {
        let base = block.startIndex
        let words = (0..<16).map { i in (0..<4).reduce(UInt32(0)) { $0 | UInt32(block[base + 4 * i + $1]) << (8 * UInt32($1)) } }
        var (a, b, c, d) = (state[0], state[1], state[2], state[3])
        for i in 0..<64 {
            let (f, g): (UInt32, Int)
            switch i / 16 {
            case 0: (f, g) = ((b & c) | (~b & d), i)
            case 1: (f, g) = ((d & b) | (~d & c), (5 * i + 1) % 16)
            case 2: (f, g) = (b ^ c ^ d, (3 * i + 5) % 16)
            default: (f, g) = (c ^ (b | ~d), (7 * i) % 16)
            }
            let rotated = Self.rotateLeft(a &+ f &+ Self.md5Constants[i] &+ words[g], Self.md5Shifts[(i / 16) * 4 + i % 4])
            (a, b, c, d) = (d, b &+ rotated, b, c)
        }
        state[0] &+= a; state[1] &+= b; state[2] &+= c; state[3] &+= d
    }

    /// The first 32 bits of the fractional parts of the cube roots of the first 64 primes.
    private static let sha256Constants: [UInt32] = [
        0x428A_2F98, 0x7137_4491, 0xB5C0_FBCF, 0xE9B5_DBA5, 0x3956_C25B, 0x59F1_11F1, 0x923F_82A4, 0xAB1C_5ED5,
        0xD807_AA98, 0x1283_5B01, 0x2431_85BE, 0x550C_7DC3, 0x72BE_5D74, 0x80DE_B1FE, 0x9BDC_06A7, 0xC19B_F174,
        0xE49B_69C1, 0xEFBE_4786, 0x0FC1_9DC6, 0x240C_A1CC, 0x2DE9_2C6F, 0x4A74_84AA, 0x5CB0_A9DC, 0x76F9_88DA,
        0x983E_5152, 0xA831_C66D, 0xB003_27C8, 0xBF59_7FC7, 0xC6E0_0BF3, 0xD5A7_9147, 0x06CA_6351, 0x1429_2967,
        0x27B7_0A85, 0x2E1B_2138, 0x4D2C_6DFC, 0x5338_0D13, 0x650A_7354, 0x766A_0ABB, 0x81C2_C92E, 0x9272_2C85,
        0xA2BF_E8A1, 0xA81A_664B, 0xC24B_8B70, 0xC76C_51A3, 0xD192_E819, 0xD699_0624, 0xF40E_3585, 0x106A_A070,
        0x19A4_C116, 0x1E37_6C08, 0x2748_774C, 0x34B0_BCB5, 0x391C_0CB3, 0x4ED8_AA4A, 0x5B9C_CA4F, 0x682E_6FF3,
        0x748F_82EE, 0x78A5_636F, 0x84C8_7814, 0x8CC7_0208, 0x90BE_FFFA, 0xA450_6CEB, 0xBEF9_A3F7, 0xC671_78F2,
    ]

    private mutating func compressSHA256(_ block: ArraySlice<UInt8>) {
        let base = block.startIndex
        var w = [UInt32](repeating: 0, count: 64)
        for i in 0..<16 { w[i] = (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(block[base + 4 * i + $1]) } }
        for i in 16..<64 {
            let s0 = Self.rotateRight(w[i - 15], 7) ^ Self.rotateRight(w[i - 15], 18) ^ (w[i - 15] >> 3)
            let s1 = Self.rotateRight(w[i - 2], 17) ^ Self.rotateRight(w[i - 2], 19) ^ (w[i - 2] >> 10)
            w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
        }
        var (a, b, c, d, e, f, g, h) = (state[0], state[1], state[2], state[3], state[4], state[5], state[6], state[7])
        for i in 0..<64 {
            let s1 = Self.rotateRight(e, 6) ^ Self.rotateRight(e, 11) ^ Self.rotateRight(e, 25)
            let choice = (e & f) ^ (~e & g)
            let t1 = h &+ s1 &+ choice &+ Self.sha256Constants[i] &+ w[i]
            let s0 = Self.rotateRight(a, 2) ^ Self.rotateRight(a, 13) ^ Self.rotateRight(a, 22)
            let majority = (a & b) ^ (a & c) ^ (b & c)
            (h, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ s0 &+ majority)
        }
        for (i, value) in [a, b, c, d, e, f, g, h].enumerated() { state[i] &+= value }
    }
}
