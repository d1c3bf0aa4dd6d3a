/// Flattens each sample (Keras `Flatten`): `(m, n_H, n_W, n_C) → (m, n_H · n_W · n_C)` in NHWC order.
public struct Flatten: Layer {
    /// The layer's name, unique within a model; Keras's automatic name (`dense`, `dense_1`, ...) when empty.
    public var name: String
    /// A layer named `name` (Keras's automatic name when empty).
    public init(name: String = "") { self.name = name }
    /// Keras's class name, used in summaries and saved configs.
    public var kerasClassName: String { "Flatten" }

    /// The output shape for `inputShapes` (batch axis excluded); throws naming the layer when they do not fit.
    public func outputShape(for inputShapes: [LayerShape]) throws -> LayerShape {
        let input = try singleInput(inputShapes)
        return [try requireKnown(input, layer: "Flatten '\(name)'", what: "flattening").reduce(1, *)]
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

    /// Keras's class name, used in summaries and saved configs.
    public var kerasClassName: String { "ZeroPadding2D" }

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
    /// The function applied, e.g. `.relu`.
    public var activation: ActivationFunction

    /// An activation layer applying `activation` (Keras `layers.Activation(activation)`).
    public init(_ activation: ActivationFunction, name: String = "") {
        self.activation = activation
        self.name = name
    }

    /// Keras's class name, used in summaries and saved configs.
    public var kerasClassName: String { "Activation" }

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
    /// The fraction of units dropped in training, in `[0, 1)`; kept units are scaled by `1/(1 − rate)`.
    public var rate: Float

    /// Dropout of `rate` (Keras `Dropout(rate)`).
    public init(_ rate: Float, name: String = "") {
        self.rate = rate
        self.name = name
    }

    /// Keras's class name, used in summaries and saved configs.
    public var kerasClassName: String { "Dropout" }

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
    /// A layer named `name` (Keras's automatic name when empty).
    public init(name: String = "") { self.name = name }
    /// Keras's class name, used in summaries and saved configs.
    public var kerasClassName: String { "Add" }
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
    /// A layer named `name` (Keras's automatic name when empty).
    public init(name: String = "") { self.name = name }
    /// Keras's class name, used in summaries and saved configs.
    public var kerasClassName: String { "Concatenate" }
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
