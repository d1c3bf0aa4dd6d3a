import ConvNetCore
import Foundation

/// What a Keras model config (the JSON of `model.to_json()`, a legacy file's `model_config`, or a
/// `.keras` archive's `config.json`) says about where each layer's weights live in a `.weights.h5`.
struct KerasModelConfig {
    struct Layer {
        /// The layer's name, `conv2d_1`.
        let name: String
        /// Its class, `Conv2D`.
        let className: String
        /// Its group under `layers/` in a Keras 3 `.weights.h5` file.
        let storageKey: String
    }

    /// The model's name, `config.name`.
    let modelName: String?
    /// The layers of `config.layers`, in model order.
    let layers: [Layer]

    init(json: String) throws {
        guard let root = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] else {
            throw ConvNetError.argument("model config: not a JSON object")
        }
        let config = root["config"] as? [String: Any]
        guard let layerList = config?["layers"] as? [[String: Any]] else {
            throw ConvNetError.argument("model config: expected config.layers, a list of layers (class \(root["class_name"] ?? "unknown"))")
        }
        modelName = config?["name"] as? String
        // Keras 3's saving_lib names a layer's group after its class, not its (user-chosen) name,
        // counting repeats per class in model order: dense, dense_1, dense_2, ...
        var seen: [String: Int] = [:]
        layers = try layerList.enumerated().map { index, layer in
            let layerConfig = layer["config"] as? [String: Any]
            // Functional configs repeat the name next to class_name; Sequential ones have it only inside.
            guard let className = layer["class_name"] as? String,
                  let name = layer["name"] as? String ?? layerConfig?["name"] as? String else {
                throw ConvNetError.argument("model config: layer \(index) has no class_name or name")
            }
            let base = Self.snakeCase(className)
            let repeats = seen[base, default: -1] + 1
            seen[base] = repeats
            return Layer(name: name, className: className, storageKey: repeats == 0 ? base : "\(base)_\(repeats)")
        }
    }

    /// Keras's `naming.to_snake_case`: `MaxPooling2D` → `max_pooling2d`, `Conv2DTranspose` →
    /// `conv2d_transpose`.
    static func snakeCase(_ className: String) -> String {
        var name = className.replacing(#/\W+/#, with: "")
        name = name.replacing(#/(.)([A-Z][a-z]+)/#) { "\($0.1)_\($0.2)" }
        name = name.replacing(#/([a-z])([A-Z])/#) { "\($0.1)_\($0.2)" }
        return name.lowercased()
    }
}
