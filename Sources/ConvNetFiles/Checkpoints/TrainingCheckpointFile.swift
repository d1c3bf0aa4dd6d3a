import ConvNetCore
import Foundation

/// A `TrainingCheckpoint` as a file: a Keras legacy `.h5` model file (so Keras can still load the
/// model) with ConvNet's training state beside it: a JSON root attribute `convnet_checkpoint` and
/// the optimizer's slot tensors under the group `convnet_optimizer/<weight>/<slot>`. Written atomically.
extension TrainingCheckpoint {
    /// The JSON stored in `convnet_checkpoint`.
    struct State: Codable {
        var epoch: Int
        var shuffler: [String]
        var dropout: [String]
        var optimizer: String
        var hyperparameters: [String: Float]
        var step: Int
        var initialLearningRate: Float
        var schedule: LearningRateSchedule
        var schedulePerStep: Bool
        var loss: LossCoding
        var metrics: [String]
        /// Absent in checkpoints written before the history was kept.
        var history: [[String: Double]]?
    }

    static let stateAttribute = "convnet_checkpoint"
    /// How NaN and infinite logged values (a diverged validation loss) are spelled in the JSON.
    static let nonFiniteNumbers = JSONEncoder.NonConformingFloatEncodingStrategy.convertToString(
        positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    static let optimizerGroup = "convnet_optimizer"

    /// Writes the checkpoint atomically; throws unless the model is compiled.
    public func save(to path: String) throws {
        guard let training = model.training else {
            throw ConvNetError.argument("checkpoint: model '\(model.name)' is not compiled; there is no training state to save")
        }
        var file = try model.kerasWeightsFile(metadata: metadata)
        let optimizer = try OptimizerRegistry.configuration(of: training.optimizer)
        let state = State(epoch: epoch, shuffler: shuffler.state.map(String.init), dropout: dropoutGenerator.state.map(String.init),
                          optimizer: optimizer.name, hyperparameters: optimizer.hyperparameters,
                          step: training.optimizer.step, initialLearningRate: training.initialLearningRate,
                          schedule: training.schedule, schedulePerStep: training.schedulePerStep,
                          loss: LossCoding(training.loss),
                          metrics: training.metrics.map(\.name), history: history.epochs)
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = Self.nonFiniteNumbers
        file.extraAttributes[Self.stateAttribute] = String(decoding: try encoder.encode(state), as: UTF8.self)
        for (weight, slots) in training.optimizer.slots.enumerated() {
            for (slot, tensor) in slots.enumerated() {
                file.extraDatasets["\(Self.optimizerGroup)/\(weight)/\(slot)"] = tensor
            }
        }
        try file.writeLegacy(to: path)
    }

    /// Reads a checkpoint written by `save(to:)`; a plain model file throws, naming the missing state.
    public static func load(from path: String) throws -> TrainingCheckpoint {
        let file = try KerasWeightsFile.read(path)
        let model = try Model.load(file, path: path)
        guard let json = file.extraAttributes[stateAttribute] else {
            throw ConvNetError.file(path: path, message: "is a model file without training state (no \(stateAttribute) attribute); use Model.load")
        }
        let state: State
        do {
            let decoder = JSONDecoder()
            decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity",
                                                                            negativeInfinity: "-Infinity", nan: "NaN")
            state = try decoder.decode(State.self, from: Data(json.utf8))
        } catch {
            throw ConvNetError.file(path: path, message: "unreadable \(stateAttribute): \(error)")
        }
        func generator(_ words: [String]) throws -> RandomGenerator {
            try RandomGenerator(state: words.compactMap(UInt64.init))
        }
        func registered<T>(_ make: () throws -> T) throws -> T {
            do { return try make() } catch let error as ConvNetError { throw ConvNetError.file(path: path, message: error.description) }
        }
        var optimizer: any Optimizer = try registered {
            try OptimizerRegistry.optimizer(named: state.optimizer, hyperparameters: state.hyperparameters)
        }
        var slots: [[Tensor]] = []
        while let first = file.extraDatasets["\(optimizerGroup)/\(slots.count)/0"] {
            var weightSlots = [first]
            while let next = file.extraDatasets["\(optimizerGroup)/\(slots.count)/\(weightSlots.count)"] { weightSlots.append(next) }
            slots.append(weightSlots)
        }
        optimizer.slots = slots
        optimizer.step = state.step
        let loss = try registered { try state.loss.loss }
        let metrics = try registered { try state.metrics.map(Metric.init(name:)) }
        var compiled = model
        compiled.training = TrainingConfiguration(optimizer: optimizer, loss: loss, metrics: metrics,
                                                  schedule: state.schedule, schedulePerStep: state.schedulePerStep,
                                                  initialLearningRate: state.initialLearningRate)
        return TrainingCheckpoint(model: compiled, epoch: state.epoch, shuffler: try generator(state.shuffler),
                                  dropoutGenerator: try generator(state.dropout), metadata: model.metadata,
                                  history: History(epochs: state.history ?? []))
    }
}

/// `Loss` as JSON, for checkpoints.
struct LossCoding: Codable {
    let name: String
    let fromLogits: Bool

    init(_ loss: Loss) {
        name = loss.kerasName
        fromLogits = loss.fromLogits
    }

    /// The loss through `LossRegistry`; an unknown name throws, listing the known ones.
    var loss: Loss {
        get throws { try Loss(kerasName: name, fromLogits: fromLogits) }
    }
}
