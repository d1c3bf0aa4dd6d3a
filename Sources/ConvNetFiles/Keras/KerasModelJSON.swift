import ConvNetCore
import Foundation

/// A whole model's Keras JSON config (`model.to_json()`, the `model_config` attribute of a
/// legacy `.h5` file): `Sequential` and functional (`Functional`/`Model`) models, in both Keras 2's
/// and Keras 3's spellings on reading, Keras 3's on writing.
public enum KerasModelJSON {
    typealias JSON = [String: KerasValue]

    /// Rebuilds the architecture described by `json` (weights freshly initialised from `seed`).
    /// Layers are made by `LayerRegistry`; a class it does not know throws, naming it.
    public static func model(fromJSON json: String, seed: UInt64 = 0) throws -> Model {
        let parsed = try KerasValue.parse(json: json, what: "Keras model config")
        guard let root = parsed.object, let className = root["class_name"]?.string, let config = root["config"]?.object else {
            throw ConvNetError.argument("Keras model config: expected {\"class_name\": ..., \"config\": {...}}")
        }
        let name = config["name"]?.string ?? "model"
        guard let layerList = config["layers"]?.array?.compactMap(\.object) else {
            throw ConvNetError.argument("Keras model config '\(name)': no layer list")
        }
        switch className {
        case "Sequential": return try sequential(name: name, config: config, layers: layerList, seed: seed)
        case "Functional", "Model": return try functional(name: name, layers: layerList, config: config, seed: seed)
        default: throw ConvNetError.argument("Keras model '\(name)' is a \(className); ConvNet reads Sequential and functional models")
        }
    }

    /// The class name and config of one entry of `config.layers`.
    private static func layerConfig(_ entry: JSON) -> KerasConfig {
        KerasConfig(className: entry["class_name"]?.string ?? "", values: entry["config"]?.object ?? [:])
    }

    private static func sequential(name: String, config: JSON, layers list: [JSON], seed: UInt64) throws -> Model {
        var inputShape: LayerShape?
        var layers: [any Layer] = []
        for entry in list {
            let layerConfig = layerConfig(entry)
            if let shape = batchShape(layerConfig) { inputShape = inputShape ?? shape }
            if layerConfig.className == inputLayerClass { continue }
            layers.append(try LayerRegistry.layer(from: layerConfig))
        }
        if inputShape == nil, let built = config["build_input_shape"]?.array { inputShape = built.dropFirst().map(\.int) }
        guard let inputShape else {
            throw ConvNetError.argument("Keras model '\(name)': the config does not give the input shape (no InputLayer or batch_shape)")
        }
        return try Model(name: name, inputShape: inputShape, layers: layers, inbound: layers.indices.map { [$0 - 1] },
                         isSequential: true, seed: seed)
    }

