import Foundation

/// Everything needed to resume training exactly where it stopped: the model with its weights,
/// optimizer (hyperparameters, step count, moments), learning-rate schedule, the number of completed
/// epochs, their history, and the states of the shuffling and dropout generators. Resuming from
/// epoch `k` gives the same weights, and the same history, as an uninterrupted run.
///
/// `save(to:)` and `load(from:)` (in ConvNetFiles) keep it as a Keras legacy `.h5` model file with
/// ConvNet's training state beside it.
public struct TrainingCheckpoint: Sendable {
    public var model: Model
    /// Epochs completed; training resumes at `epoch + 1`.
    public var epoch: Int
    public var shuffler: RandomGenerator
    public var dropoutGenerator: RandomGenerator
    public var metadata: ModelMetadata?
    /// The logs of the completed epochs, which a resumed `fit` continues (so a `CSVLogger` keeps
    /// every row and the epoch numbers run on).
    public var history: History

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
