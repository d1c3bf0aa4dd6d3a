import Foundation

/// Lookahead with a scheduled averaging decay, as in Jordan's airbench (arXiv 2404.00498; Zhang et
/// al.'s Lookahead with the slow weights as an exponential moving average): every `period` updates
/// the slow copy `Ŵ` of every weight of the model — the trainable ones and the non-trainable ones
/// (batch normalization's moving statistics) alike — takes a step towards the fast weights `W`,
/// and the model continues from the slow copy:
///
///     d_t = baseDecay · (t / totalSteps)^power,   Ŵ ← d_t·Ŵ + (1 − d_t)·W,   W ← Ŵ
///
/// with `t` the number of updates so far. Early on `d_t ≈ 0` (the slow copy follows the weights);
/// towards the end it approaches `baseDecay`, averaging over the last few periods. After update
/// `totalSteps` the model is set to the slow copy without folding in the updates since the last
/// period (airbench's final `decay = 1`), and likewise when training ends earlier.
///
/// The optimizer's state (momentum) is left alone. The slow copy starts as the model's weights
/// when training begins, so a data-dependent initialisation should run before `fit`.
public struct Lookahead: Callback {
    /// Updates between two averaging steps (airbench: 5).
    public let period: Int
    /// The number of updates of the whole run, `T`.
    public let totalSteps: Int
    /// `d_T`, the decay at the end of the run (airbench: `0.95⁵`).
    public let baseDecay: Float
    /// The exponent of the ramp `(t / T)^power` (airbench: 3).
    public let power: Float
    /// The slow weights, per layer: `trainableWeights + nonTrainableWeights`; empty before training.
    public private(set) var slowWeights: [[Tensor]] = []

    /// - Throws: `ConvNetError.argument` for a period or total below 1, or a decay outside [0, 1].
    public init(period: Int = 5, totalSteps: Int, baseDecay: Float = Foundation.pow(0.95, 5), power: Float = 3) throws {
        guard period >= 1, totalSteps >= 1 else {
            throw ConvNetError.argument("Lookahead: period and total steps must be at least 1, got \(period) and \(totalSteps)")
        }
        guard (0...1).contains(baseDecay), power >= 0 else {
            throw ConvNetError.argument("Lookahead: the decay must be in [0, 1] and the power not negative, got \(baseDecay) and \(power)")
        }
        self.period = period
        self.totalSteps = totalSteps
        self.baseDecay = baseDecay
        self.power = power
    }

    /// `d_t = baseDecay · (t / T)^power`.
    public func decay(atStep step: Int) -> Float {
        baseDecay * Foundation.pow(Float(min(step, totalSteps)) / Float(totalSteps), power)
    }

    /// Copies the model's weights into the slow copy.
    public mutating func onTrainBegin(_ state: inout TrainingState) throws {
        slowWeights = state.model.layers.map { ($0.trainableWeights + $0.nonTrainableWeights).map(\.detached) }
    }

    /// Every `period` updates: folds the weights into the slow copy and continues from it; after
    /// update `totalSteps`: continues from the slow copy as it is.
    public mutating func onTrainBatchEnd(_ step: Int, logs: [String: Double], state: inout TrainingState) throws {
        if state.globalStep >= totalSteps {
            writeBack(into: &state.model)
        } else if state.globalStep % period == 0 {
            let d = decay(atStep: state.globalStep)
            for (index, layer) in state.model.layers.enumerated() {
                let weights = layer.trainableWeights + layer.nonTrainableWeights
                slowWeights[index] = zip(slowWeights[index], weights).map { slow, weight in
                    Tensor(validShape: weight.shape, scalars: mapScalars(slow.scalars, weight.scalars) { d * $0 + (1 - d) * $1 })
                }
            }
            writeBack(into: &state.model)
        }
    }

    /// Leaves the model with the slow weights.
    public mutating func onTrainEnd(_ state: inout TrainingState) throws {
        writeBack(into: &state.model)
    }

    private func writeBack(into model: inout Model) {
        guard slowWeights.count == model.layers.count else { return }
        for index in model.layers.indices {
            let trainableCount = model.layers[index].trainableWeights.count
            model.layers[index].trainableWeights = Array(slowWeights[index].prefix(trainableCount))
            model.layers[index].nonTrainableWeights = Array(slowWeights[index].dropFirst(trainableCount))
        }
    }
}
