import ConvNetCore

/// What `Model.loadWeights(from:byName:skipMismatch:)` did with each weight of the model.
public struct WeightLoadReport: Sendable, Equatable {
    /// Why a weight of the model was not loaded (it keeps its value).
    public enum SkipReason: Sendable, Equatable {
        /// The file has no layer of the weight's layer name.
        case notInFile
        /// The file's layer of that name has `found` weights where the model's has `expected`.
        case countMismatch(expected: Int, found: Int)
        /// The file's weight has shape `found` where the model's has `expected`.
        case shapeMismatch(expected: [Int], found: [Int])
    }

    /// A weight of the model that was left as it was, and why.
    public struct SkippedWeight: Sendable, Equatable {
        /// The weight's path, `<layer>/<weight>`.
        public let path: String
        /// Why it was not loaded.
        public let reason: SkipReason

        /// The weight at `path`, skipped for `reason`.
        public init(path: String, reason: SkipReason) {
            self.path = path
            self.reason = reason
        }
    }

    /// The paths of the weights that now hold the file's values, in the model's order.
    public var loaded: [String]
    /// The model's weights left as they were, with the reason, in the model's order.
    public var skipped: [SkippedWeight]
    /// Layers with weights in the file that match no layer of the model, by name (ignored).
    public var unusedFileLayers: [String]

    /// A report of `loaded` and `skipped` weights and `unusedFileLayers`.
    public init(loaded: [String] = [], skipped: [SkippedWeight] = [], unusedFileLayers: [String] = []) {
        self.loaded = loaded
        self.skipped = skipped
        self.unusedFileLayers = unusedFileLayers
    }

    /// The paths of the weights left as they were (`skipped`'s paths).
    public var unchanged: [String] { skipped.map(\.path) }
}

extension Model {
    /// Keras's `load_weights(by_name=True, skip_mismatch=...)`: each layer of the model takes the
    /// weights of the file's layer of the same name, matched within the layer by position (Keras's
    /// order: kernel, bias; gamma, beta, moving mean, moving variance). Layers absent from the file
    /// keep their weights. A layer whose weight count differs, or a weight whose shape differs,
    /// throws naming the weight and the file, unless `skipMismatch`, which skips and reports it.
    /// All or nothing: on a throw no weight has changed.
    mutating func assignWeightsByName(_ file: KerasWeightsFile, path: String, skipMismatch: Bool) throws -> WeightLoadReport {
        let stored = file.layers.filter { !$0.weights.isEmpty }
        let byName = Dictionary(stored.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var report = WeightLoadReport()
        var values: [String: Tensor] = [:]
        for layer in layers where !layer.weightNames.isEmpty {
            let current = zip(layer.weightNames, layer.trainableWeights + layer.nonTrainableWeights).map { ("\(layer.name)/\($0)", $1) }
            guard let source = byName[layer.name] else {
                report.skipped += current.map { WeightLoadReport.SkippedWeight(path: $0.0, reason: .notInFile) }
                continue
            }
            guard source.weights.count == current.count else {
                guard skipMismatch else {
                    throw ConvNetError.file(path: path, message: "layer '\(layer.name)' has \(source.weights.count) weights, but the model's layer '\(layer.name)' (\(layer.kerasClassName)) expects \(current.count)")
                }
                report.skipped += current.map {
                    WeightLoadReport.SkippedWeight(path: $0.0, reason: .countMismatch(expected: current.count, found: source.weights.count))
                }
                continue
            }
            for ((weightPath, target), weight) in zip(current, source.weights) {
                guard weight.value.shape == target.shape else {
                    guard skipMismatch else {
                        throw ConvNetError.file(path: path, message: "weight '\(weightPath)' has shape \(describe(shape: weight.value.shape)) in the file, but the model expects \(describe(shape: target.shape))")
                    }
                    report.skipped.append(.init(path: weightPath, reason: .shapeMismatch(expected: target.shape, found: weight.value.shape)))
                    continue
                }
                values[weightPath] = weight.value
                report.loaded.append(weightPath)
            }
        }
        let names = Set(layers.map(\.name))
        report.unusedFileLayers = stored.map(\.name).filter { !names.contains($0) }
        try setWeights(values)
        return report
    }
}
