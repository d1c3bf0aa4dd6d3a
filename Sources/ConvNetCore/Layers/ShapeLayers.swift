/// Flattens each sample (Keras `Flatten`): `(m, n_H, n_W, n_C) → (m, n_H · n_W · n_C)` in NHWC order.
public struct Flatten: Layer {
    /// The layer's name, unique within a model; Keras's automatic name (`dense`, `dense_1`, ...) when empty.
    public var name: String
    /// Whether training updates the weights (Keras `layer.trainable`); a frozen layer's weights are non-trainable.
    public var trainable = true
    /// A layer named `name` (Keras's automatic name when empty).
    public init(name: String = "") { self.name = name }
    /// The output shape for `inputShapes` (batch axis excluded); throws naming the layer when they do not fit.
    public func outputShape(for inputShapes: [LayerShape]) throws -> LayerShape {
        let input = try singleInput(inputShapes)
        let known = try requireKnown(input, layer: "Flatten '\(name)'", what: "flattening")
        // Checked: sizes read from a model file may multiply past Int.max.
        return [try AllocationLimit.elementCount(known, elementSize: MemoryLayout<Float>.size, "Flatten '\(name)': each image's output")]
    }

    /// The forward pass on `inputs` (batch axis first).
    public mutating func forward(_ inputs: [Tensor], context: inout ForwardContext) throws -> Tensor {
        try flatten(inputs[0])
    }
}

/// Zero padding of the spatial axes (Keras `ZeroPadding2D`), `((top, bottom), (left, right))`.
public struct ZeroPadding2D: Layer {
    /// The layer's name, unique within a model; Keras's automatic name (`dense`, `dense_1`, ...) when empty.
    public var name: String
    /// Whether training updates the weights (Keras `layer.trainable`); a frozen layer's weights are non-trainable.
    public var trainable = true
    /// Rows added above and below, columns added left and right.
    public let top: Int, bottom: Int, left: Int, right: Int

    /// `padding` zero rows and columns on every side (Keras `ZeroPadding2D(padding)`).
    public init(_ padding: Int = 1, name: String = "") {
        self.init(top: padding, bottom: padding, left: padding, right: padding, name: name)
    }

    /// Zeros on each side separately (Keras `ZeroPadding2D(((top, bottom), (left, right)))`).
    public init(top: Int, bottom: Int, left: Int, right: Int, name: String = "") {
        (self.top, self.bottom, self.left, self.right) = (top, bottom, left, right)
        self.name = name
    }

    /// The output shape for `inputShapes` (batch axis excluded); throws naming the layer when they do not fit.
    public func outputShape(for inputShapes: [LayerShape]) throws -> LayerShape {
        let input = try singleInput(inputShapes)
        try expectRank(input, 3, "(height, width, channels)")
        return [input[0].map { $0 + top + bottom }, input[1].map { $0 + left + right }, input[2]]
    }

    /// The forward pass on `inputs` (batch axis first).
    public mutating func forward(_ inputs: [Tensor], context: inout ForwardContext) throws -> Tensor {
        try zeroPad2d(inputs[0], top: top, bottom: bottom, left: left, right: right)
    }
}

/// Applies an activation function on its own, element-wise (softmax over the last axis), as Keras's
/// `layers.Activation("relu")`: `Activation(.relu)`. Saved as Keras's `Activation` with
/// `{"activation": "relu"}` (as `LeakyReLU`/`ELU` when their slope differs from Keras's string default).
public struct Activation: ActivatedLayer {
    /// The layer's name; Keras's automatic `activation`, `activation_1`, ... when empty.
    public var name: String
    /// Whether training updates the weights (Keras `layer.trainable`); a frozen layer's weights are non-trainable.
    public var trainable = true
    /// The function applied, e.g. `.relu`.
    public var activation: ActivationFunction

    /// An activation layer applying `activation` (Keras `layers.Activation(activation)`).
    public init(_ activation: ActivationFunction, name: String = "") {
        self.activation = activation
        self.name = name
    }

    /// The output shape for `inputShapes` (batch axis excluded); throws naming the layer when they do not fit.
    public func outputShape(for inputShapes: [LayerShape]) throws -> LayerShape { try singleInput(inputShapes) }

    /// The forward pass on `inputs` (batch axis first).
    public mutating func forward(_ inputs: [Tensor], context: inout ForwardContext) throws -> Tensor {
        activate(inputs[0], activation)
    }
}

/// The activation layer's former name.
@available(*, deprecated, renamed: "Activation")
public typealias ActivationLayer = Activation

/// Inverted dropout (Keras `Dropout`): active only in training mode.
public struct Dropout: Layer {
    /// The layer's name, unique within a model; Keras's automatic name (`dense`, `dense_1`, ...) when empty.
    public var name: String
    /// Whether training updates the weights (Keras `layer.trainable`); a frozen layer's weights are non-trainable.
    public var trainable = true
    /// The fraction of units dropped in training, in `[0, 1)`; kept units are scaled by `1/(1 − rate)`.
    public var rate: Float

    /// Dropout of `rate` (Keras `Dropout(rate)`).
    public init(_ rate: Float, name: String = "") {
        self.rate = rate
        self.name = name
    }

