import ConvNet

/// A dataset loaded for a model: preprocessed training and test sets and their class names.
struct PreparedData {
    let train: TensorDataset
    let test: TensorDataset?
    let classNames: [String]
    let preprocessing: Preprocessing
    let source: String

    /// Loads `dataset`, resizing image folders to the model's input size, and applies `preprocessing`.
    init(dataset: String, dataDirectory: String?, limit: Int?, inputShape: LayerShape, preprocessing: Preprocessing) throws {
        let size = inputShape.count == 3 ? inputShape[0].flatMap { h in inputShape[1].map { (height: h, width: $0) } } : nil
        let splits = try DatasetResolver(name: dataset, dataDirectory: dataDirectory, limit: limit)
            .load(imageSize: size, channels: inputShape.count == 3 ? inputShape[2] : nil)
        func prepared(_ images: LabeledImages) throws -> TensorDataset {
            try TensorDataset(inputs: preprocessing.apply(images.images), labels: images.labels, classNames: images.classNames)
        }
        train = try prepared(splits.train)
        test = try splits.test.map(prepared)
        classNames = splits.train.classNames
        self.preprocessing = preprocessing
        source = splits.source
    }

    /// Throws unless the images fit the model's input and the model has an output per class.
    func check(against model: Model) throws {
        let sample = train.sampleShape
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
