import Foundation

/// How a weight tensor gets its first values (Keras's names and formulas).
///
/// `fanIn` and `fanOut` are, for a dense kernel `(in, out)`, `in` and `out`; for a conv kernel
/// `(k_h, k_w, c_in, c_out)`, `k_h·k_w·c_in` and `k_h·k_w·c_out`.
public enum Initializer: Sendable, Equatable, Hashable {
    case zeros
    case ones
    case constant(Float)
    /// `N(0, σ²)` (the lecture notes' "random" initialisation, `W = σ · randn`).
    case randomNormal(standardDeviation: Float)
    /// `N(0, σ²)` with samples beyond 2σ redrawn.
    case truncatedNormal(standardDeviation: Float)
    case randomUniform(low: Float, high: Float)
    /// Xavier/Glorot uniform: `U(−l, l)`, `l = √(6 / (fan_in + fan_out))`. Keras's default kernel initializer.
    case glorotUniform
    /// Xavier/Glorot normal: truncated normal with `σ = √(2 / (fan_in + fan_out))`.
    case glorotNormal
    /// He normal: truncated normal with `σ = √(2 / fan_in)`.
    case heNormal
    /// He uniform: `U(−l, l)`, `l = √(6 / fan_in)`.
    case heUniform
    /// LeCun normal: truncated normal with `σ = √(1 / fan_in)`.
    case lecunNormal
    /// LeCun uniform: `U(−l, l)`, `l = √(3 / fan_in)`.
    case lecunUniform
    /// Identity ("Dirac", PyTorch `nn.init.dirac_` on the first filters): for a kernel
    /// `(k_h, k_w, c_in, c_out)` filter `o < min(c_in, c_out)` is 1 at the centre tap
    /// `(⌊k_h/2⌋, ⌊k_w/2⌋)` of input channel `o` and 0 elsewhere, so a "same" convolution passes
    /// those channels through unchanged; the other filters are drawn from `U(−l, l)`,
    /// `l = 1/√fan_in` (PyTorch's default for convolutions). A dense kernel `(in, out)` gets the
    /// identity in its first `min(in, out)` columns. Keras has no such initializer: its config is
    /// written as Keras's `VarianceScaling(scale: 1/3, mode: "fan_in", distribution: "uniform")`
    /// (that same `U(−1/√fan_in, 1/√fan_in)`) registered as `ConvNet>Dirac`, so Keras loads the
    /// model with that stand-in (or a custom object registered under the name) and ConvNet reads
    /// `dirac` back.
    case dirac

    /// Keras's variance-scaling truncated normal divides σ by the standard deviation of a standard
    /// normal truncated to [−2, 2], so the samples keep the intended variance.
    static let truncationCorrection: Float = 0.879_625_661_034_239_78

    /// A tensor of `shape` drawn from this distribution; fan-in and fan-out come from the shape as in Keras.
    public func make(shape: [Int], generator: inout RandomGenerator) -> Tensor {
        let (fanIn, fanOut) = Self.fans(shape)
        switch self {
        case .zeros: return Tensor(shape: shape, repeating: 0)
        case .ones: return Tensor(shape: shape, repeating: 1)
        case let .constant(value): return Tensor(shape: shape, repeating: value)
        case let .randomNormal(sigma): return .randomNormal(shape: shape, standardDeviation: sigma, generator: &generator)
        case let .truncatedNormal(sigma): return Self.truncated(shape: shape, sigma: sigma, generator: &generator)
        case let .randomUniform(low, high): return .randomUniform(shape: shape, low: low, high: high, generator: &generator)
        case .glorotUniform: return Self.uniform(shape, limit: sqrt(6 / Float(fanIn + fanOut)), &generator)
        case .glorotNormal: return Self.truncated(shape: shape, sigma: sqrt(2 / Float(fanIn + fanOut)) / Self.truncationCorrection, generator: &generator)
        case .heNormal: return Self.truncated(shape: shape, sigma: sqrt(2 / Float(fanIn)) / Self.truncationCorrection, generator: &generator)
        case .heUniform: return Self.uniform(shape, limit: sqrt(6 / Float(fanIn)), &generator)
        case .lecunNormal: return Self.truncated(shape: shape, sigma: sqrt(1 / Float(fanIn)) / Self.truncationCorrection, generator: &generator)
        case .lecunUniform: return Self.uniform(shape, limit: sqrt(3 / Float(fanIn)), &generator)
        case .dirac: return Self.dirac(shape, &generator)
        }
    }

