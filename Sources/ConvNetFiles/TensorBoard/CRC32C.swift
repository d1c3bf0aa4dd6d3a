/// CRC-32C (Castagnoli), the checksum of TFRecord files: the reflected CRC with polynomial
/// `0x1EDC6F41` (`0x82F63B78` bit-reversed), initial value and final XOR `0xFFFFFFFF`, computed a
/// byte at a time from a 256-entry table. `crc32c("123456789") == 0xE3069283` (the catalogue's check value).
package enum CRC32C {
    /// `table[b]`: the CRC register after shifting byte `b` through eight rounds of the polynomial.
    static let table: [UInt32] = (0..<256).map { byte in
        var crc = UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    /// The CRC-32C of `bytes`.
    package static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    /// TFRecord's masked CRC, `((crc >> 15) | (crc << 17)) + 0xA282EAD8` (mod 2³²): rotating and
    /// offsetting keeps a CRC stored inside CRC-checked data from checksumming to a fixed value.
    package static func masked(_ bytes: some Sequence<UInt8>) -> UInt32 {
        let crc = checksum(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}
