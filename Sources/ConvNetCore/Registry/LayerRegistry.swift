/// A layer that can be saved to and rebuilt from a Keras config, as Keras's `get_config()` /
/// `from_config()`: its encoding and decoding live together on the type, so a field added to the
/// layer is added to both. Register your own with `LayerRegistry.register(MyLayer.self)` (Keras's
/// `register_keras_serializable`) before loading a model that uses it.
public protocol RegisteredLayer: Layer {
    /// The Keras class name written to configs (and used for automatic layer names), e.g. `Conv2D`.
    static var kerasClassName: String { get }
    /// Other class names read as this layer, e.g. `Convolution2D` (none by default).
    static var kerasClassAliases: [String] { get }
    /// The layer a config describes (`from_config`); the config's `className` is one of this type's
    /// names. Throws a one-line error naming the layer and the offending key.
    init(kerasConfig: KerasConfig) throws
    /// The layer's config (`get_config()`) holding every setting needed to rebuild it; weights are
    /// stored separately. `name`, `trainable` and `dtype` are added by the registry when absent.
    func kerasConfig() throws -> KerasConfig
}

extension RegisteredLayer {
    /// No other names by default.
    public static var kerasClassAliases: [String] { [] }
    /// Keras's class name, used in summaries and saved configs.
    public var kerasClassName: String { Self.kerasClassName }
}

/// The layers Keras configs can name: ConvNet's built-in layers under Keras's class names (and
/// aliases such as `Convolution2D`, `MaxPool2D`), plus the ones users register. Thread-safe.
public enum LayerRegistry {
    typealias Decoder = @Sendable (KerasConfig) throws -> any Layer

    /// ConvNet's own layer types.
    static let builtInTypes: [any RegisteredLayer.Type] = [
        Conv2D.self, Dense.self, MaxPooling2D.self, AveragePooling2D.self, GlobalAveragePooling2D.self,
        GlobalMaxPooling2D.self, Flatten.self, Dropout.self, BatchNormalization.self, Activation.self,
        ZeroPadding2D.self, Add.self, Concatenate.self, Rescaling.self,
    ]

    static let registry = Registry<Decoder>(kind: "Keras layer class", builtIns: builtInTypes.flatMap { entries(for: $0) })

    private static func entries<L: RegisteredLayer>(for type: L.Type) -> [(name: String, entry: Decoder)] {
        let decode: Decoder = { try L(kerasConfig: $0) }
        return ([L.kerasClassName] + L.kerasClassAliases).map { ($0, decode) }
    }

    /// Makes `type` loadable from Keras configs under its class name and aliases (replacing an
    /// earlier registration of the same names).
    public static func register<L: RegisteredLayer>(_ type: L.Type) {
        for (name, decode) in entries(for: type) { registry.register([name], decode) }
    }

    /// Every class name a Keras config may use for a layer.
    public static var registeredNames: [String] { registry.names }

    /// The layer `config` describes, frozen when its `trainable` is `false`; an unregistered class
    /// name throws, listing the registered ones.
    public static func layer(from config: KerasConfig) throws -> any Layer {
        if let format = config["data_format"]?.string, format != "channels_last" {
            throw ConvNetError.argument("\(config.context): data_format \(format) is not supported; ConvNet is channels_last (NHWC)")
        }
        guard let decode = registry.entryIfKnown(config.className) else {
            throw ConvNetError.argument("\(config.context): \(registry.unknown(config.className).description)")
        }
        var layer = try decode(config)
        let trainable = try config.bool("trainable", default: true)
        layer.trainable = trainable
        guard layer.trainable == trainable else {
            throw ConvNetError.argument("\(config.context): \(type(of: layer)) does not store `trainable`, so it cannot be loaded frozen")
        }
        return layer
    }

    /// The Keras config of `layer`; throws when its type is not a registered `RegisteredLayer`
    /// (it could be written but not read back).
    public static func kerasConfig(of layer: any Layer) throws -> KerasConfig {
        guard let registered = layer as? any RegisteredLayer else {
            throw ConvNetError.argument("\(layer.kerasClassName) '\(layer.name)': \(type(of: layer)) does not conform to RegisteredLayer, so it cannot be saved as a Keras config")
        }
        guard registry.entryIfKnown(layer.kerasClassName) != nil else {
            throw ConvNetError.argument("\(layer.kerasClassName) '\(layer.name)': layer class \(layer.kerasClassName) is not registered; call LayerRegistry.register(\(type(of: layer)).self)")
        }
        var config = try registered.kerasConfig()
        let base = KerasConfig(layer: layer)
        config.values.merge(base.values) { own, _ in own }
        config["name"] = .string(layer.name)
        config["trainable"] = .bool(layer.trainable)
        return config
    }
}
