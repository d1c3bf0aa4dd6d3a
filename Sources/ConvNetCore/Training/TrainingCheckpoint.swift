import Foundation

/// Everything needed to resume training exactly where it stopped: the model with its weights,
/// optimizer (hyperparameters, step count, moments), learning-rate schedule, the number of completed
/// epochs, their history, and the states of the shuffling and dropout generators. Resuming from
/// epoch `k` gives the same weights, and the same history, as an uninterrupted run.
///
/// `save(to:)` and `load(from:)` (in ConvNetFiles) keep it as a Keras legacy `.h5` model file with
/// ConvNet's training state beside it.
public struct TrainingCheckpoint: Sendable {
    /// The model with its weights and compiled optimizer state.
    public var model: Model
    /// Epochs completed; training resumes at `epoch + 1`.
    public var epoch: Int
    /// The generator that shuffles each epoch, as it stood after `epoch`.
    public var shuffler: RandomGenerator
    /// The generator of dropout masks, as it stood after `epoch`.
    public var dropoutGenerator: RandomGenerator
    /// Preprocessing and class names saved with the model.
    public var metadata: ModelMetadata?
    /// The logs of the completed epochs, which a resumed `fit` continues (so a `CSVLogger` keeps
    /// every row and the epoch numbers run on).
    public var history: History

    /// A checkpoint after `epoch` completed epochs.
    public init(model: Model, epoch: Int, shuffler: RandomGenerator, dropoutGenerator: RandomGenerator,
                metadata: ModelMetadata? = nil, history: History = History()) {
        self.model = model
        self.epoch = epoch
        self.shuffler = shuffler
        self.dropoutGenerator = dropoutGenerator
        self.metadata = metadata
        self.history = history
    }
}
