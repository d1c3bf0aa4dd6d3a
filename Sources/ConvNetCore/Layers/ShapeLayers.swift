/// Flattens each sample (Keras `Flatten`): `(m, n_H, n_W, n_C) → (m, n_H · n_W · n_C)` in NHWC order.
public struct Flatten: Layer {
    public var name: String
    public init(name: String = "") { self.name = name }
    public var kerasClassName: String { "Flatten" }

    public func outputShape(for inputShapes: [LayerShape]) throws -> LayerShape {
        let input = try singleInput(inputShapes)
        return [try requireKnown(input, layer: "Flatten '\(name)'", what: "flattening").reduce(1, *)]
    }

    public mutating func forward(_ inputs: [Tensor], context: inout ForwardContext) throws -> Tensor {
        try flatten(inputs[0])
    }
}

/// Zero padding of the spatial axes (Keras `ZeroPadding2D`), `((top, bottom), (left, right))`.
public struct ZeroPadding2D: Layer {
    public var name: String
    public let top: Int, bottom: Int, left: Int, right: Int

    public init(_ padding: Int = 1, name: String = "") {
        self.init(top: padding, bottom: padding, left: padding, right: padding, name: name)
    }

    public init(top: Int, bottom: Int, left: Int, right: Int, name: String = "") {
        (self.top, self.bottom, self.left, self.right) = (top, bottom, left, right)
        self.name = name
    }

    public var kerasClassName: String { "ZeroPadding2D" }

    public func outputShape(for inputShapes: [LayerShape]) throws -> LayerShape {
        let input = try singleInput(inputShapes)
        try expectRank(input, 3, "(height, width, channels)")
        return [input[0].map { $0 + top + bottom }, input[1].map { $0 + left + right }, input[2]]
    }

    public mutating func forward(_ inputs: [Tensor], context: inout ForwardContext) throws -> Tensor {
        try zeroPad2d(inputs[0], top: top, bottom: bottom, left: left, right: right)
    }
}

/// Applies an activation function (Keras `Activation`).
public struct ActivationLayer: ActivatedLayer {
    public var name: String
    public var activation: Activation

    public init(_ activation: Activation, name: String = "") {
        self.activation = activation
        self.name = name
    }

    public var kerasClassName: String { "Activation" }

    public func outputShape(for inputShapes: [LayerShape]) throws -> LayerShape { try singleInput(inputShapes) }

    public mutating func forward(_ inputs: [Tensor], context: inout ForwardContext) throws -> Tensor {
        activate(inputs[0], activation)
    }
}

/// Inverted dropout (Keras `Dropout`): active only in training mode.
public struct Dropout: Layer {
    public var name: String
    public var rate: Float

    public init(_ rate: Float, name: String = "") {
        self.rate = rate
        self.name = name
    }

    public var kerasClassName: String { "Dropout" }

    public func outputShape(for inputShapes: [LayerShape]) throws -> LayerShape {
        guard rate >= 0, rate < 1 else { throw ConvNetError.argument("Dropout '\(name)': rate must be in [0, 1), got \(rate)") }
        return try singleInput(inputShapes)
    }

    public mutating func forward(_ inputs: [Tensor], context: inout ForwardContext) throws -> Tensor {
        guard context.training else { return inputs[0] }
        return try dropout(inputs[0], rate: rate, generator: &context.generator)
    }
}

/// Element-wise sum of its inputs (Keras `Add`), the join of a residual block.
public struct Add: Layer {
    public var name: String
    public init(name: String = "") { self.name = name }
    public var kerasClassName: String { "Add" }
    public var acceptsMultipleInputs: Bool { true }

    public func outputShape(for inputShapes: [LayerShape]) throws -> LayerShape {
        guard inputShapes.count >= 2, inputShapes.allSatisfy({ $0 == inputShapes[0] }) else {
            throw ConvNetError.shape(op: "Add '\(name)'", message: "needs two or more inputs of one shape, got \(inputShapes.map(describe(layerShape:)).joined(separator: ", "))")
        }
        return inputShapes[0]
    }

    public mutating func forward(_ inputs: [Tensor], context: inout ForwardContext) throws -> Tensor {
        guard inputs.allSatisfy({ $0.shape == inputs[0].shape }) else {
            throw ConvNetError.shape(op: "Add '\(name)'", message: "input shapes differ: \(inputs.map { describe(shape: $0.shape) }.joined(separator: ", "))")
        }
        return try inputs.dropFirst().reduce(inputs[0]) { try $0 + $1 }
    }
}

/// Concatenation along the channel axis (Keras `Concatenate(axis=-1)`), the join of an inception module.
public struct Concatenate: Layer {
    public var name: String
    public init(name: String = "") { self.name = name }
    public var kerasClassName: String { "Concatenate" }
    public var acceptsMultipleInputs: Bool { true }

    public func outputShape(for inputShapes: [LayerShape]) throws -> LayerShape {
        guard inputShapes.count >= 2, inputShapes.allSatisfy({ $0.dropLast() == inputShapes[0].dropLast() }) else {
            throw ConvNetError.shape(op: "Concatenate '\(name)'", message: "inputs must agree outside the last axis, got \(inputShapes.map(describe(layerShape:)).joined(separator: ", "))")
        }
        let channels = inputShapes.map { $0.last ?? nil }
        return Array(inputShapes[0].dropLast()) + [channels.contains(where: { $0 == nil }) ? nil : channels.compactMap { $0 }.reduce(0, +)]
    }

    public mutating func forward(_ inputs: [Tensor], context: inout ForwardContext) throws -> Tensor {
        try concatenate(inputs)
    }
}