    /// The output shape for `inputShapes` (batch axis excluded); throws naming the layer when they do not fit.
    public func outputShape(for inputShapes: [LayerShape]) throws -> LayerShape {
        guard rate >= 0, rate < 1 else { throw ConvNetError.argument("Dropout '\(name)': rate must be in [0, 1), got \(rate)") }
        return try singleInput(inputShapes)
    }

    /// The forward pass on `inputs` (batch axis first).
    public mutating func forward(_ inputs: [Tensor], context: inout ForwardContext) throws -> Tensor {
        guard context.training else { return inputs[0] }
        return try dropout(inputs[0], rate: rate, generator: &context.generator)
    }
}

/// Element-wise sum of its inputs (Keras `Add`), the join of a residual block.
public struct Add: Layer {
    /// The layer's name, unique within a model; Keras's automatic name (`dense`, `dense_1`, ...) when empty.
    public var name: String
    /// Whether training updates the weights (Keras `layer.trainable`); a frozen layer's weights are non-trainable.
    public var trainable = true
    /// A layer named `name` (Keras's automatic name when empty).
    public init(name: String = "") { self.name = name }
    /// A merge layer: it takes two or more inputs.
    public var acceptsMultipleInputs: Bool { true }

    /// The output shape for `inputShapes` (batch axis excluded); throws naming the layer when they do not fit.
    public func outputShape(for inputShapes: [LayerShape]) throws -> LayerShape {
        guard inputShapes.count >= 2, inputShapes.allSatisfy({ $0 == inputShapes[0] }) else {
            throw ConvNetError.shape(op: "Add '\(name)'", message: "needs two or more inputs of one shape, got \(inputShapes.map(describe(layerShape:)).joined(separator: ", "))")
        }
        return inputShapes[0]
    }

    /// The forward pass on `inputs` (batch axis first).
    public mutating func forward(_ inputs: [Tensor], context: inout ForwardContext) throws -> Tensor {
        guard inputs.allSatisfy({ $0.shape == inputs[0].shape }) else {
            throw ConvNetError.shape(op: "Add '\(name)'", message: "input shapes differ: \(inputs.map { describe(shape: $0.shape) }.joined(separator: ", "))")
        }
        return try inputs.dropFirst().reduce(inputs[0]) { try $0 + $1 }
    }
}

/// Concatenation along the channel axis (Keras `Concatenate(axis=-1)`), the join of an inception module.
public struct Concatenate: Layer {
    /// The layer's name, unique within a model; Keras's automatic name (`dense`, `dense_1`, ...) when empty.
    public var name: String
    /// Whether training updates the weights (Keras `layer.trainable`); a frozen layer's weights are non-trainable.
    public var trainable = true
    /// A layer named `name` (Keras's automatic name when empty).
    public init(name: String = "") { self.name = name }
    /// A merge layer: it takes two or more inputs.
    public var acceptsMultipleInputs: Bool { true }

    /// The output shape for `inputShapes` (batch axis excluded); throws naming the layer when they do not fit.
    public func outputShape(for inputShapes: [LayerShape]) throws -> LayerShape {
        guard inputShapes.count >= 2, inputShapes.allSatisfy({ $0.dropLast() == inputShapes[0].dropLast() }) else {
            throw ConvNetError.shape(op: "Concatenate '\(name)'", message: "inputs must agree outside the last axis, got \(inputShapes.map(describe(layerShape:)).joined(separator: ", "))")
        }
        let channels = inputShapes.map { $0.last ?? nil }
        return Array(inputShapes[0].dropLast()) + [channels.contains(where: { $0 == nil }) ? nil : channels.compactMap { $0 }.reduce(0, +)]
    }

    /// The forward pass on `inputs` (batch axis first).
    public mutating func forward(_ inputs: [Tensor], context: inout ForwardContext) throws -> Tensor {
        try concatenate(inputs)
    }
}

extension Flatten: RegisteredLayer {
    /// Keras's class name, used in summaries and saved configs.
    public static var kerasClassName: String { "Flatten" }
    /// The layer a Keras `Flatten` config describes.
    public init(kerasConfig config: KerasConfig) throws { self.init(name: config.name) }
    /// Keras's `Flatten` config.
    public func kerasConfig() throws -> KerasConfig {
        var config = KerasConfig(layer: self)
        config["data_format"] = "channels_last"
        return config
    }
}

extension ZeroPadding2D: RegisteredLayer {
    /// Keras's class name, used in summaries and saved configs.
    public static var kerasClassName: String { "ZeroPadding2D" }

    /// The layer a Keras `ZeroPadding2D` config describes: `padding` is `p`, `[h, w]` or `[[top, bottom], [left, right]]`.
    public init(kerasConfig config: KerasConfig) throws {
        let value = config["padding"] ?? 1
        let sides: [Int]
        if let p = value.int {
            sides = [p, p, p, p]
        } else if let pair = value.array?.compactMap(\.int), pair.count == 2, value.array?.count == 2 {
            sides = [pair[0], pair[0], pair[1], pair[1]]
        } else if let pairs = value.array?.compactMap({ $0.array?.compactMap(\.int) }), pairs.count == 2, pairs.allSatisfy({ $0.count == 2 }) {
            sides = pairs.flatMap { $0 }
        } else {
            throw config.invalid("padding", "p, (h, w) or ((top, bottom), (left, right))")
        }
        self.init(top: sides[0], bottom: sides[1], left: sides[2], right: sides[3], name: config.name)
    }

