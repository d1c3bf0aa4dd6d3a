import ConvNet
import Foundation
import Testing

/// The protobuf encoder against the byte sequences of the encoding guide
/// (https://protobuf.dev/programming-guides/encoding/), and CRC-32C against published check values.
@Suite struct ProtobufWriterTests {
    @Test func varintFieldMatchesTheGuide() {
        // `message Test1 { optional int32 a = 1; }` with a = 150 is `08 96 01`.
        var writer = ProtobufWriter()
        writer.int(1, 150)
        #expect(writer.encoded == [0x08, 0x96, 0x01])
        var three = ProtobufWriter()
        three.appendVarint(300)
        #expect(three.encoded == [0xAC, 0x02])
        var one = ProtobufWriter()
        one.appendVarint(1)
        #expect(one.encoded == [0x01])
    }

    @Test func negativeIntegersAreTenByteVarints() {
        // int32/int64 -2: the 64-bit two's complement, `fe ff ff ff ff ff ff ff ff 01`.
        var writer = ProtobufWriter()
        writer.int(1, -2)
        #expect(writer.encoded == [0x08, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
    }

    @Test func stringAndEmbeddedMessageMatchTheGuide() {
        // `Test2 { optional string b = 2; }` with b = "testing": `12 07 74 65 73 74 69 6e 67`.
        var writer = ProtobufWriter()
        writer.string(2, "testing")
        #expect(writer.encoded == [0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6E, 0x67])
        // `Test3 { optional Test1 c = 3; }` with c.a = 150: `1a 03 08 96 01`.
        var outer = ProtobufWriter()
        outer.message(3) { $0.int(1, 150) }
        #expect(outer.encoded == [0x1A, 0x03, 0x08, 0x96, 0x01])
    }

    @Test func packedRepeatedIntegersMatchTheGuide() {
        // `repeated int32 f = 6 [packed = true]` with [3, 270, 86942]: `32 06 03 8e 02 9e a7 05`.
        var writer = ProtobufWriter()
        writer.packedInts(6, [3, 270, 86942])
        #expect(writer.encoded == [0x32, 0x06, 0x03, 0x8E, 0x02, 0x9E, 0xA7, 0x05])
    }

    @Test func fixedWidthFieldsAreLittleEndianIEEE754() {
        var writer = ProtobufWriter()
        writer.float(1, 1)       // key 0x0d (1 << 3 | 5), 1.0f = 0x3f800000
        writer.double(2, -2)     // key 0x11 (2 << 3 | 1), -2.0 = 0xc000000000000000
        writer.fixed32(3, 0x0102_0304)
        #expect(writer.encoded == [0x0D, 0x00, 0x00, 0x80, 0x3F,
                                   0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0,
                                   0x1D, 0x04, 0x03, 0x02, 0x01])
        var packed = ProtobufWriter()
        packed.packedFloats(4, [1, -2])
        #expect(packed.encoded == [0x22, 0x08, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0])
        var doubles = ProtobufWriter()
        doubles.packedDoubles(7, [0.5])
        #expect(doubles.encoded == [0x3A, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xE0, 0x3F])
    }

    @Test func longPayloadsGetMultiByteLengths() throws {
        var writer = ProtobufWriter()
        let payload = [UInt8](repeating: 7, count: 300)
        writer.bytes(5, payload)
        #expect(Array(writer.encoded.prefix(3)) == [0x2A, 0xAC, 0x02])
        let fields = try ProtobufFields(writer.encoded)
        #expect(fields.bytes(5) == payload)
    }

    @Test func crc32cMatchesPublishedCheckValues() {
        // The CRC catalogue's check value, and RFC 3720 (iSCSI) appendix B.4's test vectors.
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map(UInt8.init)) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).reversed().map(UInt8.init)) == 0x113F_DB5C)
    }

    @Test func tfrecordFramesLengthDataAndMaskedChecksums() {
        let data = Array("event".utf8)
        let record = TFRecordWriter.frame(data)
        #expect(record.count == 8 + 4 + data.count + 4)
        #expect(Array(record[0..<8]) == [5, 0, 0, 0, 0, 0, 0, 0])
        #expect(Array(record[12..<17]) == data)
        // The mask is a rotation by 15 bits plus 0xa282ead8: undoing it gives the plain CRC-32C.
        let stored = record[17..<21].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let rotated = stored &- 0xA282_EAD8
        #expect((rotated << 15) | (rotated >> 17) == CRC32C.checksum(data))
    }
}
