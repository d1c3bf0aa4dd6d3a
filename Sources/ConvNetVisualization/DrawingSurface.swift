import ConvNetCore
import Foundation

/// A point in a drawing's logical coordinates: `x` to the right, `y` down, in SVG user units
/// (one unit is one pixel of a `Canvas` drawn at scale 1).
public struct DrawingPoint: Sendable, Equatable {
    /// Horizontal position, in logical units from the left edge.
    public var x: Double
    /// Vertical position, in logical units from the top edge (SVG's direction, not a plot's).
    public var y: Double

    /// The point `(x, y)` in logical units, `y` down.
    public init(_ x: Double, _ y: Double) {
        self.x = x
        self.y = y
    }
}

/// Where a text's anchor point lies along its run.
public enum TextAnchor: String, Sendable {
    /// The text begins at the point (left-aligned when horizontal).
    case start
    /// The text is centred on the point.
    case middle
    /// The text ends at the point (right-aligned when horizontal).
    case end
}

/// Something a chart can be drawn on: an SVG document (`SVGDocument`) or a pixel buffer (`Canvas`).
///
/// Charts lay themselves out once, in logical units, and issue these calls; each surface renders
/// them its own way, so the SVG and PNG versions of a plot come from the same code. Text sizes are
/// relative to the built-in 5×7 bitmap font: size 1 is a 7-unit cap height and a 6-unit advance
/// (`BitmapFont.textWidth`), which SVG renders as a 10-unit sans-serif font.
public protocol DrawingSurface {
    /// Fills an axis-aligned rectangle.
    mutating func fillRectangle(x: Double, y: Double, width: Double, height: Double, color: RGBColor)
    /// Outlines an axis-aligned rectangle with a line of `lineWidth`.
    mutating func strokeRectangle(x: Double, y: Double, width: Double, height: Double, color: RGBColor, lineWidth: Double)
    /// A connected line through `points`, dashed when `dashed`; `name` labels a data series (SVG keeps it).
    mutating func polyline(_ points: [DrawingPoint], color: RGBColor, lineWidth: Double, dashed: Bool, name: String?)
    /// A filled disc.
    mutating func circle(center: DrawingPoint, radius: Double, color: RGBColor)
    /// Text whose baseline passes through `point`, aligned there by `anchor`; `vertical` turns it
    /// 90° counter-clockwise (reading bottom to top) about `point`.
    mutating func text(_ text: String, at point: DrawingPoint, size: Double, color: RGBColor, anchor: TextAnchor, vertical: Bool)
    /// Starts a named group of elements (an SVG `<g class="...">`); ignored by pixel surfaces.
    mutating func beginGroup(_ className: String)
    /// Ends the innermost group.
    mutating func endGroup()
}

extension DrawingSurface {
    /// A straight line segment.
    public mutating func line(from start: DrawingPoint, to end: DrawingPoint, color: RGBColor, lineWidth: Double = 1,
                              dashed: Bool = false) {
        polyline([start, end], color: color, lineWidth: lineWidth, dashed: dashed, name: nil)
    }

    /// Does nothing: surfaces without groups (pixel buffers) need not implement it.
    public mutating func beginGroup(_ className: String) {}
    /// Does nothing: surfaces without groups (pixel buffers) need not implement it.
    public mutating func endGroup() {}
}

/// A picture laid out in logical units that can be drawn on any `DrawingSurface`: line plots
/// (`Figure`) and confusion matrices (`ConfusionMatrixChart`).
public protocol Chart: Sendable {
    /// Width in logical units.
    var width: Double { get }
    /// Height in logical units.
    var height: Double { get }
    /// Issues the drawing calls; the surface's area is `width × height`.
    func draw(on surface: inout some DrawingSurface)
}

extension Chart {
    /// The chart as a standalone SVG document.
    public func svg() -> String {
        var document = SVGDocument(width: width, height: height)
        draw(on: &document)
        return document.text
    }

    /// The chart rasterised at `scale` pixels per logical unit: shape `(height·scale, width·scale, 3)`.
    public func rasterize(scale: Int = 2) -> Canvas {
        var canvas = Canvas(width: Int(width.rounded(.up)) * max(scale, 1), height: Int(height.rounded(.up)) * max(scale, 1),
                            scale: max(scale, 1))
        draw(on: &canvas)
        return canvas
    }

    /// Writes the chart atomically as SVG (`.svg`) or PNG (`.png`, rasterised at `scale`), chosen by
    /// the file name. Throws `ConvNetError.file` naming `path` for another extension or a failed write.
    public func write(to path: String, scale: Int = 2) throws {
        switch (path as NSString).pathExtension.lowercased() {
        case "svg": try VisualOutput.writeText(svg(), to: path)
        case "png": try VisualOutput.writeImage(rasterize(scale: scale).image, to: path)
        default: throw ConvNetError.file(path: path, message: "unknown chart type: use a .svg or .png file name")
        }
    }
}

/// Splits a polyline into its visible dashes: pieces `dash` long separated by gaps `gap` long,
/// measured along the line (the same pattern SVG's `stroke-dasharray="dash gap"` draws).
func dashSegments(_ points: [DrawingPoint], dash: Double, gap: Double) -> [[DrawingPoint]] {
    guard points.count > 1, dash > 0, gap >= 0 else { return [points] }
    var pieces: [[DrawingPoint]] = []
    var current: [DrawingPoint] = [points[0]]
    var drawing = true
    var remaining = dash
    for (start, end) in zip(points, points.dropFirst()) {
        let length = hypot(end.x - start.x, end.y - start.y)
        var position = 0.0
        while length - position > remaining {
            position += remaining
            let t = position / length
            let split = DrawingPoint(start.x + (end.x - start.x) * t, start.y + (end.y - start.y) * t)
            if drawing {
                current.append(split)
                pieces.append(current)
            } else {
                current = [split]
            }
            drawing.toggle()
            remaining = drawing ? dash : gap
        }
        remaining -= length - position
        if drawing { current.append(end) }
    }
    if drawing, current.count > 1 { pieces.append(current) }
    return pieces
}
