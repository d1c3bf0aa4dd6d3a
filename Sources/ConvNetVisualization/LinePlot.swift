import ConvNetCore
import Foundation

/// One line of a plot: `y[i]` against `x[i]`.
public struct PlotSeries: Sendable, Equatable {
    /// The legend label.
    public var name: String
    /// Horizontal coordinates, e.g. epochs `1, 2, 3, ...`; paired with `y` up to the shorter array.
    public var x: [Double]
    /// Vertical coordinates, e.g. the loss at each epoch; non-finite values (a diverged loss) are skipped.
    public var y: [Double]
    /// The line's (and its markers' and legend sample's) colour, e.g. from `RGBColor.palette`.
    public var color: RGBColor
    /// Whether the line is dashed (6 line widths on, 4 off), e.g. for validation curves.
    public var dashed: Bool
    /// Draw a dot at each point (the default for up to 60 points).
    public var markers: Bool

    /// Pairs with a non-finite coordinate are dropped when drawing.
    ///
    /// - Parameters:
    ///   - name: The legend label.
    ///   - x: Horizontal coordinates.
    ///   - y: Vertical coordinates.
    ///   - color: The line's colour.
    ///   - dashed: Whether the line is dashed.
    ///   - markers: Whether to draw a dot at each point; nil: when there are at most 60 points.
    public init(name: String, x: [Double], y: [Double], color: RGBColor, dashed: Bool = false, markers: Bool? = nil) {
        self.name = name
        self.x = x
        self.y = y
        self.color = color
        self.dashed = dashed
        self.markers = markers ?? (x.count <= 60)
    }

    /// The drawable points: pairs up to the shorter array, finite coordinates only.
    var points: [(x: Double, y: Double)] {
        zip(x, y).filter { $0.0.isFinite && $0.1.isFinite }.map { (x: $0.0, y: $0.1) }
    }
}

/// One set of axes: a title, axis labels, and the series drawn on them with a legend.
public struct PlotPanel: Sendable {
    /// Text centred above the plot area.
    public var title: String
    /// Text centred below the x tick labels, e.g. `"epoch"`.
    public var xLabel: String
    /// Text beside the y tick labels, reading upwards, e.g. `"loss"`.
    public var yLabel: String
    /// The lines, drawn in order (later ones on top) and listed in the legend in that order.
    public var series: [PlotSeries]
    /// Ticks on whole numbers only (epochs).
    public var integerX: Bool
    /// Fixed axis ranges; by default the data's range, widened to round tick values.
    public var xRange: ClosedRange<Double>?
    /// The y axis's range, or nil for the data's; either way widened to round tick values.
    public var yRange: ClosedRange<Double>?

    /// - Parameters:
    ///   - title: Text above the plot area.
    ///   - xLabel: Text below the x axis.
    ///   - yLabel: Text beside the y axis.
    ///   - series: The lines to draw.
    ///   - integerX: Whether x ticks fall on whole numbers only.
    ///   - xRange: The x axis's range, or nil for the data's.
    ///   - yRange: The y axis's range, or nil for the data's.
    public init(title: String, xLabel: String, yLabel: String, series: [PlotSeries], integerX: Bool = false,
                xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.integerX = integerX
        self.xRange = xRange
        self.yRange = yRange
    }
}

/// Round tick positions for an axis: steps of 1, 2 or 5 times a power of ten, covering the data.
public struct AxisTicks: Sendable, Equatable {
    /// The axis range, a whole number of steps: `lower = ⌊min / step⌋ · step`, `upper = ⌈max / step⌉ · step`.
    public let lower: Double
    /// The top of the axis range: `⌈max / step⌉ · step`.
    public let upper: Double
    /// The distance between neighbouring ticks: 1, 2 or 5 times a power of ten (a whole number
    /// of at least 1 for integer axes).
    public let step: Double
    /// `lower, lower + step, ..., upper`.
    public let values: [Double]
    /// The values printed with as many decimals as the step needs (`0.05` → 2).
    public let labels: [String]