    /// `(fan_in, fan_out)` of a kernel shape, as Keras computes them.
    public static func fans(_ shape: [Int]) -> (Int, Int) {
        switch shape.count {
        case 0: return (1, 1)
        case 1: return (shape[0], shape[0])
        case 2: return (shape[0], shape[1])
        default:
            let receptiveField = shape.dropLast(2).reduce(1, *)
            return (max(1, receptiveField * shape[shape.count - 2]), max(1, receptiveField * shape[shape.count - 1]))
        }
    }

    private static func uniform(_ shape: [Int], limit: Float, _ generator: inout RandomGenerator) -> Tensor {
        .randomUniform(shape: shape, low: -limit, high: limit, generator: &generator)
    }

    /// See `dirac`: PyTorch's default uniform draw, then identity filters over the first channels.
    private static func dirac(_ shape: [Int], _ generator: inout RandomGenerator) -> Tensor {
        var kernel = uniform(shape, limit: 1 / Float(fans(shape).0).squareRoot(), &generator)
        guard shape.count >= 2 else { return kernel }
        let (inputs, outputs) = (shape[shape.count - 2], shape[shape.count - 1])
        let spatial = Array(shape.dropLast(2))
        // Row-major offset of the centre tap's (c_in × c_out) block.
        let centre = zip(spatial, spatial.indices).reduce(0) { offset, axis in
            offset * axis.0 + axis.0 / 2
        }
        var scalars = kernel.scalars
        for output in 0..<min(inputs, outputs) {
            for tap in 0..<spatial.reduce(1, *) {
                for input in 0..<inputs { scalars[(tap * inputs + input) * outputs + output] = 0 }
            }
            scalars[(centre * inputs + output) * outputs + output] = 1
        }
        kernel = Tensor(validShape: shape, scalars: scalars)
        return kernel
    }

    private static func truncated(shape: [Int], sigma: Float, generator: inout RandomGenerator) -> Tensor {
        let values = (0..<shape.reduce(1, *)).map { _ -> Float in
            var z = generator.nextNormal()
            while abs(z) > 2 { z = generator.nextNormal() }
            return sigma * z
        }
        return Tensor(validShape: shape, scalars: values)
    }
}

/// A weight penalty added to the loss, as Keras's `regularizers.L1L2`:
/// `l1 · Σ|W| + l2 · Σ W²` (Keras adds it to the reported loss too).
public struct Regularizer: Sendable, Equatable, Hashable {
    /// The L1 factor: the penalty adds `l1·Σ|w|`.
    public var l1: Float
    /// The L2 factor: the penalty adds `l2·Σw²`.
    public var l2: Float

    /// A penalty `l1·Σ|w| + l2·Σw²` (Keras `regularizers.L1L2`).
    public init(l1: Float = 0, l2: Float = 0) {
        self.l1 = l1
        self.l2 = l2
    }

    /// Keras's `regularizers.l2(value)`: `value·Σw²`.
    public static func l2(_ value: Float) -> Regularizer { Regularizer(l2: value) }
    /// Keras's `regularizers.l1(value)`: `value·Σ|w|`.
    public static func l1(_ value: Float) -> Regularizer { Regularizer(l1: value) }

    /// The penalty of one weight tensor, differentiable.
    public func penalty(_ weight: Tensor) throws -> Tensor {
        var total = Tensor(0)
        if l1 != 0 { total = try total + weight.abs().sum() * l1 }
        if l2 != 0 { total = try total + weight.squared().sum() * l2 }
        return total
    }
}

// MARK: Keras config

extension Initializer {
    /// One initializer of each kind, with Keras's defaults; the registry's built-in entries.
    static let builtIns: [Initializer] = [.zeros, .ones, .constant(0), .randomNormal(standardDeviation: 0.05),
                                          .truncatedNormal(standardDeviation: 0.05), .randomUniform(low: -0.05, high: 0.05),
                                          .glorotUniform, .glorotNormal, .heNormal, .heUniform, .lecunNormal, .lecunUniform, .dirac]

    /// The names a config may give this initializer by: Keras's class name and its snake-case alias;
    /// for `dirac`, `Dirac`/`dirac` (files written before it had a Keras stand-in, `--kernel-initializer`)
    /// and its registered name `ConvNet>Dirac`.
    var registryNames: [String] {
        let config = kerasConfig
        let name = config.registeredName.map { _ in "Dirac" } ?? config.className
        return [name, Model.snakeCase(name)] + (config.registeredName.map { [$0] } ?? [])
    }

