import ConvNet

/// A dataset loaded for a model: raw pixels as loaded, turned into model inputs batch by batch
/// (augmentation for training only, then the preprocessing), with the class names.
struct PreparedData {
    let splits: DatasetResolver.Splits
    let preprocessing: Preprocessing
    var classNames: [String] { splits.train.classNames }
    var source: String { splits.source }

    /// Loads `dataset`, resizing image folders to the model's input. `preprocessing` is a saved
    /// model's, or else the one named on the command line (`unit`, `centered`, `standardize` with
    /// the training set's statistics, `none`).
    init(dataset: String, dataDirectory: String?, limit: Int?, download: Bool, inputShape: LayerShape,
         preprocessing saved: Preprocessing?, named: String = "unit") throws {
        let size = inputShape.count == 3 ? inputShape[0].flatMap { h in inputShape[1].map { (height: h, width: $0) } } : nil
        splits = try DatasetResolver(name: dataset, dataDirectory: dataDirectory, limit: limit, download: download)
            .load(imageSize: size, channels: inputShape.count == 3 ? inputShape[2] : nil)
        let train = splits.train
        preprocessing = try saved ?? Preprocessing(named: named, trainingImages: train.images)
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

    /// Throws unless the images fit the model's input and the model has an output per class.
    func check(against model: Model) throws {
        let sample = splits.train.imageShape
        guard sample.count == model.inputShape.count, zip(sample, model.inputShape).allSatisfy({ $1 == nil || $0 == $1 }) else {
            throw ConvNetError.shape(op: "--dataset \(source)",
                                     message: "images are \(sample.map(String.init).joined(separator: "x")) but model '\(model.name)' expects \(describe(layerShape: model.inputShape)); resize the images or pick a model for this size")
        }
        if let outputs = model.outputShape.last ?? nil, outputs > 1, outputs != classNames.count {
            throw ConvNetError.shape(op: "--dataset \(source)",
                                     message: "\(classNames.count) classes but model '\(model.name)' has \(outputs) outputs")
        }
    }
}
