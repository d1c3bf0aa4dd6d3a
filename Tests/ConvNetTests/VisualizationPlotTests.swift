import ConvNet
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// The elements of an SVG document, parsed with Foundation's XML parser (which also proves the
/// document is well-formed).
final class SVGElements: NSObject, XMLParserDelegate {
    struct Element {
        let name: String
        let attributes: [String: String]
        /// The classes of the enclosing `<g>` groups, outermost first.
        let groups: [String]
        var text = ""
    }

    private(set) var elements: [Element] = []
    private var groups: [String] = []
    private var open: [Int] = []

    init(_ svg: String) throws {
        super.init()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = self
        guard parser.parse() else { throw FixtureError("SVG is not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?")") }
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements.append(Element(name: name, attributes: attributes, groups: groups))
        open.append(elements.count - 1)
        if name == "g" { groups.append(attributes["class"] ?? "") }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        open.removeLast()
        if name == "g" { groups.removeLast() }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let index = open.last { elements[index].text += string }
    }

    func named(_ name: String) -> [Element] { elements.filter { $0.name == name } }
    /// The `<text>` contents inside groups of class `group` (anywhere when nil).
    func texts(in group: String? = nil) -> [String] {
        named("text").filter { group == nil || $0.groups.contains(group ?? "") }.map(\.text)
    }
}

/// Training curves, sweeps and confusion matrices: CSV in, SVG structure and pixels out.
@Suite struct VisualizationPlotTests {
    static let csv = """
    epoch,val_loss,loss,accuracy,val_accuracy,learning_rate\r
    1,0.60,0.90,0.70,0.78,0.001\r
    2,0.45,0.50,0.82,0.84,0.001\r
    3,0.40,0.38,0.87,0.86,0.0005\r

    """

