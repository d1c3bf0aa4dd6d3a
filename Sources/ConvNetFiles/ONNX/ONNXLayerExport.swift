import ConvNetCore

/// What a layer's export needs besides the builder: its input values (NCHW or `(N, features)`
/// inside the graph) with their Keras shapes (NHWC, batch axis excluded, open sizes `nil`).
struct ONNXLayerInputs {
    /// The layer's name, used for its nodes, values and weights.
    var layer: String
    /// The names of the input values.
    var values: [String]
    /// The inputs' Keras shapes, `(h, w, c)` or `(features)`.
    var shapes: [LayerShape]
}

/// A layer that can be written as ONNX operators. Every built-in layer conforms here; the exporter
/// refuses any other with a message naming it.
protocol ONNXLayerExport {
    /// Adds the layer's nodes and weights to `graph`; returns the name of its output value.
    func exportONNX(_ inputs: ONNXLayerInputs, into graph: inout ONNXGraphBuilder) throws -> String
}

/// ONNX's `pads` (`[top, left, bottom, right]`) for a window op, or `auto_pad = SAME_UPPER` when
/// `same` padding with a stride above 1 meets an open input size (the padding then depends on the
/// size, and SAME_UPPER puts the odd row/column at the bottom/right, as `Padding.same` does).
private func windowPadding(_ padding: Padding, input: LayerShape, kernel: [Int], strides: [Int], dilation: [Int],
                           op: String) throws -> [ONNXProto.Attribute] {
    var before: [Int] = [], after: [Int] = []
    for axis in 0..<2 {
        // With stride 1 `same` pads k_eff − 1 whatever the length, so any length that fits will do.
        let effective = (kernel[axis] - 1) * dilation[axis] + 1
        guard let length = input[axis] ?? (padding == .same && strides[axis] > 1 ? nil : effective) else {
            return [.string("auto_pad", "SAME_UPPER")]
        }
        let resolved = try WindowGeometry.axis(op: op, length: length, kernel: kernel[axis], stride: strides[axis],
                                               dilation: dilation[axis], padding: padding, vertical: axis == 0)
        before.append(resolved.before)
        after.append(resolved.after)
    }
    return [.ints("pads", before + after)]
}

extension Conv2D: ONNXLayerExport {
    /// `Conv` with the kernel transposed from Keras's `(f_h, f_w, c_in, c_out)` to ONNX's
    /// `(c_out, c_in, f_h, f_w)`, explicit pads, then the activation.
    func exportONNX(_ inputs: ONNXLayerInputs, into graph: inout ONNXGraphBuilder) throws -> String {
        guard let kernel else { throw ConvNetError.argument("Conv2D '\(name)' is exported before it was built") }
        let (kh, kw, cin, cout) = (kernel.shape[0], kernel.shape[1], kernel.shape[2], kernel.shape[3])
        var oihw = [Float](repeating: 0, count: kernel.count)
        for y in 0..<kh {
            for x in 0..<kw {
                for i in 0..<cin {
                    for o in 0..<cout { oihw[((o * cin + i) * kh + y) * kw + x] = kernel.scalars[((y * kw + x) * cin + i) * cout + o] }
                }
            }
        }
        var operands = [inputs.values[0], graph.initializer("\(name)/kernel", dims: [cout, cin, kh, kw], values: oihw)]
        if let bias { operands.append(graph.initializer("\(name)/bias", bias)) }
        let attributes: [ONNXProto.Attribute] = [.ints("kernel_shape", kernelSize), .ints("strides", strides), .ints("dilations", dilation)]
            + (try windowPadding(padding, input: inputs.shapes[0], kernel: kernelSize, strides: strides, dilation: dilation,
                                 op: "Conv2D '\(name)'"))
        let convolved = graph.node("Conv", operands, output: activation == .linear ? name : "\(name)/conv", attributes: attributes)
        return graph.activation(activation, convolved, output: name)
    }
}

extension Pooling2D: ONNXLayerExport {
    /// `MaxPool` or `AveragePool` (padding left out of the mean, `count_include_pad = 0`, as
    /// ConvNet's windows are clipped to the input).
    func exportONNX(_ inputs: ONNXLayerInputs, into graph: inout ONNXGraphBuilder) throws -> String {
        var attributes: [ONNXProto.Attribute] = [.ints("kernel_shape", poolSize), .ints("strides", strides)]
            + (try windowPadding(padding, input: inputs.shapes[0], kernel: poolSize, strides: strides, dilation: [1, 1],
                                 op: "\(kerasClassName) '\(name)'"))
        switch Kind.mode {
        case .max:
            return graph.node("MaxPool", inputs.values, output: name, attributes: attributes)
        case .average:
            attributes.append(.int("count_include_pad", 0))
            return graph.node("AveragePool", inputs.values, output: name, attributes: attributes)
        }
    }
}

extension GlobalPooling2D: ONNXLayerExport {
    /// `GlobalAveragePool`/`GlobalMaxPool` (`(N, C, 1, 1)`), then `Flatten` to `(N, C)`.
    func exportONNX(_ inputs: ONNXLayerInputs, into graph: inout ONNXGraphBuilder) throws -> String {
        let pooled = graph.node(Kind.mode == .max ? "GlobalMaxPool" : "GlobalAveragePool", inputs.values, output: "\(name)/pool")
        return graph.node("Flatten", [pooled], output: name, attributes: [.int("axis", 1)])
    }
}

