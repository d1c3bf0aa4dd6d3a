import ConvNetCore
/// One weight array of a layer, under the name its file gives it.
///
/// Names depend on the layout: `conv2d/kernel:0` (Keras 2 `.h5`), `lenet5/conv2d/kernel` (Keras 3
/// legacy `.h5`), or the path inside the layer's group, `vars/0`, `vars/1`, ... (Keras 3
/// `.weights.h5`, which stores variables by index only).
public struct KerasWeight: Sendable, Equatable {
    /// The weight's full name in the file, `<model>/<layer>/<weight>` (e.g. `sequential/dense/kernel`).
    public var name: String
    /// In Keras's layout: conv kernels `(k_h, k_w, c_in, c_out)`, dense kernels `(in, out)`,
    /// biases `(out,)`.
    public var value: Tensor

    /// A weight named `name` holding `value`.
    public init(name: String, value: Tensor) {
        self.name = name
        self.value = value
    }
}

/// The weights of one layer, in the layer's own order (kernel before bias, as Keras creates them).
/// Layers without weights (pooling, flatten) have an empty `weights`.
public struct KerasLayerWeights: Sendable, Equatable {
    /// The layer's name in the model config, such as `conv2d_1`.
    public var name: String
    /// The layer's weights in Keras's order (kernel, bias; gamma, beta, moving mean, moving variance).
    public var weights: [KerasWeight]

    /// A layer entry named `name` with its weights.
    public init(name: String, weights: [KerasWeight]) {
        self.name = name
        self.weights = weights
    }
}

/// The ways Keras lays out weights in an HDF5 file.
public enum KerasWeightsLayout: Sendable, Equatable {
    /// `model.save("m.h5")`: root attributes `model_config`, `keras_version`, `backend`; a
    /// `model_weights` group whose `layer_names` attribute lists every layer in model order, one
    /// group per layer with a `weight_names` attribute, datasets at `model_weights/<layer>/<weight name>`.
    case legacyModel
    /// Keras 2 `model.save_weights("m.h5")`: the same with `layer_names` on the root group.
    case legacyWeights
    /// Keras 3 `model.save_weights("m.weights.h5")`: `layers/<key>/vars/<i>`, one group per layer.
    /// Keras 2.13 wrote `_layer_checkpoint_dependencies` in place of `layers`.
    case keras3Weights
}

/// The weights of a Keras model, read from or written to any of its HDF5 layouts.
///
/// The structure is layout-neutral: the layers in model order, each with its named arrays, plus the
/// metadata a legacy `.h5` file carries. Optimizer state is not read.
public struct KerasWeightsFile: Sendable, Equatable {
    /// One entry per Keras layer in model order, weightless layers included.
    public var layers: [KerasLayerWeights]
    /// The model's JSON config (the `model_config` root attribute), unparsed.
    public var modelConfig: String?
    /// Such as `3.15.1`.
    public var kerasVersion: String?
    /// Such as `tensorflow`.
    public var backend: String?
    /// Root string attributes of other tools, named `convnet_*` (legacy layouts only); Keras ignores them.
    public var extraAttributes: [String: String] = [:]
    /// Datasets of other tools under a root group named `convnet_*` (legacy layouts only), by path
    /// (`convnet_optimizer/0/1`); Keras ignores them.
    public var extraDatasets: [String: Tensor] = [:]
    /// The prefix that marks `extraAttributes` and the groups of `extraDatasets` when reading.
    public static let extraAttributePrefix = "convnet_"

    /// A file's content: its layers, and the model config and version attributes when known.
    public init(layers: [KerasLayerWeights], modelConfig: String? = nil, kerasVersion: String? = nil, backend: String? = nil) {
        self.layers = layers
        self.modelConfig = modelConfig
        self.kerasVersion = kerasVersion
        self.backend = backend
    }

    /// Reads any Keras weight layout, detected from the file's structure (not its name).
    ///
    /// Legacy files list their layers in model order. A Keras 3 `.weights.h5` file records neither
    /// the order nor (before recent Keras 3 versions) the names of its layers, so pass the model's
    /// JSON config (a `.keras` archive's `config.json`, or a legacy file's `model_config`) as
    /// `modelConfig` to get them in model order under their config names, matched to the file's
    /// groups as Keras matches them. Without it, layers come sorted by their group (`conv2d`,
    /// `conv2d_1`, `dense`, ...): model order within each layer class, with classes in name order.
    /// Their weights are the layer's variables by index, named `vars/0`, `vars/1`, ..., followed by
    /// those of objects the layer tracks (a nested model's layers, seed generators), named by their
    /// path in the layer's group.
    public static func read(_ path: String, modelConfig: String? = nil) throws -> KerasWeightsFile {
        try HDF5File.read(path) { file in
            switch try layout(of: file) {
            case .legacyModel: return try readLegacy(file, weightsGroup: legacyModelWeightsGroup)
            case .legacyWeights: return try readLegacy(file, weightsGroup: "/")
            case .keras3Weights: return try readKeras3(file, modelConfig: modelConfig)
            }
        }
    }

    /// The layout of a Keras weight file.
    public static func layout(of path: String) throws -> KerasWeightsLayout {
        try HDF5File.read(path) { try layout(of: $0) }
    }

    static func layout(of file: HDF5File) throws -> KerasWeightsLayout {
        if try file.hasAttribute(legacyLayerNames, of: "/") || file.hasAttribute(legacyLayerNames + "0", of: "/") {
            return .legacyWeights
        }
        if try file.kind(of: legacyModelWeightsGroup) == .group {
            return .legacyModel
        }
        if try keras3LayersGroup(in: file) != nil {
            return .keras3Weights
        }
        let found = try file.children(of: "/").map(\.name).joined(separator: ", ")
        throw ConvNetError.file(path: file.path, message: "not a Keras weight file: expected a model_weights group, "
            + "a layer_names attribute or a layers group at the root, found [\(found)]")
    }

    /// Both writers turn names into HDF5 paths, where an empty name would denote the parent group.
    func validateNames() throws {
        for layer in layers {
            guard !HDF5File.normalized(layer.name).isEmpty else { throw ConvNetError.argument("Keras weights: a layer has an empty name") }
            if layer.weights.contains(where: { HDF5File.normalized($0.name).isEmpty }) {
                throw ConvNetError.argument("Keras weights: layer \(layer.name) has a weight with an empty name")
            }
        }
    }
}
