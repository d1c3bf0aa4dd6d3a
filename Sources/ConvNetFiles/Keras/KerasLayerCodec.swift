import ConvNetCore
import Foundation

/// Translates layers to and from Keras's layer configs (`{"class_name": "Conv2D", "config": {...}}`),
/// with Keras's names, defaults and semantics, so that a Keras model rebuilds here with the same
/// function and a ConvNet model rebuilds in Keras.
enum KerasLayerCodec {
    typealias JSON = [String: Any]

    /// The layer classes `decode` understands.
    static let supportedClasses = ["InputLayer", "Conv2D", "Dense", "MaxPooling2D", "AveragePooling2D",
                                   "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Flatten", "Dropout",
                                   "BatchNormalization", "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax",
                                   "ZeroPadding2D", "Add", "Concatenate"]

    // MARK: Decoding

    /// A layer from its Keras class name and config.
    static func decode(className: String, config: JSON) throws -> any Layer {
        let name = config["name"] as? String ?? ""
        let where_ = "Keras layer '\(name)' (\(className))"
        if let format = config["data_format"] as? String, format != "channels_last" {
            throw ConvNetError.argument("\(where_): data_format \(format) is not supported; ConvNet is channels_last (NHWC)")
        }
        switch className {
        case "Conv2D", "Convolution2D":
            if let groups = config["groups"] as? Int, groups != 1 {
                throw ConvNetError.argument("\(where_): grouped convolution (groups=\(groups)) is not supported")
            }
            return Conv2D(try int(config["filters"], where_, "filters"),
                          kernelSize: try pair(config["kernel_size"], where_, "kernel_size"),
                          strides: try pair(config["strides"] ?? [1, 1], where_, "strides"),
                          padding: try padding(config["padding"], where_),
                          dilation: try pair(config["dilation_rate"] ?? [1, 1], where_, "dilation_rate"),
                          activation: try activation(config["activation"], where_),
                          useBias: config["use_bias"] as? Bool ?? true,
                          kernelInitializer: initializer(config["kernel_initializer"]) ?? .glorotUniform,
                          biasInitializer: initializer(config["bias_initializer"]) ?? .zeros,
                          kernelRegularizer: regularizer(config["kernel_regularizer"]), name: name)
        case "Dense":
            return Dense(try int(config["units"], where_, "units"), activation: try activation(config["activation"], where_),
                         useBias: config["use_bias"] as? Bool ?? true,
                         kernelInitializer: initializer(config["kernel_initializer"]) ?? .glorotUniform,
                         biasInitializer: initializer(config["bias_initializer"]) ?? .zeros,
                         kernelRegularizer: regularizer(config["kernel_regularizer"]), name: name)
        case "MaxPooling2D", "MaxPool2D", "AveragePooling2D", "AvgPool2D":
            let size = try pair(config["pool_size"] ?? [2, 2], where_, "pool_size")
            let strides = config["strides"].flatMap { $0 is NSNull ? nil : $0 }.map { try? pair($0, where_, "strides") } ?? nil
            let pad = try padding(config["padding"], where_)
            return className.hasPrefix("Max")
                ? MaxPooling2D(poolSize: size, strides: strides, padding: pad, name: name)
                : AveragePooling2D(poolSize: size, strides: strides, padding: pad, name: name)
        case "GlobalAveragePooling2D", "GlobalMaxPooling2D", "GlobalAvgPool2D", "GlobalMaxPool2D":
            if config["keepdims"] as? Bool == true {
                throw ConvNetError.argument("\(where_): keepdims=True is not supported")
            }
            return className.contains("Max") ? GlobalMaxPooling2D(name: name) as any Layer : GlobalAveragePooling2D(name: name)
        case "Flatten":
            return Flatten(name: name)
        case "Dropout":
            return Dropout(Float(try double(config["rate"], where_, "rate")), name: name)
        case "BatchNormalization":
            let axis = (config["axis"] as? Int) ?? (config["axis"] as? [Int])?.first ?? -1
            guard axis == -1 || axis == 3 else {
                throw ConvNetError.argument("\(where_): only the channel axis (-1) can be normalised, got axis \(axis)")
            }
            return BatchNormalization(momentum: Float(config["momentum"] as? Double ?? 0.99),
                                      epsilon: Float(config["epsilon"] as? Double ?? 1e-3),
                                      center: config["center"] as? Bool ?? true, scale: config["scale"] as? Bool ?? true,
                                      name: name)
        case "Activation":
            return Activation(try activation(config["activation"], where_), name: name)
        case "ReLU":
            let slope = config["negative_slope"] as? Double ?? 0
            guard config["max_value"] == nil || config["max_value"] is NSNull, (config["threshold"] as? Double ?? 0) == 0 else {
                throw ConvNetError.argument("\(where_): max_value and threshold are not supported")
            }
            return Activation(slope == 0 ? .relu : .leakyRelu(alpha: Float(slope)), name: name)
        case "LeakyReLU":
            return Activation(.leakyRelu(alpha: Float(config["negative_slope"] as? Double ?? config["alpha"] as? Double ?? 0.3)), name: name)
        case "ELU":
            return Activation(.elu(alpha: Float(config["alpha"] as? Double ?? 1)), name: name)
        case "Softmax":
            return Activation(.softmax, name: name)
        case "ZeroPadding2D":
            let p = try paddingPairs(config["padding"], where_)
            return ZeroPadding2D(top: p[0], bottom: p[1], left: p[2], right: p[3], name: name)
        case "Add":
            return Add(name: name)
        case "Concatenate":
            let axis = config["axis"] as? Int ?? -1
            guard axis == -1 || axis == 3 else {
                throw ConvNetError.argument("\(where_): only concatenation along the channel axis (-1) is supported, got axis \(axis)")
            }
            return Concatenate(name: name)
        default:
            throw ConvNetError.argument("Keras layer '\(name)' has unsupported type \(className); ConvNet reads \(supportedClasses.joined(separator: ", "))")
        }
    }