extension Dense: ONNXLayerExport {
    /// `Gemm`: `Y = X·W + b` with Keras's `(in, out)` kernel as is, then the activation.
    func exportONNX(_ inputs: ONNXLayerInputs, into graph: inout ONNXGraphBuilder) throws -> String {
        guard let kernel else { throw ConvNetError.argument("Dense '\(name)' is exported before it was built") }
        guard inputs.shapes[0].count == 1 else {
            throw ConvNetError.argument("Dense '\(name)': ONNX export needs a flat input (features), got \(describe(layerShape: inputs.shapes[0]))")
        }
        var operands = [inputs.values[0], graph.initializer("\(name)/kernel", kernel)]
        if let bias { operands.append(graph.initializer("\(name)/bias", bias)) }
        let product = graph.node("Gemm", operands, output: activation == .linear ? name : "\(name)/gemm")
        return graph.activation(activation, product, output: name)
    }
}

extension Flatten: ONNXLayerExport {
    /// Back to NHWC (`Transpose` 0, 2, 3, 1) so the features come in Keras's order, then `Flatten`.
    func exportONNX(_ inputs: ONNXLayerInputs, into graph: inout ONNXGraphBuilder) throws -> String {
        guard inputs.shapes[0].count == 3 else { return inputs.values[0] }
        let nhwc = graph.node("Transpose", inputs.values, output: "\(name)/nhwc", attributes: [.ints("perm", [0, 2, 3, 1])])
        return graph.node("Flatten", [nhwc], output: name, attributes: [.int("axis", 1)])
    }
}

extension BatchNormalization: ONNXLayerExport {
    /// `BatchNormalization` in inference form: `γ·(x − moving_mean)/√(moving_variance + ε) + β`
    /// (γ = 1 without `scale`, β = 0 without `center`).
    func exportONNX(_ inputs: ONNXLayerInputs, into graph: inout ONNXGraphBuilder) throws -> String {
        guard let movingMean, let movingVariance else {
            throw ConvNetError.argument("BatchNormalization '\(name)' is exported before it was built")
        }
        let channels = movingMean.count
        let operands = [
            inputs.values[0],
            graph.initializer("\(name)/gamma", dims: [channels], values: gamma?.scalars ?? Array(repeating: 1, count: channels)),
            graph.initializer("\(name)/beta", dims: [channels], values: beta?.scalars ?? Array(repeating: 0, count: channels)),
            graph.initializer("\(name)/moving_mean", movingMean),
            graph.initializer("\(name)/moving_variance", movingVariance),
        ]
        return graph.node("BatchNormalization", operands, output: name, attributes: [.float("epsilon", epsilon)])
    }
}

extension Activation: ONNXLayerExport {
    /// The activation's operator (see `ONNXGraphBuilder.activation`).
    func exportONNX(_ inputs: ONNXLayerInputs, into graph: inout ONNXGraphBuilder) throws -> String {
        graph.activation(activation, inputs.values[0], output: name)
    }
}

extension Dropout: ONNXLayerExport {
    /// Nothing: dropout is the identity at inference.
    func exportONNX(_ inputs: ONNXLayerInputs, into graph: inout ONNXGraphBuilder) throws -> String { inputs.values[0] }
}

extension ZeroPadding2D: ONNXLayerExport {
    /// `Pad` (constant zeros) with pads `[0, 0, top, left, 0, 0, bottom, right]` over NCHW.
    func exportONNX(_ inputs: ONNXLayerInputs, into graph: inout ONNXGraphBuilder) throws -> String {
        let pads = graph.initializer("\(name)/pads", dims: [8], int64s: [0, 0, top, left, 0, 0, bottom, right])
        return graph.node("Pad", [inputs.values[0], pads], output: name, attributes: [.string("mode", "constant")])
    }
}

extension Add: ONNXLayerExport {
    /// A chain of binary `Add` nodes.
    func exportONNX(_ inputs: ONNXLayerInputs, into graph: inout ONNXGraphBuilder) throws -> String {
        var sum = inputs.values[0]
        for (index, term) in inputs.values.dropFirst().enumerated() {
            sum = graph.node("Add", [sum, term], output: index == inputs.values.count - 2 ? name : "\(name)/partial")
        }
        return sum
    }
}

extension Concatenate: ONNXLayerExport {
    /// `Concat` on axis 1: the channels of NCHW, the features of `(N, features)`.
    func exportONNX(_ inputs: ONNXLayerInputs, into graph: inout ONNXGraphBuilder) throws -> String {
        graph.node("Concat", inputs.values, output: name, attributes: [.int("axis", 1)])
    }
}

extension Rescaling: ONNXLayerExport {
    /// `Mul` by the scale, then `Add` of the offset when it is not 0: `y = scale · x + offset`.
    func exportONNX(_ inputs: ONNXLayerInputs, into graph: inout ONNXGraphBuilder) throws -> String {
        let scaled = graph.node("Mul", [inputs.values[0], graph.initializer("\(name)/scale", dims: [], values: [scale])],
                                output: offset == 0 ? name : "\(name)/scaled")
        guard offset != 0 else { return scaled }
        return graph.node("Add", [scaled, graph.initializer("\(name)/offset", dims: [], values: [offset])], output: name)
    }
}
