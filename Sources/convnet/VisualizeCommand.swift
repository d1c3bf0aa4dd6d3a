import ArgumentParser
import ConvNet
import Foundation

/// Looks inside a model: its first-layer kernels, the feature maps of an image, a saliency map,
/// and the confusion matrix on a test set.
struct VisualizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "visualize",
        abstract: "Draw a model's filters, feature maps, saliency map or confusion matrix as images.",
        discussion: """
        --filters LAYER       the kernels of a Conv2D layer (a name, or "first"),
                              one tile per filter, each min-max scaled (its most
                              negative weight black, its most positive white);
                              RGB kernels in colour; deeper layers: one row per
                              filter, one tile per input channel. After
                              --train-epochs, the initial kernels are shown
                              above and the change (trained - initial) below.
        --feature-maps IMAGE  the activations of --layers (default: every layer
                              with a spatial output) for one image: a grid per
                              layer captioned with its name and shape, each
                              channel min-max scaled (a constant channel black).
        --saliency IMAGE      |d score / d pixel| (max over channels) for the
                              predicted class (or --class), the score taken
                              before the final softmax: the input, the heat map,
                              and the heat map over the image.
        --smooth-grad N       with --saliency: SmoothGrad, the map averaged over
                              N copies of the image with Gaussian noise of
                              --noise times its value range (less speckle).
        --grad-cam IMAGE      Grad-CAM: the feature maps of --grad-cam-layer
                              (default: the last with a spatial extent)
                              weighted by the mean gradient of the class score,
                              ReLU, resized to the input: input, heat map and
                              overlay.
        --top-patches L:K     Zeiler & Fergus: the --top-count training images
                              (of --limit) whose strongest activation of
                              channel K of layer L is largest, each cropped to
                              the pixels that unit depends on (non-zero
                              gradient), strongest first, captioned with it.
        --confusion           evaluates on the dataset's test split, prints the
                              table and draws the matrix (rows: true classes;
                              cells shaded by the fraction of their row).

        IMAGE is a PNG/JPEG file (converted to the model's channels, resized to its
        input size, scaled as the model expects) or test:N, the N-th test image of
        --dataset. --model is a zoo name (random weights, or trained in-process with
        --train-epochs N on --dataset; inputs scaled to [0, 1]) or a Keras .h5 model
        file (scaled as its saved metadata says, else to [0, 1]; class names from the
        metadata when no dataset is loaded). With several of them, -o OUT.png becomes
        OUT-filters.png, OUT-feature-maps.png, OUT-saliency.png, OUT-grad-cam.png,
        OUT-top-patches.png and OUT-confusion.png (a lone --confusion may be .svg).

        Examples:
          convnet visualize --model lenet5 --train-epochs 2 --filters first \\
            -o filters.png
          convnet visualize --model lenet5 --train-epochs 2 --feature-maps test:0 \\
            --saliency test:0 -o lenet5.png
          convnet visualize --train-epochs 1 --confusion -o confusion.svg
          convnet visualize --model lenet5.h5 --grad-cam test:0 --saliency test:0 \\
            --smooth-grad 25 --top-patches conv2d_1:3 --limit 2000 -o why.png
        """)

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: ArgumentHelp("Draw the kernels of this Conv2D layer (name or \"first\").", valueName: "layer")) var filters: String?
    @Option(help: ArgumentHelp("Draw the feature maps of this image (FILE or test:N).", valueName: "image")) var featureMaps: String?
    @Option(help: ArgumentHelp("Comma-separated layer names for --feature-maps.", valueName: "a,b,...")) var layers: String?
    @Option(help: ArgumentHelp("Draw the saliency map of this image (FILE or test:N).", valueName: "image")) var saliency: String?
    @Option(name: .customLong("class"), help: "The class --saliency explains (default: the predicted one).") var targetClass: Int?
    @Option(help: ArgumentHelp("With --saliency: average over N noisy copies (SmoothGrad); 0: the plain gradient.", valueName: "N")) var smoothGrad = 0
    @Option(help: "With --smooth-grad: the noise's standard deviation as a fraction of the image's value range.") var noise: Float = 0.15
    @Option(help: ArgumentHelp("Draw the Grad-CAM heat map of this image (FILE or test:N).", valueName: "image")) var gradCam: String?
    @Option(help: ArgumentHelp("The layer --grad-cam weights (default: the last with feature maps larger than 1x1).", valueName: "layer")) var gradCamLayer: String?
    @Option(help: ArgumentHelp("Draw the training-image patches that activate channel K of layer L most.", valueName: "L:K")) var topPatches: String?
    @Option(help: "How many patches --top-patches shows.") var topCount = 16
    @Flag(help: "Evaluate on the test split and draw the confusion matrix.") var confusion = false
    @OptionGroup var datasetOptions: DatasetOptions
    @Option(help: "Train the model this many epochs first (Adam, batches of --batch-size).") var trainEpochs = 0
    @OptionGroup var limitOption: LimitOption
    @OptionGroup var batchSizeOption: BatchSizeOption
    @OptionGroup var computeOptions: ComputeOptions
    @Option(help: "Random seed for weights and shuffling.") var seed: UInt64 = 0
    @Option(help: "Approximate tile size in pixels of filter and feature-map grids (default: 40 and 56).") var tileSize: Int?
    @OptionGroup var outputOptions: OutputOptions

    var model: String { modelOptions.name(default: "lenet5") }
    var dataset: String { datasetOptions.dataset }
    var output: String { outputOptions.output }

    /// The pictures asked for, by file-name suffix.
    private var modes: [String] {
        [filters.map { _ in "filters" }, featureMaps.map { _ in "feature-maps" }, saliency.map { _ in "saliency" },
         gradCam.map { _ in "grad-cam" }, topPatches.map { _ in "top-patches" }, confusion ? "confusion" : nil].compactMap { $0 }
    }

    func validate() throws {
        guard !modes.isEmpty else { throw ValidationError("choose at least one of --filters, --feature-maps, --saliency, --grad-cam, --top-patches, --confusion") }
        guard smoothGrad >= 0 else { throw ValidationError("--smooth-grad must not be negative, got \(smoothGrad)") }
        guard noise >= 0 else { throw ValidationError("--noise must not be negative, got \(noise)") }
        guard topCount > 0 else { throw ValidationError("--top-count must be positive, got \(topCount)") }
        if let topPatches { _ = try Self.parseTopPatches(topPatches) }
        guard trainEpochs >= 0 else { throw ValidationError("--train-epochs must not be negative, got \(trainEpochs)") }
        if let tileSize, !(4...512).contains(tileSize) { throw ValidationError("--tile-size must be between 4 and 512, got \(tileSize)") }
        for mode in modes {
            let path = outputPath(for: mode)
            let isSVG = (path as NSString).pathExtension.lowercased() == "svg"
            guard mode == "confusion" && isSVG || ImageCodec.format(ofFileName: path) == .png else {
                throw ValidationError("--output \(output): use a .png file name\(modes == ["confusion"] ? " or .svg" : "")")
            }
        }
    }

    /// `output` itself for one picture; `OUT-<mode>.ext` for several.
    func outputPath(for mode: String) -> String {
        guard modes.count > 1 else { return output }
        let base = (output as NSString).deletingPathExtension, ext = (output as NSString).pathExtension
        return "\(base)-\(mode)" + (ext.isEmpty ? "" : ".\(ext)")
    }

    func run() throws {
        computeOptions.apply()
        var (network, preprocessing, savedClassNames) = try loadModel()
        let isFile = ModelSource.isFile(model)
        let needsData = trainEpochs > 0 || confusion || topPatches != nil || [featureMaps, saliency, gradCam].contains { $0?.hasPrefix("test:") == true }
        let data = needsData ? try VisualizationInputs.loadData(datasetOptions.resolver(limit: limitOption.limit), for: network) : nil
        if let data, !isFile, network.outputShape.last.flatMap({ $0 }) != data.train.classNames.count {
            network = try ModelSource.load(model, inputShape: network.inputShape, classes: data.train.classNames.count, seed: seed).model
        }
        let initial = network
        if trainEpochs > 0, let data {
            try VisualizationInputs.train(&network, on: data, preprocessing: preprocessing, epochs: trainEpochs,
                                          batchSize: batchSizeOption.value(default: 32), seed: seed)
        }
        let classNames = data?.train.classNames ?? savedClassNames
        if let layer = filters { try drawFilters(network, initial: trainEpochs > 0 ? initial : nil, layer: layer) }
        if let spec = featureMaps {
            try drawFeatureMaps(network, image: VisualizationInputs.inputImage(spec, for: network, preprocessing: preprocessing, test: data?.test))
        }
        if let spec = saliency {
            try drawSaliency(network, image: VisualizationInputs.inputImage(spec, for: network, preprocessing: preprocessing, test: data?.test),
                             classNames: classNames)
        }
        if let spec = gradCam {
            try drawGradCAM(network, image: VisualizationInputs.inputImage(spec, for: network, preprocessing: preprocessing, test: data?.test),
                            classNames: classNames)
        }
        if let spec = topPatches, let data { try drawTopPatches(network, spec: spec, data: data, preprocessing: preprocessing) }
        if confusion, let data { try drawConfusion(network, data: data, preprocessing: preprocessing) }
    }

    /// A zoo model (inputs scaled by 1/255), or a Keras `.h5` model file with the preprocessing and
    /// class names saved in its metadata (1/255 when it has none).
    private func loadModel() throws -> (model: Model, preprocessing: Preprocessing, classNames: [String]?) {
        let loaded = try ModelSource.load(model, seed: seed)
        return (loaded.model, loaded.metadata?.preprocessing ?? .unitRange, loaded.metadata?.classNames)
    }

    /// The kernels of one Conv2D layer; after training, the initial kernels are drawn above them.
    private func drawFilters(_ network: Model, initial: Model?, layer name: String) throws {
        let convolutions = network.layers.compactMap { $0 as? Conv2D }
        guard let layer = name == "first" ? convolutions.first : convolutions.first(where: { $0.name == name }) else {
            throw ConvNetError.argument("--filters \(name): no such Conv2D layer; the model's are: "
                                  + (["first"] + convolutions.map(\.name)).joined(separator: ", "))
        }
        guard let kernel = layer.kernel else { throw ConvNetError.argument("layer \(layer.name) has no weights") }
        let caption = "\(layer.name) kernels \(describe(shape: kernel.shape))"
        let trained = trainEpochs > 0 ? " after \(trainEpochs) epoch\(trainEpochs == 1 ? "" : "s") on \(dataset)" : ""
        var grids: [Tensor] = []
        if let before = initial?.layers.compactMap({ $0 as? Conv2D }).first(where: { $0.name == layer.name })?.kernel {
            grids.append(try ImageGrid.filters(before, caption: caption + " at initialisation (seed \(seed))", tileSize: tileSize ?? 40))
            grids.append(try ImageGrid.filters(kernel, caption: caption + trained, tileSize: tileSize ?? 40))
            grids.append(try ImageGrid.filters(kernel - before, caption: "change during training (trained - initial)", tileSize: tileSize ?? 40))
        } else {
            grids.append(try ImageGrid.filters(kernel, caption: caption + trained, tileSize: tileSize ?? 40))
        }
        try write(ImageGrid.stack(grids, spacing: 12), mode: "filters", note: caption + trained)
    }

    private func drawFeatureMaps(_ network: Model, image: VisualizationInputs.InputImage) throws {
        var network = network
        let wanted = layers?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let indices: [Int]
        if let wanted {
            indices = try wanted.map { name in
                guard let index = network.layers.firstIndex(where: { $0.name == name }) else {
                    throw ConvNetError.argument("--layers: no layer '\(name)'; the model's layers are \(network.layers.map(\.name).joined(separator: ", "))")
                }
                return index
            }
        } else {
            indices = network.outputShapes.indices.filter { network.outputShapes[$0].count == 3 }
        }
        var context = ForwardContext(training: false)
        let outputs = try network.forward(image.input.reshaped(to: [1] + image.input.shape), context: &context, outputs: Set(indices)).intermediate
        var grids = [try ImageGrid.make(tiles: [image.display], columns: 1,
                                        scale: ImageGrid.upscaleFactor(size: max(image.display.shape[0], image.display.shape[1]), tileSize: 56),
                                        caption: "input \(describe(shape: image.display.shape))")]
        for index in indices {
            guard let activations = outputs[index] else { continue }
            let caption = "\(network.layers[index].name) \(describe(shape: Array(activations.shape.dropFirst())))"
            grids.append(try ImageGrid.featureMaps(activations, caption: caption, tileSize: tileSize ?? 56))
        }
        try write(ImageGrid.stack(grids, spacing: 12), mode: "feature-maps",
                  note: "layers " + indices.map { network.layers[$0].name }.joined(separator: ", "))
    }

    private func drawSaliency(_ network: Model, image: VisualizationInputs.InputImage, classNames: [String]?) throws {
        let result = smoothGrad > 0
            ? try Saliency.smoothGrad(model: network, image: image.input, classIndex: targetClass, samples: smoothGrad, noise: noise, seed: seed)
            : try Saliency.compute(model: network, image: image.input, classIndex: targetClass)
        let display = try image.display.converted(toChannels: image.display.shape[2] == 1 ? 1 : 3)
        let tiles = [display, try Saliency.heatMap(result.map), try Saliency.overlay(image: display, map: result.map)]
        let name = classNames.flatMap { result.classIndex < $0.count ? $0[result.classIndex] : nil } ?? "class \(result.classIndex)"
        let probability = result.classIndex < result.scores.count ? result.scores[result.classIndex] : .nan
        let caption = String(format: "%@ (output %.3f)", name, probability)
        let grid = try ImageGrid.make(tiles: tiles, columns: 3,
                                      scale: ImageGrid.upscaleFactor(size: max(display.shape[0], display.shape[1]), tileSize: 160),
                                      tileCaptions: ["input", smoothGrad > 0 ? "SmoothGrad (\(smoothGrad))" : "saliency", "overlay"],
                                      caption: "Saliency for " + caption,
                                      style: ImageGrid.Style(separator: 2, separatorColor: .white))
        try write(grid, mode: "saliency", note: "explaining " + caption)
    }

    private func drawConfusion(_ network: Model, data: DatasetResolver.Splits, preprocessing: Preprocessing) throws {
        guard let test = data.test else { throw ConvNetError.argument("--confusion needs a test split; \(dataset) has none") }
        let scores = try network.predict(preprocessing.apply(test.images), batchSize: 256)
        let matrix = ConfusionMatrix(labels: test.labels, predictions: predictedClasses(scores), classes: test.classNames.count)
        print(matrix.table(classNames: test.classNames))
        let path = outputPath(for: "confusion")
        try matrix.chart(classNames: test.classNames).write(to: path)
        print(String(format: "Wrote %@ (confusion matrix, accuracy %.4f on %d test images)", path, matrix.accuracy, matrix.total))
    }

    func write(_ image: Tensor, mode: String, note: String) throws {
        let path = outputPath(for: mode)
        try VisualOutput.writeImage(image, to: path)
        print("Wrote \(path) (\(image.shape[1])x\(image.shape[0]), \(note))")
    }
}

