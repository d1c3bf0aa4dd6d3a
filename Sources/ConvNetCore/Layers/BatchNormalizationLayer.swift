/// Batch normalization over the last axis (Keras `BatchNormalization`).
///
/// Training: normalise with the batch's mean and variance, then update the moving statistics
/// `moving = momentum · moving + (1 − momentum) · batch`. Inference: normalise with the moving
/// statistics, as does a frozen layer (`trainable == false`) even in training mode (Keras 3). Weights
/// in Keras's order: gamma, beta (trainable), moving mean, moving variance.
public struct BatchNormalization: Layer {
    /// The layer's name, unique within a model; Keras's automatic name (`dense`, `dense_1`, ...) when empty.
    public var name: String
    /// Whether training updates the weights (Keras `layer.trainable`); a frozen layer's weights are non-trainable.
    public var trainable = true
    /// The moving averages' decay `ρ`: `moving = ρ·moving + (1 − ρ)·batch` (Keras's `momentum`, default 0.99).
    public let momentum: Float
    /// Added to the variance before the square root, `x̂ = (x − μ) / √(σ² + ε)`, for stability.
    public let epsilon: Float
    /// Whether the layer learns an offset `β` (else `β = 0`), and a scale `γ` (else `γ = 1`).
    public let center: Bool
    /// Whether the normalised value is multiplied by a learned `gamma`.
    public let scale: Bool
    /// The learned scale `γ`, one per channel (`nil` without `scale` or before building).
    public var gamma: Tensor?
    /// The learned offset `β`, one per channel (`nil` without `center` or before building).
    public var beta: Tensor?
    /// The running mean per channel, used at inference.
    public var movingMean: Tensor?
    /// The running variance per channel, used at inference.
    public var movingVariance: Tensor?

    /// Batch normalization over the channel axis with Keras's defaults (`momentum` 0.99, `epsilon` 1e-3).
    public init(momentum: Float = 0.99, epsilon: Float = 1e-3, center: Bool = true, scale: Bool = true, name: String = "") {
        self.momentum = momentum
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.name = name
    }

    /// Keras's names: `gamma`, `beta` (when present), `moving_mean`, `moving_variance`.
    public var weightNames: [String] {
        (scale ? ["gamma"] : []) + (center ? ["beta"] : []) + ["moving_mean", "moving_variance"]
    }

    /// `[γ, β]`, without the ones `scale` and `center` switch off (Keras's order).
    public var trainableWeights: [Tensor] {
        get { (scale ? [gamma] : []).compactMap { $0 } + (center ? [beta] : []).compactMap { $0 } }
        set {
            var values = newValue[...]
            if scale { gamma = values.popFirst() }
            if center { beta = values.popFirst() }
        }
    }

    /// The moving mean and variance, updated by training-mode forward passes rather than the optimizer.
    public var nonTrainableWeights: [Tensor] {
        get { [movingMean, movingVariance].compactMap { $0 } }
        set { (movingMean, movingVariance) = newValue.count == 2 ? (newValue[0], newValue[1]) : (nil, nil) }
    }

    /// The output shape for `inputShapes` (batch axis excluded); throws naming the layer when they do not fit.
    public func outputShape(for inputShapes: [LayerShape]) throws -> LayerShape {
        let input = try singleInput(inputShapes)
        guard let channels = input.last, channels != nil else {
            throw ConvNetError.shape(op: "BatchNormalization '\(name)'", message: "the last axis must be known, got \(describe(layerShape: input))")
        }
        return input
    }

    /// Creates the weights for `inputShapes` from the initializers, drawing from `generator`.
    public mutating func build(inputShapes: [LayerShape], generator: inout RandomGenerator) throws {
        let channels = (try outputShape(for: inputShapes).last ?? nil) ?? 0
        gamma = scale ? Tensor(shape: [channels], repeating: 1) : nil
        beta = center ? Tensor(shape: [channels], repeating: 0) : nil
        movingMean = Tensor(shape: [channels], repeating: 0)
        movingVariance = Tensor(shape: [channels], repeating: 1)
    }

    /// The forward pass on `inputs` (batch axis first).
    public mutating func forward(_ inputs: [Tensor], context: inout ForwardContext) throws -> Tensor {
        try forward(inputs, activation: .linear, context: &context)
    }

