/// The kinds of model file ConvNet reads and writes, told apart by the file's name, as Keras tells
/// them apart (`keras.saving.load_model` insists on `.keras` for its native format). The one place
/// that decides what a model file is: `Model.save`/`load`/`loadWeights` and every `--model` and
/// output path of the `convnet` tool go through it.
public enum ModelFileFormat: Sendable, Equatable, CaseIterable {
    /// `*.keras`: Keras 3's native format, a zip archive of `config.json`, `metadata.json` and
    /// `model.weights.h5`.
    case kerasArchive
    /// `*.h5`: HDF5, a Keras legacy full model (`model.save("m.h5")`), legacy `save_weights`, or
    /// Keras 3 `*.weights.h5` weights.
    case hdf5
    /// `*.json`: a Keras model config (`model.to_json()`), architecture only.
    case kerasConfig

    /// The format `path`'s name asks for, or `nil` when its extension is none of `.keras`, `.h5`
    /// and `.json` (compared without regard to case).
    public init?(path: String) {
        let lowercased = path.lowercased()
        guard let format = Self.allCases.first(where: { lowercased.hasSuffix($0.fileExtension) }) else { return nil }
        self = format
    }

    /// `.keras`, `.h5` or `.json`.
    public var fileExtension: String {
        switch self {
        case .kerasArchive: return ".keras"
        case .hdf5: return ".h5"
        case .kerasConfig: return ".json"
        }
    }

    /// Whether a file of this format holds weights (a `.json` config holds the architecture only).
    public var holdsWeights: Bool { self != .kerasConfig }

    /// The extensions of the formats that hold a trained model, for messages: `.keras or .h5`.
    public static let trainedModelExtensions = allCases.filter(\.holdsWeights).map(\.fileExtension).joined(separator: " or ")
}