    static func activation(_ value: Any?, _ where_: String) throws -> ActivationFunction {
        var name = value as? String
        if let object = value as? JSON {  // {"class_name": "relu", ...} in some Keras 3 configs
            name = (object["config"] as? String) ?? (object["class_name"] as? String)
        }
        switch name ?? "linear" {
        case "linear", "None": return .linear
        case "relu": return .relu
        case "sigmoid": return .sigmoid
        case "tanh": return .tanh
        case "softmax": return .softmax
        case "elu": return .elu(alpha: 1)
        case "leaky_relu": return .leakyRelu(alpha: 0.2)  // keras.activations.leaky_relu's default slope
        default: throw ConvNetError.argument("\(where_): activation '\(name ?? "?")' is not supported (linear, relu, sigmoid, tanh, softmax, elu, leaky_relu)")
        }
    }

    static func padding(_ value: Any?, _ where_: String) throws -> Padding {
        switch (value as? String)?.lowercased() ?? "valid" {
        case "valid": return .valid
        case "same": return .same
        case let other: throw ConvNetError.argument("\(where_): padding '\(other)' is not supported (valid, same)")
        }
    }

    static func int(_ value: Any?, _ where_: String, _ key: String) throws -> Int {
        guard let number = value as? Int else { throw ConvNetError.argument("\(where_): missing or invalid '\(key)'") }
        return number
    }

    static func double(_ value: Any?, _ where_: String, _ key: String) throws -> Double {
        guard let number = value as? Double else { throw ConvNetError.argument("\(where_): missing or invalid '\(key)'") }
        return number
    }

    /// `3` or `[3, 3]` → `[3, 3]`.
    static func pair(_ value: Any?, _ where_: String, _ key: String) throws -> [Int] {
        if let single = value as? Int { return [single, single] }
        guard let values = value as? [Int], values.count == 2 else {
            throw ConvNetError.argument("\(where_): '\(key)' must be a number or two numbers")
        }
        return values
    }

    /// `p`, `[h, w]` or `[[top, bottom], [left, right]]` → `[top, bottom, left, right]`.
    static func paddingPairs(_ value: Any?, _ where_: String) throws -> [Int] {
        if let single = value as? Int { return [single, single, single, single] }
        if let pair = value as? [Int], pair.count == 2 { return [pair[0], pair[0], pair[1], pair[1]] }
        if let pairs = value as? [[Int]], pairs.count == 2, pairs.allSatisfy({ $0.count == 2 }) { return pairs.flatMap { $0 } }
        throw ConvNetError.argument("\(where_): padding must be p, (h, w) or ((top, bottom), (left, right))")
    }

