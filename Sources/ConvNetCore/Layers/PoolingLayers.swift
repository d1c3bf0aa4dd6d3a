/// Which window reduction a `Pooling2D` or `GlobalPooling2D` layer applies, with their Keras class names.
public protocol PoolingKind: Sendable {
    static var mode: PoolingMode { get }
    static var kerasClassName: String { get }
    static var kerasClassAliases: [String] { get }
    /// The global layer's Keras class name (`GlobalMaxPooling2D`) and its short names.
    static var globalKerasClassName: String { get }
    static var globalKerasClassAliases: [String] { get }
}

/// The maximum of each window (`MaxPooling2D`).
public enum MaxPoolingKind: PoolingKind {
    /// Each window gives its maximum.
    public static var mode: PoolingMode { .max }
    /// Keras's class name, used in summaries and saved configs.
    public static var kerasClassName: String { "MaxPooling2D" }
    /// Keras's short name, also read.
    public static var kerasClassAliases: [String] { ["MaxPool2D"] }
    /// Keras's global max pooling class.
    public static var globalKerasClassName: String { "GlobalMaxPooling2D" }
    /// Keras's short name, also read.
    public static var globalKerasClassAliases: [String] { ["GlobalMaxPool2D"] }
}

/// The mean of each window (`AveragePooling2D`).
public enum AveragePoolingKind: PoolingKind {
    /// Each window gives its mean.
    public static var mode: PoolingMode { .average }
    /// Keras's class name, used in summaries and saved configs.
    public static var kerasClassName: String { "AveragePooling2D" }
    /// Keras's short name, also read.
    public static var kerasClassAliases: [String] { ["AvgPool2D"] }
    /// Keras's global average pooling class.
    public static var globalKerasClassName: String { "GlobalAveragePooling2D" }
    /// Keras's short name, also read.
    public static var globalKerasClassAliases: [String] { ["GlobalAvgPool2D"] }
}

/// Max pooling layer (Keras `MaxPooling2D`); `strides` default to the pool size.
public typealias MaxPooling2D = Pooling2D<MaxPoolingKind>
/// Average pooling layer (Keras `AveragePooling2D`); `strides` default to the pool size.
public typealias AveragePooling2D = Pooling2D<AveragePoolingKind>

/// A pooling layer: windows of `poolSize` moved by `strides` over `(m, n_H, n_W, n_C)`, each
/// channel reduced on its own by `Kind` (see `pool2d` for the output size).
public struct Pooling2D<Kind: PoolingKind>: Layer {
    /// The layer's name, unique within a model; Keras's automatic name (`dense`, `dense_1`, ...) when empty.
    public var name: String
    /// Whether training updates the weights (Keras `layer.trainable`); a frozen layer's weights are non-trainable.
    public var trainable = true
    /// The window `[f_h, f_w]`.
    public let poolSize: [Int]
    /// The steps between windows (the pool size unless given, as in Keras).
    public let strides: [Int]
    /// `.valid` (windows inside the input) or `.same` (output size `⌈n/s⌉`), as in Keras.
    public let padding: Padding

    /// Pooling over square windows (Keras `MaxPooling2D(pool_size=2)`); strides default to the pool size.
    public init(poolSize: Int = 2, strides: Int? = nil, padding: Padding = .valid, name: String = "") {
        self.init(poolSize: [poolSize, poolSize], strides: strides.map { [$0, $0] }, padding: padding, name: name)
    }

    /// Pooling over `[f_h, f_w]` windows with `[s_h, s_w]` strides (the pool size when `nil`).
    public init(poolSize: [Int], strides: [Int]? = nil, padding: Padding = .valid, name: String = "") {
        self.poolSize = poolSize
        self.strides = strides ?? poolSize
        self.padding = padding
        self.name = name
    }

    /// The output shape for `inputShapes` (batch axis excluded); throws naming the layer when they do not fit.
    public func outputShape(for inputShapes: [LayerShape]) throws -> LayerShape {
        try pooledShape(self, try singleInput(inputShapes), poolSize: poolSize, strides: strides, padding: padding)
    }

    /// The forward pass on `inputs` (batch axis first).
    public mutating func forward(_ inputs: [Tensor], context: inout ForwardContext) throws -> Tensor {
        try pool2d(inputs[0], mode: Kind.mode, size: (poolSize[0], poolSize[1]), strides: (strides[0], strides[1]),
                   padding: padding, implementation: .fast)
    }
}