    /// Columns are read by name, whatever their order; CRLF and blank lines are fine.
    @Test func historyFromCSV() throws {
        let history = try History(csv: Self.csv, source: "history.csv")
        #expect(history.epochs.count == 3)
        #expect(history.values("loss") == [0.90, 0.50, 0.38])
        #expect(history.values("val_accuracy") == [0.78, 0.84, 0.86])
        #expect(history.values("learning_rate") == [0.001, 0.001, 0.0005])
        #expect(history.epochs[0]["epoch"] == nil)
        let sparse = try History(csv: "loss,val_loss\n1.5,\n1.2,1.4\n", source: "sparse.csv")
        #expect(sparse.values("val_loss") == [1.4])

        #expect(throws: ConvNetError.file(path: "bad.csv", message: "line 3, column 'loss': 'oops' is not a number")) {
            try History(csv: "epoch,loss\n1,0.5\n2,oops\n", source: "bad.csv")
        }
        #expect(throws: ConvNetError.file(path: "short.csv", message: "line 2: 1 cells, but the header has 2 columns")) {
            try History(csv: "epoch,loss\n1\n", source: "short.csv")
        }
        #expect(throws: ConvNetError.self) { try History(csv: "", source: "empty.csv") }
        #expect(throws: ConvNetError.self) { try History.read(csvPath: "/nonexistent/history.csv") }
    }

    /// Two panels, four series of three points each, legends with four entries, titles, ticks.
    @Test func trainingCurvesSVGStructure() throws {
        let history = try History(csv: Self.csv, source: "history.csv")
        let svg = try TrainingCurves.svg(history: history, title: "LeNet-5 & friends")
        let parsed = try SVGElements(svg)
        #expect(parsed.elements.first?.name == "svg")
        #expect(parsed.named("g").filter { $0.attributes["class"] == "panel" }.count == 2)
        let series = parsed.named("polyline").filter { $0.attributes["class"] == "series" }
        #expect(series.map { $0.attributes["data-name"] ?? "" } == ["train loss", "validation loss", "train accuracy", "validation accuracy"])
        for line in series {
            let points = (line.attributes["points"] ?? "").split(separator: " ")
            #expect(points.count == 3, "\(line.attributes["data-name"] ?? "")")
            let dashed = line.attributes["stroke-dasharray"] != nil
            #expect(dashed == (line.attributes["data-name"] ?? "").hasPrefix("validation"))
        }
        // The training loss falls, so its points go down the page (y grows) from left to right.
        let lossPoints = (series[0].attributes["points"] ?? "").split(separator: " ").map { $0.split(separator: ",").compactMap { Double($0) } }
        #expect(lossPoints.map { $0[0] } == lossPoints.map { $0[0] }.sorted())
        #expect(lossPoints.map { $0[1] } == lossPoints.map { $0[1] }.sorted())
        #expect(parsed.named("g").filter { $0.attributes["class"] == "legend-entry" }.count == 4)
        #expect(parsed.texts(in: "legend") == ["train loss", "validation loss", "train accuracy", "validation accuracy"])
        #expect(parsed.texts().contains("LeNet-5 & friends"))
        #expect(parsed.texts().contains("Loss") && parsed.texts().contains("Accuracy"))
        #expect(parsed.texts(in: "x-ticks").prefix(3) == ["1", "2", "3"])
        #expect(!parsed.texts(in: "y-ticks").isEmpty)
        // The y label is turned to read upwards.
        #expect(parsed.named("text").contains { $0.text == "loss" && ($0.attributes["transform"] ?? "").hasPrefix("rotate(-90") })
    }

    /// The PNG rendering of the same figure: white background, the series colours present.
    @Test func trainingCurvesRasterised() throws {
        let figure = try TrainingCurves.figure(history: History(csv: Self.csv, source: "history.csv"))
        let canvas = figure.rasterize(scale: 1)
        #expect(canvas.width == Int(figure.width) && canvas.height == Int(figure.height))
        #expect(canvas[0, 0] == .white)
        var colours = Set<RGBColor>()
        for y in 0..<canvas.height { for x in 0..<canvas.width { colours.insert(canvas[x, y]) } }
        #expect(colours.contains(RGBColor.palette[0]))  // training lines
        #expect(colours.contains(RGBColor.palette[1]))  // validation lines
        #expect(colours.contains(.black))               // text
        let decoded = try ImageCodec.decode(bytes: ImageCodec.encodePNG(figure.rasterize(scale: 2).image), source: "memory")
        #expect(decoded.shape == [Int(figure.height) * 2, Int(figure.width) * 2, 3])
    }

    /// The dropout-sweep plot: one panel, two series with one point per dropout value.
    @Test func sweepFigure() throws {
        let rates = stride(from: 0.1, through: 0.9, by: 0.1).map { $0 }
        let figure = TrainingCurves.sweepFigure(parameterName: "dropout probability", parameters: rates, metricName: "accuracy",
                                                values: [("train accuracy", rates.map { 1 - $0 / 4 }), ("test accuracy", rates.map { 0.8 + $0 / 20 })])
        let parsed = try SVGElements(figure.svg())
        let series = parsed.named("polyline").filter { $0.attributes["class"] == "series" }
        #expect(series.count == 2)
        #expect(series.allSatisfy { ($0.attributes["points"] ?? "").split(separator: " ").count == 9 })
        #expect(parsed.named("circle").count == 18)
        #expect(parsed.texts(in: "legend") == ["train accuracy", "test accuracy"])
        #expect(parsed.texts().contains("dropout probability"))
    }

    /// Round tick values.
    @Test func axisTicks() {
        let ticks = AxisTicks(minimum: 0.23, maximum: 0.91)
        #expect(ticks.labels == ["0.2", "0.4", "0.6", "0.8", "1.0"])
        let epochs = AxisTicks(minimum: 1, maximum: 10, target: 8, integer: true)
        #expect(epochs.step == 2 && epochs.labels.first == "0" && epochs.labels.last == "10")
        let flat = AxisTicks(minimum: 3, maximum: 3, integer: true)
        #expect(flat.lower <= 2 && flat.upper >= 4)
    }

    /// The confusion matrix: a shaded, labelled cell per pair, class names on both axes, counts.
    @Test func confusionMatrixChart() throws {
        let matrix = ConfusionMatrix(labels: [0, 0, 0, 0, 1, 1, 2, 2, 2], predictions: [0, 0, 0, 1, 1, 2, 2, 2, 2], classes: 3)
        let names = ["cat", "dog", "T-shirt/top"]
        let chart = matrix.chart(classNames: names)
        let parsed = try SVGElements(chart.svg())
        let cells = parsed.named("g").filter { $0.attributes["class"] == "cell" }
        #expect(cells.count == 9)
        #expect(parsed.texts(in: "cell") == ["3", "1", "0", "0", "1", "1", "0", "0", "3"])
        let labels = parsed.named("text").filter { $0.groups.contains("class-names") }
        #expect(labels.map(\.text) == ["cat", "cat", "dog", "dog", "T-shirt/top", "T-shirt/top"])
        #expect(labels.filter { ($0.attributes["transform"] ?? "").hasPrefix("rotate(-90") }.count == 3)
        #expect(parsed.texts().contains("Confusion matrix (accuracy 0.778, 9 samples)"))

        // Pixels: a full row is the darkest blue, an empty cell white, a half row in between.
        let short = matrix.chart(classNames: names, title: "CM")  // the axes set the width
        let canvas = short.rasterize(scale: 1)
        func corner(_ row: Int, _ column: Int) -> RGBColor {
            let left = Int(short.width) - 10 - 3 * 34  // the grid ends a 10-unit margin from the right
            return canvas[left + column * 34 + 2, 10 + 24 + row * 34 + 2]
        }
        #expect(corner(2, 2) == ColorMap.blues.color(1))
        #expect(corner(0, 2) == ColorMap.blues.color(0))
        #expect(corner(1, 1) == ColorMap.blues.color(0.5))
        #expect(matrix.table(classNames: names).contains("T-shirt/top"))
    }

    /// Counts from CSV, with or without a header of class names.
    @Test func confusionMatrixFromCSV() throws {
        let (matrix, names) = try ConfusionMatrix.read(csv: "a,b\n5,1\n0,4\n", source: "m.csv")
        #expect(matrix.counts == [[5, 1], [0, 4]])
        #expect(names == ["a", "b"])
        #expect(try ConfusionMatrix.read(csv: "1,2\n3,4", source: "m.csv").classNames == nil)
        #expect(throws: ConvNetError.file(path: "m.csv", message: "line 2: 3 counts, expected 2 (the matrix must be square)")) {
            try ConfusionMatrix.read(csv: "1,2\n3,4,5\n", source: "m.csv")
        }
        #expect(throws: ConvNetError.file(path: "m.csv", message: "line 1, column 2: '-1' is not a count")) {
            try ConfusionMatrix.read(csv: "1,-1\n3,4\n", source: "m.csv")
        }
    }

    /// Charts and images are written atomically by file type; other names are refused.
    @Test func writingFiles() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("convnet-vis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let figure = try TrainingCurves.figure(history: History(csv: Self.csv, source: "history.csv"))
        try figure.write(to: folder.appendingPathComponent("curves.svg").path)
        try figure.write(to: folder.appendingPathComponent("curves.png").path, scale: 1)
        let svg = try String(contentsOf: folder.appendingPathComponent("curves.svg"), encoding: .utf8)
        #expect(svg == figure.svg())
        let png = try ImageCodec.decode(path: folder.appendingPathComponent("curves.png").path)
        #expect(png == figure.rasterize(scale: 1).image)
        let bad = folder.appendingPathComponent("curves.pdf").path
        #expect(throws: ConvNetError.file(path: bad, message: "unknown chart type: use a .svg or .png file name")) {
            try figure.write(to: bad)
        }
        #expect(throws: ConvNetError.self) { try VisualOutput.writeImage(Tensor(shape: [2, 2, 3]), to: folder.appendingPathComponent("x.gif").path) }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(leftovers == ["curves.png", "curves.svg"])
    }
}
