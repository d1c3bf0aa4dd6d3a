import ConvNet
import Foundation

/// A dataset loaded for a model: raw pixels as loaded, turned into model inputs batch by batch
/// (augmentation for training only, then the preprocessing), with the class names.
struct PreparedData {
    let splits: DatasetResolver.DatasetSplits
    let preprocessing: Preprocessing
    var classNames: [String] { splits.train.classNames }
    var source: String { splits.source }
    /// How the images were adapted to the model's input, if they were.
    var notice: String? { splits.notice }
    /// `(height, width, channels)` of the images (or a sample's shape for other data).
    var sampleShape: [Int] { splits.train.sampleShape }

    /// How many bytes of decoded images an image folder may take in memory before it is read from
    /// disk batch by batch instead: a quarter of the machine's memory, so that the model, its
    /// gradients and the rest of the system keep room.
    static var defaultMemoryBudget: Int { Int(min(ProcessInfo.processInfo.physicalMemory / 4, UInt64(Int.max))) }

    /// Loads the dataset, resizing (and converting the colours of) its images to the model's input. `preprocessing` is a saved
    /// model's, or else the one named on the command line (`unit`, `centered`, `standardize` with
    /// the training set's statistics, `none`).
    /// - Parameter memoryBudget: image folders whose decoded images need more bytes than this are
    ///   decoded from disk every epoch (`0` streams every folder).
    init(_ resolver: DatasetResolver, inputShape: LayerShape,
         preprocessing saved: Preprocessing?, named: String = "unit", memoryBudget: Int = PreparedData.defaultMemoryBudget) throws {
        let size = inputShape.count == 3 ? inputShape[0].flatMap { h in inputShape[1].map { (height: h, width: $0) } } : nil
        splits = try resolver.open(imageSize: size, channels: inputShape.count == 3 ? inputShape[2] : nil, memoryBudget: memoryBudget)
        preprocessing = try saved ?? Preprocessing(named: named, trainingSet: splits.train)
    }

    /// The training set (augmented, preprocessed) and the held-out validation part (preprocessed).
    func training(augmentations: [Augmentation], validationSplit: Float) throws -> (train: any Dataset, validation: (any Dataset)?) {
        let (part, held) = try splits.train.splitForValidation(fraction: validationSplit)
        return (try part.augmented(with: augmentations).preprocessed(preprocessing),
                validationSplit > 0 ? try held.preprocessed(preprocessing) : nil)
    }

    /// The test split, or the whole set when the dataset has no test split.
    var evaluation: any Dataset {
        get throws { try (splits.test ?? splits.train).preprocessed(preprocessing) }
    }

    var hasTestSplit: Bool { splits.test != nil }

    /// Throws unless there are at least two classes to tell apart: a model trained on one class
    /// reaches "accuracy 1.0" by answering it every time.
    func checkForTraining() throws {
        guard classNames.count >= 2 else {
            throw ConvNetError.file(path: source, message: "has \(classNames.count) class (\(classNames.joined(separator: ", "))); training needs at least 2")
        }
    }

    /// Throws unless the images fit the model's input and the model has an output per class, and
    /// the test images have the training images' size (else evaluation would fail after training).
    func check(against model: Model) throws {
        let sample = sampleShape
        if let test = splits.test, test.sampleShape != sample {
            throw ConvNetError.file(path: source, message: "the test images are \(test.sampleShape.map(String.init).joined(separator: "x")) "
                                    + "but the training images \(sample.map(String.init).joined(separator: "x")); both splits need one size")
        }
        guard sample.count == model.inputShape.count, zip(sample, model.inputShape).allSatisfy({ $1 == nil || $0 == $1 }) else {
            throw ConvNetError.shape(op: "--dataset \(source)",
                                     message: "images are \(sample.map(String.init).joined(separator: "x")) but model '\(model.name)' expects \(describe(layerShape: model.inputShape)); resize the images or pick a model for this size")
        }
        if let outputs = model.outputShape.last ?? nil, outputs == 1, classNames.count != 2 {
            throw ConvNetError.shape(op: "--dataset \(source)",
                                     message: "\(classNames.count) classes but model '\(model.name)' has one (binary, sigmoid) output, which needs 2")
        }
        if let outputs = model.outputShape.last ?? nil, outputs > 1, outputs != classNames.count {
            throw ConvNetError.shape(op: "--dataset \(source)",
                                     message: "\(classNames.count) classes but model '\(model.name)' has \(outputs) outputs")
        }
    }
}