/// Where `visualize` and `sweep` get data, training and input images.
enum VisualizationInputs {
    /// The dataset, with images sized and coloured for `model`'s input (saying so when they were changed).
    static func loadData(_ resolver: DatasetResolver, for model: Model) throws -> DatasetResolver.Splits {
        let shape = model.inputShape
        let imageSize = shape.count == 3 ? shape[0].flatMap { h in shape[1].map { (height: h, width: $0) } } : nil
        let data = try resolver.load(imageSize: imageSize, channels: shape.count == 3 ? shape[2] : nil)
        if let notice = data.notice { print(notice) }
        return data
    }

    /// Trains with Adam on the training split (pixels transformed by `preprocessing`) and reports
    /// the test accuracy.
    static func train(_ model: inout Model, on data: DatasetResolver.Splits, preprocessing: Preprocessing = .unitRange,
                      epochs: Int, batchSize: Int, seed: UInt64, verbosity: Verbosity = .auto) throws {
        let train = try TensorDataset(inputs: preprocessing.apply(data.train.images), labels: data.train.labels, classNames: data.train.classNames)
        model.compile(optimizer: Adam(), metrics: [.accuracy])
        if verbosity != .silent { print("Training \(model.name) for \(epochs) epoch(s) on \(train.count) images from \(data.source)") }
        try model.fit(train, epochs: epochs, batchSize: batchSize, seed: seed, verbosity: verbosity)
        if let test = data.test, verbosity != .silent {
            let result = try model.evaluate(TensorDataset(inputs: preprocessing.apply(test.images), labels: test.labels,
                                                          classNames: test.classNames), batchSize: 256)
            print(String(format: "Test accuracy: %.4f (%d images)", result["accuracy"] ?? .nan, test.count))
        }
    }

