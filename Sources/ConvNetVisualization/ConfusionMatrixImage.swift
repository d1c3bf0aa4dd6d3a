import ConvNetCore
import Foundation

/// A confusion matrix drawn as a chart: rows are true classes, columns predicted classes, class
/// names on both axes (the column names turned to read upwards), each cell shaded by the fraction
/// of its row (`count / row total`, the recall on the diagonal) from white to dark blue
/// (`ColorMap.blues`) and labelled with its count. Render it with `svg()`, `rasterize(scale:)` or
/// `write(to:)` (see `Chart`); `ConfusionMatrix.table(classNames:)` gives the same counts as text.
public struct ConfusionMatrixChart: Chart {
    /// The counts to draw, `counts[true][predicted]`; one cell each.
    public let matrix: ConfusionMatrix
    /// Names of classes `0..<n`; missing names are shown as the class index.
    public let classNames: [String]
    /// A line centred above the grid, or nil for none.
    public var title: String?
    /// Side of one cell in logical units.
    public var cellSize: Double

    /// - Parameters:
    ///   - matrix: The counts to draw.
    ///   - classNames: Names of classes `0..<n`; missing names are shown as the class index.
    ///   - title: A line above the grid, or nil for none.
    ///   - cellSize: Side of one cell in logical units.
    public init(matrix: ConfusionMatrix, classNames: [String], title: String? = nil, cellSize: Double = 34) {
        self.matrix = matrix
        self.classNames = classNames
        self.title = title
        self.cellSize = cellSize
    }

    static let margin = 10.0, axisTitle = 16.0, gap = 6.0, titleHeight = 24.0

    /// The label of class `index`.
    func name(_ index: Int) -> String { index < classNames.count ? classNames[index] : String(index) }
    var classCount: Int { matrix.counts.count }
    var nameWidth: Double { (0..<classCount).map { Double(BitmapFont.textWidth(name($0))) }.max() ?? 0 }
    var gridLeft: Double { Self.margin + Self.axisTitle + nameWidth + Self.gap }
    var gridTop: Double { Self.margin + (title == nil ? 0 : Self.titleHeight) }
    var gridSize: Double { cellSize * Double(classCount) }

    /// The width the axes need; a wider title widens the chart and centres them.
    var naturalWidth: Double { gridLeft + gridSize + Self.margin }

    /// Logical width: margins, the vertical axis title, the longest class name and the grid, or
    /// the title's width when that is more.
    public var width: Double {
        max(naturalWidth, Double(BitmapFont.textWidth(title ?? "")) * 1.2 + 2 * Self.margin)
    }

    /// Logical height: the title, the grid, the upright column names and the horizontal axis title.
    public var height: Double { gridTop + gridSize + Self.gap + nameWidth + Self.gap + Self.axisTitle + Self.margin }

    /// Draws the title, the shaded and counted cells (SVG groups `cells`/`cell`), a frame, the
    /// class names on both axes (group `class-names`) and the axis titles.
    public func draw(on surface: inout some DrawingSurface) {
        if let title {
            surface.text(title, at: DrawingPoint(width / 2, Self.margin + 12), size: 1.2, color: .black, anchor: .middle, vertical: false)
        }
        let shift = (width - naturalWidth) / 2
        let (left, top, size) = (gridLeft + shift, gridTop, cellSize)
        surface.beginGroup("cells")
        for (row, counts) in matrix.counts.enumerated() {
            let total = counts.reduce(0, +)
            for (column, count) in counts.enumerated() {
                let fill = ColorMap.blues.color(total == 0 ? 0 : Double(count) / Double(total))
                let (x, y) = (left + Double(column) * size, top + Double(row) * size)
                surface.beginGroup("cell")
                surface.fillRectangle(x: x, y: y, width: size, height: size, color: fill)
                surface.text(String(count), at: DrawingPoint(x + size / 2, y + size / 2 + 3.5), size: 1,
                             color: fill.luma < 128 ? .white : .black, anchor: .middle, vertical: false)
                surface.endGroup()
            }
        }
        surface.endGroup()
        surface.strokeRectangle(x: left, y: top, width: gridSize, height: gridSize, color: RGBColor(gray: 110), lineWidth: 1)
        surface.beginGroup("class-names")
        for index in 0..<classCount {
            let middle = Double(index) * size + size / 2
            surface.text(name(index), at: DrawingPoint(left - Self.gap, top + middle + 3.5), size: 1, color: .black,
                         anchor: .end, vertical: false)
            surface.text(name(index), at: DrawingPoint(left + middle + 3.5, top + gridSize + Self.gap), size: 1, color: .black,
                         anchor: .end, vertical: true)
        }
        surface.endGroup()
        surface.text("true class", at: DrawingPoint(shift + Self.margin + 10, top + gridSize / 2), size: 1, color: .black,
                     anchor: .middle, vertical: true)
        surface.text("predicted class", at: DrawingPoint(left + gridSize / 2, height - Self.margin - 3), size: 1, color: .black,
                     anchor: .middle, vertical: false)
    }
}

extension ConfusionMatrix {
    /// The matrix as a chart (see `ConfusionMatrixChart`); the title defaults to the accuracy.
    public func chart(classNames: [String], title: String? = nil) -> ConfusionMatrixChart {
        ConfusionMatrixChart(matrix: self, classNames: classNames,
                             title: title ?? String(format: "Confusion matrix (accuracy %.3f, %d samples)", accuracy, total))
    }

    /// Reads a matrix of counts from CSV text: one row per true class, one column per predicted
    /// class, optionally preceded by a header row of class names (detected by a non-numeric cell).
    /// - Returns: the matrix and the header's class names, if any.
    /// - Throws: `ConvNetError.file(path: source, ...)` unless the rows form a square of
    ///   non-negative whole numbers, naming the line.
    public static func read(csv text: String, source: String) throws -> (matrix: ConfusionMatrix, classNames: [String]?) {
        var rows = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } }
        var names: [String]?
        if let first = rows.first, first.contains(where: { Int($0) == nil }) {
            names = first
            rows.removeFirst()
        }
        let n = rows.count
        guard n > 0 else { throw ConvNetError.file(path: source, message: "no rows of counts") }
        var labels: [Int] = [], predictions: [Int] = []
        for (row, cells) in rows.enumerated() {
            let line = row + (names == nil ? 1 : 2)
            guard cells.count == n else {
                throw ConvNetError.file(path: source, message: "line \(line): \(cells.count) counts, expected \(n) (the matrix must be square)")
            }
            for (column, cell) in cells.enumerated() {
                guard let count = Int(cell), count >= 0 else {
                    throw ConvNetError.file(path: source, message: "line \(line), column \(column + 1): '\(cell)' is not a count")
                }
                labels += repeatElement(row, count: count)
                predictions += repeatElement(column, count: count)
            }
        }
        if let header = names, header.count != n {
            throw ConvNetError.file(path: source, message: "line 1: \(header.count) class names for a \(n)x\(n) matrix")
        }
        return (ConfusionMatrix(labels: labels, predictions: predictions, classes: n), names)
    }
}
