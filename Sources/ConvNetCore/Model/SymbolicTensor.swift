import Synchronization

/// A placeholder for a layer's output while wiring a functional model, as in Keras:
///
/// ```swift
/// let input = Input(shape: [32, 32, 3])
/// let x = input.apply(Conv2D(16, kernelSize: 3, padding: .same, activation: .relu))
/// let y = Add()([x.apply(Conv2D(16, kernelSize: 3, padding: .same)), x])
/// let model = try Model(name: "residual", input: input, output: y)
/// ```
public final class SymbolicTensor: Sendable {
    let layer: (any Layer)?
    let sources: [SymbolicTensor]
    let inputShape: LayerShape?

    private init(layer: (any Layer)?, sources: [SymbolicTensor], inputShape: LayerShape?) {
        self.layer = layer
        self.sources = sources
        self.inputShape = inputShape
    }

    /// The model's input (Keras `Input(shape=...)`); `nil` sizes are open.
    public static func input(shape: LayerShape) -> SymbolicTensor {
        SymbolicTensor(layer: nil, sources: [], inputShape: shape)
    }

    /// The output of `layer` applied to this tensor.
    public func apply(_ layer: any Layer) -> SymbolicTensor {
        SymbolicTensor(layer: layer, sources: [self], inputShape: nil)
    }

    /// The output of a merge layer (`Add`, `Concatenate`) applied to several tensors.
    public static func merge(_ layer: any Layer, _ inputs: [SymbolicTensor]) -> SymbolicTensor {
        SymbolicTensor(layer: layer, sources: inputs, inputShape: nil)
    }
}

/// The input of a functional model, as Keras's `keras.Input(shape=(28, 28, 1))`: `Input(shape: [28, 28, 1])`.
///
/// `shape` leaves out the batch axis; `nil` sizes are open (`[nil, nil, 3]`). Pass the result to
/// layers (`Conv2D(16, kernelSize: 3)(input)`) and to `Model(input:output:)`.
public func Input(shape: LayerShape) -> SymbolicTensor { .input(shape: shape) }

extension Layer {
    /// Keras-style call on symbolic tensors: `Add()([a, b])`.
    public func callAsFunction(_ inputs: [SymbolicTensor]) -> SymbolicTensor { .merge(self, inputs) }
    /// Keras-style call on one symbolic tensor: `Dense(10)(x)`.
    public func callAsFunction(_ input: SymbolicTensor) -> SymbolicTensor { input.apply(self) }
}

extension Model {
    /// A functional model from its input to its output (Keras `Model(inputs, outputs)`).
    public init(name: String = "functional", input: SymbolicTensor, output: SymbolicTensor, seed: UInt64 = 0) throws {
        guard let shape = input.inputShape else {
            throw ConvNetError.argument("Model '\(name)': the input must come from Input(shape:)")
        }
        // Depth-first post-order from the output gives an execution order in which every layer
        // comes after the layers it reads.
        var order: [SymbolicTensor] = []
        var visited = Set<ObjectIdentifier>()
        func visit(_ node: SymbolicTensor) throws {
            guard visited.insert(ObjectIdentifier(node)).inserted else { return }
            if node.layer == nil, node !== input {
                throw ConvNetError.argument("Model '\(name)': the output depends on an input that is not the model's input")
            }
            for source in node.sources { try visit(source) }
            if node.layer != nil { order.append(node) }
        }
        try visit(output)
        let position = Dictionary(uniqueKeysWithValues: order.enumerated().map { (ObjectIdentifier($1), $0) })
        let inbound = order.map { node in
            node.sources.map { $0 === input ? Model.inputNode : position[ObjectIdentifier($0)] ?? Model.inputNode }
        }
        try self.init(name: name, inputShape: shape, layers: order.compactMap(\.layer), inbound: inbound,
                      isSequential: false, seed: seed)
    }
}
