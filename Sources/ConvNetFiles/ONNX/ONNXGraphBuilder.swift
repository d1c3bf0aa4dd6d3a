import ConvNetCore

/// Collects the nodes and initializers of an ONNX graph as layers are exported, giving every value
/// a unique name. Values inside the graph are NCHW (`(N, C, H, W)`) or `(N, features)`.
struct ONNXGraphBuilder {
    /// The graph so far.
    private(set) var graph: ONNXProto.Graph
    private var usedNames: Set<String> = []

    init(name: String) { graph = ONNXProto.Graph(name: name) }

    /// `base`, or `base_1`, `base_2`, ... when a value or node of that name exists already.
    mutating func uniqueName(_ base: String) -> String {
        var candidate = base, counter = 0
        while usedNames.contains(candidate) { counter += 1; candidate = "\(base)_\(counter)" }
        usedNames.insert(candidate)
        return candidate
    }

    /// Adds a node `opType(inputs)` whose one output (also the node's name) is `output`, made unique;
    /// returns the output's name.
    mutating func node(_ opType: String, _ inputs: [String], output: String, attributes: [ONNXProto.Attribute] = []) -> String {
        let name = uniqueName(output)
        graph.nodes.append(ONNXProto.Node(opType: opType, inputs: inputs, outputs: [name], name: name, attributes: attributes))
        return name
    }

    /// Adds a FLOAT initializer `name` with `dims` and row-major `values`; returns its name.
    mutating func initializer(_ name: String, dims: [Int], values: [Float]) -> String {
        let unique = uniqueName(name)
        graph.initializers.append(ONNXProto.Tensor(name: unique, dims: dims, dataType: .float, floats: values))
        return unique
    }

    /// Adds an INT64 initializer (shapes, pads); returns its name.
    mutating func initializer(_ name: String, dims: [Int], int64s: [Int]) -> String {
        let unique = uniqueName(name)
        graph.initializers.append(ONNXProto.Tensor(name: unique, dims: dims, dataType: .int64, int64s: int64s))
        return unique
    }

    /// Adds a weight tensor as an initializer, keeping its shape.
    mutating func initializer(_ name: String, _ tensor: Tensor) -> String {
        initializer(name, dims: tensor.shape, values: tensor.scalars)
    }

    /// Applies `function` to `input` (channels on axis 1, as inside the graph), naming the result
    /// `output`; returns `input` itself for `.linear`.
    ///
    /// Each activation is one case: an ONNX operator where opset 13 has one, else a composition of
    /// primitive operators (GELU: `0.5·x·(1 + Erf(x/√2))` from `Div`, `Erf`, `Add`, `Mul` with
    /// scalar initializers, as `Gelu` only exists from opset 20).
    mutating func activation(_ function: ActivationFunction, _ input: String, output: String) -> String {
        switch function {
        case .linear:
            return input
        case .relu:
            return node("Relu", [input], output: output)
        case let .leakyRelu(alpha):  // x for x > 0, else α·x
            return node("LeakyRelu", [input], output: output, attributes: [.float("alpha", alpha)])
        case let .elu(alpha):  // x for x > 0, else α·(eˣ − 1)
            return node("Elu", [input], output: output, attributes: [.float("alpha", alpha)])
        case .sigmoid:
            return node("Sigmoid", [input], output: output)
        case .tanh:
            return node("Tanh", [input], output: output)
        case .softmax:  // over the channels: the last axis of NHWC is axis 1 of NCHW and of (N, features)
            return node("Softmax", [input], output: output, attributes: [.int("axis", 1)])
        case .gelu:  // exact GELU, x·Φ(x) = 0.5·x·(1 + erf(x/√2))
            let scaled = node("Div", [input, initializer("\(output)_sqrt2", dims: [], values: [Float(2).squareRoot()])], output: "\(output)_scaled")
            let shifted = node("Add", [node("Erf", [scaled], output: "\(output)_erf"), initializer("\(output)_one", dims: [], values: [1])],
                               output: "\(output)_one_plus_erf")
            let half = node("Mul", [input, initializer("\(output)_half", dims: [], values: [0.5])], output: "\(output)_half_x")
            return node("Mul", [half, shifted], output: output)
        }
    }
}
