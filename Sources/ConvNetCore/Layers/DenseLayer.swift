/// Fully connected layer (Keras `Dense`): `activation(x · kernel + bias)`.
///
/// Input `(m, n_in)`, kernel `(n_in, units)`, bias `(units)`, output `(m, units)`.
public struct Dense: KernelLayer {
    /// The layer's name, unique within a model; Keras's automatic name (`dense`, `dense_1`, ...) when empty.
    public var name: String
    /// Whether training updates the weights (Keras `layer.trainable`); a frozen layer's weights are non-trainable.
    public var trainable = true
    /// The number of outputs.
    public let units: Int
    /// Applied to `x·W + b`.
    public var activation: ActivationFunction
    /// Whether the bias `b` is added.
    public let useBias: Bool
    /// How `W` is drawn when the layer is built (Keras's default: Glorot uniform).
    public let kernelInitializer: Initializer
    /// How `b` is set when the layer is built (zeros by default).
    public let biasInitializer: Initializer
    /// An L1/L2 penalty on `W` added to the loss (Keras's `kernel_regularizer`).
    public var kernelRegularizer: Regularizer?
    /// The weights `W`, `(in, units)` as in Keras; `nil` before the layer is built.
    public var kernel: Tensor?
    /// The bias `b`, `(units)`; `nil` without `useBias` or before building.
    public var bias: Tensor?

    /// A fully connected layer `y = g(x·W + b)` (Keras `Dense(units, activation=...)`).
    public init(_ units: Int, activation: ActivationFunction = .linear, useBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
                kernelRegularizer: Regularizer? = nil, name: String = "") {
        self.units = units
        self.activation = activation
        self.useBias = useBias
        self.kernelInitializer = kernelInitializer
        self.biasInitializer = biasInitializer
        self.kernelRegularizer = kernelRegularizer
        self.name = name
    }

    /// The output shape for `inputShapes` (batch axis excluded); throws naming the layer when they do not fit.
    public func outputShape(for inputShapes: [LayerShape]) throws -> LayerShape {
        let input = try singleInput(inputShapes)
        try expectRank(input, 1, "(features) — add a Flatten layer before Dense")
        guard units > 0 else { throw ConvNetError.argument("Dense '\(name)': units must be positive, got \(units)") }
        _ = try requireKnown(input, layer: "Dense '\(name)'", what: "a dense layer")
        return [units]
    }

    /// Creates the weights for `inputShapes` from the initializers, drawing from `generator`.
    public mutating func build(inputShapes: [LayerShape], generator: inout RandomGenerator) throws {
        _ = try outputShape(for: inputShapes)
        let features = try requireKnown(singleInput(inputShapes), layer: "Dense '\(name)'", what: "a dense layer")[0]
        try makeWeights(kernelShape: [features, units], generator: &generator)
    }

    /// The forward pass on `inputs` (batch axis first).
    public mutating func forward(_ inputs: [Tensor], context: inout ForwardContext) throws -> Tensor {
        guard let kernel else { throw ConvNetError.argument("Dense '\(name)' is used before it was built") }
        guard inputs[0].rank == 2, inputs[0].shape[1] == kernel.shape[0] else {
            throw ConvNetError.shape(op: "Dense '\(name)'", message: "expected input (None, \(kernel.shape[0])), got \(describe(shape: inputs[0].shape))")
        }
        return activate(try dense(inputs[0], kernel: kernel, bias: bias), activation)
    }
}

extension Dense: RegisteredLayer {
    /// Keras's class name, used in summaries and saved configs.
    public static var kerasClassName: String { "Dense" }

    /// The layer a Keras `Dense` config describes (Keras's defaults for absent keys).
    public init(kerasConfig config: KerasConfig) throws {
        try config.requireAbsent(Conv2D.unsupportedKeys)
        self.init(try config.int("units"), activation: try ActivationFunction(kerasConfig: config),
                  useBias: try config.bool("use_bias", default: true),
                  kernelInitializer: try config.initializer("kernel_initializer", default: .glorotUniform),
                  biasInitializer: try config.initializer("bias_initializer", default: .zeros),
                  kernelRegularizer: try config.regularizer("kernel_regularizer"), name: config.name)
    }

    /// Keras's `Dense` config.
    public func kerasConfig() throws -> KerasConfig {
        var config = KerasConfig(layer: self)
        config["units"] = .int(units)
        config["activation"] = try activation.kerasValue(context: config.context)
        config["use_bias"] = .bool(useBias)
        config["kernel_initializer"] = kernelInitializer.kerasConfig.serialized(module: "keras.initializers")
        config["bias_initializer"] = biasInitializer.kerasConfig.serialized(module: "keras.initializers")
        config["kernel_regularizer"] = Regularizer.kerasValue(kernelRegularizer)
        config.setNull(Conv2D.unsupportedKeys)
        return config
    }
}
