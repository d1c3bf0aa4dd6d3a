/// A network: layers wired as a directed acyclic graph from one input to one output.
///
/// `Sequential` models are chains; functional models (residual and inception blocks) are built from
/// `SymbolicTensor`s. Layers are stored in execution order; `inbound[i]` lists the layers feeding
/// layer `i`, with `Model.inputNode` (−1) standing for the model's input.
public struct Model: Sendable {
    /// The model's name (Keras `model.name`), the first part of weight names in saved files.
    public var name: String
    /// The input shape without the batch axis; open sizes are `nil`.
    public let inputShape: LayerShape
    /// The layers in execution order, built (their weights exist).
    public var layers: [any Layer]
    /// For each layer, the indices of the layers whose outputs it takes.
    public let inbound: [[Int]]
    /// For each layer, its output shape without the batch axis.
    public let outputShapes: [LayerShape]
    /// Whether the model was built as a chain (Keras `Sequential`) or a graph (`Functional`).
    public let isSequential: Bool
    /// Optimizer, loss and metrics, once `compile` has been called.
    public var training: TrainingConfiguration?
    /// How inputs are scaled and what the classes are called, saved with the model and read back by
    /// `Model.load(from:)`; `nil` for a Keras file without ConvNet's metadata. `fit` on a dataset
    /// with class names records them here when the model has none.
    public var metadata: ModelMetadata?

    /// Stands for the model's input in `inbound`.
    public static let inputNode = -1

    /// Wires and builds a model: names unnamed layers as Keras does (`conv2d`, `conv2d_1`, ...),
    /// checks every layer's input shapes and creates the weights from `seed`.
    public init(name: String, inputShape: LayerShape, layers: [any Layer], inbound: [[Int]], isSequential: Bool,
                seed: UInt64 = 0) throws {
        guard !layers.isEmpty, layers.count == inbound.count else {
            throw ConvNetError.argument("Model '\(name)': needs at least one layer")
        }
        guard inputShape.allSatisfy({ ($0 ?? 1) > 0 }) else {
            throw ConvNetError.argument("Model '\(name)': input sizes must be positive or None, got \(describe(layerShape: inputShape))")
        }
        var generator = RandomGenerator(seed: seed)
        var named = layers
        var used = Set<String>()
        for index in named.indices {
            if named[index].name.isEmpty {
                let base = Self.snakeCase(named[index].kerasClassName)
                var candidate = base, counter = 0
                while used.contains(candidate) { counter += 1; candidate = "\(base)_\(counter)" }
                named[index].name = candidate
            }
            guard used.insert(named[index].name).inserted else {
                throw ConvNetError.argument("Model '\(name)': two layers are named '\(named[index].name)'")
            }
        }
        var shapes: [LayerShape] = []
        for index in named.indices {
            let sources = inbound[index]
            guard sources.allSatisfy({ $0 == Self.inputNode || (0..<index).contains($0) }), !sources.isEmpty else {
                throw ConvNetError.argument("Model '\(name)': layer '\(named[index].name)' is not wired to earlier layers")
            }
            guard sources.count == 1 || named[index].acceptsMultipleInputs else {
                throw ConvNetError.argument("Model '\(name)': layer '\(named[index].name)' takes one input, got \(sources.count)")
            }
            let inputShapes = sources.map { $0 == Self.inputNode ? inputShape : shapes[$0] }
            if named[index].parameterCount == 0 {
                try named[index].build(inputShapes: inputShapes, generator: &generator)
            }
            shapes.append(try named[index].outputShape(for: inputShapes))
        }
        self.name = name
        self.inputShape = inputShape
        self.layers = named
        self.inbound = inbound
        self.outputShapes = shapes
        self.isSequential = isSequential
    }

    /// A chain of layers (Keras `Sequential`).
    public init(name: String = "sequential", inputShape: LayerShape, seed: UInt64 = 0,
                @LayerBuilder layers: () throws -> [any Layer]) throws {
        let list = try layers()
        try self.init(name: name, inputShape: inputShape, layers: list, inbound: list.indices.map { [$0 - 1] },
                      isSequential: true, seed: seed)
    }

