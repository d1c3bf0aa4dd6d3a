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
    /// The shuffling and dropout generators as of the end of the epoch, for checkpoints.
    public package(set) var shuffler = RandomGenerator(seed: 0)
    public package(set) var dropoutGenerator = RandomGenerator(seed: 0)

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
    mutating func onTrainBegin(_ state: inout TrainingState) throws
    mutating func onEpochBegin(_ epoch: Int, state: inout TrainingState) throws
    /// Before step `step` of the epoch (Keras `on_train_batch_begin`).
    mutating func onTrainBatchBegin(_ step: Int, state: inout TrainingState) throws
    /// Between the backward pass and the update: the gradients may be read and changed.
    mutating func onGradients(_ gradients: inout Gradients, state: inout TrainingState) throws
    /// After step `step`'s update; `logs["loss"]` is the batch loss (Keras `on_train_batch_end`).
    mutating func onTrainBatchEnd(_ step: Int, logs: [String: Double], state: inout TrainingState) throws
    mutating func onEpochEnd(_ epoch: Int, logs: [String: Double], state: inout TrainingState) throws
    mutating func onTrainEnd(_ state: inout TrainingState) throws
}

extension Callback {
    public mutating func onTrainBegin(_ state: inout TrainingState) throws {}
    public mutating func onEpochBegin(_ epoch: Int, state: inout TrainingState) throws {}
    public mutating func onTrainBatchBegin(_ step: Int, state: inout TrainingState) throws {}
    public mutating func onGradients(_ gradients: inout Gradients, state: inout TrainingState) throws {}
    public mutating func onTrainBatchEnd(_ step: Int, logs: [String: Double], state: inout TrainingState) throws {}
    public mutating func onEpochEnd(_ epoch: Int, logs: [String: Double], state: inout TrainingState) throws {}
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
    public let patience: Int
    public let restoreBestWeights: Bool
    var wait = 0
    var bestModel: Model?
    /// The epoch at which training stopped, if it did.
    public private(set) var stoppedEpoch: Int?

    public init(monitor: String = "val_loss", patience: Int = 0, minDelta: Double = 0, restoreBestWeights: Bool = false) {
        self.monitor = Monitor(key: monitor, minDelta: minDelta)
        self.patience = patience
        self.restoreBestWeights = restoreBestWeights
    }

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
    public let path: String
    public let saveBestOnly: Bool
    var monitor: Monitor
    let write: @Sendable (Model, String) throws -> Void
    /// The paths written so far.
    public private(set) var saved: [String] = []

    public init(path: String, monitor: String = "val_loss", saveBestOnly: Bool = false,
                writer: @escaping @Sendable (Model, String) throws -> Void) {
        self.path = path
        self.saveBestOnly = saveBestOnly
        self.monitor = Monitor(key: monitor)
        self.write = writer
    }

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
    public let path: String

    public init(path: String) { self.path = path }

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

    public init(_ schedule: @escaping @Sendable (_ epoch: Int, _ rate: Float) -> Float) { self.schedule = schedule }

    public mutating func onEpochBegin(_ epoch: Int, state: inout TrainingState) throws {
        state.learningRate = schedule(epoch, state.learningRate)
    }
}

/// Multiplies the learning rate by `factor` when `monitor` has not improved for `patience` epochs
/// (Keras `ReduceLROnPlateau`), never below `minimum`.
public struct ReduceLearningRateOnPlateau: Callback {
    var monitor: Monitor
    public let factor: Float
    public let patience: Int
    public let minimum: Float
    var wait = 0

    public init(monitor: String = "val_loss", factor: Float = 0.1, patience: Int = 10, minimum: Float = 0) {
        self.monitor = Monitor(key: monitor)
        self.factor = factor
        self.patience = patience
        self.minimum = minimum
    }

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

/// Writes `data` to `path` through a temporary file in the same folder and a rename, so readers
/// and crashes never see a half-written file.
public func writeAtomically(_ data: Data, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let temporary = url.deletingLastPathComponent()
        .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
    do {
        try data.write(to: temporary)
        // rename(2) replaces the target in one step.
        guard rename(temporary.path, url.path) == 0 else {
            throw ConvNetError.file(path: path, message: "could not replace: \(String(cString: strerror(errno)))")
        }
    } catch {
        try? FileManager.default.removeItem(at: temporary)
        throw ConvNetError.file(path: path, message: "could not write: \(error.localizedDescription)")
    }
}