    static func initializer(_ value: Any?) -> Initializer? {
        guard let object = value as? JSON, let className = object["class_name"] as? String else { return nil }
        let config = object["config"] as? JSON ?? [:]
        func number(_ key: String, _ fallback: Double) -> Float { Float(config[key] as? Double ?? fallback) }
        switch className {
        case "Zeros", "zeros": return .zeros
        case "Ones", "ones": return .ones
        case "Constant": return .constant(number("value", 0))
        case "RandomNormal": return .randomNormal(standardDeviation: number("stddev", 0.05))
        case "TruncatedNormal": return .truncatedNormal(standardDeviation: number("stddev", 0.05))
        case "RandomUniform": return .randomUniform(low: number("minval", -0.05), high: number("maxval", 0.05))
        case "GlorotUniform", "glorot_uniform": return .glorotUniform
        case "GlorotNormal", "glorot_normal": return .glorotNormal
        case "HeNormal", "he_normal": return .heNormal
        case "HeUniform", "he_uniform": return .heUniform
        case "LecunNormal", "lecun_normal": return .lecunNormal
        case "LecunUniform", "lecun_uniform": return .lecunUniform
        default: return nil  // weights come from the file; an unknown initializer only matters for retraining
        }
    }

    static func regularizer(_ value: Any?) -> Regularizer? {
        guard let object = value as? JSON, let config = object["config"] as? JSON else { return nil }
        let l1 = Float(config["l1"] as? Double ?? 0), l2 = Float(config["l2"] as? Double ?? 0)
        return l1 == 0 && l2 == 0 ? nil : Regularizer(l1: l1, l2: l2)
    }

    // MARK: Encoding

    /// The Keras config of `layer`, or an error naming what Keras cannot express.
    static func encode(_ layer: any Layer) throws -> (className: String, config: JSON) {
        var config: JSON = ["name": layer.name, "trainable": true, "dtype": "float32"]
        let where_ = "\(layer.kerasClassName) '\(layer.name)'"
        switch layer {
        case let conv as Conv2D:
            config["filters"] = conv.filters
            config["kernel_size"] = conv.kernelSize
            config["strides"] = conv.strides
            config["padding"] = try paddingName(conv.padding, where_)
            config["data_format"] = "channels_last"
            config["dilation_rate"] = conv.dilation
            config["groups"] = 1
            config["activation"] = try activationName(conv.activation, where_)
            config["use_bias"] = conv.useBias
            config["kernel_initializer"] = initializerConfig(conv.kernelInitializer)
            config["bias_initializer"] = initializerConfig(conv.biasInitializer)
            config["kernel_regularizer"] = regularizerConfig(conv.kernelRegularizer)
            for key in ["bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint"] { config[key] = NSNull() }
        case let dense as Dense:
            config["units"] = dense.units
            config["activation"] = try activationName(dense.activation, where_)
            config["use_bias"] = dense.useBias
            config["kernel_initializer"] = initializerConfig(dense.kernelInitializer)
            config["bias_initializer"] = initializerConfig(dense.biasInitializer)
            config["kernel_regularizer"] = regularizerConfig(dense.kernelRegularizer)
            for key in ["bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint"] { config[key] = NSNull() }
        case let pool as MaxPooling2D:
            try config.merge(poolingConfig(pool, where_)) { $1 }
        case let pool as AveragePooling2D:
            try config.merge(poolingConfig(pool, where_)) { $1 }
        case is GlobalAveragePooling2D, is GlobalMaxPooling2D:
            config["data_format"] = "channels_last"
            config["keepdims"] = false
        case is Flatten:
            config["data_format"] = "channels_last"
        case let drop as Dropout:
            config["rate"] = Double(drop.rate)
            config["noise_shape"] = NSNull()
            config["seed"] = NSNull()
        case let norm as BatchNormalization:
            config.merge(["axis": -1, "momentum": Double(norm.momentum), "epsilon": Double(norm.epsilon), "center": norm.center,
                          "scale": norm.scale, "beta_initializer": initializerConfig(.zeros), "gamma_initializer": initializerConfig(.ones),
                          "moving_mean_initializer": initializerConfig(.zeros), "moving_variance_initializer": initializerConfig(.ones),
                          "beta_regularizer": NSNull(), "gamma_regularizer": NSNull(), "beta_constraint": NSNull(),
                          "gamma_constraint": NSNull(), "synchronized": false]) { $1 }
        case let activationLayer as Activation:
            switch activationLayer.activation {
            case let .leakyRelu(alpha) where alpha != 0.2:
                config["negative_slope"] = Double(alpha)
                return ("LeakyReLU", config)
            case let .elu(alpha) where alpha != 1:
                config["alpha"] = Double(alpha)
                return ("ELU", config)
            default:
                config["activation"] = try activationName(activationLayer.activation, where_)
            }
        case let pad as ZeroPadding2D:
            config["padding"] = [[pad.top, pad.bottom], [pad.left, pad.right]]
            config["data_format"] = "channels_last"
        case is Add:
            break
        case is Concatenate:
            config["axis"] = -1
        default:
            throw ConvNetError.argument("\(where_): no Keras equivalent")
        }
        return (layer.kerasClassName, config)
    }

