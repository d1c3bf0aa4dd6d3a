import ConvNetCore
import Foundation

/// A drawing surface that writes SVG 1.1 by hand: no plotting or XML library needed.
///
/// Elements carry classes so the structure can be inspected: data series are
/// `<polyline class="series" data-name="...">`, and `beginGroup` opens `<g class="...">`.
/// Text is 10·size-unit sans-serif, matching the bitmap font's metrics (see `DrawingSurface`).
public struct SVGDocument: DrawingSurface, Sendable {
    /// Width in SVG user units; also the `viewBox` width.
    public let width: Double
    /// Height in SVG user units; also the `viewBox` height.
    public let height: Double
    private var body: [String] = []

    /// An empty document `width × height` units with a white background.
    public init(width: Double, height: Double) {
        self.width = width
        self.height = height
        body.append("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>")
    }

    /// The complete document.
    public var text: String {
        let header = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" "
            + "viewBox=\"0 0 \(Self.number(width)) \(Self.number(height))\" "
            + "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">"
        return ([header] + body + ["</svg>"]).joined(separator: "\n") + "\n"
    }

    /// Appends a `<rect>` filled with `color`.
    public mutating func fillRectangle(x: Double, y: Double, width: Double, height: Double, color: RGBColor) {
        body.append("<rect x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" width=\"\(Self.number(width))\" "
                    + "height=\"\(Self.number(height))\" fill=\"\(color)\"/>")
    }

    /// Appends an unfilled `<rect>` with a `stroke` of `color` and `stroke-width` `lineWidth`.
    public mutating func strokeRectangle(x: Double, y: Double, width: Double, height: Double, color: RGBColor, lineWidth: Double) {
        body.append("<rect x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" width=\"\(Self.number(width))\" "
                    + "height=\"\(Self.number(height))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(Self.number(lineWidth))\"/>")
    }

    /// Appends a `<polyline>` with round joins and caps; a `name` makes it
    /// `class="series" data-name="name"`, and `dashed` adds `stroke-dasharray` of 6 and 4 line widths.
    public mutating func polyline(_ points: [DrawingPoint], color: RGBColor, lineWidth: Double, dashed: Bool, name: String?) {
        let coordinates = points.map { "\(Self.number($0.x)),\(Self.number($0.y))" }.joined(separator: " ")
        let dash = max(lineWidth, 1)
        var attributes = name.map { "class=\"series\" data-name=\"\(Self.escape($0))\" " } ?? ""
        attributes += "points=\"\(coordinates)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(Self.number(lineWidth))\" "
            + "stroke-linejoin=\"round\" stroke-linecap=\"round\""
        if dashed { attributes += " stroke-dasharray=\"\(Self.number(6 * dash)) \(Self.number(4 * dash))\"" }
        body.append("<polyline \(attributes)/>")
    }

    /// Appends a filled `<circle>`.
    public mutating func circle(center: DrawingPoint, radius: Double, color: RGBColor) {
        body.append("<circle cx=\"\(Self.number(center.x))\" cy=\"\(Self.number(center.y))\" r=\"\(Self.number(radius))\" fill=\"\(color)\"/>")
    }

    /// Appends a `<text>` of font size `10 · size`, with `text-anchor` from `anchor` and, when
    /// `vertical`, `rotate(-90)` about `point`; the text is XML-escaped.
    public mutating func text(_ text: String, at point: DrawingPoint, size: Double, color: RGBColor, anchor: TextAnchor, vertical: Bool) {
        let (x, y) = (Self.number(point.x), Self.number(point.y))
        let rotation = vertical ? " transform=\"rotate(-90 \(x) \(y))\"" : ""
        body.append("<text x=\"\(x)\" y=\"\(y)\" font-size=\"\(Self.number(10 * size))\" fill=\"\(color)\" "
                    + "text-anchor=\"\(anchor.rawValue)\"\(rotation)>\(Self.escape(text))</text>")
    }

    /// Opens `<g class="className">`; close it with ``endGroup()``.
    public mutating func beginGroup(_ className: String) {
        body.append("<g class=\"\(Self.escape(className))\">")
    }

    /// Closes the innermost open `<g>`.
    public mutating func endGroup() {
        body.append("</g>")
    }

    /// A coordinate with at most two decimals and no trailing zeros: `12`, `12.5`, `12.25`.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        var text = String(format: "%.2f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }

    /// `&`, `<`, `>` and `"` as XML entities.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
