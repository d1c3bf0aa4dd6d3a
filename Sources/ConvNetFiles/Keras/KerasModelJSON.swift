import ConvNetCore
import Foundation

/// A whole model's Keras JSON config (`model.to_json()`, the `model_config` attribute of a
/// legacy `.h5` file): `Sequential` and functional (`Functional`/`Model`) models, in both Keras 2's
/// and Keras 3's spellings on reading, Keras 3's on writing.
public enum KerasModelJSON {
    typealias JSON = [String: Any]

    /// Rebuilds the architecture described by `json` (weights freshly initialised from `seed`).
    public static func model(fromJSON json: String, seed: UInt64 = 0) throws -> Model {
        guard let root = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? JSON,
              let className = root["class_name"] as? String, let config = root["config"] as? JSON else {
            throw ConvNetError.argument("Keras model config: expected {\"class_name\": ..., \"config\": {...}}")
        }
        let name = config["name"] as? String ?? "model"
        guard let layerList = config["layers"] as? [JSON] else {
            throw ConvNetError.argument("Keras model config '\(name)': no layer list")
        }
        switch className {
        case "Sequential": return try sequential(name: name, config: config, layers: layerList, seed: seed)
        case "Functional", "Model": return try functional(name: name, layers: layerList, config: config, seed: seed)
        default: throw ConvNetError.argument("Keras model '\(name)' is a \(className); ConvNet reads Sequential and functional models")
        }
    }

