/// Model surgery for transfer learning: cutting a network's classifier off (Keras
/// `include_top=False`) and putting a new head on the remaining base.
extension Model {
    /// Keras class names of the layers that end a convolutional base: pooling and flatten layers.
    static let baseEndingClasses: Set<String> = [
        "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Flatten",
    ]

    /// The convolutional base (Keras `include_top=False`): the layers up to and including the last
    /// pooling or flatten layer, with their weights and `trainable` flags. A fully convolutional
    /// model without pooling or flatten (its classifier a last 1x1 convolution, as `fmnist-fcn`)
    /// keeps every layer but that last one. Throws when the model has neither.
    public func base() throws -> Model {
        if let last = layers.lastIndex(where: { Self.baseEndingClasses.contains($0.kerasClassName) }) {
            return try truncated(after: layers[last].name)
        }
        guard layers.count > 1, let classifier = layers.last as? Conv2D, classifier.kernelSize == [1, 1] else {
            throw ConvNetError.argument("Model '\(name)': no pooling or flatten layer ends a base, nor a 1x1 convolution a fully convolutional model (layers: \(layers.map(\.name).joined(separator: ", ")))")
        }
        return try truncated(after: layers[layers.count - 2].name)
    }

    /// A new classifier for `base()`'s output: `Dense(classes, softmax)`, after a `Flatten` when the
    /// base's output still has spatial axes (a fully convolutional base, at its input size).
    public static func newClassifier(for base: Model, classes: Int) -> [any Layer] {
        let dense = Dense(classes, activation: .softmax)
        return base.outputShape.count > 1 ? [Flatten(), dense] : [dense]
    }

    /// The model without its classifier (`base()`), or `nil` when it has no pooling or flatten layer.
    public var withoutClassifier: Model? { try? base() }

    /// The part of the model that computes layer `layerName`'s output: that layer and every layer it
    /// depends on (for a graph, only its ancestors), in order, with their weights and `trainable`
    /// flags. The training configuration is dropped; the preprocessing is kept, the class names
    /// are not. Throws, naming the layer, when the model has none of that name.
    public func truncated(after layerName: String) throws -> Model {
        guard let end = layers.firstIndex(where: { $0.name == layerName }) else {
            throw ConvNetError.argument("Model '\(name)': no layer '\(layerName)' (layers: \(layers.map(\.name).joined(separator: ", ")))")
        }
        var needed = Set([end])
        for index in stride(from: end, through: 0, by: -1) where needed.contains(index) {
            for source in inbound[index] where source != Self.inputNode { needed.insert(source) }
        }
        let kept = (0...end).filter(needed.contains)
        let newIndex = Dictionary(uniqueKeysWithValues: kept.enumerated().map { ($1, $0) })
        let wiring = kept.map { index in inbound[index].map { $0 == Self.inputNode ? Self.inputNode : newIndex[$0] ?? Self.inputNode } }
        var model = try Model(name: name, inputShape: inputShape, layers: kept.map { layers[$0] }, inbound: wiring,
                              isSequential: isSequential)
        model.metadata = metadata.map { ModelMetadata(preprocessing: $0.preprocessing) }
        return model
    }

    /// A model made of `base` followed by the chain `head` (transfer learning's new classifier):
    /// the base's layers keep their weights and `trainable` flags, the head's layers are built from
    /// `seed` (unnamed ones get Keras's automatic names after the base's). The model is uncompiled;
    /// it keeps the base's preprocessing, not its class names.
    ///
    /// - Parameters:
    ///   - base: typically `model.base()`.
    ///   - head: the layers to append, in order (at least one).
    ///   - name: the new model's name; the base's by default.
    ///   - seed: initializes the head's weights.
    public init(base: Model, head: [any Layer], name: String? = nil, seed: UInt64 = 0) throws {
        guard !head.isEmpty else { throw ConvNetError.argument("Model '\(name ?? base.name)': the head needs at least one layer") }
        let offset = base.layers.count
        try self.init(name: name ?? base.name, inputShape: base.inputShape, layers: base.layers + head,
                      inbound: base.inbound + head.indices.map { [offset + $0 - 1] }, isSequential: base.isSequential,
                      seed: seed)
        metadata = base.metadata.map { ModelMetadata(preprocessing: $0.preprocessing) }
    }

    /// `base` followed by the layers of the builder (see `init(base:head:name:seed:)`).
    public init(base: Model, name: String? = nil, seed: UInt64 = 0, @LayerBuilder head: () throws -> [any Layer]) throws {
        try self.init(base: base, head: try head(), name: name, seed: seed)
    }
}