    /// About `target` ticks covering `minimum...maximum`; `integer` forces whole-number steps.
    /// An empty range (`minimum == maximum`) is widened by 1 (or 10 % of the value) on each side.
    public init(minimum: Double, maximum: Double, target: Int = 6, integer: Bool = false) {
        var (low, high) = (min(minimum, maximum), max(minimum, maximum))
        if !low.isFinite || !high.isFinite { (low, high) = (0, 1) }
        if high - low < 1e-12 {
            let pad = integer ? 1 : (abs(low) > 0 ? abs(low) * 0.1 : 1)
            (low, high) = (low - pad, high + pad)
        }
        var step = Self.niceStep((high - low) / Double(max(target - 1, 1)))
        if integer { step = max(step.rounded(), 1) }
        let lower = (low / step + 1e-9).rounded(.down) * step
        let upper = (high / step - 1e-9).rounded(.up) * step
        let count = Int(((upper - lower) / step).rounded()) + 1
        self.lower = lower
        self.upper = upper
        self.step = step
        values = (0..<count).map { lower + Double($0) * step }
        let decimals = integer ? 0 : max(0, Int(-log10(step).rounded(.down)))
        labels = values.map { String(format: "%.\(decimals)f", abs($0) < step * 1e-6 ? 0 : $0) }
    }

    /// The smallest of 1, 2, 5 (times a power of ten) that is at least `rough`.
    static func niceStep(_ rough: Double) -> Double {
        let magnitude = pow(10, log10(rough).rounded(.down))
        let fraction = rough / magnitude
        let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        return nice * magnitude
    }
}

/// Line plots, one or more panels side by side under an optional title, drawn by hand as SVG
/// (`svg()`) or pixels (`rasterize(scale:)`); see `Chart`.
///
/// Each panel has a frame, horizontal grid lines at the y ticks, tick labels on both axes, axis
/// labels, a title, and a legend (line sample and name per series) placed in the first corner of
/// the plot area (top right, bottom right, top left, bottom left) that no line crosses; when every
/// corner is crossed the y axis is extended upwards until a top corner is free, so the legend
/// never covers a curve.
public struct Figure: Chart {
    /// A line centred above all panels, or nil for none.
    public var title: String?
    /// The sets of axes, left to right, e.g. loss and accuracy.
    public var panels: [PlotPanel]
    /// The size of each panel, axes and labels included, in logical units.
    public var panelWidth: Double
    /// The height of each panel, axes and labels included, in logical units.
    public var panelHeight: Double

    /// - Parameters:
    ///   - title: A line above all panels, or nil for none.
    ///   - panels: The sets of axes, left to right.
    ///   - panelWidth: The width of each panel in logical units.
    ///   - panelHeight: The height of each panel in logical units.
    public init(title: String? = nil, panels: [PlotPanel], panelWidth: Double = 400, panelHeight: Double = 280) {
        self.title = title
        self.panels = panels
        self.panelWidth = panelWidth
        self.panelHeight = panelHeight
    }

    static let margin = 10.0, titleHeight = 26.0, labelSize = 1.0, titleSize = 1.4

    /// Logical width: the panels side by side plus a 10-unit margin on each side.
    public var width: Double { Self.margin * 2 + panelWidth * Double(max(panels.count, 1)) }
    /// Logical height: one panel, the title's band when there is a title, and the margins.
    public var height: Double { Self.margin * 2 + (title == nil ? 0 : Self.titleHeight) + panelHeight }

    /// Draws the title, then each panel in an SVG group `panel`: frame, grid, ticks, labels,
    /// series and legend.
    public func draw(on surface: inout some DrawingSurface) {
        var top = Self.margin
        if let title {
            surface.text(title, at: DrawingPoint(width / 2, top + 14), size: Self.titleSize, color: .black, anchor: .middle, vertical: false)
            top += Self.titleHeight
        }
        for (index, panel) in panels.enumerated() {
            surface.beginGroup("panel")
            drawPanel(panel, x: Self.margin + Double(index) * panelWidth, y: top, on: &surface)
            surface.endGroup()
        }
    }

    /// The width of `text` at `size` in logical units, from the bitmap font's metrics.
    static func textWidth(_ text: String, size: Double) -> Double {
        Double(BitmapFont.textWidth(text)) * size
    }

    /// Where a panel's plot area and ticks are, for a given top of the y axis.
    private struct PanelGeometry {
        let xTicks: AxisTicks, yTicks: AxisTicks
        let left: Double, right: Double, top: Double, bottom: Double
        func px(_ value: Double) -> Double { left + (value - xTicks.lower) / (xTicks.upper - xTicks.lower) * (right - left) }
        func py(_ value: Double) -> Double { bottom - (value - yTicks.lower) / (yTicks.upper - yTicks.lower) * (bottom - top) }
    }