    /// Keras's class name and config (`get_config()`), e.g. `RandomNormal` with `{"mean": 0, "stddev": σ, "seed": null}`.
    public var kerasConfig: KerasConfig {
        switch self {
        case .zeros: KerasConfig(className: "Zeros")
        case .ones: KerasConfig(className: "Ones")
        case let .constant(value): KerasConfig(className: "Constant", values: ["value": KerasValue(value)])
        case let .randomNormal(sigma): KerasConfig(className: "RandomNormal", values: ["mean": 0.0, "stddev": KerasValue(sigma), "seed": nil])
        case let .truncatedNormal(sigma): KerasConfig(className: "TruncatedNormal", values: ["mean": 0.0, "stddev": KerasValue(sigma), "seed": nil])
        case let .randomUniform(low, high):
            KerasConfig(className: "RandomUniform", values: ["minval": KerasValue(low), "maxval": KerasValue(high), "seed": nil])
        case .glorotUniform: KerasConfig(className: "GlorotUniform", values: ["seed": nil])
        case .glorotNormal: KerasConfig(className: "GlorotNormal", values: ["seed": nil])
        case .heNormal: KerasConfig(className: "HeNormal", values: ["seed": nil])
        case .heUniform: KerasConfig(className: "HeUniform", values: ["seed": nil])
        case .lecunNormal: KerasConfig(className: "LecunNormal", values: ["seed": nil])
        case .lecunUniform: KerasConfig(className: "LecunUniform", values: ["seed": nil])
        case .dirac:
            // PyTorch's default conv draw U(−1/√fan_in, 1/√fan_in) is VarianceScaling with 3·scale = 1.
            KerasConfig(className: "VarianceScaling", values: ["scale": .double(1.0 / 3.0), "mode": "fan_in", "distribution": "uniform", "seed": nil],
                        registeredName: "ConvNet>Dirac")
        }
    }

    /// This kind of initializer with the parameters of `config` (this one's where it has none).
    func reading(_ config: KerasConfig) throws -> Initializer {
        switch self {
        case let .constant(value): return .constant(try config.float("value", default: value))
        case let .randomNormal(sigma): return .randomNormal(standardDeviation: try config.float("stddev", default: sigma))
        case let .truncatedNormal(sigma): return .truncatedNormal(standardDeviation: try config.float("stddev", default: sigma))
        case let .randomUniform(low, high):
            return .randomUniform(low: try config.float("minval", default: low), high: try config.float("maxval", default: high))
        case .zeros, .ones, .glorotUniform, .glorotNormal, .heNormal, .heUniform, .lecunNormal, .lecunUniform, .dirac: return self
        }
    }

    /// The initializer a Keras config describes (`from_config`), by its class name or Keras's
    /// snake-case alias (`glorot_uniform`); an unknown name throws, listing the known ones.
    ///
    /// A config's `registered_name` takes precedence over its class name when it is registered
    /// (`ConvNet>Dirac`), as in Keras.
    public init(kerasConfig config: KerasConfig) throws {
        if let name = config.registeredName, let decode = InitializerRegistry.registry.entryIfKnown(name) {
            self = try decode(config)
        } else {
            self = try InitializerRegistry.registry.entry(config.className)(config)
        }
    }
}

/// The initializers Keras configs can name: the built-in ones under Keras's class names and
/// snake-case aliases (`GlorotUniform`, `glorot_uniform`), plus any registered by the user.
public enum InitializerRegistry {
    /// Makes an initializer from its Keras config.
    public typealias Decoder = @Sendable (KerasConfig) throws -> Initializer

    static let registry = Registry<Decoder>(kind: "initializer", builtIns: Initializer.builtIns.flatMap { prototype in
        let decode: Decoder = { try prototype.reading($0) }
        return prototype.registryNames.map { ($0, decode) }
    })

    /// Makes `names` (Keras class names) decode through `decoder`, e.g. to read an initializer
    /// that Keras has and ConvNet approximates.
    public static func register(names: [String], _ decoder: @escaping Decoder) {
        registry.register(names, decoder)
    }

    /// Every name a Keras config may use for an initializer.
    public static var registeredNames: [String] { registry.names }
}
