import ConvNetCore
import Foundation

/// An RGB pixel buffer to draw into: image tiles, bitmap-font text, and (as a `DrawingSurface`)
/// antialiased lines, discs and rectangles for rasterised charts.
///
/// Pixel `(x, y)` covers the square `[x, x + 1) × [y, y + 1)`; `x` grows to the right and `y` down.
/// The pixel-level calls (`drawImage`, `drawText`, `setPixel`) take pixel coordinates. The
/// `DrawingSurface` calls take logical coordinates and multiply them by `scale`, so a chart laid
/// out in logical units can be rendered at 1×, 2×, ... without changing its layout.
public struct Canvas: Sendable {
    /// Width in pixels, at least 1 (the logical width is `width / scale`).
    public let width: Int
    /// Height in pixels, at least 1 (the logical height is `height / scale`).
    public let height: Int
    /// Pixels per logical unit for the `DrawingSurface` calls.
    public let scale: Int
    /// `height × width × 3` bytes, row-major, red-green-blue.
    public private(set) var pixels: [UInt8]

    /// A canvas filled with `background`. Sizes below 1 are raised to 1.
    public init(width: Int, height: Int, background: RGBColor = .white, scale: Int = 1) {
        self.width = max(width, 1)
        self.height = max(height, 1)
        self.scale = max(scale, 1)
        pixels = [UInt8](repeating: 0, count: self.width * self.height * 3)
        fill(background)
    }

    /// The pixel at `(x, y)`; black outside the canvas.
    public subscript(x: Int, y: Int) -> RGBColor {
        guard contains(x, y) else { return .black }
        let offset = (y * width + x) * 3
        return RGBColor(pixels[offset], pixels[offset + 1], pixels[offset + 2])
    }

    /// The canvas as an image tensor `(height, width, 3)` with values `0...255`, ready for
    /// `ImageCodec.encodePNG` or `VisualOutput.writeImage`.
    public var image: Tensor {
        // The scalar count matches the shape by construction.
        (try? Tensor(shape: [height, width, 3], scalars: pixels.map(Float.init))) ?? Tensor(shape: [height, width, 3])
    }

    func contains(_ x: Int, _ y: Int) -> Bool { x >= 0 && y >= 0 && x < width && y < height }

    /// Paints every pixel.
    public mutating func fill(_ color: RGBColor) {
        for offset in stride(from: 0, to: pixels.count, by: 3) {
            pixels[offset] = color.red
            pixels[offset + 1] = color.green
            pixels[offset + 2] = color.blue
        }
    }

    /// Sets one pixel; ignored outside the canvas.
    public mutating func setPixel(x: Int, y: Int, color: RGBColor) {
        blendPixel(x: x, y: y, color: color, alpha: 1)
    }

    /// `pixel ← (1 − alpha) · pixel + alpha · color`; ignored outside the canvas.
    public mutating func blendPixel(x: Int, y: Int, color: RGBColor, alpha: Double) {
        guard contains(x, y), alpha > 0 else { return }
        let offset = (y * width + x) * 3
        if alpha >= 1 {
            pixels[offset] = color.red
            pixels[offset + 1] = color.green
            pixels[offset + 2] = color.blue
            return
        }
        let mixed = RGBColor(pixels[offset], pixels[offset + 1], pixels[offset + 2]).mixed(with: color, alpha)
        pixels[offset] = mixed.red
        pixels[offset + 1] = mixed.green
        pixels[offset + 2] = mixed.blue
    }

    /// Fills the pixel rectangle `[x, x + width) × [y, y + height)`, clipped to the canvas.
    public mutating func fillPixels(x: Int, y: Int, width: Int, height: Int, color: RGBColor) {
        for row in max(y, 0)..<max(min(y + height, self.height), max(y, 0)) {
            for column in max(x, 0)..<max(min(x + width, self.width), max(x, 0)) {
                setPixel(x: column, y: row, color: color)
            }
        }
    }

