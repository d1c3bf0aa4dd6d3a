import ConvNetCore
import Foundation

extension ModelCheckpoint {
    /// Saves with `Model.save(to:metadata:)`, as a Keras legacy `.h5` file.
    public init(path: String, monitor: String = "val_loss", saveBestOnly: Bool = false, metadata: ModelMetadata? = nil) {
        self.init(path: path, monitor: monitor, saveBestOnly: saveBestOnly) { model, target in
            try model.save(to: target, metadata: metadata)
        }
    }
}

/// Saves a `TrainingCheckpoint` after every epoch (atomically), from which `fit(resumingFrom:)`
/// continues exactly; `{epoch}` in the path is replaced by the epoch number.
public struct CheckpointWriter: Callback {
    /// The checkpoint file, a Keras legacy `.h5` with the training state beside the model;
    /// `{epoch}` stands for the epoch number, and without it each epoch replaces the last.
    public let path: String
    /// The preprocessing and class names to store with the model, so the checkpoint can be used
    /// for prediction; nil stores none.
    public let metadata: ModelMetadata?

    /// - Parameters:
    ///   - path: The checkpoint file; `{epoch}` is replaced by the epoch number.
    ///   - metadata: The preprocessing and class names to store with the model, or nil.
    public init(path: String, metadata: ModelMetadata? = nil) {
        self.path = path
        self.metadata = metadata
    }

    /// Writes the model (compiled, with its optimizer's state), the epoch, both random generators
    /// and the history including this epoch's logs.
    public mutating func onEpochEnd(_ epoch: Int, logs: [String: Double], state: inout TrainingState) throws {
        var history = state.history
        history.epochs.append(logs)  // `fit` adds this epoch's logs after the callbacks ran
        try TrainingCheckpoint(model: state.model, epoch: epoch, shuffler: state.shuffler,
                               dropoutGenerator: state.dropoutGenerator, metadata: metadata, history: history)
            .save(to: path.replacingOccurrences(of: "{epoch}", with: String(epoch)))
    }
}
