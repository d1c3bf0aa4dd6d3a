import Foundation

/// A minimal Protocol Buffers wire-format reader for the tests: it splits a message into its
/// fields, so that ONNX files and TensorBoard events written by ConvNet can be taken apart
/// without a protobuf library (onnxruntime and TensorBoard's reader check them in the scripts).
struct ProtobufFields {
    /// One field: its number and its payload (a varint, the fixed bytes, or the length-delimited bytes).
    enum Payload: Equatable {
        case varint(UInt64)
        case fixed64(UInt64)
        case bytes([UInt8])
        case fixed32(UInt32)
    }

    let fields: [(number: Int, payload: Payload)]

    struct Malformed: Error {}

    init(_ bytes: [UInt8]) throws {
        var position = 0
        func varint() throws -> UInt64 {
            var value: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard position < bytes.count, shift < 64 else { throw Malformed() }
                let byte = bytes[position]
                position += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
        }
        func take(_ count: Int) throws -> [UInt8] {
            guard count >= 0, position + count <= bytes.count else { throw Malformed() }
            defer { position += count }
            return Array(bytes[position..<position + count])
        }
        var fields: [(Int, Payload)] = []
        while position < bytes.count {
            let key = try varint()
            let number = Int(key >> 3)
            switch key & 7 {
            case 0: fields.append((number, .varint(try varint())))
            case 1: fields.append((number, .fixed64(try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) })))
            case 2: fields.append((number, .bytes(try take(Int(try varint())))))
            case 5: fields.append((number, .fixed32(try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) })))
            default: throw Malformed()
            }
        }
        self.fields = fields
    }

    /// Every payload of field `number`, in order.
    func all(_ number: Int) -> [Payload] { fields.filter { $0.number == number }.map(\.payload) }

    /// The nested messages of field `number`.
    func messages(_ number: Int) throws -> [ProtobufFields] {
        try all(number).map { payload in
            guard case let .bytes(bytes) = payload else { throw Malformed() }
            return try ProtobufFields(bytes)
        }
    }

    /// The strings of field `number`.
    func strings(_ number: Int) -> [String] {
        all(number).compactMap { if case let .bytes(bytes) = $0 { String(decoding: bytes, as: UTF8.self) } else { nil } }
    }

    /// The first string of field `number`, if any.
    func string(_ number: Int) -> String? { strings(number).first }

    /// The varints of field `number` as (two's complement) integers.
    func ints(_ number: Int) -> [Int] {
        all(number).compactMap { if case let .varint(value) = $0 { Int(Int64(bitPattern: value)) } else { nil } }
    }

    /// The first integer of field `number`, if any.
    func int(_ number: Int) -> Int? { ints(number).first }

    /// The raw bytes of the first length-delimited field `number`.
    func bytes(_ number: Int) -> [UInt8]? {
        all(number).lazy.compactMap { if case let .bytes(bytes) = $0 { bytes } else { nil } }.first
    }
}
