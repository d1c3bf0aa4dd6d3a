import ConvNetCore
/// The legacy Keras `.h5` layouts (`KerasWeightsLayout.legacyModel` and `.legacyWeights`), as
/// Keras 2's `hdf5_format.py` and Keras 3's `legacy_h5_format.py` write and read them.
extension KerasWeightsFile {
    static let legacyModelWeightsGroup = "model_weights"
    static let legacyLayerNames = "layer_names"
    static let legacyWeightNames = "weight_names"
    /// Keras's `HDF5_OBJECT_HEADER_LIMIT`: name lists whose fixed-length storage would exceed it are
    /// split over several attributes, because libhdf5 keeps attributes in a 64 KiB object header.
    static let legacyAttributeLimit = 64512

    /// What the writers record when `kerasVersion` or `backend` is `nil`. Any version other than
    /// `"1"` makes Keras load the arrays unchanged (Keras 2 converts weights it believes Keras 1 wrote).
    public static let defaultKerasVersion = "3.0.0"
    /// The `backend` attribute written to legacy files when none is given (what Keras 2 writes).
    public static let defaultBackend = "tensorflow"

    /// Writes the legacy full-model layout, atomically replacing `path`, the way Keras's
    /// `model.save("m.h5")` does so that `keras.models.load_model` reads it: root attributes
    /// `keras_version`, `backend` and `model_config` (when known) as UTF-8 strings; a
    /// `model_weights` group carrying `keras_version`, `backend` and `layer_names`; per layer a group
    /// `model_weights/<layer>` with `weight_names` and a float32 dataset at
    /// `model_weights/<layer>/<weight name>` for each weight. Name lists are arrays of fixed-length
    /// byte strings, as Keras 2 writes them; an empty list is an empty float64 array, as h5py stores it.
    public func writeLegacy(to path: String) throws {
        try writeLegacyLayout(to: path, weightsGroup: Self.legacyModelWeightsGroup)
    }

    /// Writes the legacy weights-only layout of Keras's `model.save_weights("m.h5")`: the same
    /// layer groups and name lists as `writeLegacy`, with `layer_names` on the root group.
    public func writeLegacyWeights(to path: String) throws {
        try writeLegacyLayout(to: path, weightsGroup: "/")
    }

    private func writeLegacyLayout(to path: String, weightsGroup group: String) throws {
        try validateNames()
        try HDF5File.write(to: path) { file in
            if group != "/" { try file.createGroup(group) }
            for object in Set(["/", group]) {
                try file.writeString(kerasVersion ?? Self.defaultKerasVersion, attribute: "keras_version", of: object)
                try file.writeString(backend ?? Self.defaultBackend, attribute: "backend", of: object)
            }
            if let modelConfig, group != "/" {
                try file.writeString(modelConfig, attribute: "model_config", of: "/")
            }
            for (name, value) in extraAttributes.sorted(by: { $0.key < $1.key }) {
                try file.writeString(value, attribute: name, of: "/")
            }
            for (path, value) in extraDatasets.sorted(by: { $0.key < $1.key }) {
                var group = ""
                for component in path.split(separator: "/").dropLast() {
                    group = HDF5File.join(group, String(component))
                    if try file.kind(of: group) == nil { try file.createGroup(group) }
                }
                try file.write(value, to: path)
            }
            try Self.writeNameList(layers.map(\.name), Self.legacyLayerNames, of: group, in: file)
            for layer in layers {
                let layerGroup = HDF5File.join(group, layer.name)
                try file.createGroup(layerGroup)
                try Self.writeNameList(layer.weights.map(\.name), Self.legacyWeightNames, of: layerGroup, in: file)
                for weight in layer.weights {
                    try file.write(weight.value, to: HDF5File.join(layerGroup, weight.name))
                }
            }
        }
    }

