import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a callback can see and change during training.
public struct TrainingState: Sendable {
    /// The model being trained (its weights as of now).
    public var model: Model
    /// The learning rate of the next update: the schedule sets it each epoch (or step); a callback
    /// may change it, and the change applies from the next update.
    public var learningRate: Float
    /// Set to end training after this epoch.
    public var stopTraining = false
    /// Epochs requested by `fit`.
    public let epochs: Int
    /// The history so far.
    public var history: History
    /// The current epoch, from 1.
    public package(set) var epoch = 0
    /// Steps taken in the current epoch (the current one included, during a step).
    public package(set) var step = 0
    /// Optimizer updates applied since training began (counting a resumed run's earlier epochs).
    public package(set) var globalStep = 0
    /// Steps in each epoch, when known.
    public package(set) var stepsPerEpoch: Int?
    /// The shuffling generator as of the end of the epoch, for checkpoints: `fit` sets it before
    /// `onEpochEnd` (a loop of your own around ``Trainer`` leaves it at its initial value).
    public package(set) var shuffler = RandomGenerator(seed: 0)
    /// The dropout generator as of the end of the epoch, for checkpoints: ``Trainer/endEpoch(_:logs:)``
    /// sets it before `onEpochEnd`, so a resumed run draws the same dropout masks.
    public package(set) var dropoutGenerator = RandomGenerator(seed: 0)

    /// The state at the start of training, with every counter at 0.
    ///
    /// - Parameters:
    ///   - model: The model to train.
    ///   - learningRate: The learning rate of the first update.
    ///   - epochs: The number of epochs requested.
    ///   - history: Earlier epochs' logs (a resumed run's), or empty.
    public init(model: Model, learningRate: Float, epochs: Int, history: History = History()) {
        self.model = model
        self.learningRate = learningRate
        self.epochs = epochs
        self.history = history
    }
}

/// Hooks into training, as Keras callbacks (`epoch` and `step` count from 1). Every hook has an
/// empty default; a callback implements the ones it needs.
public protocol Callback: Sendable {
    /// Once, before the first epoch (Keras `on_train_begin`).
    mutating func onTrainBegin(_ state: inout TrainingState) throws
    /// At the start of epoch `epoch`, after the compiled schedule has set the epoch's learning rate
    /// (Keras `on_epoch_begin`).
    mutating func onEpochBegin(_ epoch: Int, state: inout TrainingState) throws
    /// Before step `step` of the epoch (Keras `on_train_batch_begin`).
    mutating func onTrainBatchBegin(_ step: Int, state: inout TrainingState) throws
    /// Between the backward pass and the update: the gradients may be read and changed.
    mutating func onGradients(_ gradients: inout Gradients, state: inout TrainingState) throws
    /// After step `step`'s update; `logs["loss"]` is the batch loss (Keras `on_train_batch_end`).
    mutating func onTrainBatchEnd(_ step: Int, logs: [String: Double], state: inout TrainingState) throws
    /// After epoch `epoch` and its validation (Keras `on_epoch_end`). `logs` holds the epoch's
    /// `loss` and metrics (means over its samples), the validation values (`val_loss`, ...) and
    /// `learning_rate`; `state.history` does not include this epoch yet. Setting
    /// `state.stopTraining` makes this epoch the last.
    mutating func onEpochEnd(_ epoch: Int, logs: [String: Double], state: inout TrainingState) throws
    /// Once, after the last epoch, including one cut short by `stopTraining` (Keras
    /// `on_train_end`); not called when training throws.
    mutating func onTrainEnd(_ state: inout TrainingState) throws
}

extension Callback {
    /// Does nothing: a callback that needs this hook implements it.
    public mutating func onTrainBegin(_ state: inout TrainingState) throws {}
    /// Does nothing: a callback that needs this hook implements it.
    public mutating func onEpochBegin(_ epoch: Int, state: inout TrainingState) throws {}
    /// Does nothing: a callback that needs this hook implements it.
    public mutating func onTrainBatchBegin(_ step: Int, state: inout TrainingState) throws {}
    /// Does nothing: the gradients go to the optimizer unchanged.
    public mutating func onGradients(_ gradients: inout Gradients, state: inout TrainingState) throws {}
    /// Does nothing: a callback that needs this hook implements it.
    public mutating func onTrainBatchEnd(_ step: Int, logs: [String: Double], state: inout TrainingState) throws {}
    /// Does nothing: a callback that needs this hook implements it.
    public mutating func onEpochEnd(_ epoch: Int, logs: [String: Double], state: inout TrainingState) throws {}
    /// Does nothing: a callback that needs this hook implements it.
    public mutating func onTrainEnd(_ state: inout TrainingState) throws {}
}

