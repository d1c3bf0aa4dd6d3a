import ArgumentParser
import ConvNet
import Foundation

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Loss, accuracy, per-class accuracy and confusion matrix of a model on a dataset's test split.",
        discussion: """
        Works on Keras's own .h5 files: convnet evaluate --model lenet5.h5 --dataset
        fashion-mnist A zoo name has random weights: evaluate refuses it unless
        --allow-untrained is given.
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var datasetOptions: DatasetOptions
    @OptionGroup var batchSizeOption: BatchSizeOption
    @OptionGroup var computeOptions: ComputeOptions
    @Flag(help: "Evaluate a model without trained weights (a zoo name or Keras JSON config) anyway.") var allowUntrained = false
    @Flag(help: "Print one JSON object.") var json = false
    @Option(help: "Test-time augmentation: none, flip (the image and its mirror) or flip-translate (also one-pixel shifts up-left and down-right with mirror padding: six views, airbench's).") var tta = "none"

    func validate() throws {
        do { _ = try TestTimeAugmentation(parsing: tta) } catch { throw ValidationError("\(error)") }
        try ModelOptions.requireTrained(try modelOptions.required("a trained model file (.keras, .h5)"), allowed: allowUntrained)
    }

    func run() throws {
        computeOptions.apply()
        let batchSize = batchSizeOption.value(default: 256)
        let loaded = try ModelSource.load(try modelOptions.required("a trained model file (.keras, .h5)"))
        let data = try PreparedData(datasetOptions.resolver(), inputShape: loaded.model.inputShape,
                                    preprocessing: loaded.metadata?.preprocessing ?? .unitRange)
        try data.check(against: loaded.model)
        if let notice = data.notice, !json { print(notice) }
        let set = try data.evaluation
        let augmentation = try TestTimeAugmentation(parsing: tta)
        let result = try loaded.model.evaluate(set, batchSize: batchSize, testTimeAugmentation: augmentation)
        var labels: [Int] = [], predictions: [Int] = []
        for start in stride(from: 0, to: set.count, by: batchSize) {
            let batch = try set.batch(at: Array(start..<min(start + batchSize, set.count)), seed: 0)
            labels += batch.labels
            predictions += predictedClasses(try loaded.model.predict(batch.inputs, testTimeAugmentation: augmentation))
        }
        let matrix = ConfusionMatrix(labels: labels, predictions: predictions, classes: data.classNames.count)
        if json {
            let object: [String: Any] = ["loss": result["loss"] ?? .nan, "accuracy": result["accuracy"] ?? .nan,
                                         "samples": set.count, "per_class_accuracy": matrix.recall,
                                         "class_names": data.classNames, "confusion_matrix": matrix.counts]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
            return
        }
        print(String(format: "%@ on %d images of %@: loss %.4f, accuracy %.4f", loaded.model.name, set.count, data.source,
                     result["loss"] ?? .nan, result["accuracy"] ?? .nan))
        print("\nPer-class accuracy (recall) and precision:")
        for (index, name) in data.classNames.enumerated() {
            let padded = name.padding(toLength: max(14, name.count), withPad: " ", startingAt: 0)
            print(String(format: "  %2d ", index) + padded + String(format: " accuracy %.4f  precision %.4f", matrix.recall[index], matrix.precision[index]))
        }
        print("\nConfusion matrix (rows: true class, columns: predicted):")
        print(matrix.table(classNames: data.classNames))
    }
}
