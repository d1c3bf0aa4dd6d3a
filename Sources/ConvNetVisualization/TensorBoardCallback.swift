import ConvNetCore
import ConvNetData
import ConvNetFiles
import Foundation

/// Logs training for TensorBoard (Keras `TensorBoard`): event files in `logDirectory/train` and
/// `logDirectory/validation`, as Keras lays them out, which `tensorboard --logdir DIR` shows.
///
/// - `train/`: `batch_loss` and `batch_learning_rate` every `updateFrequency` steps (step = the
///   global step, counted from 1 over the whole run); `epoch_<key>` for every epoch log that is not
///   a validation value (`epoch_loss`, `epoch_accuracy`, `epoch_learning_rate`; step = the epoch,
///   from 1 as in `CSVLogger`'s file); every `histogramFrequency` epochs a histogram of each weight
///   under its path (`conv2d/kernel`, `batch_normalization/moving_mean`); and with `writeImages`
///   the first convolution's filters as one grid image (`<path>/image`, as `convnet visualize
///   --filters first` draws them).
/// - `validation/`: `epoch_<key>` for the validation logs, without their `val_` or `test_` prefix
///   (`epoch_loss`, `epoch_accuracy`); created at the first epoch that has any.
///
/// The model graph is not written.
public struct TensorBoard: Callback {
    /// The run's folder; `train/` and `validation/` are created inside.
    public let logDirectory: String
    /// Steps between per-step scalars; `nil` writes per-epoch values only (Keras `update_freq="epoch"`).
    public let updateFrequency: Int?
    /// Epochs between weight histograms; 0 writes none.
    public let histogramFrequency: Int
    /// Whether the first convolution's filters are written as an image every epoch.
    public let writeImages: Bool
    private var train: TensorBoardEventWriter?
    private var validation: TensorBoardEventWriter?

    /// The log prefixes of validation values (`fit`'s `validationPrefix`).
    static let validationPrefixes = ["val_", "test_"]

    /// - Parameters:
    ///   - logDirectory: The run's folder (created when missing).
    ///   - updateFrequency: Steps between per-step scalars (`nil`: none); must be positive.
    ///   - histogramFrequency: Epochs between weight histograms (0: none).
    ///   - writeImages: Whether to write the first convolution's filters as an image.
    public init(logDirectory: String, updateFrequency: Int? = 1, histogramFrequency: Int = 1, writeImages: Bool = true) {
        self.logDirectory = logDirectory
        self.updateFrequency = updateFrequency.map { max($0, 1) }
        self.histogramFrequency = max(histogramFrequency, 0)
        self.writeImages = writeImages
    }

    /// Creates `train/` and its event file.
    public mutating func onTrainBegin(_ state: inout TrainingState) throws {
        train = try TensorBoardEventWriter(directory: (logDirectory as NSString).appendingPathComponent("train"))
    }

    /// Writes `batch_loss` and `batch_learning_rate` at the global step, every `updateFrequency` steps.
    public mutating func onTrainBatchEnd(_ step: Int, logs: [String: Double], state: inout TrainingState) throws {
        guard let updateFrequency, let train, state.globalStep % updateFrequency == 0 else { return }
        let values = logs.sorted { $0.key < $1.key }.map { TensorBoardEventWriter.Value.scalar("batch_\($0.key)", Float($0.value)) }
        try train.write(values + [.scalar("batch_learning_rate", state.learningRate)], step: state.globalStep)
    }

    /// Writes the epoch's scalars to `train/` and `validation/`, and the histograms and filter image.
    public mutating func onEpochEnd(_ epoch: Int, logs: [String: Double], state: inout TrainingState) throws {
        guard let train else { return }
        var trainValues: [TensorBoardEventWriter.Value] = [], validationValues: [TensorBoardEventWriter.Value] = []
        for (key, value) in logs.sorted(by: { $0.key < $1.key }) {
            if let prefix = Self.validationPrefixes.first(where: key.hasPrefix) {
                validationValues.append(.scalar("epoch_" + key.dropFirst(prefix.count), Float(value)))
            } else {
                trainValues.append(.scalar("epoch_" + key, Float(value)))
            }
        }
        if histogramFrequency > 0, epoch % histogramFrequency == 0 {
            trainValues += state.model.namedWeights.map { .histogram($0.path, $0.value.scalars) }
        }
        if writeImages, let image = try Self.firstFilters(of: state.model) { trainValues.append(image) }
        try train.write(trainValues, step: epoch)
        if !validationValues.isEmpty {
            if validation == nil {
                validation = try TensorBoardEventWriter(directory: (logDirectory as NSString).appendingPathComponent("validation"))
            }
            try validation?.write(validationValues, step: epoch)
        }
    }

    /// The first `Conv2D`'s kernel as a grid of filters (`ImageGrid.filters`), PNG-encoded, or nil
    /// when the model has no convolution.
    static func firstFilters(of model: Model) throws -> TensorBoardEventWriter.Value? {
        guard let index = model.layers.firstIndex(where: { $0 is Conv2D }), let kernel = (model.layers[index] as? Conv2D)?.kernel else {
            return nil
        }
        let grid = try ImageGrid.filters(kernel)
        return .image("\(model.layers[index].name)/kernel/image", png: try ImageCodec.encodePNG(grid),
                      height: grid.shape[0], width: grid.shape[1], channels: grid.shape[2])
    }
}
