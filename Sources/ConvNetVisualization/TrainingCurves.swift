import ConvNetCore
import Foundation

extension History {
    /// Reads the CSV that `CSVLogger` writes: a header naming the columns (`epoch,loss,accuracy,
    /// val_accuracy,val_loss,learning_rate`, in any order, any subset), then one row per epoch.
    /// Columns are read by name; the optional `epoch` column is checked to be whole numbers and
    /// otherwise ignored (epochs are the rows, in order). Empty cells are missing values.
    /// - Parameters:
    ///   - text: The CSV's contents.
    ///   - source: the file name, for errors.
    /// - Throws: `ConvNetError.file(path: source, ...)` for a missing header, a row with another
    ///   number of cells, or a cell that is not a number, naming the line and column.
    public init(csv text: String, source: String) throws {
        let lines = text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let headerLine = lines.first else {
            throw ConvNetError.file(path: source, message: "empty file: expected a CSV header such as epoch,loss,accuracy,val_loss,val_accuracy")
        }
        let header = headerLine.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard header.allSatisfy({ !$0.isEmpty }), Set(header).count == header.count else {
            throw ConvNetError.file(path: source, message: "line 1: the header must name every column once, got '\(headerLine)'")
        }
        self.init()
        for (offset, line) in lines.dropFirst().enumerated() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == header.count else {
                throw ConvNetError.file(path: source, message: "line \(offset + 2): \(cells.count) cells, but the header has \(header.count) columns")
            }
            var row: [String: Double] = [:]
            for (name, cell) in zip(header, cells) where !cell.isEmpty {
                guard let value = Double(cell) else {
                    throw ConvNetError.file(path: source, message: "line \(offset + 2), column '\(name)': '\(cell)' is not a number")
                }
                if name == "epoch" {
                    guard value == value.rounded() else {
                        throw ConvNetError.file(path: source, message: "line \(offset + 2): epoch '\(cell)' is not a whole number")
                    }
                } else {
                    row[name] = value
                }
            }
            epochs.append(row)
        }
    }

    /// Reads a `CSVLogger` file; see `init(csv:source:)`.
    public static func read(csvPath path: String) throws -> History {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConvNetError.file(path: path, message: "no such file or not readable")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConvNetError.file(path: path, message: "not UTF-8 text")
        }
        return try History(csv: text, source: path)
    }
}

/// Plots of training: loss and accuracy per epoch (`figure(history:)`), and a metric against a
/// hyperparameter (`sweepFigure`). `convnet plot`, `convnet sweep` and `convnet train --plot` use them.
public enum TrainingCurves {
    /// Two panels, "Loss" and "Accuracy", with one line per key against the epoch (1, 2, ...):
    /// training values solid blue, held-out values dashed orange, labelled "validation" for `val_*`
    /// keys and "test" for `test_*` keys (`convnet train --validate-on-test`); further metrics in the
    /// same panel, such as `top_5_accuracy`, take the next colour pairs. The loss panel holds `loss`
    /// and its held-out values; the accuracy panel every key ending in `accuracy`. A panel with no
    /// data is left out. With `learningRate`, a third panel draws the `learning_rate` column (the
    /// rate of each epoch, as `CSVLogger` logs it) when the history has one; otherwise it is not plotted.
    /// - Throws: `ConvNetError.argument` when the history has neither loss nor accuracy values.
    public static func figure(history: History, title: String? = "Training curves", learningRate: Bool = false) throws -> Figure {
        let keys = history.keys
        /// Held-out key prefixes and how the legend names them.
        let heldOut = [("val_", "validation "), ("test_", "test ")]
        /// The lines of one panel: for each metric, its training and held-out series.
        func series(_ metrics: [String]) -> [PlotSeries] {
            metrics.enumerated().flatMap { index, metric in
                ([(metric, "train ")] + heldOut.map { ($0.0 + metric, $0.1) }).filter { keys.contains($0.0) }.map { key, label in
                    let isHeldOut = label != "train "
                    let points = history.epochs.enumerated().compactMap { epoch, row in row[key].map { (Double(epoch + 1), $0) } }
                    return PlotSeries(name: label + metric, x: points.map(\.0), y: points.map(\.1),
                                      color: RGBColor.palette[(2 * index + (isHeldOut ? 1 : 0)) % RGBColor.palette.count],
                                      dashed: isHeldOut)
                }
            }
        }
        var seen = Set<String>()
        let accuracyMetrics = keys.filter { $0.hasSuffix("accuracy") }
            .map { key in heldOut.first { key.hasPrefix($0.0) }.map { String(key.dropFirst($0.0.count)) } ?? key }
            .filter { seen.insert($0).inserted }
        var panels: [PlotPanel] = []
        let loss = series(["loss"])
        if !loss.isEmpty {
            panels.append(PlotPanel(title: "Loss", xLabel: "epoch", yLabel: "loss", series: loss, integerX: true))
        }
        let accuracy = series(accuracyMetrics)
        if !accuracy.isEmpty {
            panels.append(PlotPanel(title: "Accuracy", xLabel: "epoch", yLabel: "accuracy", series: accuracy, integerX: true))
        }
        guard !panels.isEmpty else {
            throw ConvNetError.argument("training curves: the history has no loss or accuracy values (keys: \(keys.joined(separator: ", ")))")
        }
        if learningRate, let panel = learningRatePanel([(nil, history)]) { panels.append(panel) }
        return Figure(title: title, panels: panels)
    }