    /// Reads the layers listed in `layer_names` of `weightsGroup` (`model_weights`, or the root for
    /// a weights-only file), in that order, which is the model's; layers without weights are kept.
    static func readLegacy(_ file: HDF5File, weightsGroup: String) throws -> KerasWeightsFile {
        let layers = try readNameList(file, legacyLayerNames, of: weightsGroup).map { layerName in
            let layerGroup = HDF5File.join(weightsGroup, layerName)
            guard try file.kind(of: layerGroup) == .group else {
                throw ConvNetError.file(path: file.path, message: "group \(layerGroup) not found (\(HDF5File.display(weightsGroup)) lists "
                    + "\(layerName) in \(legacyLayerNames))")
            }
            let weights = try readNameList(file, legacyWeightNames, of: layerGroup).map { weightName in
                KerasWeight(name: weightName, value: try file.readTensor(HDF5File.join(layerGroup, weightName)))
            }
            return KerasLayerWeights(name: layerName, weights: weights)
        }
        // Keras 3 adds this group for variables owned by the model itself rather than by a layer;
        // it is empty for Sequential and Functional models.
        let modelLevel = HDF5File.join(weightsGroup, "top_level_model_weights")
        if try file.kind(of: modelLevel) == .group, try !readNameList(file, legacyWeightNames, of: modelLevel).isEmpty {
            throw ConvNetError.file(path: file.path, message: "\(modelLevel) holds weights that belong to no layer, which ConvNet does not support")
        }
        // Keras writes the version and backend on the root of a full-model file and on the group
        // holding `layer_names`; either may be missing in files from other tools.
        func metadata(_ attribute: String) throws -> String? {
            for object in ["/", weightsGroup] where try file.hasAttribute(attribute, of: object) {
                return try file.readString(attribute: attribute, of: object)
            }
            return nil
        }
        var result = KerasWeightsFile(layers: layers, modelConfig: try metadata("model_config"),
                                      kerasVersion: try metadata("keras_version"), backend: try metadata("backend"))
        for name in try file.attributeNames(of: "/") where name.hasPrefix(Self.extraAttributePrefix) {
            result.extraAttributes[name] = try file.readString(attribute: name, of: "/")
        }
        func collectDatasets(under group: String) throws {
            try file.checkWalkDepth(group)
            for child in try file.children(of: group) {
                let path = HDF5File.join(group, child.name)
                switch child.kind {
                case .group: try collectDatasets(under: path)
                case .dataset: result.extraDatasets[path] = try file.readTensor(path)
                case .other: continue
                }
            }
        }
        for child in try file.children(of: "/") where child.kind == .group && child.name.hasPrefix(Self.extraAttributePrefix) {
            try collectDatasets(under: child.name)
        }
        return result
    }

    /// Reads a name list, joining `<name>0`, `<name>1`, ... when Keras split it (see `legacyAttributeLimit`).
    private static func readNameList(_ file: HDF5File, _ attribute: String, of group: String) throws -> [String] {
        guard try !file.hasAttribute(attribute, of: group), try file.hasAttribute(attribute + "0", of: group) else {
            return try file.readStrings(attribute: attribute, of: group)
        }
        var names: [String] = []
        var chunk = 0
        while try file.hasAttribute("\(attribute)\(chunk)", of: group) {
            names += try file.readStrings(attribute: "\(attribute)\(chunk)", of: group)
            chunk += 1
        }
        return names
    }

    /// Writes a name list as Keras's `save_attributes_to_hdf5_group` does: whole when its storage
    /// (count × longest name) fits in `legacyAttributeLimit`, else split like `numpy.array_split`
    /// into the fewest chunks `<name>0`, `<name>1`, ... that fit, the first ones one name longer.
    private static func writeNameList(_ names: [String], _ attribute: String, of group: String, in file: HDF5File) throws {
        let itemSize = max(1, names.map(\.utf8.count).max() ?? 0)
        guard itemSize <= legacyAttributeLimit else {
            throw ConvNetError.file(path: file.path, message: "a name in \(attribute) of \(group) is longer than \(legacyAttributeLimit) bytes, "
                + "which Keras cannot store")
        }
        var chunkCount = 1
        while (names.count + chunkCount - 1) / chunkCount * itemSize > legacyAttributeLimit {
            chunkCount += 1
        }
        guard chunkCount > 1 else {
            return try file.writeStrings(names, attribute: attribute, of: group)
        }
        var start = 0
        for chunk in 0..<chunkCount {
            let size = names.count / chunkCount + (chunk < names.count % chunkCount ? 1 : 0)
            try file.writeStrings(Array(names[start..<start + size]), attribute: "\(attribute)\(chunk)", of: group)
            start += size
        }
    }
}
