/// Keras's spellings of the small values inside layer configs (activation names, padding,
/// regularizers): each written and read in one place.

extension ActivationFunction {
    /// The functions with a Keras activation string; `kerasName` gives each one's string.
    static let kerasNamed: [ActivationFunction] = [.linear, .relu, .sigmoid, .tanh, .softmax, .gelu, .elu(alpha: 1),
                                                           .leakyRelu(alpha: 0.2)]

    /// Keras's activation string (`relu`, ...), or nil when Keras's strings cannot express this
    /// function (ELU's α other than 1, a leaky ReLU slope other than 0.2).
    public var kerasName: String? {
        switch self {
        case .linear: "linear"
        case .relu: "relu"
        case .sigmoid: "sigmoid"
        case .tanh: "tanh"
        case .softmax: "softmax"
        case .gelu: "gelu"  // Keras's `gelu` string is the exact form (approximate=False)
        case .elu(alpha: 1): "elu"
        case .leakyRelu(alpha: 0.2): "leaky_relu"  // keras.activations.leaky_relu's default slope
        case .elu, .leakyRelu: nil
        }
    }

    /// The function a config's `activation` names (a string, or `{"class_name": ...}` in some Keras 3
    /// configs); linear when absent or `None`.
    init(kerasConfig config: KerasConfig, key: String = "activation") throws {
        var name = config[key]?.string
        if let object = config[key]?.object {
            name = object["config"]?.string ?? object["class_name"]?.string
        }
        guard let name, name != "None" else {
            self = .linear
            return
        }
        guard let function = Self.kerasNamed.first(where: { $0.kerasName == name }) else {
            throw ConvNetError.argument("\(config.context): unknown activation '\(name)'; known: \(Self.kerasNamed.compactMap(\.kerasName).joined(separator: ", "))")
        }
        self = function
    }

    /// Keras's string for this function, or an error naming `context`.
    func kerasValue(context: String) throws -> KerasValue {
        guard let name = kerasName else {
            throw ConvNetError.argument("\(context): Keras's activation strings fix ELU's α at 1 and leaky ReLU's slope at 0.2; use a separate Activation layer")
        }
        return .string(name)
    }
}

extension Padding {
    /// The paddings Keras names in a `padding` key.
    static let kerasNamed: [Padding] = [.valid, .same]

    /// `valid` or `same`; nil for explicit padding, which Keras expresses with `ZeroPadding2D`.
    public var kerasName: String? {
        switch self {
        case .valid: "valid"
        case .same: "same"
        case .explicit: nil
        }
    }

    /// The padding a config's `padding` names (valid when absent).
    init(kerasConfig config: KerasConfig) throws {
        let name = try config.string("padding", default: Padding.valid.kerasName).lowercased()
        guard let padding = Self.kerasNamed.first(where: { $0.kerasName == name }) else {
            throw config.invalid("padding", Self.kerasNamed.compactMap(\.kerasName).joined(separator: " or "))
        }
        self = padding
    }

    /// Keras's name for this padding, or an error naming `context`.
    func kerasValue(context: String) throws -> KerasValue {
        guard let name = kerasName else {
            throw ConvNetError.argument("\(context): Keras has no explicit padding here; use ZeroPadding2D before the layer")
        }
        return .string(name)
    }
}

extension Regularizer {
    /// Keras's class names for L1/L2 penalties, all with the config keys `l1` and `l2`.
    static let kerasClassNames = ["L1L2", "L1", "L2"]

    /// The regularizer of Keras's serialised `L1L2`, `L1` or `L2`; nil for zero factors.
    static func from(kerasConfig config: KerasConfig?) throws -> Regularizer? {
        guard let config else { return nil }
        guard kerasClassNames.contains(config.className) else {
            throw ConvNetError.argument("unknown regularizer '\(config.className)'; known: \(kerasClassNames.joined(separator: ", "))")
        }
        let regularizer = Regularizer(l1: try config.float("l1", default: 0), l2: try config.float("l2", default: 0))
        return regularizer.l1 == 0 && regularizer.l2 == 0 ? nil : regularizer
    }

    /// Keras's serialised `L1L2` for `regularizer`, or null.
    static func kerasValue(_ regularizer: Regularizer?) -> KerasValue {
        guard let regularizer else { return .null }
        return KerasConfig(className: kerasClassNames[0], values: ["l1": KerasValue(regularizer.l1), "l2": KerasValue(regularizer.l2)])
            .serialized(module: "keras.regularizers")
    }
}

extension KerasConfig {
    /// The config of a layer, with the keys every Keras layer has.
    init(layer: some Layer) {
        self.init(className: layer.kerasClassName, values: ["name": .string(layer.name), "trainable": .bool(layer.trainable), "dtype": "float32"])
    }

    /// The initializer under `key`, `fallback` when absent.
    func initializer(_ key: String, default fallback: Initializer) throws -> Initializer {
        try nested(key).map(Initializer.init(kerasConfig:)) ?? fallback
    }

    /// The regularizer under `key`, if any.
    func regularizer(_ key: String) throws -> Regularizer? {
        try Regularizer.from(kerasConfig: nested(key))
    }

    /// Throws unless each of `keys` is absent or null (features ConvNet does not have).
    func requireAbsent(_ keys: [String]) throws {
        for key in keys where !(self[key]?.isNull ?? true) {
            throw ConvNetError.argument("\(context): '\(key)' is not supported")
        }
    }

    /// Writes null for each of `keys`, as Keras does for unset options.
    mutating func setNull(_ keys: [String]) {
        for key in keys { self[key] = .null }
    }
}