    /// The key `CSVLogger` writes each epoch's learning rate under.
    static let learningRateKey = "learning_rate"

    /// A panel of the learning rate per epoch, one line per run that logged it (named by the run), or nil.
    static func learningRatePanel(_ runs: [(name: String?, history: History)]) -> PlotPanel? {
        let series = runs.enumerated().compactMap { index, run -> PlotSeries? in
            let points = run.history.epochs.enumerated().compactMap { epoch, row in row[learningRateKey].map { (Double(epoch + 1), $0) } }
            guard !points.isEmpty else { return nil }
            return PlotSeries(name: run.name.map { "\($0) learning rate" } ?? "learning rate", x: points.map(\.0), y: points.map(\.1),
                              color: RGBColor.palette[(runs.count == 1 ? 4 : index) % RGBColor.palette.count])
        }
        guard !series.isEmpty else { return nil }
        return PlotPanel(title: "Learning rate", xLabel: "epoch", yLabel: "learning rate", series: series, integerX: true)
    }

    /// Several runs on the same axes (`convnet plot a.csv b.csv`): a loss panel, an accuracy panel
    /// and, with `learningRate`, a learning-rate panel. Each run has one colour and its name in the
    /// legend ("adam loss", "adam test loss"); held-out values (`val_*`, `test_*`) are dashed.
    /// - Throws: `ConvNetError.argument` when no run has loss or accuracy values.
    public static func overlayFigure(runs: [(name: String, history: History)], title: String? = "Training curves",
                                     learningRate: Bool = true) throws -> Figure {
        let heldOut = [("val_", "validation "), ("test_", "test ")]
        func series(_ metric: String) -> [PlotSeries] {
            runs.enumerated().flatMap { index, run in
                ([(metric, "")] + heldOut.map { ($0.0 + metric, $0.1) }).filter { run.history.keys.contains($0.0) }.map { key, label in
                    let points = run.history.epochs.enumerated().compactMap { epoch, row in row[key].map { (Double(epoch + 1), $0) } }
                    return PlotSeries(name: "\(run.name) \(label)\(metric)", x: points.map(\.0), y: points.map(\.1),
                                      color: RGBColor.palette[index % RGBColor.palette.count], dashed: !label.isEmpty)
                }
            }
        }
        var panels: [PlotPanel] = []
        for (metric, title) in [("loss", "Loss"), ("accuracy", "Accuracy")] {
            let lines = series(metric)
            if !lines.isEmpty { panels.append(PlotPanel(title: title, xLabel: "epoch", yLabel: metric, series: lines, integerX: true)) }
        }
        guard !panels.isEmpty else {
            throw ConvNetError.argument("training curves: no run has loss or accuracy values")
        }
        if learningRate, let panel = learningRatePanel(runs.map { ($0.name, $0.history) }) { panels.append(panel) }
        return Figure(title: title, panels: panels, panelWidth: 440, panelHeight: 320)
    }

    /// The training curves as an SVG document (see `figure(history:title:)`).
    public static func svg(history: History, title: String? = "Training curves") throws -> String {
        try figure(history: history, title: title).svg()
    }

    /// Writes the training curves as `.svg` or `.png` (chosen by the file name), atomically.
    public static func write(history: History, to path: String, title: String? = "Training curves") throws {
        try figure(history: history, title: title).write(to: path)
    }

    /// One panel plotting named metrics against a hyperparameter, e.g. train and test accuracy
    /// against the dropout probability. `values[name]` holds one value per `parameters` entry.
    public static func sweepFigure(parameterName: String, parameters: [Double], metricName: String,
                                   values: [(name: String, values: [Double])], title: String? = nil) -> Figure {
        let series = values.enumerated().map { index, entry in
            PlotSeries(name: entry.name, x: parameters, y: entry.values, color: RGBColor.palette[index % RGBColor.palette.count],
                       dashed: index > 0, markers: true)
        }
        let panel = PlotPanel(title: "\(metricName) vs \(parameterName)", xLabel: parameterName, yLabel: metricName, series: series)
        return Figure(title: title, panels: [panel], panelWidth: 520, panelHeight: 320)
    }
}