    /// An image as shown (`display`, pixel values 0...255) and as the model takes it (`input`, preprocessed).
    struct InputImage {
        let display: Tensor
        let input: Tensor
    }

    /// `test:N` (the N-th test image) or a PNG/JPEG file converted to the model's channel count and
    /// resized (bilinear) to its input size; `input` is it after `preprocessing`.
    static func inputImage(_ spec: String, for model: Model, preprocessing: Preprocessing, test: LabeledImages?) throws -> InputImage {
        var image: Tensor
        if spec.hasPrefix("test:") {
            guard let index = Int(spec.dropFirst(5)), index >= 0 else { throw ConvNetError.argument("\(spec): expected test:N with N ≥ 0") }
            guard let test, index < test.count else {
                throw ConvNetError.argument("\(spec): the test split has \(test?.count ?? 0) images")
            }
            let size = test.imageShape.reduce(1, *)
            image = try Tensor(shape: test.imageShape, scalars: Array(test.images.scalars[index * size..<(index + 1) * size]))
        } else {
            image = try ImageCodec.decode(path: spec)
            let shape = model.inputShape
            if shape.count == 3, let channels = shape[2], image.shape[2] != channels {
                image = try image.converted(toChannels: channels)
            }
            if shape.count == 3, let height = shape[0], let width = shape[1] {
                image = try image.resizedBilinear(height: height, width: width)
            }
        }
        return InputImage(display: image, input: try preprocessing.apply(image))
    }
}