    private static func sequential(name: String, config: JSON, layers list: [JSON], seed: UInt64) throws -> Model {
        var inputShape: LayerShape?
        var layers: [any Layer] = []
        for entry in list {
            let className = entry["class_name"] as? String ?? ""
            let layerConfig = entry["config"] as? JSON ?? [:]
            if let shape = batchShape(layerConfig) { inputShape = inputShape ?? shape }
            if className == "InputLayer" { continue }
            layers.append(try KerasLayerCodec.decode(className: className, config: layerConfig))
        }
        if inputShape == nil, let built = config["build_input_shape"] as? [Any] { inputShape = built.dropFirst().map { $0 as? Int } }
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
            let className = entry["class_name"] as? String ?? ""
            let layerConfig = entry["config"] as? JSON ?? [:]
            let layerName = entry["name"] as? String ?? layerConfig["name"] as? String ?? ""
            if className == "InputLayer" {
                guard inputName == nil else {
                    throw ConvNetError.argument("Keras model '\(name)' has several inputs; ConvNet models take one")
                }
                inputName = layerName
                inputShape = batchShape(layerConfig)
                continue
            }
            layers.append(try KerasLayerCodec.decode(className: className, config: layerConfig))
            sourceNames.append(try inboundNames(entry["inbound_nodes"], layer: layerName, model: name))
        }
        guard let inputName, let inputShape else {
            throw ConvNetError.argument("Keras model '\(name)': no InputLayer with a shape")
        }
        if let outputs = config["output_layers"] as? [Any], outputs.count > 1, outputs.first is [Any] {
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

    /// The input shape without the batch axis from `batch_shape` (Keras 3) or `batch_input_shape` (Keras 2).
    private static func batchShape(_ config: JSON) -> LayerShape? {
        guard let shape = (config["batch_shape"] ?? config["batch_input_shape"]) as? [Any] else { return nil }
        return shape.dropFirst().map { $0 as? Int }
    }

    /// The names of the layers feeding a layer, from either format of `inbound_nodes`:
    /// Keras 3 `[{"args": [tensor or [tensors]], ...}]` with `keras_history: [name, 0, 0]`,
    /// or Keras 2 `[[[name, 0, 0, {}], ...]]`.
    private static func inboundNames(_ value: Any?, layer: String, model: String) throws -> [String] {
        guard let nodes = value as? [Any], nodes.count == 1, let node = nodes.first else {
            throw ConvNetError.argument("Keras model '\(model)': layer '\(layer)' must be called exactly once (shared layers are not supported)")
        }
        if let keras3 = node as? JSON, let args = keras3["args"] as? [Any] {
            var names: [String] = []
            func collect(_ item: Any) {
                if let list = item as? [Any] { list.forEach(collect); return }
                if let tensor = item as? JSON, let history = (tensor["config"] as? JSON)?["keras_history"] as? [Any],
                   let source = history.first as? String {
                    names.append(source)
                }
            }
            args.forEach(collect)
            return names
        }
        if let keras2 = node as? [[Any]] {
            return keras2.compactMap { $0.first as? String }
        }
        throw ConvNetError.argument("Keras model '\(model)': cannot read the inbound nodes of layer '\(layer)'")
    }

    // MARK: Writing

    /// The Keras 3 JSON config of `model`. A convolution with explicit padding is written as a
    /// `ZeroPadding2D` followed by the convolution with `valid` padding, which Keras can express.
    public static func json(for model: Model) throws -> String {
        let entries = try kerasLayers(of: model)
        let batchShape: [Any] = [NSNull()] + model.inputShape.map { $0.map { $0 as Any } ?? NSNull() }
        let input: JSON = ["class_name": "InputLayer", "name": "input_layer",
                           "config": ["batch_shape": batchShape, "dtype": "float32", "sparse": false, "name": "input_layer"] as JSON]
        var root: JSON
        if model.isSequential {
            root = ["class_name": "Sequential", "config": [
                "name": model.name, "trainable": true, "dtype": "float32",
                "layers": [input] + entries.map { ["class_name": $0.className, "config": $0.config] as JSON },
                "build_input_shape": batchShape,
            ] as JSON]
        } else {
            var shapes: [String: LayerShape] = ["input_layer": model.inputShape]
            var layers: [JSON] = [input.merging(["inbound_nodes": [] as [Any]]) { $1 }]
            for entry in entries {
                let tensors: [JSON] = entry.sources.map { source in
                    ["class_name": "__keras_tensor__", "config": [
                        "shape": [NSNull()] + (shapes[source] ?? []).map { $0.map { $0 as Any } ?? NSNull() },
                        "dtype": "float32", "keras_history": [source, 0, 0],
                    ] as JSON]
                }
                let args: [Any] = tensors.count == 1 ? [tensors[0]] : [tensors]
                layers.append(["module": "keras.layers", "class_name": entry.className, "config": entry.config,
                               "registered_name": NSNull(), "name": entry.name,
                               "inbound_nodes": [["args": args, "kwargs": [:] as JSON] as JSON]])
                shapes[entry.name] = entry.outputShape
            }
            root = ["class_name": "Functional", "config": [
                "name": model.name, "trainable": true, "layers": layers,
                "input_layers": [["input_layer", 0, 0]], "output_layers": [[entries.last?.name ?? "", 0, 0]],
            ] as JSON]
        }
        let data = try JSONSerialization.data(withJSONObject: root, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// One layer as Keras will see it.
    struct Entry {
        let name: String
        let className: String
        let config: JSON
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
                let encoded = try KerasLayerCodec.encode(pad)
                entries.append(Entry(name: pad.name, className: encoded.className, config: encoded.config, sources: sources,
                                     outputShape: padded, layerIndex: nil))
                sources = [pad.name]
                conv = Conv2D(conv.filters, kernelSize: conv.kernelSize, strides: conv.strides, padding: .valid,
                              dilation: conv.dilation, activation: conv.activation, useBias: conv.useBias,
                              kernelInitializer: conv.kernelInitializer, biasInitializer: conv.biasInitializer,
                              kernelRegularizer: conv.kernelRegularizer, name: conv.name)
                layer = conv
            }
            let encoded = try KerasLayerCodec.encode(layer)
            entries.append(Entry(name: layer.name, className: encoded.className, config: encoded.config, sources: sources,
                                 outputShape: model.outputShapes[index], layerIndex: index))
        }
        return entries
    }
}
