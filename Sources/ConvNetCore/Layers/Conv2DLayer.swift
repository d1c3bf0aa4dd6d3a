/// 2-D convolution layer (Keras `Conv2D`): `activation(conv2d(x, kernel) + bias)`.
///
/// Input `(m, n_H_prev, n_W_prev, n_C_prev)`, kernel `(f_h, f_w, n_C_prev, filters)`, bias
/// `(filters)`, output `(m, n_H, n_W, filters)`. Spatial sizes may be open (`nil`): a fully
/// convolutional net accepts any image size.
public struct Conv2D: KernelLayer {
    /// The layer's name, unique within a model; Keras's automatic name (`dense`, `dense_1`, ...) when empty.
    public var name: String
    /// Whether training updates the weights (Keras `layer.trainable`); a frozen layer's weights are non-trainable.
    public var trainable = true
    /// The number of output channels `n_C`.
    public let filters: Int
    /// The window `[f_h, f_w]`.
    public let kernelSize: [Int]
    /// The steps `[s_h, s_w]` between windows.
    public let strides: [Int]
    /// `.valid` (none), `.same` (output size `⌈n/s⌉`) or explicit amounts.
    public var padding: Padding
    /// The spacing `[d_h, d_w]` between kernel taps (Keras's `dilation_rate`).
    public let dilation: [Int]
    /// Applied to `conv(x) + b`.
    public var activation: ActivationFunction
    /// Whether a bias is added per output channel.
    public let useBias: Bool
    /// How the kernel is drawn when the layer is built (Keras's default: Glorot uniform).
    public let kernelInitializer: Initializer
    /// How the bias is set when the layer is built (zeros by default).
    public let biasInitializer: Initializer
    /// An L1/L2 penalty on the kernel added to the loss (Keras's `kernel_regularizer`).
    public var kernelRegularizer: Regularizer?
    /// `(f_h, f_w, n_C_prev, filters)`; nil until built.
    public var kernel: Tensor?
    /// `(filters)`; nil until built or when `useBias` is false.
    public var bias: Tensor?

    /// A convolution with square `kernelSize` and equal strides and dilation (Keras `Conv2D(filters, kernel_size)`).
    public init(_ filters: Int, kernelSize: Int, strides: Int = 1, padding: Padding = .valid, dilation: Int = 1,
                activation: ActivationFunction = .linear, useBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
                kernelRegularizer: Regularizer? = nil, name: String = "") {
        self.init(filters, kernelSize: [kernelSize, kernelSize], strides: [strides, strides], padding: padding,
                  dilation: [dilation, dilation], activation: activation, useBias: useBias,
                  kernelInitializer: kernelInitializer, biasInitializer: biasInitializer,
                  kernelRegularizer: kernelRegularizer, name: name)
    }

    /// A convolution with a `[f_h, f_w]` kernel, `[s_h, s_w]` strides and `[d_h, d_w]` dilation.
    public init(_ filters: Int, kernelSize: [Int], strides: [Int] = [1, 1], padding: Padding = .valid,
                dilation: [Int] = [1, 1], activation: ActivationFunction = .linear, useBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
                kernelRegularizer: Regularizer? = nil, name: String = "") {
        self.filters = filters
        self.kernelSize = kernelSize
        self.strides = strides
        self.padding = padding
        self.dilation = dilation
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
        try expectRank(input, 3, "(height, width, channels)")
        guard filters > 0, kernelSize.count == 2, strides.count == 2, dilation.count == 2 else {
            throw ConvNetError.argument("Conv2D '\(name)': filters must be positive and kernel size, strides, dilation 2-D")
        }
        guard input[2] != nil else {
            throw ConvNetError.shape(op: "Conv2D '\(name)'", message: "the channel count must be known, got \(describe(layerShape: input))")
        }
        let spatial = try (0..<2).map { axis -> Int? in
            guard let length = input[axis] else { return nil }
            return try WindowGeometry.axis(op: "Conv2D '\(name)'", length: length, kernel: kernelSize[axis], stride: strides[axis],
                                           dilation: dilation[axis], padding: padding, vertical: axis == 0).output
        }
        return spatial + [filters]
    }

    /// Creates the weights for `inputShapes` from the initializers, drawing from `generator`.
    public mutating func build(inputShapes: [LayerShape], generator: inout RandomGenerator) throws {
        let input = try singleInput(inputShapes)
        _ = try outputShape(for: inputShapes)
        let channels = input[2] ?? 0
        try makeWeights(kernelShape: [kernelSize[0], kernelSize[1], channels, filters], generator: &generator)
    }

    /// The forward pass on `inputs` (batch axis first).
    public mutating func forward(_ inputs: [Tensor], context: inout ForwardContext) throws -> Tensor {
        guard let kernel else { throw ConvNetError.argument("Conv2D '\(name)' is used before it was built") }
        let z = try conv2d(inputs[0], kernel: kernel, bias: bias, strides: (strides[0], strides[1]), padding: padding,
                           dilation: (dilation[0], dilation[1]), implementation: .fast, fusingReLU: activation == .relu)
        return activation == .relu ? z : activate(z, activation)
    }
}

extension Conv2D: RegisteredLayer {
    /// Keras's class name, used in summaries and saved configs.
    public static var kerasClassName: String { "Conv2D" }
    /// Keras 1's name, still read.
    public static var kerasClassAliases: [String] { ["Convolution2D"] }
    /// The options Keras has and ConvNet does not; they must be unset.
    static let unsupportedKeys = ["bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint"]

    /// The convolution a Keras `Conv2D` config describes (Keras's defaults for absent keys).
    public init(kerasConfig config: KerasConfig) throws {
        let groups = try config.int("groups", default: 1)
        guard groups == 1 else { throw ConvNetError.argument("\(config.context): grouped convolution (groups=\(groups)) is not supported") }
        try config.requireAbsent(Self.unsupportedKeys)
        self.init(try config.int("filters"), kernelSize: try config.pair("kernel_size"), strides: try config.pair("strides", default: [1, 1]),
                  padding: try Padding(kerasConfig: config), dilation: try config.pair("dilation_rate", default: [1, 1]),
                  activation: try ActivationFunction(kerasConfig: config), useBias: try config.bool("use_bias", default: true),
                  kernelInitializer: try config.initializer("kernel_initializer", default: .glorotUniform),
                  biasInitializer: try config.initializer("bias_initializer", default: .zeros),
                  kernelRegularizer: try config.regularizer("kernel_regularizer"), name: config.name)
    }

    /// Keras's `Conv2D` config; explicit padding throws (Keras expresses it with `ZeroPadding2D`).
    public func kerasConfig() throws -> KerasConfig {
        var config = KerasConfig(layer: self)
        config["filters"] = .int(filters)
        config["kernel_size"] = KerasValue(kernelSize)
        config["strides"] = KerasValue(strides)
        config["padding"] = try padding.kerasValue(context: config.context)
        config["data_format"] = "channels_last"
        config["dilation_rate"] = KerasValue(dilation)
        config["groups"] = 1
        config["activation"] = try activation.kerasValue(context: config.context)
        config["use_bias"] = .bool(useBias)
        config["kernel_initializer"] = kernelInitializer.kerasConfig.serialized(module: "keras.initializers")
        config["bias_initializer"] = biasInitializer.kerasConfig.serialized(module: "keras.initializers")
        config["kernel_regularizer"] = Regularizer.kerasValue(kernelRegularizer)
        config.setNull(Self.unsupportedKeys)
        return config
    }
}