/// Tracks whether a monitored value improved (`val_loss` down, `*accuracy` up).
struct Monitor: Sendable {
    let key: String
    let minDelta: Double
    private(set) var best: Double?

    init(key: String, minDelta: Double = 0) {
        self.key = key
        self.minDelta = minDelta
    }

    var higherIsBetter: Bool { key.hasSuffix("accuracy") }

    /// Records `logs[key]`; true when it beats the best so far by more than `minDelta`.
    mutating func improved(_ logs: [String: Double]) throws -> Bool {
        guard let value = logs[key] else {
            throw ConvNetError.argument("callback monitors '\(key)', but the logs only have \(logs.keys.sorted().joined(separator: ", "))")
        }
        guard let current = best else { best = value; return true }
        let better = higherIsBetter ? value > current + minDelta : value < current - minDelta
        if better { best = value }
        return better
    }
}

/// Stops training when `monitor` has not improved for `patience` epochs (Keras `EarlyStopping`),
/// optionally restoring the best epoch's weights.
public struct EarlyStopping: Callback {
    var monitor: Monitor
    /// Epochs in a row without improvement that are tolerated: training stops after the
    /// `patience + 1`-th (0 stops at the first epoch that does not improve).
    public let patience: Int
    /// Whether stopping puts back the weights of the best epoch. Only an early stop restores them:
    /// a run that reaches its last epoch keeps its final weights.
    public let restoreBestWeights: Bool
    var wait = 0
    var bestModel: Model?
    /// The epoch at which training stopped, if it did.
    public private(set) var stoppedEpoch: Int?

    /// - Parameters:
    ///   - monitor: The log to watch, e.g. `"val_loss"` or `"val_accuracy"`; keys ending in
    ///     `accuracy` improve upwards, all others downwards.
    ///   - patience: Epochs in a row without improvement that are tolerated.
    ///   - minDelta: How much the value must beat the best so far to count as an improvement.
    ///   - restoreBestWeights: Whether an early stop puts back the best epoch's weights.
    public init(monitor: String = "val_loss", patience: Int = 0, minDelta: Double = 0, restoreBestWeights: Bool = false) {
        self.monitor = Monitor(key: monitor, minDelta: minDelta)
        self.patience = patience
        self.restoreBestWeights = restoreBestWeights
    }

    /// Compares `logs[monitor]` with the best so far and sets `state.stopTraining` when patience
    /// runs out. Throws `ConvNetError.argument` when the logs have no such key.
    public mutating func onEpochEnd(_ epoch: Int, logs: [String: Double], state: inout TrainingState) throws {
        if try monitor.improved(logs) {
            wait = 0
            if restoreBestWeights { bestModel = state.model }
        } else {
            wait += 1
            if wait > patience {
                state.stopTraining = true
                stoppedEpoch = epoch
                if let bestModel { state.model = bestModel }
            }
        }
    }
}

/// Saves the model after each epoch, or only when `monitor` improves (Keras `ModelCheckpoint`).
/// `{epoch}` in the path is replaced by the epoch number. The writer should write atomically.
public struct ModelCheckpoint: Callback {
    /// Where to write: a file path in which `{epoch}` stands for the epoch number, e.g.
    /// `"lenet5-{epoch}.h5"`; without it every save replaces the same file.
    public let path: String
    /// Whether to write only when the monitored value beats the best so far (the first epoch
    /// always does); false writes after every epoch.
    public let saveBestOnly: Bool
    var monitor: Monitor
    let write: @Sendable (Model, String) throws -> Void
    /// The paths written so far.
    public private(set) var saved: [String] = []

    /// - Parameters:
    ///   - path: The file to write; `{epoch}` is replaced by the epoch number.
    ///   - monitor: The log that decides "best" when `saveBestOnly`; keys ending in `accuracy`
    ///     improve upwards, all others downwards. Unused otherwise.
    ///   - saveBestOnly: Whether to write only on improvement.
    ///   - writer: Writes a model to a path, e.g. the HDF5 saver of ConvNetFiles; it should write
    ///     atomically (see ``writeAtomically(_:to:)``) so that a crash leaves the previous file.
    public init(path: String, monitor: String = "val_loss", saveBestOnly: Bool = false,
                writer: @escaping @Sendable (Model, String) throws -> Void) {
        self.path = path
        self.saveBestOnly = saveBestOnly
        self.monitor = Monitor(key: monitor)
        self.write = writer
    }

