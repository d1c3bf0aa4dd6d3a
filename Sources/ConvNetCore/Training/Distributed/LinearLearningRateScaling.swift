/// The linear scaling rule with gradual warm-up (Goyal et al. 2017, "Accurate, Large Minibatch SGD"):
/// when `k` processes each take a batch of `B`, every step averages `k·B` samples, and the learning
/// rate is multiplied by `k`; to avoid the early instability of a large rate it rises linearly from
/// the unscaled rate to `k` times it over `warmupSteps` updates:
///
///     α_t = α_schedule · (1 + (k − 1) · min(1, t / warmupSteps))       (t = updates so far)
///
/// `α_schedule` is whatever the compiled schedule (or another callback) set; this callback multiplies
/// it before every step, so it composes with any schedule. Never applied silently: `convnet train
/// --scale-lr` says so.
public struct LinearLearningRateScaling: Callback {
    /// `k`, usually the number of processes.
    public let factor: Float
    /// Updates over which the multiplier rises from 1 to `factor` (0: `factor` from the first step).
    public let warmupSteps: Int
    private var scheduled: Float?
    private var lastSet: Float?

    /// Multiplies the learning rate by `factor`, reached after `warmupSteps` updates.
    public init(factor: Float, warmupSteps: Int = 0) {
        self.factor = factor
        self.warmupSteps = max(0, warmupSteps)
    }

    /// `1 + (k − 1) · min(1, t / warmupSteps)` for update number `t` (counted from 0).
    public func multiplier(atStep t: Int) -> Float {
        guard warmupSteps > 0 else { return factor }
        return 1 + (factor - 1) * min(1, Float(t) / Float(warmupSteps))
    }

    /// On resume, undoes the scaling that the checkpoint's optimizer carried over (it keeps the last
    /// rate used, `α · multiplier(t − 1)`), so that a constant schedule's rate is not scaled twice.
    public mutating func onTrainBegin(_ state: inout TrainingState) throws {
        if state.globalStep > 0 { state.learningRate /= multiplier(atStep: state.globalStep - 1) }
    }

    /// Sets `state.learningRate` to the scheduled rate times the multiplier of this step.
    public mutating func onTrainBatchBegin(_ step: Int, state: inout TrainingState) throws {
        // A rate other than the one set last time comes from the schedule: it is the new base.
        if state.learningRate != lastSet { scheduled = state.learningRate }
        let rate = (scheduled ?? state.learningRate) * multiplier(atStep: state.globalStep)
        state.learningRate = rate
        lastSet = rate
    }
}
