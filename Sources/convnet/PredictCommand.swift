import ArgumentParser
import ConvNet
import Foundation

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify image files (PNG or JPEG) with a saved model.",
        discussion: """
        Images are resized to the model's input and scaled the way the model was
        trained (stored in the .h5 file). A zoo name has random weights: predict
        refuses it unless --allow-untrained is given. A fully convolutional model
        (input of any size, e.g. fmnist-fcn) takes each image at its own size; when
        the image is larger than the training images the output is a map, and the most
        likely class of each position is printed as a grid (and, with --json, as
        "class_map").
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var computeOptions: ComputeOptions
    @OptionGroup var padOption: PadOption
    @Flag(help: "Classify with a model without trained weights (a zoo name or Keras JSON config) anyway.") var allowUntrained = false
    @Option(help: "How many of the most likely classes to show.") var top = 3
    @Flag(help: "Print a JSON array of {file, class, label, probabilities}.") var json = false
    @Option(help: "Test-time augmentation: none, flip (the image and its mirror) or flip-translate (also one-pixel shifts up-left and down-right with mirror padding: six views, airbench's).") var tta = "none"
    @Flag(help: "Show the scores before the final softmax or sigmoid (the logits) instead of probabilities (with --json, in \"probabilities\").") var logits = false
    @Flag(help: "With --json, add each image's model input as the model saw it (\"input\": preprocessed, resized, flattened NHWC; \"inputShape\").") var withInput = false
    @Argument(help: "Image files.") var images: [String]

    func validate() throws {
        guard top > 0 else { throw ValidationError("--top must be positive, got \(top)") }
        guard !images.isEmpty else { throw ValidationError("give at least one image file") }
        do { _ = try TestTimeAugmentation(parsing: tta) } catch { throw ValidationError("\(error)") }
        if withInput, !json { throw ValidationError("--with-input needs --json") }
        try ModelOptions.requireTrained(try modelOptions.required("a trained model file (.h5)"), allowed: allowUntrained)
    }

    func run() throws {
        computeOptions.apply()
        let model = try modelOptions.required("a trained model file (.h5)")
        var loaded = try ModelSource.load(model)
        if logits { loaded.model = loaded.model.withoutFinalActivation() }
        let shape = loaded.model.inputShape
        guard shape.count == 3, let channels = shape[2] else {
            throw ConvNetError.argument("--model \(model): predict needs an image model with input (height, width, channels)")
        }
        let preprocessing = loaded.metadata?.preprocessing ?? .unitRange
        var results: [[String: Any]] = []
        for file in images {
            var pixels = try ImageCodec.decode(path: file).converted(toChannels: channels)
            let padding = try padOption.padding
            if let height = shape[0], let width = shape[1] {
                let inner = try padding?.innerSize(of: (height: height, width: width)) ?? (height: height, width: width)
                if pixels.shape[0] != inner.height || pixels.shape[1] != inner.width {
                    pixels = try pixels.resizedBilinear(height: inner.height, width: inner.width)
                }
            }
            if let padding { pixels = try padding.apply(pixels) }
            let input = try preprocessing.apply(pixels).reshaped(to: [1] + pixels.shape)
            let output = try loaded.model.predict(input, testTimeAugmentation: try TestTimeAugmentation(parsing: tta))
            let names = loaded.metadata?.classNames
            func label(_ index: Int) -> String { names.flatMap { index < $0.count ? $0[index] : nil } ?? String(index) }
            let probabilities = output.scalars
            var result: [String: Any] = ["file": file, "probabilities": probabilities.map(Double.init)]
            if withInput { (result["input"], result["inputShape"]) = (input.scalars.map(Double.init), input.shape) }
            if let map = ClassMap(output: output) {
                // A map of class scores (a fully convolutional model on a larger image): "probabilities"
                // holds the whole (1, rows, columns, classes) output, row by row.
                let rows: [[Int]] = (0..<map.rows).map { Array(map.classes[$0 * map.columns..<($0 + 1) * map.columns]) }
                result["class_map"] = rows
                result["labels"] = rows.map { $0.map(label) }
                result["outputShape"] = output.shape
                results.append(result)
                if !json { print("\(file): \(map.rows)x\(map.columns) class map (\(describe(shape: pixels.shape)) input)\n\(map.text(label: label))") }
                continue
            }
            let ranked = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }
            (result["class"], result["label"]) = (ranked[0], label(ranked[0]))
            results.append(result)
            if !json {
                let shown = ranked.prefix(top).map { String(format: "%@ %.4f", label($0), probabilities[$0]) }
                print("\(file): \(shown.joined(separator: ", "))")
            }
        }
        if json {
            print(String(decoding: try JSONSerialization.data(withJSONObject: results, options: [.sortedKeys]), as: UTF8.self))
        }
    }
}
