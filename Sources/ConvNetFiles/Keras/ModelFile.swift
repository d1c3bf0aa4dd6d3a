import ConvNetCore
import Foundation

extension ModelMetadata {
    /// The root attribute of a model file that holds the metadata as JSON.
    static let attribute = "convnet_metadata"
}

extension Model {
    /// Saves architecture and weights in the format `path`'s name asks for (`ModelFileFormat`):
    /// a Keras 3 `.keras` archive (`model.save("m.keras")`), or else a Keras legacy `.h5` file
    /// (`model.save("m.h5")`'s layout); `keras.saving.load_model` reads both. Written atomically,
    /// with `metadata` (default: the model's own `metadata`) where Keras ignores it.
    public func save(to path: String, metadata: ModelMetadata? = nil) throws {
        switch ModelFileFormat(path: path) {
        case .kerasArchive:
            try kerasArchive(metadata: metadata).write(to: path)
        case .hdf5, .kerasConfig, nil:
            try kerasWeightsFile(metadata: metadata).writeLegacy(to: path)
        }
    }

    /// The model's architecture, weights and metadata (`metadata`, else the model's) in Keras's file structure.
    func kerasWeightsFile(metadata: ModelMetadata?) throws -> KerasWeightsFile {
        var file = KerasWeightsFile(layers: try kerasWeights(), modelConfig: try KerasModelJSON.json(for: self))
        if let metadata = metadata ?? self.metadata {
            file.extraAttributes[ModelMetadata.attribute] = String(decoding: try JSONEncoder().encode(metadata), as: UTF8.self)
        }
        return file
    }

    /// The model as a Keras 3 `.keras` archive: `config.json` as Keras serializes a model (the
    /// model config plus `module`, `registered_name` and `build_config`, as Keras 3.15 writes them
    /// for Sequential and Functional models), its weights in Keras 3's
    /// layout, and `metadata` (else the model's) in `metadata.json`.
    func kerasArchive(metadata: ModelMetadata?) throws -> KerasArchive {
        let modelConfig = try KerasModelJSON.json(for: self)
        guard var root = try KerasValue.parse(json: modelConfig, what: "model config").object else {
            throw ConvNetError.argument("model config of '\(name)' is not a JSON object")
        }
        // What Keras 3's serialize_keras_object adds around get_config(), as it writes them.
        if isSequential {
            root["module"] = "keras"
            root["registered_name"] = .null
            root["build_config"] = ["input_shape": .array([.null] + inputShape.map { $0.map(KerasValue.int) ?? .null })]
        } else {
            root["module"] = "keras.src.models.functional"
            root["registered_name"] = "Functional"
            root["build_config"] = ["input_shape": .null]
        }
        let config = try KerasValue.object(root).jsonText()
        return KerasArchive(config: config, weights: KerasWeightsFile(layers: try kerasWeights(), modelConfig: config),
                            metadata: metadata ?? self.metadata)
    }

    /// Saves only the weights: Keras 3's `.weights.h5` layout when `path` ends in `.weights.h5`,
    /// else Keras's legacy `save_weights` `.h5` layout.
    public func saveWeights(to path: String) throws {
        let file = KerasWeightsFile(layers: try kerasWeights(), modelConfig: try KerasModelJSON.json(for: self))
        if path.hasSuffix(".weights.h5") {
            try file.writeKeras3Weights(to: path)
        } else {
            try file.writeLegacyWeights(to: path)
        }
    }

    /// Loads a whole model, as `keras.saving.load_model`: from a Keras 3 `.keras` archive when
    /// `path` ends in `.keras`, else from a legacy `.h5` file with a `model_config` (Keras 2 or 3, or
    /// ConvNet). ConvNet's saved class names and preprocessing are in `metadata`.
    public static func load(from path: String) throws -> Model {
        switch ModelFileFormat(path: path) {
        case .kerasArchive:
            let archive = try KerasArchive.read(path)
            var file = archive.weights
            file.modelConfig = archive.config
            var model = try load(file, path: path)
            model.metadata = archive.metadata
            return model
        case .hdf5, .kerasConfig, nil:
            return try load(KerasWeightsFile.read(path), path: path)
        }
    }

    /// `load(from:)` with the metadata beside the model, for callers that keep them apart.
    public static func loadWithMetadata(from path: String) throws -> (model: Model, metadata: ModelMetadata?) {
        let model = try load(from: path)
        return (model, model.metadata)
    }

