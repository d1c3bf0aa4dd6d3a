/// The messages of `onnx.proto` (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto) that an
/// exported ConvNet model uses, with their field numbers, encoded by `ProtobufWriter`. Only the
/// fields ConvNet sets are modelled.
enum ONNXProto {
    /// `TensorProto.DataType`: FLOAT = 1, INT64 = 7.
    enum DataType: Int {
        case float = 1, int64 = 7
    }

    /// `TensorProto`: dims = 1 (repeated int64, unpacked in proto2), data_type = 2, int64_data = 7
    /// (packed), name = 8, raw_data = 9 (fixed-width little-endian elements, row-major).
    struct Tensor {
        var name: String
        var dims: [Int]
        var dataType: DataType
        /// The elements of a FLOAT tensor, row-major.
        var floats: [Float] = []
        /// The elements of an INT64 tensor, row-major.
        var int64s: [Int] = []

        func encode() -> ProtobufWriter {
            var writer = ProtobufWriter()
            for size in dims { writer.int(1, size) }
            writer.int(2, dataType.rawValue)
            writer.string(8, name)
            switch dataType {
            case .float:
                writer.packedFloats(9, floats)  // raw_data: the same bytes as packed floats
            case .int64:
                writer.packedInts(7, int64s)   // int64_data = 7 [packed = true]
            }
            return writer
        }
    }

    /// `AttributeProto`: name = 1, f = 2, i = 3, s = 4, ints = 8, type = 20
    /// (`AttributeType`: FLOAT = 1, INT = 2, STRING = 3, INTS = 7).
    enum Attribute {
        case float(String, Float)
        case int(String, Int)
        case string(String, String)
        case ints(String, [Int])

        func encode() -> ProtobufWriter {
            var writer = ProtobufWriter()
            switch self {
            case let .float(name, value):
                writer.string(1, name); writer.float(2, value); writer.int(20, 1)
            case let .int(name, value):
                writer.string(1, name); writer.int(3, value); writer.int(20, 2)
            case let .string(name, value):
                writer.string(1, name); writer.string(4, value); writer.int(20, 3)
            case let .ints(name, values):
                writer.string(1, name)
                for value in values { writer.int(8, value) }  // repeated int64 ints = 8 (not packed in proto2)
                writer.int(20, 7)
            }
            return writer
        }
    }

    /// `NodeProto`: input = 1, output = 2, name = 3, op_type = 4, attribute = 5.
    struct Node {
        var opType: String
        var inputs: [String]
        var outputs: [String]
        var name: String
        var attributes: [Attribute] = []

        func encode() -> ProtobufWriter {
            var writer = ProtobufWriter()
            for input in inputs { writer.string(1, input) }
            for output in outputs { writer.string(2, output) }
            writer.string(3, name)
            writer.string(4, opType)
            for attribute in attributes { writer.message(5, attribute.encode()) }
            return writer
        }
    }

    /// One axis of a `TensorShapeProto.Dimension`: dim_value = 1 or dim_param = 2 (a symbolic size).
    enum Dimension: Equatable {
        case value(Int)
        case parameter(String)
    }

    /// `ValueInfoProto` (name = 1, type = 2) of a float tensor: `TypeProto.tensor_type = 1` →
    /// `TypeProto.Tensor` (elem_type = 1, shape = 2) → `TensorShapeProto.dim = 1`.
    struct ValueInfo {
        var name: String
        var shape: [Dimension]

        func encode() -> ProtobufWriter {
            var writer = ProtobufWriter()
            writer.string(1, name)
            writer.message(2) { type in
                type.message(1) { tensor in
                    tensor.int(1, DataType.float.rawValue)
                    tensor.message(2) { tensorShape in
                        for dimension in shape {
                            tensorShape.message(1) { dim in
                                switch dimension {
                                case let .value(size): dim.int(1, size)
                                case let .parameter(name): dim.string(2, name)
                                }
                            }
                        }
                    }
                }
            }
            return writer
        }
    }

    /// `GraphProto`: node = 1, name = 2, initializer = 5, doc_string = 10, input = 11, output = 12.
    struct Graph {
        var name: String
        var nodes: [Node] = []
        var initializers: [Tensor] = []
        var inputs: [ValueInfo] = []
        var outputs: [ValueInfo] = []
        var documentation = ""

        func encode() -> ProtobufWriter {
            var writer = ProtobufWriter()
            for node in nodes { writer.message(1, node.encode()) }
            writer.string(2, name)
            for tensor in initializers { writer.message(5, tensor.encode()) }
            if !documentation.isEmpty { writer.string(10, documentation) }
            for input in inputs { writer.message(11, input.encode()) }
            for output in outputs { writer.message(12, output.encode()) }
            return writer
        }
    }

    /// `ModelProto`: ir_version = 1, producer_name = 2, producer_version = 3, graph = 7,
    /// opset_import = 8 (`OperatorSetIdProto`: domain = 1, version = 2; the default domain `""`).
    struct Model {
        var irVersion: Int
        var opset: Int
        var producerName: String
        var producerVersion: String
        var graph: Graph

        func encode() -> [UInt8] {
            var writer = ProtobufWriter()
            writer.int(1, irVersion)
            writer.string(2, producerName)
            writer.string(3, producerVersion)
            writer.message(7, graph.encode())
            writer.message(8) { opsetImport in
                opsetImport.string(1, "")
                opsetImport.int(2, opset)
            }
            return writer.encoded
        }
    }
}