    /// The config keys of Keras's `MaxPooling2D` and `AveragePooling2D`.
    static func poolingConfig<Kind>(_ pool: Pooling2D<Kind>, _ where_: String) throws -> [String: Any] {
        ["pool_size": pool.poolSize, "strides": pool.strides, "padding": try paddingName(pool.padding, where_),
         "data_format": "channels_last"]
    }

    static func paddingName(_ padding: Padding, _ where_: String) throws -> String {
        switch padding {
        case .valid: return "valid"
        case .same: return "same"
        case .explicit: throw ConvNetError.argument("\(where_): Keras has no explicit padding here; use ZeroPadding2D before the layer")
        }
    }

    static func activationName(_ activation: ActivationFunction, _ where_: String) throws -> String {
        switch activation {
        case .linear: return "linear"
        case .relu: return "relu"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case .softmax: return "softmax"
        case .elu(alpha: 1): return "elu"
        case .leakyRelu(alpha: 0.2): return "leaky_relu"
        case .elu, .leakyRelu:
            throw ConvNetError.argument("\(where_): Keras's activation strings fix ELU's α at 1 and leaky ReLU's slope at 0.2; use a separate Activation layer")
        }
    }

    static func initializerConfig(_ initializer: Initializer) -> JSON {
        let (name, config): (String, JSON)
        switch initializer {
        case .zeros: (name, config) = ("Zeros", [:])
        case .ones: (name, config) = ("Ones", [:])
        case let .constant(value): (name, config) = ("Constant", ["value": Double(value)])
        case let .randomNormal(sigma): (name, config) = ("RandomNormal", ["mean": 0.0, "stddev": Double(sigma), "seed": NSNull()])
        case let .truncatedNormal(sigma): (name, config) = ("TruncatedNormal", ["mean": 0.0, "stddev": Double(sigma), "seed": NSNull()])
        case let .randomUniform(low, high): (name, config) = ("RandomUniform", ["minval": Double(low), "maxval": Double(high), "seed": NSNull()])
        case .glorotUniform: (name, config) = ("GlorotUniform", ["seed": NSNull()])
        case .glorotNormal: (name, config) = ("GlorotNormal", ["seed": NSNull()])
        case .heNormal: (name, config) = ("HeNormal", ["seed": NSNull()])
        case .heUniform: (name, config) = ("HeUniform", ["seed": NSNull()])
        case .lecunNormal: (name, config) = ("LecunNormal", ["seed": NSNull()])
        case .lecunUniform: (name, config) = ("LecunUniform", ["seed": NSNull()])
        }
        return ["module": "keras.initializers", "class_name": name, "config": config, "registered_name": NSNull()]
    }

    static func regularizerConfig(_ regularizer: Regularizer?) -> Any {
        guard let regularizer else { return NSNull() }
        return ["module": "keras.regularizers", "class_name": "L1L2",
                "config": ["l1": Double(regularizer.l1), "l2": Double(regularizer.l2)], "registered_name": NSNull()] as JSON
    }
}
