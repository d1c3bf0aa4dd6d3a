/// One weight of a model under its stable name (PyTorch `named_parameters`, Keras `weight.path`).
///
/// The path is `<layer name>/<weight name>`: `conv2d_1/kernel`, `dense/bias`,
/// `batch_normalization/moving_mean`, Keras's names without the model's prefix. Optimizers key
/// their state by `path`, parameter groups select by `path`, `layerName`, `weightName` or
/// `layerKind`, and checkpoints store optimizer state under it.
public struct Parameter: Sendable, Equatable {
    /// `<layerName>/<weightName>`, unique within a model.
    public let path: String
    /// The name of the layer holding the weight (`conv2d_1`).
    public let layerName: String
    /// Keras's name of the weight within its layer (`kernel`, `bias`, `gamma`, `beta`, `moving_mean`, ...).
    public let weightName: String
    /// Keras's class name of the layer (`Conv2D`, `BatchNormalization`); empty when unknown.
    public let layerKind: String
    /// Whether the optimizer updates the weight (false for batch normalization's moving statistics
    /// and for every weight of a frozen layer).
    public let isTrainable: Bool
    /// The weight's current value.
    public var value: Tensor

    /// A weight of layer `layerName` (of Keras class `layerKind`) named `weightName`; its path is
    /// `layerName + "/" + weightName`.
    public init(layerName: String, weightName: String, layerKind: String = "", isTrainable: Bool = true, value: Tensor) {
        self.path = "\(layerName)/\(weightName)"
        self.layerName = layerName
        self.weightName = weightName
        self.layerKind = layerKind
        self.isTrainable = isTrainable
        self.value = value
    }

    /// A free-standing trainable weight named `path` (no layer kind); the part after the last `/` is
    /// its weight name and the part before it its layer name (empty without a `/`).
    public init(path: String, value: Tensor) {
        let slash = path.lastIndex(of: "/")
        self.path = path
        self.layerName = slash.map { String(path[..<$0]) } ?? ""
        self.weightName = slash.map { String(path[path.index(after: $0)...]) } ?? path
        self.layerKind = ""
        self.isTrainable = true
        self.value = value
    }

    /// The value's shape.
    public var shape: [Int] { value.shape }
}

extension Model {
    /// Every weight with its path, layer by layer in Keras's order (each layer's `weightNames`:
    /// trainable weights, then non-trainable ones, whatever the layer's `trainable`): the model's
    /// state, as PyTorch's `state_dict()` or Keras's `model.weights`. A frozen layer's weights have
    /// `isTrainable == false`.
    public var namedWeights: [Parameter] {
        layers.flatMap { layer in
            let values = layer.trainableWeights + layer.nonTrainableWeights
            let trainableCount = layer.trainable ? layer.trainableWeights.count : 0
            return zip(layer.weightNames, values).enumerated().map { index, pair in
                Parameter(layerName: layer.name, weightName: pair.0, layerKind: layer.kerasClassName,
                          isTrainable: index < trainableCount, value: pair.1)
            }
        }
    }

    /// The trainable weights with their paths, in the order of `trainableWeights` (the optimizer's
    /// parameters; PyTorch `named_parameters()`, Keras `model.trainable_weights`).
    public var trainableParameters: [Parameter] { namedWeights.filter(\.isTrainable) }

    /// The non-trainable weights with their paths (batch normalization's moving statistics; Keras
    /// `model.non_trainable_weights`).
    public var nonTrainableParameters: [Parameter] { namedWeights.filter { !$0.isTrainable } }

    /// The weight at `path` (`<layer>/<weight>`), or `nil` when the model has none.
    public func weight(at path: String) -> Tensor? {
        guard let (layer, index) = weightLocation(of: path) else { return nil }
        return (layers[layer].trainableWeights + layers[layer].nonTrainableWeights)[index]
    }

    /// Replaces the weight at `path` (`<layer>/<weight>`) with `value`; throws, naming the path,
    /// when the model has no such weight or `value`'s shape differs from the current one.
    public mutating func setWeight(_ value: Tensor, at path: String) throws {
        guard let (layer, index) = weightLocation(of: path) else {
            throw ConvNetError.argument("Model '\(name)': no weight '\(path)' (weights: \(namedWeights.map(\.path).joined(separator: ", ")))")
        }
        let trainableCount = layers[layer].trainableWeights.count
        let current = (layers[layer].trainableWeights + layers[layer].nonTrainableWeights)[index]
        guard current.shape == value.shape else {
            throw ConvNetError.shape(op: "Model '\(name)'",
                                     message: "weight '\(path)' has shape \(describe(shape: current.shape)), got \(describe(shape: value.shape))")
        }
        if index < trainableCount {
            layers[layer].trainableWeights[index] = value
        } else {
            layers[layer].nonTrainableWeights[index - trainableCount] = value
        }
    }

    /// Replaces every weight named in `weights` (path → value), all or nothing: throws, naming the
    /// path, on an unknown path or a shape that differs, before changing anything.
    public mutating func setWeights(_ weights: [String: Tensor]) throws {
        var copy = self
        for (path, value) in weights.sorted(by: { $0.key < $1.key }) { try copy.setWeight(value, at: path) }
        self = copy
    }

    /// The layer index and the index in `trainableWeights + nonTrainableWeights` of the weight at `path`.
    func weightLocation(of path: String) -> (layer: Int, index: Int)? {
        for (layerIndex, layer) in layers.enumerated() where path.hasPrefix(layer.name + "/") {
            let weightName = path.dropFirst(layer.name.count + 1)
            if let index = layer.weightNames.firstIndex(where: { $0 == weightName }) { return (layerIndex, index) }
        }
        return nil
    }
}
