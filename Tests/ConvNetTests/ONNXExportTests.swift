import ConvNet
import Foundation
import Testing

/// The structure of exported ONNX graphs, taken apart with the test's wire-format reader
/// (`scripts/onnx-check.sh` runs them in onnxruntime and compares the outputs).
@Suite struct ONNXExportTests {
    /// The parts of an exported `ModelProto` the tests look at (field numbers of onnx.proto).
    struct Exported {
        let model: ProtobufFields
        let graph: ProtobufFields
        let nodes: [ProtobufFields]
        let initializers: [ProtobufFields]

        init(_ bytes: [UInt8]) throws {
            model = try ProtobufFields(bytes)
            graph = try #require(try model.messages(7).first)
            nodes = try graph.messages(1)
            initializers = try graph.messages(5)
        }

        var opTypes: [String] { nodes.compactMap { $0.string(4) } }

        func node(_ name: String) throws -> ProtobufFields { try #require(nodes.first { $0.string(3) == name }) }

        /// The `ints` of attribute `name` of `node`.
        func attribute(_ name: String, of node: ProtobufFields) throws -> ProtobufFields {
            try #require(try node.messages(5).first { $0.string(1) == name })
        }

        func initializer(_ name: String) throws -> (dims: [Int], floats: [Float]) {
            let tensor = try #require(initializers.first { $0.string(8) == name })
            let raw = tensor.bytes(9) ?? []
            let floats = stride(from: 0, to: raw.count, by: 4).map { offset in
                Float(bitPattern: raw[offset..<offset + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            }
            return (tensor.ints(1), floats)
        }

        /// The dims of the graph's input (`GraphProto.input = 11`).
        func inputDims() throws -> [Int] { try Self.dims(of: try #require(try graph.messages(11).first)) }
        /// The dims of the graph's output (`GraphProto.output = 12`).
        func outputDims() throws -> [Int] { try Self.dims(of: try #require(try graph.messages(12).first)) }

        /// The dims of a graph input or output: values, or -1 for a symbolic size.
        static func dims(of valueInfo: ProtobufFields) throws -> [Int] {
            let type = try #require(try valueInfo.messages(2).first)
            let tensorType = try #require(try type.messages(1).first)
            #expect(tensorType.int(1) == 1)  // FLOAT
            let shape = try #require(try tensorType.messages(2).first)
            return try shape.messages(1).map { $0.int(1) ?? -1 }
        }
    }

    @Test func lenet5IsOneTransposeInTheConvolutionsAndOneBeforeFlatten() throws {
        let model = try ModelZoo.model(named: "lenet5", seed: 3)
        let exported = try Exported(try model.onnxModel())
        #expect(exported.model.int(1) == 8)  // ir_version
        let opset = try #require(try exported.model.messages(8).first)
        #expect(opset.int(2) == 13 && opset.string(1) == "")
        #expect(exported.opTypes == ["Transpose", "Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Transpose", "Flatten",
                                     "Gemm", "Relu", "Gemm", "Relu", "Gemm", "Softmax", "Identity"])
        #expect(try exported.inputDims() == [-1, 28, 28, 1])
        #expect(try exported.outputDims() == [-1, 10])
        // `same` 5x5 padding made explicit: 2 on every side; the valid one has none.
        #expect(try exported.attribute("pads", of: exported.node("conv2d/conv")).ints(8) == [2, 2, 2, 2])
        #expect(try exported.attribute("pads", of: exported.node("conv2d_1/conv")).ints(8) == [0, 0, 0, 0])
        // The kernel (f_h, f_w, c_in, c_out) became (c_out, c_in, f_h, f_w).
        let kernel = try #require(model.layers[2] as? Conv2D).kernel!
        let (dims, values) = try exported.initializer("conv2d_1/kernel")
        #expect(dims == [16, 6, 5, 5])
        let (y, x, i, o) = (1, 3, 4, 9)
        #expect(values[((o * 6 + i) * 5 + y) * 5 + x] == kernel.scalars[((y * 5 + x) * 6 + i) * 16 + o])
        // Dense kernels keep Keras's (in, out) layout.
        let dense = try #require(model.layers[5] as? Dense).kernel!
        #expect(try exported.initializer("dense/kernel").dims == [400, 120])
        #expect(try exported.initializer("dense/kernel").floats == dense.scalars)
    }

    @Test func channelsFirstTakesNCHWWithoutTheInputTranspose() throws {
        let model = try ModelZoo.model(named: "fmnist-fcn")
        let exported = try Exported(try model.onnxModel(opset: 17, channelsFirst: true))
        let opset = try #require(try exported.model.messages(8).first)
        #expect(opset.int(2) == 17)
        #expect(exported.opTypes.first == "Conv" && exported.opTypes.last == "Identity")
        #expect(!exported.opTypes.contains("Transpose"))
        // Open sizes become symbolic; the stride-2 `same` convolutions of unknown size pad as SAME_UPPER.
        #expect(try exported.inputDims() == [-1, 1, -1, -1])
        #expect(try exported.attribute("auto_pad", of: exported.node("conv2d_1/conv")).string(4) == "SAME_UPPER")
        #expect(try exported.attribute("pads", of: exported.node("conv2d/conv")).ints(8) == [1, 1, 1, 1])
    }

    @Test func nhwcImageOutputIsTransposedBack() throws {
        let exported = try Exported(try ModelZoo.model(named: "fmnist-fcn").onnxModel())
        #expect(exported.opTypes.first == "Transpose" && exported.opTypes.last == "Transpose")
        #expect(try exported.attribute("perm", of: exported.node("output")).ints(8) == [0, 2, 3, 1])
        #expect(try exported.outputDims() == [-1, -1, -1, 10])
    }

    @Test func residualAndInceptionGraphsKeepTheirJoins() throws {
        let resnet = try Exported(try ModelZoo.model(named: "resnet20").onnxModel())
        #expect(resnet.opTypes.filter { $0 == "Add" }.count == 9)
        #expect(resnet.opTypes.contains("BatchNormalization") && resnet.opTypes.contains("GlobalAveragePool"))
        let googlenet = try Exported(try ModelZoo.model(named: "googlenet-cifar").onnxModel())
        #expect(googlenet.opTypes.filter { $0 == "Concat" }.count == 9)
        // Every node reads values defined before it: the graph is topologically sorted.
        var defined = Set(googlenet.initializers.compactMap { $0.string(8) } + ["input"])
        for node in googlenet.nodes {
            #expect(node.strings(1).allSatisfy(defined.contains))
            defined.formUnion(node.strings(2))
        }
    }

    @Test func everyLayerKindHasItsOperator() throws {
        let input = Input(shape: [12, 12, 3])
        let padded = ZeroPadding2D(top: 1, bottom: 2, left: 0, right: 1)(input)
        let a = Conv2D(4, kernelSize: 3, strides: 2, padding: .same, dilation: 1, activation: .elu(alpha: 0.5))(padded)
        let b = Conv2D(4, kernelSize: 3, strides: 2, padding: .same, activation: .leakyRelu(alpha: 0.1), useBias: false)(padded)
        let joined = Concatenate()([Add()([a, b]), AveragePooling2D(poolSize: 3, strides: 1, padding: .same)(a)])
        let normalised = BatchNormalization(center: false)(MaxPooling2D(poolSize: 2)(joined))
        let features = Dropout(0.5)(Flatten()(Activation(.tanh)(normalised)))
        let output = Dense(3, activation: .sigmoid)(Dense(5)(features))
        let model = try Model(input: input, output: output)
        let exported = try Exported(try model.onnxModel())
        #expect(exported.opTypes == ["Transpose", "Pad", "Conv", "Elu", "Conv", "LeakyRelu", "Add", "AveragePool", "Concat", "MaxPool",
                                     "BatchNormalization", "Tanh", "Transpose", "Flatten", "Gemm", "Gemm", "Sigmoid", "Identity"])
        #expect(try exported.node("zero_padding2d").strings(1).count == 2)
        let average = try exported.node("average_pooling2d")
        #expect(try exported.attribute("count_include_pad", of: average).int(3) == 0)
        // A missing beta becomes zeros; a convolution without bias has two inputs.
        #expect(try exported.initializer("batch_normalization/beta").floats == [0, 0, 0, 0, 0, 0, 0, 0])
        #expect(try exported.node("conv2d_1/conv").strings(1).count == 2)
    }

    @Test func refusesOpsetsOutOfRangeAndUnknownLayers() throws {
        let model = try ModelZoo.model(named: "lenet5")
        #expect(throws: ConvNetError.self) { try model.onnxModel(opset: 12) }
        struct Doubling: Layer {
            var name = "doubling"
            var kerasClassName: String { "Doubling" }
            func outputShape(for inputShapes: [LayerShape]) throws -> LayerShape { inputShapes[0] }
            mutating func forward(_ inputs: [Tensor], context: inout ForwardContext) throws -> Tensor { inputs[0] * 2 }
        }
        let custom = try Model(inputShape: [4]) { Doubling() }
        #expect(throws: ConvNetError.argument("ONNX export: Doubling 'doubling' (Doubling) has no ONNX form")) { try custom.onnxModel() }
    }

    @Test func logitsModelDropsOnlyTheFinalSoftmax() throws {
        let model = try ModelZoo.model(named: "lenet5")
        let exported = try Exported(try model.withoutFinalActivation().onnxModel())
        #expect(exported.opTypes.suffix(2) == ["Gemm", "Identity"])
        #expect(exported.opTypes.filter { $0 == "Relu" }.count == 4)
    }
}
