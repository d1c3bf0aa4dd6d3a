import ArgumentParser
import ConvNet
import Foundation

/// A model named on the command line: a zoo name, a Keras/ConvNet `.keras` or `.h5` file, or a Keras JSON config.
enum ModelSource {
    struct Loaded {
        var model: Model
        var metadata: ModelMetadata?
    }

    static func isFile(_ name: String) -> Bool { ModelFileFormat(path: name) != nil }

    /// Loads or builds the model. `inputShape`, `classes`, `dropout` and `regularizer` apply to zoo models.
    static func load(_ name: String, inputShape: LayerShape? = nil, classes: Int? = nil, seed: UInt64 = 0,
                     dropout: Float? = nil, regularizer: Regularizer? = nil) throws -> Loaded {
        switch ModelFileFormat(path: name) {
        case .kerasArchive, .hdf5:
            let (model, metadata) = try Model.loadWithMetadata(from: name)
            return Loaded(model: model, metadata: metadata)
        case .kerasConfig:
            guard let data = FileManager.default.contents(atPath: name) else {
                throw ConvNetError.file(path: name, message: "cannot read the file")
            }
            do {
                return Loaded(model: try KerasModelJSON.model(fromJSON: String(decoding: data, as: UTF8.self), seed: seed))
            } catch let error as ConvNetError {
                throw ConvNetError.file(path: name, message: error.description)
            }
        case nil:
            return Loaded(model: try ModelZoo.model(named: name, inputShape: inputShape, classes: classes, seed: seed,
                                                    dropout: dropout, regularizer: regularizer))
        }
    }
}
