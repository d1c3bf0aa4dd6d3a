/// Batch normalization over the last axis (Keras `BatchNormalization`).
///
/// Training: normalise with the batch's mean and variance, then update the moving statistics
/// `moving = momentum · moving + (1 − momentum) · batch`. Inference: normalise with the moving
/// statistics. Weights in Keras's order: gamma, beta (trainable), moving mean, moving variance.
public struct BatchNormalization: Layer {
    public var name: String
    public let momentum: Float
    public let epsilon: Float
    /// Whether the layer learns an offset `β` (else `β = 0`), and a scale `γ` (else `γ = 1`).
    public let center: Bool
    public let scale: Bool
    public var gamma: Tensor?
    public var beta: Tensor?
    public var movingMean: Tensor?
    public var movingVariance: Tensor?

    public init(momentum: Float = 0.99, epsilon: Float = 1e-3, center: Bool = true, scale: Bool = true, name: String = "") {
        self.momentum = momentum
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.name = name
    }

    public var kerasClassName: String { "BatchNormalization" }

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

    public var nonTrainableWeights: [Tensor] {
        get { [movingMean, movingVariance].compactMap { $0 } }
        set { (movingMean, movingVariance) = newValue.count == 2 ? (newValue[0], newValue[1]) : (nil, nil) }
    }

    public func outputShape(for inputShapes: [LayerShape]) throws -> LayerShape {
        let input = try singleInput(inputShapes)
        guard let channels = input.last, channels != nil else {
            throw ConvNetError.shape(op: "BatchNormalization '\(name)'", message: "the last axis must be known, got \(describe(layerShape: input))")
        }
        return input
    }

    public mutating func build(inputShapes: [LayerShape], generator: inout RandomGenerator) throws {
        let channels = (try outputShape(for: inputShapes).last ?? nil) ?? 0
        gamma = scale ? Tensor(shape: [channels], repeating: 1) : nil
        beta = center ? Tensor(shape: [channels], repeating: 0) : nil
        movingMean = Tensor(shape: [channels], repeating: 0)
        movingVariance = Tensor(shape: [channels], repeating: 1)
    }

    public mutating func forward(_ inputs: [Tensor], context: inout ForwardContext) throws -> Tensor {
        guard let movingMean, let movingVariance else {
            throw ConvNetError.argument("BatchNormalization '\(name)' is used before it was built")
        }
        let gamma = self.gamma ?? Tensor(shape: movingMean.shape, repeating: 1)
        let beta = self.beta ?? Tensor(shape: movingMean.shape, repeating: 0)
        guard context.training else {
            return try batchNormInference(inputs[0], gamma: gamma, beta: beta, mean: movingMean, variance: movingVariance,
                                          epsilon: epsilon)
        }
        let (output, statistics) = try batchNormTraining(inputs[0], gamma: gamma, beta: beta, epsilon: epsilon)
        let keep = momentum
        self.movingMean = Tensor(validShape: movingMean.shape, scalars: zip(movingMean.scalars, statistics.mean).map { keep * $0 + (1 - keep) * $1 })
        self.movingVariance = Tensor(validShape: movingVariance.shape, scalars: zip(movingVariance.scalars, statistics.variance).map { keep * $0 + (1 - keep) * $1 })
        return output
    }
}
