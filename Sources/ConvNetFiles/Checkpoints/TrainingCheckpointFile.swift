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
        let state = State(epoch: epoch, shuffler: shuffler.state.map(String.init), dropout: dropoutGenerator.state.map(String.init),
                          optimizer: training.optimizer.kerasName, hyperparameters: training.optimizer.hyperparameters,
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
        var optimizer = try makeOptimizer(name: state.optimizer, hyperparameters: state.hyperparameters, path: path)
        var slots: [[Tensor]] = []
        while let first = file.extraDatasets["\(optimizerGroup)/\(slots.count)/0"] {
            var weightSlots = [first]
            while let next = file.extraDatasets["\(optimizerGroup)/\(slots.count)/\(weightSlots.count)"] { weightSlots.append(next) }
            slots.append(weightSlots)
        }
        optimizer.slots = slots
        optimizer.step = state.step
        let loss = state.loss.loss
        var compiled = model
        compiled.training = TrainingConfiguration(optimizer: optimizer, loss: loss,
                                                  metrics: state.metrics.compactMap(Metric.init(name:)),
                                                  schedule: state.schedule, schedulePerStep: state.schedulePerStep,
                                                  initialLearningRate: state.initialLearningRate)
        return TrainingCheckpoint(model: compiled, epoch: state.epoch, shuffler: try generator(state.shuffler),
                                  dropoutGenerator: try generator(state.dropout), metadata: model.metadata,
                                  history: History(epochs: state.history ?? []))
    }

    static func makeOptimizer(name: String, hyperparameters h: [String: Float], path: String) throws -> any Optimizer {
        let lr = h["learning_rate"] ?? 0.001
        switch name {
        case "sgd": return SGD(learningRate: lr)
        case "momentum", "nesterov":
            let form: Momentum.Form = name == "nesterov" ? .nesterov : (h["classic"] == 1 ? .classic : .exponentialAverage)
            return Momentum(learningRate: lr, beta: h["beta"] ?? 0.9, form: form)
        case "adagrad": return Adagrad(learningRate: lr, epsilon: h["epsilon"] ?? 1e-8)
        case "rmsprop": return RMSprop(learningRate: lr, rho: h["rho"] ?? 0.9, epsilon: h["epsilon"] ?? 1e-8)
        case "adam", "adamw":
            return Adam(learningRate: lr, beta1: h["beta_1"] ?? 0.9, beta2: h["beta_2"] ?? 0.999, epsilon: h["epsilon"] ?? 1e-8,
                        weightDecay: h["weight_decay"] ?? 0)
        default: throw ConvNetError.file(path: path, message: "unknown optimizer '\(name)' in the checkpoint")
        }
    }
}

extension Metric {
    /// The metric a log key names (`accuracy`, `top_5_accuracy`).
    init?(name: String) {
        if name == "accuracy" { self = .accuracy; return }
        let parts = name.split(separator: "_")
        guard parts.count == 3, parts[0] == "top", parts[2] == "accuracy", let k = Int(parts[1]) else { return nil }
        self = .topKAccuracy(k)
    }
}

/// `Loss` as JSON, for checkpoints.
struct LossCoding: Codable {
    let name: String
    let fromLogits: Bool

    init(_ loss: Loss) {
        name = loss.kerasName
        switch loss {
        case let .sparseCategoricalCrossentropy(logits), let .categoricalCrossentropy(logits), let .binaryCrossentropy(logits):
            fromLogits = logits
        case .meanSquaredError: fromLogits = false
        }
    }

    var loss: Loss {
        switch name {
        case "categorical_crossentropy": return .categoricalCrossentropy(fromLogits: fromLogits)
        case "binary_crossentropy": return .binaryCrossentropy(fromLogits: fromLogits)
        case "mean_squared_error": return .meanSquaredError
        default: return .sparseCategoricalCrossentropy(fromLogits: fromLogits)
        }
    }
}
