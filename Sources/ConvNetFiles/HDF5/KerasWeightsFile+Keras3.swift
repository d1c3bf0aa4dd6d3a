import ConvNetCore
/// The Keras 3 `.weights.h5` layout (`KerasWeightsLayout.keras3Weights`), as Keras 3's
/// `saving_lib` writes it:
///
///     layers/<key>/vars            attribute `name` = the layer's name (recent Keras 3 versions)
///     layers/<key>/vars/0, 1, ...  the layer's own variables, in creation order (kernel, bias)
///     layers/<key>/<child>/...     objects the layer tracks (sublayers, seed generators), same shape
///     vars                         the model's own variables (empty for Sequential and Functional)
///     optimizer/vars/0, 1, ...     optimizer state (not read)
///
/// `<key>` is the snake-cased class name with a per-class counter in model order (`conv2d`,
/// `max_pooling2d`, `conv2d_1`, ...), not the layer's name; layers without weights still get a group.
/// Keras 2.13 wrote `_layer_checkpoint_dependencies` in place of `layers`.
extension KerasWeightsFile {
    static let keras3LayerGroupNames = ["layers", "_layer_checkpoint_dependencies"]

    /// The group holding the layers, or `nil` when the file has none.
    static func keras3LayersGroup(in file: HDF5File) throws -> String? {
        for name in keras3LayerGroupNames where try file.kind(of: name) == .group {
            return name
        }
        return nil
    }

    /// Writes the Keras 3 `.weights.h5` layout, atomically replacing `path`, so that Keras 3's
    /// `model.load_weights("m.weights.h5")` reads it.
    ///
    /// Each layer goes to `layers/<key>`: with a `modelConfig`, `<key>` is the group Keras derives
    /// from the layer's class (see the layout above); otherwise, or for a layer the config does not
    /// list, it is the layer's name, which matches Keras for default-named layers. The layer's name is
    /// stored in the `name` attribute of its `vars` group. Weights whose names are already Keras 3
    /// paths (`vars/0`, `seed_generator/vars/0`, as read from such a file) are written back at those
    /// paths; others are numbered `vars/0`, `vars/1`, ... in order.
    public func writeKeras3Weights(to path: String) throws {
        try validateNames()
        let config = try modelConfig.map(KerasModelConfig.init(json:))
        let keys = Dictionary(config?.layers.map { ($0.name, $0.storageKey) } ?? [], uniquingKeysWith: { first, _ in first })
        try HDF5File.write(to: path) { file in
            // Keras 3.0 reads the model's own `vars` group without checking that it exists.
            try file.createGroup("vars")
            if let modelName = config?.modelName {
                try file.writeString(modelName, attribute: "name", of: "vars")
            }
            try file.createGroup("layers")
            for layer in layers {
                let group = HDF5File.join("layers", keys[layer.name] ?? layer.name)
                try file.createGroup(HDF5File.join(group, "vars"))
                try file.writeString(layer.name, attribute: "name", of: HDF5File.join(group, "vars"))
                let keepsPaths = layer.weights.allSatisfy { Self.isKeras3VariablePath($0.name) }
                for (index, weight) in layer.weights.enumerated() {
                    try file.write(weight.value, to: HDF5File.join(group, keepsPaths ? weight.name : "vars/\(index)"))
                }
            }
        }
    }

    /// Reads the layers of a `.weights.h5` file; `read(_:modelConfig:)` describes their order,
    /// names and weights. Weights of tracked objects are visited as saving_lib walks them: `layers`
    /// first, then other children in key order with private (`_`-prefixed) ones last.
    static func readKeras3(_ file: HDF5File, modelConfig: String?) throws -> KerasWeightsFile {
        guard let container = try keras3LayersGroup(in: file) else {
            throw ConvNetError.file(path: file.path, message: "group layers not found")
        }
        let keys = try file.children(of: container).filter { $0.kind == .group }.map(\.name)
        let entries: [(key: String, name: String?)]
        if let modelConfig {
            entries = try configOrder(of: keys, in: container, config: KerasModelConfig(json: modelConfig), file: file)
        } else {
            entries = keys.sorted(by: keras3NameOrder).map { ($0, nil) }
        }
        let layers = try entries.map { entry in
            let group = HDF5File.join(container, entry.key)
            let name = try entry.name ?? storedName(of: group, in: file) ?? entry.key
            return KerasLayerWeights(name: name, weights: try variables(under: group, prefix: "", in: file))
        }
        if try file.kind(of: "vars") == .group, try file.children(of: "vars").contains(where: { $0.kind == .dataset }) {
            throw ConvNetError.file(path: file.path, message: "vars holds weights that belong to no layer, which ConvNet does not support")
        }
        return KerasWeightsFile(layers: layers)
    }