    static func load(_ file: KerasWeightsFile, path: String) throws -> Model {
        guard let config = file.modelConfig else {
            throw ConvNetError.file(path: path, message: "holds weights only (no model_config); build the model, then call loadWeights(from:)")
        }
        var model: Model
        do {
            model = try KerasModelJSON.model(fromJSON: config)
        } catch let error as ConvNetError {
            throw ConvNetError.file(path: path, message: error.description)
        }
        try model.assignWeights(file, path: path)
        model.metadata = try file.extraAttributes[ModelMetadata.attribute].map {
            do {
                return try JSONDecoder().decode(ModelMetadata.self, from: Data($0.utf8))
            } catch {
                throw ConvNetError.file(path: path, message: "attribute \(ModelMetadata.attribute) is not ConvNet's model metadata (damaged JSON?)")
            }
        }
        return model
    }

    /// Loads weights saved by Keras or ConvNet (Keras `model.load_weights`).
    ///
    /// By position (the default, any layout, and `.keras` archives): the i-th layer with weights in the file goes to the
    /// i-th layer with weights here; every count and shape must match. `byName` (legacy `.h5` files
    /// only, as Keras's `by_name=True`): each layer takes the weights of the file's layer of the same
    /// name, layers absent from the file keep theirs, and with `skipMismatch` a layer or weight whose
    /// count or shape differs is skipped instead of throwing. Returns what was loaded and skipped.
    @discardableResult
    public mutating func loadWeights(from path: String, byName: Bool = false, skipMismatch: Bool = false) throws -> WeightLoadReport {
        guard byName else {
            guard !skipMismatch else {
                throw ConvNetError.argument("loadWeights: skipMismatch needs byName (as Keras's skip_mismatch needs by_name)")
            }
            if ModelFileFormat(path: path) == .kerasArchive {
                try assignWeights(KerasArchive.read(path).weights, path: path)
            } else {
                try assignWeights(KerasWeightsFile.read(path, modelConfig: try KerasModelJSON.json(for: self)), path: path)
            }
            return WeightLoadReport(loaded: namedWeights.map(\.path))
        }
        guard ModelFileFormat(path: path) != .kerasArchive else {
            throw ConvNetError.file(path: path, message: "is a Keras 3 .keras file, whose weights are stored by position only; load it with byName: false")
        }
        guard try KerasWeightsFile.layout(of: path) != .keras3Weights else {
            throw ConvNetError.file(path: path, message: "is a Keras 3 .weights.h5 file, which stores weights by position only; load it with byName: false")
        }
        return try assignWeightsByName(KerasWeightsFile.read(path), path: path, skipMismatch: skipMismatch)
    }

    /// The model's weights in Keras's file structure: one entry per Keras layer (explicit conv
    /// padding adds a weightless `ZeroPadding2D`), weights named `<model>/<layer>/<name>`.
    func kerasWeights() throws -> [KerasLayerWeights] {
        try KerasModelJSON.kerasLayers(of: self).map { entry in
            guard let index = entry.layerIndex else { return KerasLayerWeights(name: entry.name, weights: []) }
            let layer = layers[index]
            let values = layer.trainableWeights + layer.nonTrainableWeights
            return KerasLayerWeights(name: entry.name, weights: zip(layer.weightNames, values).map {
                KerasWeight(name: "\(name)/\(layer.name)/\($0)", value: $1)
            })
        }
    }

    mutating func assignWeights(_ file: KerasWeightsFile, path: String) throws {
        let stored = file.layers.filter { !$0.weights.isEmpty }
        let targets = layers.indices.filter { !layers[$0].weightNames.isEmpty }
        guard stored.count == targets.count else {
            throw ConvNetError.file(path: path, message: "has \(stored.count) layers with weights, but model '\(name)' has \(targets.count) (\(targets.map { layers[$0].name }.joined(separator: ", ")))")
        }
        for (source, index) in zip(stored, targets) {
            let layer = layers[index]
            let current = layer.trainableWeights + layer.nonTrainableWeights
            guard source.weights.count == current.count else {
                throw ConvNetError.file(path: path, message: "layer '\(source.name)' has \(source.weights.count) weights, but layer '\(layer.name)' (\(layer.kerasClassName)) expects \(current.count)")
            }
            for (weight, target) in zip(source.weights, current) where weight.value.shape != target.shape {
                throw ConvNetError.file(path: path, message: "weight \(weight.name) of layer '\(source.name)' has shape \(describe(shape: weight.value.shape)), but layer '\(layer.name)' expects \(describe(shape: target.shape))")
            }
            let trainableCount = layer.trainableWeights.count
            layers[index].trainableWeights = source.weights.prefix(trainableCount).map(\.value)
            layers[index].nonTrainableWeights = source.weights.dropFirst(trainableCount).map(\.value)
        }
    }
}
