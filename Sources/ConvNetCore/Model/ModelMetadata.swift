/// What a trained model needs beside its layers to be used on new images: how its inputs were
/// scaled and the names of its classes. Model files store it beside Keras's own content (Keras
/// ignores it).
public struct ModelMetadata: Sendable, Equatable, Codable {
    public var preprocessing: Preprocessing
    public var classNames: [String]?

    public init(preprocessing: Preprocessing = .unitRange, classNames: [String]? = nil) {
        self.preprocessing = preprocessing
        self.classNames = classNames
    }
}