    /// Writes `state.model` to `path` (with `{epoch}` filled in) unless `saveBestOnly` and the
    /// monitored value did not improve; records the path in ``saved``.
    public mutating func onEpochEnd(_ epoch: Int, logs: [String: Double], state: inout TrainingState) throws {
        let improved = saveBestOnly ? try monitor.improved(logs) : true
        guard improved else { return }
        let target = path.replacingOccurrences(of: "{epoch}", with: String(epoch))
        try write(state.model, target)
        saved.append(target)
    }
}

/// Writes the history as CSV (Keras `CSVLogger`): a header `epoch,<keys>` and one row per epoch.
/// The file is rewritten whole after each epoch through a temporary file and a rename, so it is
/// never half-written.
public struct CSVLogger: Callback {
    /// The CSV file, replaced after every epoch.
    public let path: String

    /// A logger that writes to `path` (any existing file there is replaced at the first epoch's end).
    public init(path: String) { self.path = path }

    /// Rewrites the file with every epoch so far, this one included. The columns are `epoch`
    /// (from 1) and `History.keys`; a value an epoch lacks is left empty.
    public mutating func onEpochEnd(_ epoch: Int, logs: [String: Double], state: inout TrainingState) throws {
        var history = state.history
        history.epochs.append(logs)
        let keys = history.keys
        var text = (["epoch"] + keys).joined(separator: ",") + "\n"
        for (index, row) in history.epochs.enumerated() {
            text += ([String(index + 1)] + keys.map { row[$0].map { String($0) } ?? "" }).joined(separator: ",") + "\n"
        }
        try writeAtomically(Data(text.utf8), to: path)
    }
}

/// Sets the learning rate at the start of each epoch from `schedule(epoch, currentRate)`
/// (Keras `LearningRateScheduler`).
public struct LearningRateScheduler: Callback {
    let schedule: @Sendable (Int, Float) -> Float

    /// - Parameter schedule: The rate for an epoch, given the epoch number (from 1, where Keras
    ///   counts from 0) and the current rate.
    public init(_ schedule: @escaping @Sendable (_ epoch: Int, _ rate: Float) -> Float) { self.schedule = schedule }

    /// Sets `state.learningRate` to `schedule(epoch, state.learningRate)`; it runs after the
    /// compiled schedule has set the epoch's rate, so it gets the last word.
    public mutating func onEpochBegin(_ epoch: Int, state: inout TrainingState) throws {
        state.learningRate = schedule(epoch, state.learningRate)
    }
}

/// Multiplies the learning rate by `factor` when `monitor` has not improved for `patience` epochs
/// (Keras `ReduceLROnPlateau`), never below `minimum`.
public struct ReduceLearningRateOnPlateau: Callback {
    var monitor: Monitor
    /// What the learning rate is multiplied by on a plateau, e.g. 0.1 (not checked: a value of 1
    /// or more does not reduce it).
    public let factor: Float
    /// Epochs in a row without improvement that are tolerated: the rate is reduced after the
    /// `patience + 1`-th, and counting starts again.
    public let patience: Int
    /// The lowest learning rate a reduction may set (Keras `min_lr`).
    public let minimum: Float
    var wait = 0

    /// - Parameters:
    ///   - monitor: The log to watch, e.g. `"val_loss"`; keys ending in `accuracy` improve
    ///     upwards, all others downwards. Any change in the right direction counts.
    ///   - factor: What the learning rate is multiplied by on a plateau.
    ///   - patience: Epochs in a row without improvement that are tolerated.
    ///   - minimum: The lowest learning rate a reduction may set.
    public init(monitor: String = "val_loss", factor: Float = 0.1, patience: Int = 10, minimum: Float = 0) {
        self.monitor = Monitor(key: monitor)
        self.factor = factor
        self.patience = patience
        self.minimum = minimum
    }

    /// Compares `logs[monitor]` with the best so far and lowers `state.learningRate` to
    /// `max(rate · factor, minimum)` when patience runs out. Throws `ConvNetError.argument` when
    /// the logs have no such key.
    public mutating func onEpochEnd(_ epoch: Int, logs: [String: Double], state: inout TrainingState) throws {
        if try monitor.improved(logs) {
            wait = 0
        } else {
            wait += 1
            if wait > patience {
                state.learningRate = max(state.learningRate * factor, minimum)
                wait = 0
            }
        }
    }
}