    /// Keras's `ZeroPadding2D` config.
    public func kerasConfig() throws -> KerasConfig {
        var config = KerasConfig(layer: self)
        config["padding"] = [KerasValue([top, bottom]), KerasValue([left, right])]
        config["data_format"] = "channels_last"
        return config
    }
}

extension Activation: RegisteredLayer {
    /// The Keras classes read as an `Activation` layer.
    enum KerasClass: String, CaseIterable {
        case activation = "Activation", relu = "ReLU", leakyReLU = "LeakyReLU", elu = "ELU", softmax = "Softmax"
    }

    /// Keras's class name, used in summaries and saved configs.
    public static var kerasClassName: String { KerasClass.activation.rawValue }
    /// Keras's activation layers (`ReLU`, `LeakyReLU`, `ELU`, `Softmax`), all read as `Activation`.
    public static var kerasClassAliases: [String] { KerasClass.allCases.dropFirst().map(\.rawValue) }

    /// The layer a Keras activation config describes.
    public init(kerasConfig config: KerasConfig) throws {
        switch KerasClass(rawValue: config.className) ?? .activation {
        case .activation:
            self.init(try ActivationFunction(kerasConfig: config), name: config.name)
        case .relu:
            guard config["max_value"]?.isNull ?? true, try config.float("threshold", default: 0) == 0 else {
                throw ConvNetError.argument("\(config.context): max_value and threshold are not supported")
            }
            let slope = try config.float("negative_slope", default: 0)
            self.init(slope == 0 ? .relu : .leakyRelu(alpha: slope), name: config.name)
        case .leakyReLU:
            // Keras 3 calls the slope negative_slope, Keras 2 alpha; its default is 0.3.
            let slope = try config.float("negative_slope", default: try config.float("alpha", default: 0.3))
            self.init(.leakyRelu(alpha: slope), name: config.name)
        case .elu:
            self.init(.elu(alpha: try config.float("alpha", default: 1)), name: config.name)
        case .softmax:
            let axis = try config.int("axis", default: -1)
            guard axis == -1 else { throw ConvNetError.argument("\(config.context): softmax over axis \(axis) is not supported (only -1)") }
            self.init(.softmax, name: config.name)
        }
    }

    /// Keras's `Activation` config, or `LeakyReLU`/`ELU` when the slope differs from the one
    /// Keras's activation strings fix.
    public func kerasConfig() throws -> KerasConfig {
        var config = KerasConfig(layer: self)
        switch activation {
        case let .leakyRelu(alpha) where activation.kerasName == nil:
            config.className = KerasClass.leakyReLU.rawValue
            config["negative_slope"] = KerasValue(alpha)
        case let .elu(alpha) where activation.kerasName == nil:
            config.className = KerasClass.elu.rawValue
            config["alpha"] = KerasValue(alpha)
        default:
            config["activation"] = try activation.kerasValue(context: config.context)
        }
        return config
    }
}

extension Dropout: RegisteredLayer {
    /// Keras's class name, used in summaries and saved configs.
    public static var kerasClassName: String { "Dropout" }
    /// The layer a Keras `Dropout` config describes; a `noise_shape` is not supported.
    public init(kerasConfig config: KerasConfig) throws {
        try config.requireAbsent(["noise_shape"])
        self.init(try config.float("rate"), name: config.name)
    }
    /// Keras's `Dropout` config.
    public func kerasConfig() throws -> KerasConfig {
        var config = KerasConfig(layer: self)
        config["rate"] = KerasValue(rate)
        config.setNull(["noise_shape", "seed"])
        return config
    }
}

extension Add: RegisteredLayer {
    /// Keras's class name, used in summaries and saved configs.
    public static var kerasClassName: String { "Add" }
    /// The layer a Keras `Add` config describes.
    public init(kerasConfig config: KerasConfig) throws { self.init(name: config.name) }
    /// Keras's `Add` config.
    public func kerasConfig() throws -> KerasConfig { KerasConfig(layer: self) }
}

extension Concatenate: RegisteredLayer {
    /// Keras's class name, used in summaries and saved configs.
    public static var kerasClassName: String { "Concatenate" }
    /// The layer a Keras `Concatenate` config describes; only the channel axis is supported.
    public init(kerasConfig config: KerasConfig) throws {
        let axis = try config.int("axis", default: -1)
        guard axis == -1 || axis == 3 else {
            throw ConvNetError.argument("\(config.context): only concatenation along the channel axis (-1) is supported, got axis \(axis)")
        }
        self.init(name: config.name)
    }
    /// Keras's `Concatenate` config.
    public func kerasConfig() throws -> KerasConfig {
        var config = KerasConfig(layer: self)
        config["axis"] = -1
        return config
    }
}
