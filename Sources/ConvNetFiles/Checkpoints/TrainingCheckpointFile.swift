import ConvNetCore
import Foundation

/// A `TrainingCheckpoint` as a file: a Keras legacy `.h5` model file (so Keras can still load the
/// model) with ConvNet's training state beside it: a JSON root attribute `convnet_checkpoint` and
/// the optimizer's slot tensors under the group `convnet_optimizer/<layer>/<weight>/<slot index>`
/// (`convnet_optimizer/conv2d/kernel/0`), keyed by the weight's path. Written atomically.
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
        /// The optimizer's `parameterGroups`; absent in checkpoints written before groups existed.
        var parameterGroups: [ParameterGroup]?
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
                          metrics: training.metrics.map(\.name), history: history.epochs,
                          parameterGroups: training.optimizer.parameterGroups)
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = Self.nonFiniteNumbers
        file.extraAttributes[Self.stateAttribute] = String(decoding: try encoder.encode(state), as: UTF8.self)
        for (path, slots) in training.optimizer.slots {
            for (slot, tensor) in slots.enumerated() {
                file.extraDatasets["\(Self.optimizerGroup)/\(path)/\(slot)"] = tensor
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
        optimizer.slots = try readSlots(file, parameters: model.trainableParameters, path: path)
        optimizer.step = state.step
        optimizer.parameterGroups = state.parameterGroups ?? []
        do {
            try optimizer.validateSlots(for: model.trainableParameters)
        } catch let error as ConvNetError {
            throw ConvNetError.file(path: path, message: error.description)
        }
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

    /// The optimizer slots stored under `convnet_optimizer/<weight path>/<slot index>`, by weight
    /// path. Checkpoints written before slots were named (`convnet_optimizer/<position>/<slot>`)
    /// are read by the position of the weight in `parameters`. Throws, naming the weight, when a
    /// slot index is missing or not a number, or a position is out of range.
    static func readSlots(_ file: KerasWeightsFile, parameters: [Parameter], path: String) throws -> [String: [Tensor]] {
        var indexed: [String: [Int: Tensor]] = [:]
        for (key, tensor) in file.extraDatasets where key.hasPrefix(optimizerGroup + "/") {
            let name = key.dropFirst(optimizerGroup.count + 1)
            guard let slash = name.lastIndex(of: "/"), let slot = Int(name[name.index(after: slash)...]), slot >= 0 else {
                throw ConvNetError.file(path: path, message: "optimizer dataset '\(key)' is not <layer>/<weight>/<slot index>")
            }
            indexed[String(name[..<slash]), default: [:]][slot] = tensor
        }
        let known = Set(parameters.map(\.path))
        if !indexed.isEmpty, indexed.keys.allSatisfy({ !known.contains($0) && Int($0) != nil }) {
            var byName: [String: [Int: Tensor]] = [:]
            for (position, slots) in indexed {
                guard let index = Int(position), parameters.indices.contains(index) else {
                    throw ConvNetError.file(path: path, message: "optimizer state for weight #\(position), but the model has \(parameters.count) trainable weights")
                }
                byName[parameters[index].path] = slots
            }
            indexed = byName
        }
        var slots: [String: [Tensor]] = [:]
        for (weight, bySlot) in indexed {
            slots[weight] = try (0..<bySlot.count).map { slot in
                guard let tensor = bySlot[slot] else {
                    throw ConvNetError.file(path: path, message: "optimizer slot \(slot) of weight '\(weight)' is missing")
                }
                return tensor
            }
        }
        return slots
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
