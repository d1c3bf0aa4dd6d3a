import ArgumentParser
import ConvNet
import Foundation

/// The lecture notes' dropout exercise (the DNN assignment) and learning-rate decay constant: train
/// one model per dropout probability, or per decay constant k, and plot train and test accuracy.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Train one model per dropout probability (or decay constant k) and plot train and test accuracy against it.",
        discussion: """
        Each value of --dropout (START:STOP:STEP, inclusive, or a list a,b,c) builds
        the model (a zoo name, or a model file: .json configs start from the same
        seed, .h5 files from their weights) with a Dropout layer of that rate after
        Flatten and after every hidden Dense layer (and its own Dropout layers set to
        it), trains it from the same seed for
        --epochs, then measures the accuracy on the training images and on the
        test split in inference mode (dropout off). The plot (SVG or PNG, by the file
        name) shows both against the dropout probability; a table is printed and, with
        --csv, saved.

        With --k, the decay constant of --schedule is swept instead (the lecture
        notes' k in [0.01, 0.1, 0.5, 0.9, 0.95, 0.99]): --schedule exponential becomes
        exponential:K for each K; a K in the schedule (step:K:10) is replaced.
        --dropout is then one rate for every model, or none.

        Examples:
          convnet sweep --model lenet5 --dataset fashion-mnist \\
            --dropout 0.1:0.9:0.1 --epochs 3 --limit 6000 -o sweep.svg
          convnet sweep --model lenet5 --schedule exponential \\
            --k 0.01,0.1,0.5,0.9,0.95,0.99 --epochs 3 --limit 6000 -o k.svg
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var datasetOptions: DatasetOptions
    @Option(help: ArgumentHelp("Dropout probabilities: START:STOP:STEP, START:STOP (5 values) or a,b,c (default 0.1:0.9:0.1; with --k, one rate).", valueName: "range")) var dropout: String?
    @Option(help: ArgumentHelp("Sweep the decay constant of --schedule instead: START:STOP:STEP, START:STOP (5 values, ends included) or a,b,c.", valueName: "range")) var k: String?
    @Option(help: ArgumentHelp("Learning-rate decay with --k: \(LearningRateScheduleRegistry.usages.joined(separator: ", ")), K standing for the swept value (or appended).", valueName: "schedule")) var schedule: String?
    @Option(help: "Epochs per model.") var epochs = 2
    @OptionGroup var limitOption: LimitOption
    @OptionGroup var batchSizeOption: BatchSizeOption
    @OptionGroup var computeOptions: ComputeOptions
    @Option(help: OptimizerChoice.help) var optimizer = "adam"
    @Option(help: "Initial learning rate (default: the optimizer's own).") var lr: Float?
    @Option(help: "Random seed (the same for every model).") var seed: UInt64 = 0
    @OptionGroup var outputOptions: OutputOptions
    @Option(help: "Also write the plot as this PNG.") var png: String?
    @Option(help: "Write the table as CSV (dropout,train_accuracy,test_accuracy).") var csv: String?

    func validate() throws {
        if let k {
            guard let schedule else { throw ValidationError("--k \(k): give the --schedule whose decay constant it sweeps, e.g. --schedule exponential") }
            let epochs = epochs
            for value in try Self.values(k, flag: "--k", unitInterval: false) {
                _ = try usage("--schedule") { try LearningRateSchedule(parsing: Self.schedule(schedule, k: value), epochs: epochs) }
            }
            if let dropout, try Self.rates(dropout).count != 1 {
                throw ValidationError("--dropout \(dropout): with --k, give one dropout rate for every model")
            }
        } else {
            if schedule != nil { throw ValidationError("--schedule is swept with --k; give --k too") }
            _ = try Self.rates(dropout ?? Self.defaultRates)
        }
        guard epochs > 0 else { throw ValidationError("--epochs must be positive, got \(epochs)") }
        if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number, got \(lr)") }
        _ = try OptimizerChoice.make(optimizer, learningRate: lr, momentum: 0.9)
        guard ["svg", "png"].contains(outputOptions.pathExtension) else {
            throw ValidationError("--output \(output): use a .svg or .png file name")
        }
        try OutputPath.check(png, flag: "--png")
        try OutputPath.check(csv, flag: "--csv")
    }

    static let defaultRates = "0.1:0.9:0.1"

    /// `--schedule` with the decay constant `k`: its `K` replaced, or `:k` appended.
    static func schedule(_ spec: String, k: Double) -> String {
        let value = String(format: "%g", k)
        return spec.contains("K") ? spec.replacingOccurrences(of: "K", with: value) : "\(spec):\(value)"
    }

    /// `--dropout`'s probabilities, each in [0, 1).
    static func rates(_ spec: String) throws -> [Double] { try values(spec, flag: "--dropout", unitInterval: true) }

    /// How many values a `START:STOP` range stands for (as `numpy.linspace`'s ends included).
    static let rangePoints = 5

    /// `START:STOP:STEP` (inclusive, values rounded to 6 decimals against drift), `START:STOP`
    /// (`rangePoints` values) or `a,b,c`; with `unitInterval` each in [0, 1), else each positive.
    static func values(_ spec: String, flag: String, unitInterval: Bool) throws -> [Double] {
        let values: [Double]
        let parts = spec.split(separator: ":").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        if parts.count == 3 {
            guard let start = parts[0], let stop = parts[1], let step = parts[2], step > 0, stop >= start else {
                throw ValidationError("\(flag) \(spec): expected START:STOP:STEP with STEP > 0 and STOP ≥ START, e.g. 0.1:0.9:0.1")
            }
            let count = Int(((stop - start) / step + 1e-9).rounded(.down)) + 1
            values = (0..<count).map { ((start + Double($0) * step) * 1e6).rounded() / 1e6 }
        } else if parts.count == 2 {
            // START:STOP, as the lecture notes write a range: `rangePoints` evenly spaced values, ends included.
            guard let start = parts[0], let stop = parts[1], stop > start else {
                throw ValidationError("\(flag) \(spec): expected START:STOP with STOP > START, e.g. 0.01:0.99")
            }
            values = (0..<rangePoints).map {
                ((start + Double($0) * (stop - start) / Double(rangePoints - 1)) * 1e6).rounded() / 1e6
            }
        } else {
            let list = spec.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard !list.isEmpty, list.allSatisfy({ $0 != nil }) else {
                throw ValidationError("\(flag) \(spec): expected START:STOP:STEP (e.g. 0.1:0.9:0.1) or a list such as 0,0.25,0.5")
            }
            values = list.compactMap { $0 }
        }
        if unitInterval, let bad = values.first(where: { !(0..<1).contains($0) }) {
            throw ValidationError("\(flag) \(spec): every probability must be in [0, 1), got \(bad)")
        }
        if !unitInterval, let bad = values.first(where: { !($0 > 0) }) {
            throw ValidationError("\(flag) \(spec): every value must be positive, got \(bad)")
        }
        return values
    }

    var model: String { modelOptions.name(default: "lenet5") }
    var dataset: String { datasetOptions.dataset }
    var output: String { outputOptions.output }

    func run() throws {
        computeOptions.apply()
        let batchSize = batchSizeOption.value(default: 32)
        let sweepsK = k != nil
        let points = try k.map { try Self.values($0, flag: "--k", unitInterval: false) } ?? Self.rates(dropout ?? Self.defaultRates)
        let fixedRate = try sweepsK ? dropout.map { try Self.rates($0)[0] } : nil
        let base = try ModelSource.load(model, seed: seed).model
        let data = try VisualizationInputs.loadData(datasetOptions.resolver(limit: limitOption.limit), for: base)
        guard let testImages = data.test else { throw ConvNetError.argument("--dataset \(dataset) has no test split to measure") }
        let train = try TensorDataset(inputs: data.train.images.scaledToUnitRange(), labels: data.train.labels, classNames: data.train.classNames)
        let test = try TensorDataset(inputs: testImages.images.scaledToUnitRange(), labels: testImages.labels, classNames: testImages.classNames)
        let parameterName = sweepsK ? "k" : "dropout"
        print("\(sweepsK ? "Decay constant (k) sweep of \(schedule ?? "")" : "Dropout sweep"): \(model) on \(train.count) training and \(test.count) test images from \(data.source), \(epochs) epoch(s) per model")
        var trainAccuracy: [Double] = [], testAccuracy: [Double] = []
        for point in points {
            let rate = sweepsK ? fixedRate ?? 0 : point
            var network: Model
            if ModelSource.isFile(model) {
                // A file's own layers, with the zoo's dropout placement (the weights of a .json start from --seed).
                network = try ModelSource.load(model, seed: seed).model.withDropout(rate: Float(rate))
            } else {
                network = try ModelSource.load(model, inputShape: base.inputShape, classes: train.classNames.count, seed: seed,
                                               dropout: Float(rate)).model
            }
            let scheduleSpec = sweepsK ? schedule.map { Self.schedule($0, k: point) } : nil
            let epochs = epochs
            network.compile(optimizer: try OptimizerChoice.make(optimizer, learningRate: lr, momentum: 0.9), loss: .matching(network),
                            metrics: [.accuracy], schedule: try scheduleSpec.map { try LearningRateSchedule(parsing: $0, epochs: epochs) } ?? .constant)
            let start = Date()
            try network.fit(train, epochs: epochs, batchSize: batchSize, seed: seed, verbosity: .silent)
            trainAccuracy.append(try network.evaluate(train, batchSize: 256)["accuracy"] ?? .nan)
            testAccuracy.append(try network.evaluate(test, batchSize: 256)["accuracy"] ?? .nan)
            print(String(format: "%@ %g: train accuracy %.4f, test accuracy %.4f (%.1f s)",
                         parameterName, point, trainAccuracy.last ?? .nan, testAccuracy.last ?? .nan, Date().timeIntervalSince(start)))
        }
        var table = "\(parameterName),train_accuracy,test_accuracy\n"
        print("\n \(parameterName.padding(toLength: 7, withPad: " ", startingAt: 0))  train acc  test acc")
        for (rate, (trainValue, testValue)) in zip(points, zip(trainAccuracy, testAccuracy)) {
            print(String(format: "  %5.2f     %.4f    %.4f", rate, trainValue, testValue))
            table += String(format: "%g,%.6f,%.6f\n", rate, trainValue, testValue)
        }
        let figure = TrainingCurves.sweepFigure(
            parameterName: sweepsK ? "decay constant k (\(schedule ?? ""))" : "dropout probability", parameters: points, metricName: "accuracy",
            values: [("train accuracy", trainAccuracy), ("test accuracy", testAccuracy)],
            title: "\(sweepsK ? "k" : "Dropout") sweep: \(model), \(epochs) epoch\(epochs == 1 ? "" : "s") on \(train.count) training images")
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