    /// Copies `image` with its top-left corner at pixel `(x, y)`, each source pixel enlarged to a
    /// `scaleX × scaleY` block (nearest-neighbour upscaling); clipped to the canvas.
    /// - Parameters:
    ///   - image: `(h, w, 1)` gray or `(h, w, 3)` RGB, values rounded and clamped to `0...255`.
    ///   - x: The pixel column of the image's left edge (may be negative: the image is clipped).
    ///   - y: The pixel row of the image's top edge (may be negative: the image is clipped).
    ///   - scaleX: Canvas pixels per image pixel across; values below 1 count as 1.
    ///   - scaleY: Canvas pixels per image pixel down; values below 1 count as 1.
    /// - Throws: `ConvNetError.shape` for another shape.
    public mutating func drawImage(_ image: Tensor, x: Int, y: Int, scaleX: Int = 1, scaleY: Int = 1) throws {
        guard image.rank == 3, image.shape[2] == 1 || image.shape[2] == 3 else {
            throw ConvNetError.shape(op: "Canvas.drawImage", message: "expected (height, width, 1 or 3), got \(describe(shape: image.shape))")
        }
        let (rows, columns, channels) = (image.shape[0], image.shape[1], image.shape[2])
        let (sx, sy) = (max(scaleX, 1), max(scaleY, 1))
        for row in 0..<rows {
            for column in 0..<columns {
                let offset = (row * columns + column) * channels
                let values = (0..<3).map { image.scalars[offset + (channels == 3 ? $0 : 0)] }
                let color = RGBColor(Self.byte(values[0]), Self.byte(values[1]), Self.byte(values[2]))
                fillPixels(x: x + column * sx, y: y + row * sy, width: sx, height: sy, color: color)
            }
        }
    }

    /// Draws `text` in the bitmap font with the top of its character cells at pixel row `y`
    /// (the baseline `capHeight · fontScale` lower) and its left edge at `x`, each font pixel a
    /// `fontScale × fontScale` block. With `vertical`, the text is turned 90° counter-clockwise:
    /// the glyph tops face left at column `x` and the text reads upwards, ending just above row `y`.
    public mutating func drawText(_ text: String, x: Int, y: Int, fontScale: Int = 1, color: RGBColor = .black,
                                  vertical: Bool = false) {
        let s = max(fontScale, 1)
        if vertical {
            drawGlyphs(text, baselineX: x + BitmapFont.capHeight * s, baselineY: y, fontScale: s, color: color, vertical: true)
        } else {
            drawGlyphs(text, baselineX: x, baselineY: y + BitmapFont.capHeight * s, fontScale: s, color: color, vertical: false)
        }
    }

    /// Draws glyphs along a baseline; local glyph pixel `(lx, ly)` (ly relative to the baseline)
    /// lands at `(x + lx, y + ly)`, or turned: `(x + ly, y − lx − 1)` (each a `fontScale` block).
    private mutating func drawGlyphs(_ text: String, baselineX: Int, baselineY: Int, fontScale s: Int, color: RGBColor, vertical: Bool) {
        for (index, character) in text.enumerated() {
            let rows = BitmapFont.glyph(character)
            for (row, bits) in rows.enumerated() {
                for column in 0..<BitmapFont.glyphWidth where bits & (1 << (BitmapFont.glyphWidth - 1 - column)) != 0 {
                    let lx = (index * BitmapFont.advance + column) * s
                    let ly = (row - BitmapFont.capHeight) * s
                    if vertical {
                        fillPixels(x: baselineX + ly, y: baselineY - lx - s, width: s, height: s, color: color)
                    } else {
                        fillPixels(x: baselineX + lx, y: baselineY + ly, width: s, height: s, color: color)
                    }
                }
            }
        }
    }

    /// A pixel value rounded and clamped to a byte (NaN is 0).
    static func byte(_ value: Float) -> UInt8 {
        value.isNaN ? 0 : UInt8(min(max(value.rounded(), 0), 255))
    }
}

extension Canvas: DrawingSurface {
    /// Fills the pixels of the rectangle scaled by `scale`, its edges rounded to whole pixels (not
    /// antialiased, so adjacent cells leave no seams); clipped to the canvas.
    public mutating func fillRectangle(x: Double, y: Double, width: Double, height: Double, color: RGBColor) {
        let s = Double(scale)
        let left = Int((x * s).rounded()), top = Int((y * s).rounded())
        fillPixels(x: left, y: top, width: Int(((x + width) * s).rounded()) - left,
                   height: Int(((y + height) * s).rounded()) - top, color: color)
    }

    /// Outlines the rectangle as a closed antialiased polyline through its four corners.
    public mutating func strokeRectangle(x: Double, y: Double, width: Double, height: Double, color: RGBColor, lineWidth: Double) {
        let corners = [DrawingPoint(x, y), DrawingPoint(x + width, y), DrawingPoint(x + width, y + height),
                       DrawingPoint(x, y + height), DrawingPoint(x, y)]
        polyline(corners, color: color, lineWidth: lineWidth, dashed: false, name: nil)
    }