    /// The output shape without the batch axis.
    public var outputShape: LayerShape { outputShapes[outputShapes.count - 1] }

    /// All trainable weights, layer by layer in Keras's order: those of the layers whose `trainable`
    /// is true (a frozen layer's weights are left out, as Keras's `model.trainable_weights`). The
    /// setter takes the same list back.
    public var trainableWeights: [Tensor] {
        get { layers.filter(\.trainable).flatMap(\.trainableWeights) }
        set {
            var offset = 0
            for index in layers.indices where layers[index].trainable {
                let count = layers[index].trainableWeights.count
                layers[index].trainableWeights = Array(newValue[offset..<offset + count])
                offset += count
            }
        }
    }

    /// Parameter counts as Keras reports them: (trainable, non-trainable), a frozen layer's weights
    /// counting as non-trainable.
    public var parameterCounts: (trainable: Int, nonTrainable: Int) {
        namedWeights.reduce(into: (trainable: 0, nonTrainable: 0)) { counts, parameter in
            if parameter.isTrainable { counts.trainable += parameter.value.count } else { counts.nonTrainable += parameter.value.count }
        }
    }

    /// Freezes (`false`) or unfreezes (`true`) the layers named in `names`, or every layer when
    /// `names` is `nil` (Keras `layer.trainable = ...`). Throws, naming the layer, for an unknown
    /// name or a custom layer that does not store `trainable`, before changing anything.
    public mutating func setTrainable(_ trainable: Bool, layers names: [String]? = nil) throws {
        var copy = layers
        for name in names ?? [] where !copy.contains(where: { $0.name == name }) {
            throw ConvNetError.argument("Model '\(self.name)': no layer '\(name)' (layers: \(copy.map(\.name).joined(separator: ", ")))")
        }
        for index in copy.indices where names?.contains(copy[index].name) ?? true {
            copy[index].trainable = trainable
            guard copy[index].trainable == trainable else {
                throw ConvNetError.argument("\(copy[index].kerasClassName) '\(copy[index].name)': \(type(of: copy[index])) does not store `trainable`; declare `public var trainable = true` to freeze it")
            }
        }
        layers = copy
    }

    /// The forward pass. `context.training` enables dropout and batch statistics (and updates batch
    /// normalization's moving averages, hence `mutating`).
    ///
    /// - Parameters:
    ///   - input: a batch `(m, ...)` of the model's input shape.
    ///   - context: training or inference mode, and the dropout generator (advanced by dropout layers).
    ///   - outputs: layer indices whose outputs to return besides the model's output (feature maps);
    ///     the returned dictionary maps each to its tensor.
    public mutating func forward(_ input: Tensor, context: inout ForwardContext, outputs: Set<Int> = [])
        throws -> (output: Tensor, intermediate: [Int: Tensor]) {
        try checkInput(input)
        let lastUse = Self.lastUses(inbound: inbound)
        var values = [Tensor?](repeating: nil, count: layers.count)
        var intermediate: [Int: Tensor] = [:]
        let fused = Self.fusedRuns(layers: layers, inbound: inbound, lastUse: lastUse, keeping: outputs, training: context.training)
        let insideRuns = Set(fused.flatMap { first, last in (first + 1)...last })
        let value = { (node: Int) in node == Self.inputNode ? input : values[node] ?? input }
        for index in layers.indices where !insideRuns.contains(index) {
            var produced = index
            if let last = fused[index], var first = layers[index] as? any FusingLayer {
                let otherInputs = ((index + 1)...last).flatMap { later in inbound[later].filter { $0 != later - 1 }.map(value) }
                values[last] = try first.forward(inbound[index].map(value), fusedWith: layers[(index + 1)...last],
                                                 otherInputs: otherInputs, context: &context)  // `LayerFusion`
                layers[index] = first
                produced = last
            } else {
                values[index] = try layers[index].forward(inbound[index].map(value), context: &context)
            }
            if outputs.contains(produced) { intermediate[produced] = values[produced] }
            for consumer in index...produced {
                for source in inbound[consumer] where source != Self.inputNode && lastUse[source] == consumer {
                    values[source] = nil  // free activations as soon as their last consumer has run
                }
            }
        }
        guard let output = values[layers.count - 1] else {
            throw ConvNetError.argument("Model '\(name)': produced no output")
        }
        return (output, intermediate)
    }