/// Global average pooling (Keras `GlobalAveragePooling2D`): `(m, n_H, n_W, n_C) → (m, n_C)`.
public typealias GlobalAveragePooling2D = GlobalPooling2D<AveragePoolingKind>
/// Global max pooling (Keras `GlobalMaxPooling2D`): `(m, n_H, n_W, n_C) → (m, n_C)`.
public typealias GlobalMaxPooling2D = GlobalPooling2D<MaxPoolingKind>

/// A global pooling layer: each channel of each image reduced by `Kind` over all its pixels,
/// `(m, n_H, n_W, n_C) → (m, n_C)`.
public struct GlobalPooling2D<Kind: PoolingKind>: Layer {
    /// The layer's name, unique within a model; Keras's automatic name (`dense`, `dense_1`, ...) when empty.
    public var name: String
    /// Whether training updates the weights (Keras `layer.trainable`); a frozen layer's weights are non-trainable.
    public var trainable = true
    /// A layer named `name` (Keras's automatic name when empty).
    public init(name: String = "") { self.name = name }
    /// The output shape for `inputShapes` (batch axis excluded); throws naming the layer when they do not fit.
    public func outputShape(for inputShapes: [LayerShape]) throws -> LayerShape {
        let input = try singleInput(inputShapes)
        try expectRank(input, 3, "(height, width, channels)")
        return [input[2]]
    }

    /// The forward pass on `inputs` (batch axis first).
    public mutating func forward(_ inputs: [Tensor], context: inout ForwardContext) throws -> Tensor {
        try globalPool2d(inputs[0], mode: Kind.mode, implementation: .fast)
    }
}

/// The output shape of a pooling layer; open spatial sizes stay open.
private func pooledShape(_ layer: some Layer, _ input: LayerShape, poolSize: [Int], strides: [Int],
                         padding: Padding) throws -> LayerShape {
    try layer.expectRank(input, 3, "(height, width, channels)")
    guard poolSize.count == 2, strides.count == 2, poolSize.allSatisfy({ $0 > 0 }), strides.allSatisfy({ $0 > 0 }) else {
        throw ConvNetError.argument("\(layer.kerasClassName) '\(layer.name)': pool size and strides must be two positive numbers")
    }
    let spatial = try (0..<2).map { axis -> Int? in
        guard let length = input[axis] else { return nil }
        return try WindowGeometry.axis(op: "\(layer.kerasClassName) '\(layer.name)'", length: length, kernel: poolSize[axis],
                                       stride: strides[axis], dilation: 1, padding: padding, vertical: axis == 0).output
    }
    return spatial + [input[2]]
}

extension Pooling2D: RegisteredLayer {
    /// Keras's class name, used in summaries and saved configs.
    public static var kerasClassName: String { Kind.kerasClassName }
    /// Keras's short name, also read.
    public static var kerasClassAliases: [String] { Kind.kerasClassAliases }

    /// The layer a Keras pooling config describes; strides default to the pool size.
    public init(kerasConfig config: KerasConfig) throws {
        let strides = config["strides"]?.isNull ?? true ? nil : try config.pair("strides")
        self.init(poolSize: try config.pair("pool_size", default: [2, 2]), strides: strides,
                  padding: try Padding(kerasConfig: config), name: config.name)
    }

    /// Keras's pooling config.
    public func kerasConfig() throws -> KerasConfig {
        var config = KerasConfig(layer: self)
        config["pool_size"] = KerasValue(poolSize)
        config["strides"] = KerasValue(strides)
        config["padding"] = try padding.kerasValue(context: config.context)
        config["data_format"] = "channels_last"
        return config
    }
}

extension GlobalPooling2D: RegisteredLayer {
    /// Keras's class name, used in summaries and saved configs.
    public static var kerasClassName: String { Kind.globalKerasClassName }
    /// Keras's short name, also read.
    public static var kerasClassAliases: [String] { Kind.globalKerasClassAliases }

    /// The layer a Keras global pooling config describes; `keepdims=True` is not supported.
    public init(kerasConfig config: KerasConfig) throws {
        guard try !config.bool("keepdims", default: false) else {
            throw ConvNetError.argument("\(config.context): keepdims=True is not supported")
        }
        self.init(name: config.name)
    }

    /// Keras's global pooling config.
    public func kerasConfig() throws -> KerasConfig {
        var config = KerasConfig(layer: self)
        config["data_format"] = "channels_last"
        config["keepdims"] = false
        return config
    }
}
