import Foundation

/// A Protocol Buffers wire-format encoder for the few messages ConvNet writes (ONNX models,
/// TensorBoard events), field by field, in the order the caller gives them.
///
/// The wire format (https://protobuf.dev/programming-guides/encoding/): every field is a key
/// `(field_number << 3) | wire_type` as a varint, then its payload. Wire types used here:
/// 0 = varint (int32, int64, uint64, bool, enum), 1 = 64-bit little-endian (double, fixed64),
/// 2 = length-delimited (string, bytes, nested messages, packed repeated scalars),
/// 5 = 32-bit little-endian (float, fixed32). Negative `int32`/`int64` values are varints of their
/// 64-bit two's complement (10 bytes), as the spec requires; `sint` zigzag types are not needed.
/// Proto3 default values are written as given (the caller omits fields it wants absent).
package struct ProtobufWriter: Sendable {
    /// The encoded message so far.
    package private(set) var encoded: [UInt8] = []

    /// An empty message.
    package init() {}

    /// The wire types of the encoding spec.
    package enum WireType: UInt8, Sendable {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
    }

    /// Appends `value` as a base-128 varint: 7 bits per byte, least significant group first, the
    /// high bit set on every byte but the last (`300` → `AC 02`).
    package mutating func appendVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            encoded.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        encoded.append(UInt8(rest))
    }

    /// Appends a field key: `(field << 3) | wireType`.
    package mutating func appendKey(_ field: Int, _ wireType: WireType) {
        appendVarint(UInt64(field) << 3 | UInt64(wireType.rawValue))
    }

    /// An `int64`/`int32`/`enum` field (wire type 0); negatives as 64-bit two's complement.
    package mutating func int(_ field: Int, _ value: Int) {
        appendKey(field, .varint)
        appendVarint(UInt64(bitPattern: Int64(value)))
    }

    /// A `uint64` field (wire type 0).
    package mutating func unsigned(_ field: Int, _ value: UInt64) {
        appendKey(field, .varint)
        appendVarint(value)
    }

    /// A `bool` field (wire type 0, `1` or `0`).
    package mutating func bool(_ field: Int, _ value: Bool) { int(field, value ? 1 : 0) }

    /// A `float` field (wire type 5, IEEE 754 single, little-endian).
    package mutating func float(_ field: Int, _ value: Float) { fixed32(field, value.bitPattern) }

    /// A `double` field (wire type 1, IEEE 754 double, little-endian).
    package mutating func double(_ field: Int, _ value: Double) { fixed64(field, value.bitPattern) }

    /// A `fixed32` field (wire type 5, little-endian).
    package mutating func fixed32(_ field: Int, _ value: UInt32) {
        appendKey(field, .fixed32)
        appendLittleEndian(value)
    }

    /// A `fixed64` field (wire type 1, little-endian).
    package mutating func fixed64(_ field: Int, _ value: UInt64) {
        appendKey(field, .fixed64)
        appendLittleEndian(value)
    }

    /// A `bytes` field (wire type 2: length varint, then the bytes).
    package mutating func bytes(_ field: Int, _ value: some Collection<UInt8>) {
        appendKey(field, .lengthDelimited)
        appendVarint(UInt64(value.count))
        encoded.append(contentsOf: value)
    }

    /// A `string` field: its UTF-8 bytes, length-delimited.
    package mutating func string(_ field: Int, _ value: String) { bytes(field, Array(value.utf8)) }

    /// An embedded message field: the message's encoding, length-delimited.
    package mutating func message(_ field: Int, _ value: ProtobufWriter) { bytes(field, value.encoded) }

    /// An embedded message built by `build`.
    package mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var nested = ProtobufWriter()
        build(&nested)
        message(field, nested)
    }

    /// A packed `repeated float` field: one length-delimited field holding 4 little-endian bytes per value.
    package mutating func packedFloats(_ field: Int, _ values: [Float]) {
        appendKey(field, .lengthDelimited)
        appendVarint(UInt64(values.count * 4))
        #if _endian(little)
        values.withUnsafeBytes { encoded.append(contentsOf: $0) }  // already the wire's byte order
        #else
        for value in values { appendLittleEndian(value.bitPattern) }
        #endif
    }

    /// A packed `repeated double` field: 8 little-endian bytes per value.
    package mutating func packedDoubles(_ field: Int, _ values: [Double]) {
        appendKey(field, .lengthDelimited)
        appendVarint(UInt64(values.count * 8))
        for value in values { appendLittleEndian(value.bitPattern) }
    }

    /// A packed `repeated int64` field: one length-delimited field holding the values' varints.
    package mutating func packedInts(_ field: Int, _ values: [Int]) {
        var payload = ProtobufWriter()
        for value in values { payload.appendVarint(UInt64(bitPattern: Int64(value))) }
        bytes(field, payload.encoded)
    }

    /// Appends the little-endian bytes of a fixed-width integer.
    private mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { encoded.append(contentsOf: $0) }
    }
}