    private func geometry(_ panel: PlotPanel, x: Double, y: Double, yMinimum: Double, yMaximum: Double) -> PanelGeometry {
        let xs = panel.series.flatMap(\.points).map(\.x)
        let xTicks = AxisTicks(minimum: panel.xRange?.lowerBound ?? xs.min() ?? 0, maximum: panel.xRange?.upperBound ?? xs.max() ?? 1,
                               target: 8, integer: panel.integerX)
        let yTicks = AxisTicks(minimum: yMinimum, maximum: yMaximum)
        let tickLabelWidth = yTicks.labels.map { Self.textWidth($0, size: Self.labelSize) }.max() ?? 0
        // The plot area inside the panel: y label and tick labels on the left, x ticks and label below.
        return PanelGeometry(xTicks: xTicks, yTicks: yTicks, left: x + 18 + tickLabelWidth + 6, right: x + panelWidth - 14,
                             top: y + 22, bottom: y + panelHeight - 36)
    }

    private func drawPanel(_ panel: PlotPanel, x: Double, y: Double, on surface: inout some DrawingSurface) {
        let ys = panel.series.flatMap(\.points).map(\.y)
        let yMinimum = panel.yRange?.lowerBound ?? ys.min() ?? 0
        var yMaximum = panel.yRange?.upperBound ?? ys.max() ?? 1
        // The legend goes in a corner that no line passes through; when every corner is crossed, the
        // y axis is extended upwards (up to 8 times by a quarter of its span) until a top corner is free.
        var layout = geometry(panel, x: x, y: y, yMinimum: yMinimum, yMaximum: yMaximum)
        var legendOrigin = freeLegendCorner(panel.series, layout: layout)
        for _ in 0..<8 where legendOrigin == nil && !panel.series.isEmpty {
            yMaximum += max(layout.yTicks.upper - layout.yTicks.lower, 1e-6) * 0.25
            layout = geometry(panel, x: x, y: y, yMinimum: yMinimum, yMaximum: yMaximum)
            legendOrigin = freeLegendCorner(panel.series, layout: layout)
        }
        let (xTicks, yTicks) = (layout.xTicks, layout.yTicks)
        let (left, right, top, bottom) = (layout.left, layout.right, layout.top, layout.bottom)
        guard right > left, bottom > top else { return }
        func px(_ value: Double) -> Double { layout.px(value) }
        func py(_ value: Double) -> Double { layout.py(value) }
        let gray = RGBColor(gray: 110), grid = RGBColor(gray: 225)

        surface.text(panel.title, at: DrawingPoint((left + right) / 2, y + 12), size: Self.labelSize * 1.2, color: .black,
                     anchor: .middle, vertical: false)
        surface.beginGroup("y-ticks")
        for (value, label) in zip(yTicks.values, yTicks.labels) {
            surface.line(from: DrawingPoint(left, py(value)), to: DrawingPoint(right, py(value)), color: grid)
            surface.line(from: DrawingPoint(left - 4, py(value)), to: DrawingPoint(left, py(value)), color: gray)
            surface.text(label, at: DrawingPoint(left - 6, py(value) + 3.5), size: Self.labelSize, color: .black, anchor: .end, vertical: false)
        }
        surface.endGroup()
        surface.beginGroup("x-ticks")
        for (value, label) in zip(xTicks.values, xTicks.labels) {
            surface.line(from: DrawingPoint(px(value), bottom), to: DrawingPoint(px(value), bottom + 4), color: gray)
            surface.text(label, at: DrawingPoint(px(value), bottom + 15), size: Self.labelSize, color: .black, anchor: .middle, vertical: false)
        }
        surface.endGroup()
        surface.strokeRectangle(x: left, y: top, width: right - left, height: bottom - top, color: gray, lineWidth: 1)
        surface.text(panel.xLabel, at: DrawingPoint((left + right) / 2, bottom + 31), size: Self.labelSize, color: .black,
                     anchor: .middle, vertical: false)
        surface.text(panel.yLabel, at: DrawingPoint(x + 10, (top + bottom) / 2), size: Self.labelSize, color: .black,
                     anchor: .middle, vertical: true)

        for series in panel.series {
            let mapped = series.points.map { DrawingPoint(px($0.x), py($0.y)) }
            if mapped.count > 1 {
                surface.polyline(mapped, color: series.color, lineWidth: 1.75, dashed: series.dashed, name: series.name)
            }
            if series.markers || mapped.count == 1 {
                for point in mapped { surface.circle(center: point, radius: 2.5, color: series.color) }
            }
        }
        drawLegend(panel.series, at: legendOrigin ?? legendCorners(panel.series, layout: layout)[0], on: &surface)
    }