    /// Pairs the config's layers with the file's groups. Keras saves a Functional model's input
    /// layers (as empty groups) but not a Sequential model's, so an `InputLayer` may lack a group.
    private static func configOrder(of keys: [String], in container: String, config: KerasModelConfig,
                                    file: HDF5File) throws -> [(key: String, name: String?)] {
        var unmatched = Set(keys)
        var entries: [(key: String, name: String?)] = []
        for layer in config.layers {
            if unmatched.remove(layer.storageKey) != nil {
                entries.append((layer.storageKey, layer.name))
            } else if layer.className != KerasModelJSON.inputLayerClass {
                throw ConvNetError.file(path: file.path, message: "group \(container)/\(layer.storageKey) not found "
                    + "(expected for layer \(layer.name) of class \(layer.className) in the model config)")
            }
        }
        guard unmatched.isEmpty else {
            let groups = unmatched.sorted(by: keras3NameOrder).map { "\(container)/\($0)" }.joined(separator: ", ")
            throw ConvNetError.file(path: file.path, message: "\(groups) match no layer of the model config")
        }
        return entries
    }

    /// The `name` attribute Keras 3 stores on a layer's `vars` group, if present.
    private static func storedName(of group: String, in file: HDF5File) throws -> String? {
        let vars = HDF5File.join(group, "vars")
        guard try file.kind(of: vars) == .group, try file.hasAttribute("name", of: vars) else { return nil }
        return try file.readString(attribute: "name", of: vars)
    }

    /// The variables stored under a saveable's group, in saving_lib's order (see `readKeras3`).
    private static func variables(under group: String, prefix: String, in file: HDF5File) throws -> [KerasWeight] {
        try file.checkWalkDepth(group)
        let children = try file.children(of: group)
        var weights: [KerasWeight] = []
        if children.contains(HDF5Link(name: "vars", kind: .group)) {
            let vars = HDF5File.join(group, "vars")
            let indices = try file.children(of: vars).filter { $0.kind == .dataset }.map(\.name).sorted(by: keras3NameOrder)
            weights += try indices.map { index in
                KerasWeight(name: "\(prefix)vars/\(index)", value: try file.readTensor(HDF5File.join(vars, index)))
            }
        }
        for child in children.filter({ $0.kind == .group && $0.name != "vars" }).map(\.name).sorted(by: keras3NameOrder) {
            weights += try variables(under: HDF5File.join(group, child), prefix: "\(prefix)\(child)/", in: file)
        }
        return weights
    }

    /// `vars/<i>` or `<child>/.../vars/<i>`.
    private static func isKeras3VariablePath(_ name: String) -> Bool {
        let components = name.split(separator: "/", omittingEmptySubsequences: false)
        return components.count >= 2 && components[components.count - 2] == "vars"
            && Int(components[components.count - 1]) != nil && !components.contains("")
    }

    /// Orders the names saving_lib generates: `layers` first and private (`_`-prefixed) names last,
    /// as it walks attributes; variable indices (`0`, `1`, ..., `10`) and Keras's per-class counters
    /// (`dense`, `dense_1`, ..., `dense_10`) compared as numbers.
    static func keras3NameOrder(_ a: String, _ b: String) -> Bool {
        func key(_ name: String) -> (rank: Int, base: Substring, number: Int, name: String) {
            let rank = name == "layers" ? 0 : name.hasPrefix("_") ? 2 : 1
            if let number = Int(name) { return (rank, "", number, name) }
            if let underscore = name.lastIndex(of: "_"), let number = Int(name[name.index(after: underscore)...]) {
                return (rank, name[..<underscore], number, name)
            }
            return (rank, name[...], -1, name)
        }
        return key(a) < key(b)
    }
}
