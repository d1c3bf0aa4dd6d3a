/// Freezes parameters part-way through training (PyTorch's `requires_grad = False` set between
/// epochs): after epoch `afterEpoch` the parameters matching `selectors` get no update and no
/// weight decay, through a frozen `ParameterGroup` put first in the optimizer's groups. Airbench
/// trains its whitening layer's bias for the first 3 epochs only.
public struct FreezeParameters: Callback {
    /// The last epoch (from 1) in which the parameters train.
    public let afterEpoch: Int
    /// The parameters frozen from epoch `afterEpoch + 1` on.
    public let selectors: [ParameterSelector]

    /// Freezes the parameters matching `selectors` after epoch `afterEpoch`.
    public init(_ selectors: [ParameterSelector], afterEpoch: Int) {
        self.selectors = selectors
        self.afterEpoch = afterEpoch
    }

    /// At the end of epoch `afterEpoch`, adds the frozen group in front of the optimizer's groups
    /// (the model is compiled during `onEpochEnd`, and the trainer keeps the change).
    public mutating func onEpochEnd(_ epoch: Int, logs: [String: Double], state: inout TrainingState) throws {
        guard epoch == afterEpoch, state.model.training != nil else { return }
        state.model.training?.optimizer.parameterGroups.insert(.frozen(selectors), at: 0)
    }
}