    /// The forward pass, plus `residual` when given, followed by `activation`, in the same loop when
    /// it is fusible (`LayerFusion`).
    mutating func forward(_ inputs: [Tensor], activation: ActivationFunction, adding residual: Tensor? = nil,
                          context: inout ForwardContext) throws -> Tensor {
        guard let movingMean, let movingVariance else {
            throw ConvNetError.argument("BatchNormalization '\(name)' is used before it was built")
        }
        let gamma = self.gamma ?? Tensor(shape: movingMean.shape, repeating: 1)
        let beta = self.beta ?? Tensor(shape: movingMean.shape, repeating: 0)
        guard context.training, trainable else {  // a frozen layer keeps its statistics (Keras 3)
            return try batchNormInference(inputs[0], gamma: gamma, beta: beta, mean: movingMean, variance: movingVariance,
                                          epsilon: epsilon, activation: activation, adding: residual)
        }
        let (output, statistics) = try batchNormTraining(inputs[0], gamma: gamma, beta: beta, epsilon: epsilon, activation: activation,
                                                         adding: residual, synchronizedOver: context.batchNormalizationGroup)
        let keep = momentum
        self.movingMean = Tensor(validShape: movingMean.shape, scalars: zip(movingMean.scalars, statistics.mean).map { keep * $0 + (1 - keep) * $1 })
        self.movingVariance = Tensor(validShape: movingVariance.shape, scalars: zip(movingVariance.scalars, statistics.variance).map { keep * $0 + (1 - keep) * $1 })
        return output
    }
}

extension BatchNormalization {
    /// The convolution `kernel` `(f_h, f_w, n_C_prev, n_C)` and `bias` that compute this layer's
    /// inference map (moving statistics) applied to the convolution's output:
    /// `W'[…, c] = W[…, c] · s_c`, `b'_c = b_c · s_c + t_c`, with `s = γ / √(σ² + ε)` and
    /// `t = β − μ · s` (`batchNormAffine`). `nil` when the layer is not built or its channels are
    /// not the kernel's last axis.
    func folded(kernel: Tensor, bias: Tensor?) -> (kernel: Tensor, bias: Tensor)? {
        guard let movingMean, let movingVariance, let channels = kernel.shape.last, movingMean.shape == [channels] else { return nil }
        let (scale, shift) = batchNormAffine(gamma: gamma?.scalars ?? [Float](repeating: 1, count: channels),
                                             beta: beta?.scalars ?? [Float](repeating: 0, count: channels),
                                             mean: movingMean.scalars, variance: movingVariance.scalars, epsilon: epsilon)
        let kernelScalars = kernel.scalars.indices.map { kernel.scalars[$0] * scale[$0 % channels] }
        let biasScalars = (0..<channels).map { (bias?.scalars[$0] ?? 0) * scale[$0] + shift[$0] }
        return (Tensor(validShape: kernel.shape, scalars: kernelScalars), Tensor(validShape: [channels], scalars: biasScalars))
    }
}

extension BatchNormalization: RegisteredLayer {
    /// Keras's class name, used in summaries and saved configs.
    public static var kerasClassName: String { "BatchNormalization" }

    /// The layer a Keras `BatchNormalization` config describes; only the channel axis is supported.
    public init(kerasConfig config: KerasConfig) throws {
        let axis = config["axis"]?.int ?? config["axis"]?.array?.first?.int ?? -1
        guard axis == -1 || axis == 3 else {
            throw ConvNetError.argument("\(config.context): only the channel axis (-1) can be normalised, got axis \(axis)")
        }
        self.init(momentum: try config.float("momentum", default: 0.99), epsilon: try config.float("epsilon", default: 1e-3),
                  center: try config.bool("center", default: true), scale: try config.bool("scale", default: true), name: config.name)
    }

    /// Keras's `BatchNormalization` config (Keras's initial values for the weights).
    public func kerasConfig() throws -> KerasConfig {
        var config = KerasConfig(layer: self)
        config.values.merge(["axis": -1, "momentum": KerasValue(momentum), "epsilon": KerasValue(epsilon), "center": .bool(center),
                             "scale": .bool(scale), "beta_initializer": Initializer.zeros.kerasConfig.serialized(module: "keras.initializers"),
                             "gamma_initializer": Initializer.ones.kerasConfig.serialized(module: "keras.initializers"),
                             "moving_mean_initializer": Initializer.zeros.kerasConfig.serialized(module: "keras.initializers"),
                             "moving_variance_initializer": Initializer.ones.kerasConfig.serialized(module: "keras.initializers"),
                             "beta_regularizer": nil, "gamma_regularizer": nil, "beta_constraint": nil,
                             "gamma_constraint": nil, "synchronized": false]) { $1 }
        return config
    }
}