    /// Inference on one batch `(m, ...)`: no dropout, moving statistics, no tape.
    public func predict(_ input: Tensor) throws -> Tensor {
        var copy = self
        var context = ForwardContext(training: false)
        return try copy.forward(input.detached, context: &context).output
    }

    /// Inference over many samples in batches of `batchSize`, concatenated.
    public func predict(_ input: Tensor, batchSize: Int) throws -> Tensor {
        guard batchSize > 0 else { throw ConvNetError.argument("predict: batch size must be positive, got \(batchSize)") }
        guard let count = input.shape.first, count > batchSize else { return try predict(input) }
        let sampleSize = input.count / count
        var scalars: [Float] = []
        var outputShape: [Int] = []
        for start in stride(from: 0, to: count, by: batchSize) {
            let end = min(start + batchSize, count)
            let batch = Tensor(validShape: [end - start] + input.shape.dropFirst(),
                               scalars: Array(input.scalars[start * sampleSize..<end * sampleSize]))
            let output = try predict(batch)
            scalars += output.scalars
            outputShape = Array(output.shape.dropFirst())
        }
        return Tensor(validShape: [count] + outputShape, scalars: scalars)
    }

    /// Throws unless `input` is `(m, ...)` with the model's input shape.
    func checkInput(_ input: Tensor) throws {
        let sample = Array(input.shape.dropFirst())
        guard sample.count == inputShape.count,
              zip(sample, inputShape).allSatisfy({ $1 == nil || $0 == $1 }) else {
            throw ConvNetError.shape(op: "Model '\(name)'",
                                     message: "expected input \(describe(layerShape: inputShape)), got \(describe(shape: input.shape))")
        }
    }

    /// For each node, the index of the last layer that reads it.
    static func lastUses(inbound: [[Int]]) -> [Int] {
        var last = [Int](repeating: -1, count: inbound.count)
        for (consumer, sources) in inbound.enumerated() {
            for source in sources where source != inputNode { last[source] = consumer }
        }
        return last
    }

    /// `MaxPooling2D` → `max_pooling2d`, as Keras derives default layer names.
    static func snakeCase(_ className: String) -> String {
        var result = ""
        let characters = Array(className)
        for (index, character) in characters.enumerated() {
            if character.isUppercase, index > 0,
               characters[index - 1].isLowercase || (index + 1 < characters.count && characters[index + 1].isLowercase) {
                result += "_"
            }
            result += character.lowercased()
        }
        return result
    }
}

/// Collects the layers of a `Sequential` model; `if` and `for` work inside it.
@resultBuilder
public enum LayerBuilder {
    /// One layer.
    public static func buildExpression(_ layer: any Layer) -> [any Layer] { [layer] }
    /// Several layers (a block returned by a helper function).
    public static func buildExpression(_ layers: [any Layer]) -> [any Layer] { layers }
    /// The layers of consecutive statements, in order.
    public static func buildBlock(_ parts: [any Layer]...) -> [any Layer] { parts.flatMap { $0 } }
    /// The layers of an `if` without `else`, when its condition holds.
    public static func buildOptional(_ part: [any Layer]?) -> [any Layer] { part ?? [] }
    /// The layers of an `if` branch.
    public static func buildEither(first part: [any Layer]) -> [any Layer] { part }
    /// The layers of an `else` branch.
    public static func buildEither(second part: [any Layer]) -> [any Layer] { part }
    /// The layers of every iteration of a `for` loop.
    public static func buildArray(_ parts: [[any Layer]]) -> [any Layer] { parts.flatMap { $0 } }
}