    private static func functional(name: String, layers list: [JSON], config: JSON, seed: UInt64) throws -> Model {
        var inputName: String?
        var inputShape: LayerShape?
        var layers: [any Layer] = []
        var sourceNames: [[String]] = []
        for entry in list {
            let layerConfig = layerConfig(entry)
            let layerName = entry["name"]?.string ?? layerConfig.name
            if layerConfig.className == inputLayerClass {
                guard inputName == nil else {
                    throw ConvNetError.argument("Keras model '\(name)' has several inputs; ConvNet models take one")
                }
                inputName = layerName
                inputShape = batchShape(layerConfig)
                continue
            }
            layers.append(try LayerRegistry.layer(from: layerConfig))
            sourceNames.append(try inboundNames(entry["inbound_nodes"], layer: layerName, model: name))
        }
        guard let inputName, let inputShape else {
            throw ConvNetError.argument("Keras model '\(name)': no \(inputLayerClass) with a shape")
        }
        if let outputs = config["output_layers"]?.array, outputs.count > 1, outputs.first?.array != nil {
            throw ConvNetError.argument("Keras model '\(name)' has several outputs; ConvNet models have one")
        }
        let position = Dictionary(layers.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        let inbound = try sourceNames.enumerated().map { index, names in
            try names.map { source -> Int in
                if source == inputName { return Model.inputNode }
                guard let at = position[source], at < index else {
                    throw ConvNetError.argument("Keras model '\(name)': layer '\(layers[index].name)' reads '\(source)', which is not an earlier layer")
                }
                return at
            }
        }
        return try Model(name: name, inputShape: inputShape, layers: layers, inbound: inbound, isSequential: false, seed: seed)
    }

    /// Keras's input placeholder, which is the model's input rather than a layer.
    static let inputLayerClass = "InputLayer"

    /// The input shape without the batch axis from `batch_shape` (Keras 3) or `batch_input_shape` (Keras 2).
    private static func batchShape(_ config: KerasConfig) -> LayerShape? {
        guard let shape = (config["batch_shape"] ?? config["batch_input_shape"])?.array else { return nil }
        return shape.dropFirst().map(\.int)
    }

    /// The names of the layers feeding a layer, from either format of `inbound_nodes`:
    /// Keras 3 `[{"args": [tensor or [tensors]], ...}]` with `keras_history: [name, 0, 0]`,
    /// or Keras 2 `[[[name, 0, 0, {}], ...]]`.
    private static func inboundNames(_ value: KerasValue?, layer: String, model: String) throws -> [String] {
        guard let nodes = value?.array, nodes.count == 1, let node = nodes.first else {
            throw ConvNetError.argument("Keras model '\(model)': layer '\(layer)' must be called exactly once (shared layers are not supported)")
        }
        if let args = node.object?["args"]?.array {
            var names: [String] = []
            func collect(_ item: KerasValue) {
                if let list = item.array { list.forEach(collect); return }
                if let source = item.object?["config"]?.object?["keras_history"]?.array?.first?.string {
                    names.append(source)
                }
            }
            args.forEach(collect)
            return names
        }
        if let keras2 = node.array, keras2.allSatisfy({ $0.array != nil }) {
            return keras2.compactMap { $0.array?.first?.string }
        }
        throw ConvNetError.argument("Keras model '\(model)': cannot read the inbound nodes of layer '\(layer)'")
    }

    // MARK: Writing

    /// The Keras 3 JSON config of `model`. A convolution with explicit padding is written as a
    /// `ZeroPadding2D` followed by the convolution with `valid` padding, which Keras can express.
    /// Layers are written by `LayerRegistry`; a layer type it cannot read back throws.
    public static func json(for model: Model) throws -> String {
        let entries = try kerasLayers(of: model)
        func shapeValue(_ shape: LayerShape) -> KerasValue { .array([.null] + shape.map { $0.map(KerasValue.int) ?? .null }) }
        let batchShape = shapeValue(model.inputShape)
        let input: JSON = ["class_name": .string(inputLayerClass), "name": "input_layer",
                           "config": ["batch_shape": batchShape, "dtype": "float32", "sparse": false, "name": "input_layer"]]
        let root: KerasValue
        if model.isSequential {
            root = ["class_name": "Sequential", "config": .object([
                "name": .string(model.name), "trainable": true, "dtype": "float32",
                "layers": .array([.object(input)] + entries.map { ["class_name": .string($0.config.className), "config": .object($0.config.values)] }),
                "build_input_shape": batchShape,
            ])]
        } else {
            var shapes: [String: LayerShape] = ["input_layer": model.inputShape]
            var layers: [KerasValue] = [.object(input.merging(["inbound_nodes": []]) { $1 })]
            for entry in entries {
                let tensors: [KerasValue] = entry.sources.map { source in
                    ["class_name": "__keras_tensor__", "config": [
                        "shape": shapeValue(shapes[source] ?? []), "dtype": "float32", "keras_history": [.string(source), 0, 0],
                    ]]
                }
                let args: KerasValue = tensors.count == 1 ? [tensors[0]] : [.array(tensors)]
                var layer = entry.config.serialized(module: "keras.layers").object ?? [:]
                layer["name"] = .string(entry.name)
                layer["inbound_nodes"] = [["args": args, "kwargs": [:]]]
                layers.append(.object(layer))
                shapes[entry.name] = entry.outputShape
            }
            root = ["class_name": "Functional", "config": .object([
                "name": .string(model.name), "trainable": true, "layers": .array(layers),
                "input_layers": [["input_layer", 0, 0]], "output_layers": [[.string(entries.last?.name ?? ""), 0, 0]],
            ])]
        }
        return try root.jsonText()
    }

    /// One layer as Keras will see it.
    struct Entry {
        let name: String
        let config: KerasConfig
        let sources: [String]
        let outputShape: LayerShape
        /// The index of the ConvNet layer whose weights this Keras layer holds, if any.
        let layerIndex: Int?
    }

    /// The model's layers as Keras layers, in order (see `json(for:)` on explicit padding).
    static func kerasLayers(of model: Model) throws -> [Entry] {
        var entries: [Entry] = []
        for (index, layer) in model.layers.enumerated() {
            var sources = model.inbound[index].map { $0 == Model.inputNode ? "input_layer" : model.layers[$0].name }
            var layer = layer
            if var conv = layer as? Conv2D, case let .explicit(top, bottom, left, right) = conv.padding {
                let pad = ZeroPadding2D(top: top, bottom: bottom, left: left, right: right, name: conv.name + "_padding")
                let source = model.inbound[index][0]
                let padded = try pad.outputShape(for: [source == Model.inputNode ? model.inputShape : model.outputShapes[source]])
                entries.append(Entry(name: pad.name, config: try LayerRegistry.kerasConfig(of: pad), sources: sources,
                                     outputShape: padded, layerIndex: nil))
                sources = [pad.name]
                conv.padding = .valid
                layer = conv
            }
            entries.append(Entry(name: layer.name, config: try LayerRegistry.kerasConfig(of: layer), sources: sources,
                                 outputShape: model.outputShapes[index], layerIndex: index))
        }
        return entries
    }
}
