/// Keeps an exponential moving average of the trainable weights, as Keras optimizers' `use_ema`,
/// `ema_momentum` and `ema_overwrite_frequency` do.
///
/// After every update, for each trainable weight `W` with average `Ŵ`:
/// `Ŵ ← μ·Ŵ + (1 − μ)·W`, with `μ = momentum` except at the first update, where `μ = 0` (`Ŵ = W`).
/// With `overwriteFrequency = k`, the weights are replaced by their averages after every `k`-th
/// update (Keras's `(iterations + 1) % k == 0`; a Lookahead-style write-back). With
/// `applyAtEnd` (the default, as Keras's `fit` calls `finalize_variable_values`), the model leaves
/// training with the averaged weights, so evaluating and saving it use them; `averagedModel(of:)`
/// gives them at any time.
public struct ExponentialMovingAverage: Callback {
    /// `μ`, in [0, 1).
    public let momentum: Float
    /// Write the averages into the model after every this many updates; `nil`: never during training.
    public let overwriteFrequency: Int?
    /// Replace the weights by their averages when training ends.
    public let applyAtEnd: Bool
    /// The averages, in `trainableWeights` order; empty before the first update.
    public private(set) var averages: [Tensor] = []

    /// - Parameters:
    ///   - momentum: `μ`, the weight of the old average, in [0, 1) (Keras `ema_momentum`).
    ///   - overwriteFrequency: Write the averages into the model after every this many updates
    ///     (Keras `ema_overwrite_frequency`); `nil`: never during training.
    ///   - applyAtEnd: Whether the model leaves training with the averaged weights.
    /// - Throws: `ConvNetError.argument` for a momentum outside [0, 1) or a frequency below 1.
    public init(momentum: Float = 0.99, overwriteFrequency: Int? = nil, applyAtEnd: Bool = true) throws {
        guard momentum >= 0, momentum < 1 else {
            throw ConvNetError.argument("ExponentialMovingAverage: momentum must be in [0, 1), got \(momentum)")
        }
        if let overwriteFrequency, overwriteFrequency < 1 {
            throw ConvNetError.argument("ExponentialMovingAverage: overwrite frequency must be at least 1, got \(overwriteFrequency)")
        }
        self.momentum = momentum
        self.overwriteFrequency = overwriteFrequency
        self.applyAtEnd = applyAtEnd
    }

    /// Folds the weights just updated into the averages (copies them at the first update), then
    /// writes the averages into the model when `state.globalStep` is a multiple of `overwriteFrequency`.
    public mutating func onTrainBatchEnd(_ step: Int, logs: [String: Double], state: inout TrainingState) throws {
        let weights = state.model.trainableWeights
        if averages.isEmpty {
            averages = weights.map(\.detached)
        } else {
            let mu = momentum
            averages = zip(averages, weights).map { average, weight in
                Tensor(validShape: weight.shape, scalars: mapScalars(average.scalars, weight.scalars) { mu * $0 + (1 - mu) * $1 })
            }
        }
        if let overwriteFrequency, state.globalStep % overwriteFrequency == 0 {
            state.model.trainableWeights = averages
        }
    }

    /// Replaces the model's trainable weights by the averages when `applyAtEnd` (and at least one
    /// update happened).
    public mutating func onTrainEnd(_ state: inout TrainingState) throws {
        if applyAtEnd, !averages.isEmpty { state.model.trainableWeights = averages }
    }

    /// `model` with its trainable weights replaced by the averages (the model itself when there
    /// are none yet).
    public func averagedModel(of model: Model) -> Model {
        guard !averages.isEmpty else { return model }
        var averaged = model
        averaged.trainableWeights = averages
        return averaged
    }
}
