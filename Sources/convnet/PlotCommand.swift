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
        --validate-on-test` has test_* columns, drawn dashed as "test".

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
          convnet plot --confusion counts.csv --classes fashion-mnist -o cm.png
        """)

    @Argument(help: "A training history CSV (from `convnet train --log`).") var history: String?
    @Option(help: ArgumentHelp("Plot this confusion-matrix CSV instead.", valueName: "matrix.csv")) var confusion: String?
    @Option(help: "Class names for --confusion: fashion-mnist, cifar10, mnist, or a comma-separated list.") var classes: String?
    @Option(help: "The plot's title.") var title: String?
    @OptionGroup var outputOptions: OutputOptions
    var output: String { outputOptions.output }
    @Option(help: "Also write the plot as this PNG.") var png: String?

    func validate() throws {
        guard (history == nil) != (confusion == nil) else {
            throw ValidationError("give either a HISTORY.csv or --confusion MATRIX.csv")
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
        if let history {
            let log = try History.read(csvPath: history)
            chart = try TrainingCurves.figure(history: log, title: title ?? "Training curves (\((history as NSString).lastPathComponent))")
            print("Read \(log.epochs.count) epoch(s) with \(log.keys.joined(separator: ", ")) from \(history)")
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
