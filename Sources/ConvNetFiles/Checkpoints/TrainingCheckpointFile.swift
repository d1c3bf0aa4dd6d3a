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
        /// Absent in checkpoints written before losses could be summed (then the mean).
        var lossReduction: LossReduction?
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
                          metrics: training.metrics.map(\.name), history: history.epochs,
                          parameterGroups: training.optimizer.parameterGroups, lossReduction: training.lossReduction)
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
        func registered<T>(_ make: () throws -> T) throws -> T {
            do { return try make() } catch let error as ConvNetError { throw ConvNetError.file(path: path, message: error.description) }
        }
        func generator(_ words: [String], _ field: String) throws -> RandomGenerator {
            let parsed = words.compactMap(UInt64.init)
            guard parsed.count == words.count else {
                throw ConvNetError.file(path: path, message: "\(stateAttribute): \(field) \(words) is not four unsigned 64-bit numbers")
            }
            return try registered { try RandomGenerator(state: parsed) }
        }
        // Counters from the file drive loops and the optimizer's bias correction: negative ones
        // made the run trap.
        for (field, value) in [("epoch", state.epoch), ("step", state.step)] where value < 0 {
            throw ConvNetError.file(path: path, message: "\(stateAttribute): \(field) is \(value), expected 0 or more")
        }
        var optimizer: any Optimizer = try registered {
            try OptimizerRegistry.optimizer(named: state.optimizer, hyperparameters: state.hyperparameters)
        }
        optimizer.slots = try readSlots(file, parameters: model.trainableParameters, path: path)
        optimizer.step = state.step
        optimizer.parameterGroups = state.parameterGroups ?? []
        try registered { try optimizer.validateSlots(for: model.trainableParameters) }
        let loss = try registered { try state.loss.loss }
        let metrics = try registered { try state.metrics.map(Metric.init(name:)) }
        var compiled = model
        compiled.training = TrainingConfiguration(optimizer: optimizer, loss: loss, metrics: metrics,
                                                  schedule: state.schedule, schedulePerStep: state.schedulePerStep,
                                                  initialLearningRate: state.initialLearningRate)
        compiled.training?.lossReduction = state.lossReduction ?? .mean
        return TrainingCheckpoint(model: compiled, epoch: state.epoch, shuffler: try generator(state.shuffler, "shuffler"),
                                  dropoutGenerator: try generator(state.dropout, "dropout"), metadata: model.metadata,
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
}

/// `Loss` as JSON, for checkpoints.
struct LossCoding: Codable {
    let name: String
    let fromLogits: Bool
    /// Keras's `label_smoothing`; absent (0) in checkpoints written before it existed.
    let labelSmoothing: Float?

    init(_ loss: Loss) {
        name = loss.kerasName
        fromLogits = loss.fromLogits
        labelSmoothing = loss.labelSmoothing == 0 ? nil : loss.labelSmoothing
    }

    /// The loss through `LossRegistry`; an unknown name throws, listing the known ones.
    var loss: Loss {
        get throws { try Loss(kerasName: name, fromLogits: fromLogits).with(labelSmoothing: labelSmoothing ?? 0) }
    }
}
