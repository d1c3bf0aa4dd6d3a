/// Multiplies its input by a constant and adds another (Keras `Rescaling`): `y = scale · x + offset`,
/// `dy/dx = scale`. Used for inputs (`1/255`) and for fixed output scales (airbench's logits `× 1/9`).
public struct Rescaling: Layer {
    /// The layer's name, unique within a model; Keras's automatic name (`dense`, `dense_1`, ...) when empty.
    public var name: String
    /// Whether training updates the weights (Keras `layer.trainable`); a frozen layer's weights are non-trainable.
    public var trainable = true
    /// The factor `scale`.
    public let scale: Float
    /// The added constant `offset`.
    public let offset: Float

    /// `y = scale · x + offset` (Keras `Rescaling(scale, offset=0.0)`).
    public init(scale: Float, offset: Float = 0, name: String = "") {
        self.scale = scale
        self.offset = offset
        self.name = name
    }

    /// The output shape for `inputShapes` (batch axis excluded): the input's.
    public func outputShape(for inputShapes: [LayerShape]) throws -> LayerShape {
        try singleInput(inputShapes)
    }

    /// The forward pass on `inputs` (batch axis first).
    public mutating func forward(_ inputs: [Tensor], context: inout ForwardContext) throws -> Tensor {
        offset == 0 ? inputs[0] * scale : inputs[0] * scale + offset
    }
}

extension Rescaling: RegisteredLayer {
    /// Keras's class name, used in summaries and saved configs.
    public static var kerasClassName: String { "Rescaling" }

    /// The layer a Keras `Rescaling` config describes (a single scale and offset).
    public init(kerasConfig config: KerasConfig) throws {
        self.init(scale: try config.float("scale"), offset: try config.float("offset", default: 0), name: config.name)
    }

    /// Keras's `Rescaling` config.
    public func kerasConfig() throws -> KerasConfig {
        var config = KerasConfig(layer: self)
        config["scale"] = KerasValue(scale)
        config["offset"] = KerasValue(offset)
        return config
    }
}
