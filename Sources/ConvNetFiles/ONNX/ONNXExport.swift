import ConvNetCore
import Foundation

extension Model {
    /// The opsets ``exportONNX(to:opset:channelsFirst:)`` writes: 13 (the default, which runtimes
    /// from onnxruntime 1.7 on load) to 21. Every operator used has the same form throughout.
    public static let onnxOpsets = 13...21

    /// Writes the model as an ONNX file (IR version 8; 9 for opsets 19–20 and 10 for 21, the
    /// lowest IR versions that admit them), atomically.
    ///
    /// The graph's input is `input`, `(batch, height, width, channels)` as the model takes it, or
    /// `(batch, channels, height, width)` with `channelsFirst`; its output is `output`, with image
    /// outputs in the same layout. Inside, tensors are NCHW as ONNX's operators expect: one
    /// `Transpose` follows an NHWC input, one precedes each `Flatten` (so the features keep
    /// Keras's NHWC order and `Dense` kernels need no change), and one restores NHWC for an image
    /// output. Convolution kernels are transposed to `(c_out, c_in, f_h, f_w)` at export, `same`
    /// padding becomes explicit `pads`, batch normalization its inference form, and dropout is left
    /// out. Open sizes (`nil`) become symbolic dimensions.
    ///
    /// - Parameters:
    ///   - path: The `.onnx` file to write.
    ///   - opset: The ONNX operator set, in ``onnxOpsets``.
    ///   - channelsFirst: Whether the graph takes and returns NCHW tensors instead of NHWC.
    /// - Throws: `ConvNetError.argument` for an opset out of range or a layer type without an ONNX
    ///   form (naming it), `ConvNetError.file` when the file cannot be written.
    public func exportONNX(to path: String, opset: Int = 13, channelsFirst: Bool = false) throws {
        try writeAtomically(Data(try onnxModel(opset: opset, channelsFirst: channelsFirst)), to: path)
    }

    /// The bytes of the ONNX file ``exportONNX(to:opset:channelsFirst:)`` writes.
    public func onnxModel(opset: Int = 13, channelsFirst: Bool = false) throws -> [UInt8] {
        guard Self.onnxOpsets.contains(opset) else {
            throw ConvNetError.argument("ONNX export: opset \(opset) is not supported (\(Self.onnxOpsets.lowerBound)...\(Self.onnxOpsets.upperBound))")
        }
        var graph = ONNXGraphBuilder(name: name)
        let isImage = inputShape.count == 3
        let inputName = graph.uniqueName("input")
        var values: [String] = []
        let modelInput = isImage && !channelsFirst
            ? graph.node("Transpose", [inputName], output: "input/nchw", attributes: [.ints("perm", [0, 3, 1, 2])])
            : inputName
        for (index, layer) in layers.enumerated() {
            guard let exportable = layer as? any ONNXLayerExport else {
                throw ConvNetError.argument("ONNX export: \(layer.kerasClassName) '\(layer.name)' (\(type(of: layer))) has no ONNX form")
            }
            let sources = inbound[index]
            let inputs = ONNXLayerInputs(layer: layer.name,
                                         values: sources.map { $0 == Model.inputNode ? modelInput : values[$0] },
                                         shapes: sources.map { $0 == Model.inputNode ? inputShape : outputShapes[$0] })
            values.append(try exportable.exportONNX(inputs, into: &graph))
        }
        let last = values[values.count - 1]
        let outputIsImage = outputShape.count == 3
        let outputName = outputIsImage && !channelsFirst
            ? graph.node("Transpose", [last], output: "output", attributes: [.ints("perm", [0, 2, 3, 1])])
            : graph.node("Identity", [last], output: "output")
        var built = graph.graph
        built.inputs = [ONNXProto.ValueInfo(name: inputName, shape: Self.onnxDimensions(inputShape, channelsFirst: channelsFirst))]
        built.outputs = [ONNXProto.ValueInfo(name: outputName, shape: Self.onnxDimensions(outputShape, channelsFirst: channelsFirst))]
        built.documentation = "Exported by ConvNet \(ConvNetVersion.current) from Keras-style model '\(name)'; "
            + (channelsFirst ? "input and output NCHW." : "input and output NHWC, as the model's.")
        let irVersion = opset <= 18 ? 8 : opset <= 20 ? 9 : 10
        return ONNXProto.Model(irVersion: irVersion, opset: opset, producerName: "ConvNet",
                               producerVersion: ConvNetVersion.current, graph: built).encode()
    }

    /// `(batch, …)` with the batch axis and open sizes symbolic; image shapes in NHWC, or NCHW
    /// when `channelsFirst`.
    static func onnxDimensions(_ shape: LayerShape, channelsFirst: Bool) -> [ONNXProto.Dimension] {
        let names = shape.count == 3 ? ["height", "width", "channels"] : shape.indices.map { "dim\($0 + 1)" }
        var dimensions = zip(shape, names).map { size, name in size.map(ONNXProto.Dimension.value) ?? .parameter(name) }
        if shape.count == 3, channelsFirst { dimensions = [dimensions[2], dimensions[0], dimensions[1]] }
        return [.parameter("batch")] + dimensions
    }
}