    static let legendRowHeight = 13.0, legendSample = 20.0, legendPadding = 6.0

    /// The legend box's size for `series`.
    private func legendSize(_ series: [PlotSeries]) -> (width: Double, height: Double) {
        (Self.legendPadding * 3 + Self.legendSample + (series.map { Self.textWidth($0.name, size: Self.labelSize) }.max() ?? 0),
         Self.legendPadding * 2 + Self.legendRowHeight * Double(series.count) - 4)
    }

    /// The legend's candidate top-left corners: top right, bottom right, top left, bottom left.
    private func legendCorners(_ series: [PlotSeries], layout: PanelGeometry) -> [DrawingPoint] {
        let (boxWidth, boxHeight) = legendSize(series)
        let inset = 6.0
        return [
            DrawingPoint(layout.right - inset - boxWidth, layout.top + inset),
            DrawingPoint(layout.right - inset - boxWidth, layout.bottom - inset - boxHeight),
            DrawingPoint(layout.left + inset, layout.top + inset),
            DrawingPoint(layout.left + inset, layout.bottom - inset - boxHeight),
        ]
    }

    /// The first corner whose legend box (grown by 4 units) no line segment or marker of `series`
    /// enters, or nil when every corner is crossed.
    private func freeLegendCorner(_ series: [PlotSeries], layout: PanelGeometry) -> DrawingPoint? {
        let (boxWidth, boxHeight) = legendSize(series)
        let lines = series.map { $0.points.map { DrawingPoint(layout.px($0.x), layout.py($0.y)) } }
        return legendCorners(series, layout: layout).first { corner in
            let box = (left: corner.x - 4, right: corner.x + boxWidth + 4, top: corner.y - 4, bottom: corner.y + boxHeight + 4)
            return !lines.contains { points in
                points.contains { box.left...box.right ~= $0.x && box.top...box.bottom ~= $0.y }
                    || zip(points, points.dropFirst()).contains { Self.segment(from: $0, to: $1, crosses: box) }
            }
        }
    }

    /// Whether the segment from `a` to `b` enters the rectangle (Liang–Barsky clipping).
    static func segment(from a: DrawingPoint, to b: DrawingPoint,
                        crosses box: (left: Double, right: Double, top: Double, bottom: Double)) -> Bool {
        var (t0, t1) = (0.0, 1.0)
        let (dx, dy) = (b.x - a.x, b.y - a.y)
        for (p, q) in [(-dx, a.x - box.left), (dx, box.right - a.x), (-dy, a.y - box.top), (dy, box.bottom - a.y)] {
            if p == 0 {
                if q < 0 { return false }
            } else {
                let t = q / p
                if p < 0 { t0 = max(t0, t) } else { t1 = min(t1, t) }
                if t0 > t1 { return false }
            }
        }
        return true
    }

    private func drawLegend(_ series: [PlotSeries], at origin: DrawingPoint, on surface: inout some DrawingSurface) {
        guard !series.isEmpty else { return }
        let rowHeight = Self.legendRowHeight, sample = Self.legendSample, padding = Self.legendPadding
        let (boxWidth, boxHeight) = legendSize(series)
        surface.beginGroup("legend")
        surface.fillRectangle(x: origin.x, y: origin.y, width: boxWidth, height: boxHeight, color: .white)
        surface.strokeRectangle(x: origin.x, y: origin.y, width: boxWidth, height: boxHeight, color: RGBColor(gray: 190), lineWidth: 1)
        for (row, entry) in series.enumerated() {
            let middle = origin.y + padding + rowHeight * Double(row) + 4
            surface.beginGroup("legend-entry")
            surface.line(from: DrawingPoint(origin.x + padding, middle), to: DrawingPoint(origin.x + padding + sample, middle),
                         color: entry.color, lineWidth: 1.75, dashed: entry.dashed)
            surface.text(entry.name, at: DrawingPoint(origin.x + padding * 2 + sample, middle + 3.5), size: Self.labelSize,
                         color: .black, anchor: .start, vertical: false)
            surface.endGroup()
        }
        surface.endGroup()
    }
}
