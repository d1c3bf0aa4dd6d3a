/// What a trained model needs beside its layers to be used on new images: how its inputs were
/// scaled and the names of its classes. Model files store it beside Keras's own content (Keras
/// ignores it).
public struct ModelMetadata: Sendable, Equatable, Codable {
    /// How pixel values were scaled before training; inputs to `predict` need the same.
    public var preprocessing: Preprocessing
    /// The name of each class index (`classNames[3] == "Dress"`), when known.
    public var classNames: [String]?

    /// Metadata for a model trained on inputs scaled by `preprocessing` (pixels / 255 by default).
    public init(preprocessing: Preprocessing = .unitRange, classNames: [String]? = nil) {
        self.preprocessing = preprocessing
        self.classNames = classNames
    }
}

extension Model {
    /// Records `data`'s class names in `metadata` when the model has none, so that a model trained on
    /// named classes (Fashion-MNIST, an image folder) saves them; numbers (`"0"`, `"1"`, ...) are
    /// skipped. New metadata takes the dataset's `inputPreprocessing`, else pixels / 255.
    mutating func adoptClassNames(of data: any Dataset) {
        let names = data.classNames
        guard metadata?.classNames == nil, !names.isEmpty, names != names.indices.map(String.init) else { return }
        var updated = metadata ?? ModelMetadata(preprocessing: data.inputPreprocessing ?? .unitRange)
        updated.classNames = names
        metadata = updated
    }
}
