import ArgumentParser
import ConvNet
import Foundation

/// Draws training curves from a `CSVLogger` file, or a confusion matrix from a CSV of counts.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Plot training curves (loss and accuracy per epoch) or a confusion matrix as SVG or PNG.",
        discussion: """
        HISTORY.csv is what `convnet train --log` (Keras CSVLogger) writes: a header
        such as epoch,loss,accuracy,val_accuracy,val_loss,learning_rate (any order;
        columns are read by name) and one row per epoch. The plot has two panels, loss
        and accuracy, training values solid and validation values (val_*) dashed; a
        log of `convnet train
        --validate-on-test` has test_* columns, drawn dashed as "test". A
        learning_rate column gets a third panel (the rate of each epoch).

        Several HISTORY.csv files are overlaid: one colour per run, named in the
        legend by its file name without .csv (or by --names a,b,c). The legend goes in
        a corner that no curve crosses (the y axis grows to make room when none is
        free).

        --confusion MATRIX.csv takes one row of counts per true class (columns:
        predicted classes), optionally after a header row of class names;
        --classes names them otherwise. The text table is printed too.
        `convnet visualize --confusion` computes the matrix from a model.

        The format follows the file name: .svg (written by hand, no plotting library)
        or .png (rasterised with the built-in bitmap font); --png writes a PNG as
        well.

        Examples:
          convnet train --model lenet5 --epochs 5 --validation-split 0.1 \\
            --log history.csv
          convnet plot history.csv -o curves.svg --png curves.png
          convnet plot sgd.csv momentum.csv adam.csv -o optimizers.svg
          convnet plot --schedule inverse-time:0.1 --schedule exponential:0.5 \\
            --schedule power:0.95 --schedule step:0.9:10 --epochs 50 -o decay.svg

        --schedule (repeatable) draws the lecture notes' learning-rate decay instead:
        the rate of each epoch 1...--epochs from α0 = --lr (default 1), one line per
        schedule, as `convnet train --schedule` applies it.
          convnet plot --confusion counts.csv --classes fashion-mnist -o cm.png
        """)

    @Argument(help: "Training history CSVs (from `convnet train --log`); several are overlaid.") var history: [String] = []
    @Option(help: ArgumentHelp("Legend names of the runs, in order (default: the file names without .csv).", valueName: "a,b,...")) var names: String?
    @Option(help: ArgumentHelp("Plot this confusion-matrix CSV instead.", valueName: "matrix.csv")) var confusion: String?
    @Option(help: ArgumentHelp("Plot this learning-rate schedule's rate per epoch instead (repeatable): \(LearningRateScheduleRegistry.usages.joined(separator: ", ")).", valueName: "schedule"))
    var schedule: [String] = []
    @Option(help: "With --schedule: epochs to draw.") var epochs = 50
    @Option(help: "With --schedule: the initial rate α0.") var lr: Float = 1
    @Option(help: "Class names for --confusion: fashion-mnist, cifar10, mnist, or a comma-separated list.") var classes: String?
    @Option(help: "The plot's title.") var title: String?
    @OptionGroup var outputOptions: OutputOptions
    var output: String { outputOptions.output }
    @Option(help: "Also write the plot as this PNG.") var png: String?

    func validate() throws {
        guard [!history.isEmpty, confusion != nil, !schedule.isEmpty].filter({ $0 }).count == 1 else {
            throw ValidationError("give one of: HISTORY.csv files, --confusion MATRIX.csv, --schedule SCHEDULE")
        }
        guard epochs > 0 else { throw ValidationError("--epochs must be positive, got \(epochs)") }
        guard lr > 0 else { throw ValidationError("--lr must be positive, got \(lr)") }
        let epochs = epochs
        for spec in schedule { _ = try usage(nil) { try LearningRateSchedule(parsing: spec, epochs: epochs) } }
        if let names, names.split(separator: ",").count != history.count {
            throw ValidationError("--names \(names): \(names.split(separator: ",").count) names for \(history.count) history file(s)")
        }
        guard ["svg", "png"].contains((output as NSString).pathExtension.lowercased()) else {
            throw ValidationError("--output \(output): use a .svg or .png file name")
        }
        if let png, (png as NSString).pathExtension.lowercased() != "png" {
            throw ValidationError("--png \(png): use a .png file name")
        }
        try OutputPath.check(png, flag: "--png")
    }

    func run() throws {
        let chart: any Chart
        if history.count == 1 {
            let log = try History.read(csvPath: history[0])
            chart = try TrainingCurves.figure(history: log, title: title ?? "Training curves (\((history[0] as NSString).lastPathComponent))",
                                              learningRate: true)
            print("Read \(log.epochs.count) epoch(s) with \(log.keys.joined(separator: ", ")) from \(history[0])")
        } else if !history.isEmpty {
            let labels = names.map { $0.split(separator: ",").map(String.init) }
                ?? history.map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension }
            var runs: [(name: String, history: History)] = []
            for (path, label) in zip(history, labels) {
                let log = try History.read(csvPath: path)
                print("Read \(log.epochs.count) epoch(s) with \(log.keys.joined(separator: ", ")) from \(path)")
                runs.append((label, log))
            }
            chart = try TrainingCurves.overlayFigure(runs: runs, title: title ?? "Training curves (\(runs.count) runs)")
        } else if !schedule.isEmpty {
            let series = try schedule.enumerated().map { index, spec in
                let decay = try LearningRateSchedule(parsing: spec, epochs: epochs)
                let rates = (1...epochs).map { Double(decay.rate(at: $0, initial: lr)) }
                return PlotSeries(name: spec, x: (1...epochs).map(Double.init), y: rates, color: RGBColor.palette[index % RGBColor.palette.count],
                                  markers: false)
            }
            for line in series { print("\(line.name): " + line.y.prefix(5).map { String(format: "%.4g", $0) }.joined(separator: ", ") + ", ... \(String(format: "%.4g", line.y.last ?? .nan)) at epoch \(epochs)") }
            chart = Figure(title: title ?? "Learning-rate decay (initial rate \(lr))",
                           panels: [PlotPanel(title: "Learning rate per epoch", xLabel: "epoch", yLabel: "learning rate", series: series, integerX: true)],
                           panelWidth: 560, panelHeight: 340)
        } else if let confusion {
            guard let data = FileManager.default.contents(atPath: confusion), let text = String(data: data, encoding: .utf8) else {
                throw ConvNetError.file(path: confusion, message: "no such file or not readable text")
            }
            let (matrix, header) = try ConfusionMatrix.read(csv: text, source: confusion)
            let names = try classes.map { try Self.classNames($0, count: matrix.counts.count) } ?? header ?? (0..<matrix.counts.count).map(String.init)
            print(matrix.table(classNames: names))
            chart = matrix.chart(classNames: names, title: title)
        } else {
            return
        }
        for path in [output] + (png.map { [$0] } ?? []) {
            try chart.write(to: path)
            print("Wrote \(path)")
        }
    }

    /// `fashion-mnist`, `cifar10`, `mnist`, or names separated by commas; the count must match the matrix.
    static func classNames(_ spec: String, count: Int) throws -> [String] {
        let names: [String]
        switch spec {
        case "fashion-mnist": names = MNISTStyle.fashionMNISTClassNames
        case "cifar10": names = CIFAR10.classNames
        case "mnist": names = MNISTStyle.digitClassNames
        default: names = spec.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        guard names.count == count else {
            throw ConvNetError.argument("--classes \(spec): \(names.count) names for a \(count)x\(count) matrix")
        }
        return names
    }
}
