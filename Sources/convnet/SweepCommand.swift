import ArgumentParser
import ConvNet
import Foundation

/// The lecture notes' dropout exercise: train one model per dropout probability and plot train and test accuracy.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Train one model per dropout probability and plot train and test accuracy against it.",
        discussion: """
        Each value of --dropout (START:STOP:STEP, inclusive, or a list a,b,c)
        builds the zoo model with a Dropout layer of that rate after Flatten
        and after every hidden Dense layer, trains it from the same seed for
        --epochs, then measures the accuracy on the training images and on the
        test split in inference mode (dropout off). The plot (SVG or PNG, by
        the file name) shows both against the dropout probability; a table is
        printed and, with --csv, saved.

        Example:
          convnet sweep --model lenet5 --dataset fashion-mnist \\
            --dropout 0.1:0.9:0.1 --epochs 3 --limit 6000 -o sweep.svg
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var datasetOptions: DatasetOptions
    @Option(help: ArgumentHelp("Dropout probabilities: START:STOP:STEP or a,b,c.", valueName: "range")) var dropout = "0.1:0.9:0.1"
    @Option(help: "Epochs per model.") var epochs = 2
    @OptionGroup var limitOption: LimitOption
    @OptionGroup var batchSizeOption: BatchSizeOption
    @OptionGroup var threadOptions: ThreadOptions
    @Option(help: OptimizerChoice.help) var optimizer = "adam"
    @Option(help: "Initial learning rate (default: the optimizer's own).") var lr: Float?
    @Option(help: "Random seed (the same for every model).") var seed: UInt64 = 0
    @OptionGroup var outputOptions: OutputOptions
    @Option(help: "Also write the plot as this PNG.") var png: String?
    @Option(help: "Write the table as CSV (dropout,train_accuracy,test_accuracy).") var csv: String?

    func validate() throws {
        _ = try Self.rates(dropout)
        guard epochs > 0 else { throw ValidationError("--epochs must be positive, got \(epochs)") }
        if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number, got \(lr)") }
        _ = try OptimizerChoice.make(optimizer, learningRate: lr, momentum: 0.9)
        guard ["svg", "png"].contains(outputOptions.pathExtension) else {
            throw ValidationError("--output \(output): use a .svg or .png file name")
        }
        try OutputPath.check(png, flag: "--png")
        try OutputPath.check(csv, flag: "--csv")
    }

    /// `START:STOP:STEP` (inclusive, values rounded to 6 decimals against drift) or `a,b,c`; each in [0, 1).
    static func rates(_ spec: String) throws -> [Double] {
        let values: [Double]
        let parts = spec.split(separator: ":").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        if parts.count == 3 {
            guard let start = parts[0], let stop = parts[1], let step = parts[2], step > 0, stop >= start else {
                throw ValidationError("--dropout \(spec): expected START:STOP:STEP with STEP > 0 and STOP ≥ START, e.g. 0.1:0.9:0.1")
            }
            let count = Int(((stop - start) / step + 1e-9).rounded(.down)) + 1
            values = (0..<count).map { ((start + Double($0) * step) * 1e6).rounded() / 1e6 }
        } else {
            let list = spec.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard !list.isEmpty, list.allSatisfy({ $0 != nil }) else {
                throw ValidationError("--dropout \(spec): expected START:STOP:STEP (e.g. 0.1:0.9:0.1) or a list such as 0,0.25,0.5")
            }
            values = list.compactMap { $0 }
        }
        if let bad = values.first(where: { !(0..<1).contains($0) }) {
            throw ValidationError("--dropout \(spec): every probability must be in [0, 1), got \(bad)")
        }
        return values
    }

    var model: String { modelOptions.name(default: "lenet5") }
    var dataset: String { datasetOptions.dataset }
    var output: String { outputOptions.output }

    func run() throws {
        threadOptions.apply()
        let batchSize = batchSizeOption.value(default: 32)
        let rates = try Self.rates(dropout)
        let base = try ModelSource.load(model, seed: seed).model
        let data = try VisualizationInputs.loadData(datasetOptions.resolver(limit: limitOption.limit), for: base)
        guard let testImages = data.test else { throw ConvNetError.argument("--dataset \(dataset) has no test split to measure") }
        let train = try TensorDataset(inputs: data.train.images.scaledToUnitRange(), labels: data.train.labels, classNames: data.train.classNames)
        let test = try TensorDataset(inputs: testImages.images.scaledToUnitRange(), labels: testImages.labels, classNames: testImages.classNames)
        print("Dropout sweep: \(model) on \(train.count) training and \(test.count) test images from \(data.source), \(epochs) epoch(s) per model")
        var trainAccuracy: [Double] = [], testAccuracy: [Double] = []
        for rate in rates {
            var network = try ModelSource.load(model, inputShape: base.inputShape, classes: train.classNames.count, seed: seed,
                                               dropout: Float(rate)).model
            network.compile(optimizer: try OptimizerChoice.make(optimizer, learningRate: lr, momentum: 0.9), metrics: [.accuracy])
            let start = Date()
            try network.fit(train, epochs: epochs, batchSize: batchSize, seed: seed, verbosity: .silent)
            trainAccuracy.append(try network.evaluate(train, batchSize: 256)["accuracy"] ?? .nan)
            testAccuracy.append(try network.evaluate(test, batchSize: 256)["accuracy"] ?? .nan)
            print(String(format: "dropout %.2f: train accuracy %.4f, test accuracy %.4f (%.1f s)",
                         rate, trainAccuracy.last ?? .nan, testAccuracy.last ?? .nan, Date().timeIntervalSince(start)))
        }
        var table = "dropout,train_accuracy,test_accuracy\n"
        print("\n dropout  train acc  test acc")
        for (rate, (trainValue, testValue)) in zip(rates, zip(trainAccuracy, testAccuracy)) {
            print(String(format: "  %5.2f     %.4f    %.4f", rate, trainValue, testValue))
            table += String(format: "%g,%.6f,%.6f\n", rate, trainValue, testValue)
        }
        let figure = TrainingCurves.sweepFigure(
            parameterName: "dropout probability", parameters: rates, metricName: "accuracy",
            values: [("train accuracy", trainAccuracy), ("test accuracy", testAccuracy)],
            title: "Dropout sweep: \(model), \(epochs) epoch\(epochs == 1 ? "" : "s") on \(train.count) training images")
        for path in [output] + (png.map { [$0] } ?? []) {
            try figure.write(to: path)
            print("Wrote \(path)")
        }
        if let csv {
            try VisualOutput.writeText(table, to: csv)
            print("Wrote \(csv)")
        }
    }
}