    /// Antialiased: each pixel's coverage is estimated from the distance `d` between its centre and
    /// the nearest segment, `clamp(w/2 + 1/2 − d, 0, 1)` for a line `w` pixels wide, and the maximum
    /// over the segments is blended once, so joints are not painted twice. Dashes are 6 and 4
    /// line widths long, matching the SVG's `stroke-dasharray`.
    public mutating func polyline(_ points: [DrawingPoint], color: RGBColor, lineWidth: Double, dashed: Bool, name: String?) {
        let s = Double(scale)
        let scaled = points.map { DrawingPoint($0.x * s, $0.y * s) }
        let width = max(lineWidth * s, 0.5)
        let pieces = dashed ? dashSegments(scaled, dash: 6 * max(lineWidth, 1) * s, gap: 4 * max(lineWidth, 1) * s) : [scaled]
        for piece in pieces where piece.count > 1 { strokePiece(piece, color: color, width: width) }
    }

    private mutating func strokePiece(_ points: [DrawingPoint], color: RGBColor, width: Double) {
        let reach = width / 2 + 1
        let left = max(Int((points.map(\.x).min() ?? 0) - reach), 0)
        let right = min(Int((points.map(\.x).max() ?? 0) + reach) + 1, self.width)
        let top = max(Int((points.map(\.y).min() ?? 0) - reach), 0)
        let bottom = min(Int((points.map(\.y).max() ?? 0) + reach) + 1, height)
        guard left < right, top < bottom else { return }
        let boxWidth = right - left
        var coverage = [Double](repeating: 0, count: boxWidth * (bottom - top))
        for (a, b) in zip(points, points.dropFirst()) {
            let x0 = max(Int(min(a.x, b.x) - reach), left), x1 = min(Int(max(a.x, b.x) + reach) + 1, right)
            let y0 = max(Int(min(a.y, b.y) - reach), top), y1 = min(Int(max(a.y, b.y) + reach) + 1, bottom)
            guard x0 < x1, y0 < y1 else { continue }
            for y in y0..<y1 {
                for x in x0..<x1 {
                    let d = Self.distance(from: DrawingPoint(Double(x) + 0.5, Double(y) + 0.5), toSegment: a, b)
                    let c = min(max(width / 2 + 0.5 - d, 0), 1)
                    let index = (y - top) * boxWidth + x - left
                    coverage[index] = max(coverage[index], c)
                }
            }
        }
        for (index, c) in coverage.enumerated() where c > 0 {
            blendPixel(x: left + index % boxWidth, y: top + index / boxWidth, color: color, alpha: c)
        }
    }

    /// The distance from `p` to the segment `a`–`b`.
    static func distance(from p: DrawingPoint, toSegment a: DrawingPoint, _ b: DrawingPoint) -> Double {
        let (dx, dy) = (b.x - a.x, b.y - a.y)
        let lengthSquared = dx * dx + dy * dy
        let t = lengthSquared == 0 ? 0 : min(max(((p.x - a.x) * dx + (p.y - a.y) * dy) / lengthSquared, 0), 1)
        return hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy))
    }

    /// An antialiased filled disc: each pixel is blended with coverage `clamp(r + 1/2 − d, 0, 1)`,
    /// `d` being the distance from its centre to the disc's (in pixels, after scaling).
    public mutating func circle(center: DrawingPoint, radius: Double, color: RGBColor) {
        let s = Double(scale)
        let (cx, cy, r) = (center.x * s, center.y * s, radius * s)
        for y in Int(cy - r - 1)...Int(cy + r + 1) {
            for x in Int(cx - r - 1)...Int(cx + r + 1) {
                let d = hypot(Double(x) + 0.5 - cx, Double(y) + 0.5 - cy)
                blendPixel(x: x, y: y, color: color, alpha: min(max(r + 0.5 - d, 0), 1))
            }
        }
    }

    /// Bitmap-font text at font scale `round(size · scale)` (at least 1).
    public mutating func text(_ text: String, at point: DrawingPoint, size: Double, color: RGBColor, anchor: TextAnchor, vertical: Bool) {
        let fontScale = max(Int((size * Double(scale)).rounded()), 1)
        let length = Double(BitmapFont.textWidth(text, scale: fontScale))
        let shift: Double
        switch anchor {
        case .start: shift = 0
        case .middle: shift = length / 2
        case .end: shift = length
        }
        let x = point.x * Double(scale), y = point.y * Double(scale)
        if vertical {
            drawGlyphs(text, baselineX: Int(x.rounded()), baselineY: Int((y + shift).rounded()), fontScale: fontScale,
                       color: color, vertical: true)
        } else {
            drawGlyphs(text, baselineX: Int((x - shift).rounded()), baselineY: Int(y.rounded()), fontScale: fontScale,
                       color: color, vertical: false)
        }
    }
}
