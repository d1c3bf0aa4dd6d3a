import ConvNetCore
import Foundation

/// Image grids: tiles laid out in rows with thin separators and optional captions in the bitmap
/// font. Used for convolution kernels (`filters`), activations (`featureMaps`) and filter
/// comparisons.
///
/// Tiles are `(h, w, 1)` gray or `(h, w, 3)` RGB tensors with values `0...255`; grids come back
/// as `(height, width, 3)` RGB tensors with values `0...255`, ready for `VisualOutput.writeImage`.
public enum ImageGrid {
    /// Colours and spacing of a grid.
    public struct Style: Sendable, Equatable {
        /// Width of the lines between (and around) tiles, in pixels.
        public var separator: Int
        /// Colour of the lines between and around tiles. Default: mid-gray (150).
        public var separatorColor: RGBColor
        /// Behind captions and empty cells.
        public var background: RGBColor
        /// Colour of the caption and the tile captions. Default: black.
        public var textColor: RGBColor
        /// Integer scale of the bitmap font.
        public var fontScale: Int

        /// - Parameters:
        ///   - separator: Width of the lines between and around tiles, in pixels (negative counts as 0).
        ///   - separatorColor: Colour of those lines.
        ///   - background: Behind captions and empty cells.
        ///   - textColor: Colour of the captions.
        ///   - fontScale: Integer scale of the bitmap font (below 1 counts as 1).
        public init(separator: Int = 1, separatorColor: RGBColor = RGBColor(gray: 150), background: RGBColor = .white,
                    textColor: RGBColor = .black, fontScale: Int = 1) {
            self.separator = separator
            self.separatorColor = separatorColor
            self.background = background
            self.textColor = textColor
            self.fontScale = fontScale
        }
    }

    /// Lays `tiles` out left to right, top to bottom, `columns` per row, each enlarged `scale` times
    /// by nearest-neighbour upscaling. Cells are as large as the largest tile; smaller tiles sit at
    /// their cell's top-left. `tileCaptions[i]` is written under tile `i` (cut to the cell width),
    /// `caption` above the grid.
    /// - Returns: `(height, width, 3)`, values `0...255`.
    /// - Throws: `ConvNetError.shape` for a tile that is not `(h, w, 1 or 3)`; `ConvNetError.argument`
    ///   for no tiles, `columns < 1` or `scale < 1`.
    public static func make(tiles: [Tensor], columns: Int, scale: Int = 1, tileCaptions: [String]? = nil, caption: String? = nil,
                            style: Style = Style()) throws -> Tensor {
        guard !tiles.isEmpty, columns > 0, scale > 0 else {
            throw ConvNetError.argument("ImageGrid.make: needs at least one tile, columns ≥ 1 and scale ≥ 1 (got \(tiles.count), \(columns), \(scale))")
        }
        for tile in tiles where tile.rank != 3 || !(tile.shape[2] == 1 || tile.shape[2] == 3) {
            throw ConvNetError.shape(op: "ImageGrid.make", message: "tiles must be (height, width, 1 or 3), got \(describe(shape: tile.shape))")
        }
        let font = max(style.fontScale, 1), separator = max(style.separator, 0)
        let columns = min(columns, tiles.count), rows = (tiles.count + columns - 1) / columns
        let cellWidth = (tiles.map { $0.shape[1] }.max() ?? 1) * scale
        let tileHeight = (tiles.map { $0.shape[0] }.max() ?? 1) * scale
        let captionBand = tileCaptions == nil ? 0 : BitmapFont.lineHeight * font + 2
        let cellHeight = tileHeight + captionBand
        let header = caption == nil ? 0 : BitmapFont.lineHeight * font + 6
        let gridWidth = columns * cellWidth + (columns + 1) * separator
        let gridHeight = rows * cellHeight + (rows + 1) * separator
        let width = max(gridWidth, BitmapFont.textWidth(caption ?? "", scale: font) + 4)

        var canvas = Canvas(width: width, height: header + gridHeight, background: style.background)
        if let caption { canvas.drawText(caption, x: 2, y: 3, fontScale: font, color: style.textColor) }
        canvas.fillPixels(x: 0, y: header, width: gridWidth, height: gridHeight, color: style.separatorColor)
        for cell in 0..<(rows * columns) {
            let x = separator + (cell % columns) * (cellWidth + separator)
            let y = header + separator + (cell / columns) * (cellHeight + separator)
            canvas.fillPixels(x: x, y: y, width: cellWidth, height: cellHeight, color: style.background)
            guard cell < tiles.count else { continue }
            try canvas.drawImage(tiles[cell], x: x, y: y, scaleX: scale, scaleY: scale)
            if let text = tileCaptions?[safe: cell] {
                let fitting = String(text.prefix(max((cellWidth + 1) / (BitmapFont.advance * font), 1)))
                canvas.drawText(fitting, x: x + (cellWidth - BitmapFont.textWidth(fitting, scale: font)) / 2, y: y + tileHeight + 2,
                                fontScale: font, color: style.textColor)
            }
        }
        return canvas.image
    }

    /// Images one above the other, left-aligned, `spacing` pixels apart, on `background`.
    /// - Parameters:
    ///   - images: `(h, w, 1 or 3)` each, values `0...255`.
    ///   - spacing: Pixels between consecutive images.
    ///   - background: The colour around and between the images.
    public static func stack(_ images: [Tensor], spacing: Int = 10, background: RGBColor = .white) throws -> Tensor {
        guard !images.isEmpty else { throw ConvNetError.argument("ImageGrid.stack: no images") }
        for image in images where image.rank != 3 {
            throw ConvNetError.shape(op: "ImageGrid.stack", message: "images must be (height, width, channels), got \(describe(shape: image.shape))")
        }
        let width = images.map { $0.shape[1] }.max() ?? 1
        let height = images.map { $0.shape[0] }.reduce(0, +) + spacing * (images.count - 1)
        var canvas = Canvas(width: width, height: height, background: background)
        var y = 0
        for image in images {
            try canvas.drawImage(image, x: 0, y: y)
            y += image.shape[0] + spacing
        }
        return canvas.image
    }

    /// The integer factor that brings a side of `size` pixels closest to `tileSize` (at least 1).
    public static func upscaleFactor(size: Int, tileSize: Int) -> Int {
        max(Int((Double(tileSize) / Double(max(size, 1))).rounded()), 1)
    }

    /// Columns for `count` tiles: all in one row up to 8, else about a square, at least 8 wide.
    public static func defaultColumns(_ count: Int) -> Int {
        count <= 8 ? max(count, 1) : max(8, Int(Double(count).squareRoot().rounded(.up)))
    }

    /// The kernels of a convolution layer as a grid of tiles.
    ///
    /// - Parameters:
    ///   - kernel: `(k_h, k_w, c_in, c_out)`, Keras's layout.
    ///   - caption: A line above the grid, e.g. the layer's name and kernel shape.
    ///   - tileSize: The side, in pixels, that each tile's integer upscaling comes closest to.
    ///   - columns: Tiles per row in the one-tile-per-filter layout (default `defaultColumns(c_out)`);
    ///     the other layout always has `c_in` per row.
    ///   - style: Colours and spacing.
    /// - Returns: With `c_in` 1 or 3 (a first layer): one tile per output filter, gray or in colour,
    ///   `defaultColumns(c_out)` per row. Otherwise: one row per output filter and one gray tile per
    ///   input channel. Each filter is min-max scaled over all its weights (`DisplayScaling.minMax`:
    ///   its most negative weight black, its most positive white, a constant filter mid-gray), so the
    ///   pattern is visible whatever its magnitude; tiles are about `tileSize` pixels, enlarged by
    ///   nearest-neighbour. Filter `f` is tile `f` (row-major) in the first layout.
    public static func filters(_ kernel: Tensor, caption: String? = nil, tileSize: Int = 40, columns: Int? = nil,
                               style: Style = Style()) throws -> Tensor {
        guard kernel.rank == 4, !kernel.shape.contains(0) else {
            throw ConvNetError.shape(op: "ImageGrid.filters", message: "expected a kernel (k_h, k_w, c_in, c_out), got \(describe(shape: kernel.shape))")
        }
        let (kh, kw, cin, cout) = (kernel.shape[0], kernel.shape[1], kernel.shape[2], kernel.shape[3])
        let scale = upscaleFactor(size: max(kh, kw), tileSize: tileSize)
        var tiles: [Tensor] = []
        for filter in 0..<cout {
            // The filter's weights in (k_h, k_w, c_in) order.
            var weights = [Float](repeating: 0, count: kh * kw * cin)
            for index in weights.indices { weights[index] = kernel.scalars[index * cout + filter] }
            let scaled = DisplayScaling.minMax.apply(to: weights)
            if cin == 1 || cin == 3 {
                tiles.append(try Tensor(shape: [kh, kw, cin], scalars: scaled))
            } else {
                for channel in 0..<cin {
                    let plane = stride(from: channel, to: scaled.count, by: cin).map { scaled[$0] }
                    tiles.append(try Tensor(shape: [kh, kw, 1], scalars: plane))
                }
            }
        }
        let perRow = cin == 1 || cin == 3 ? (columns ?? defaultColumns(cout)) : cin
        return try make(tiles: tiles, columns: perRow, scale: scale, caption: caption, style: style)
    }

    /// The activations of one layer for one input as a grid, one tile per channel.
    ///
    /// - Parameters:
    ///   - activations: `(h, w, c)` or `(1, h, w, c)` for convolution and pooling layers;
    ///     `(n)` or `(1, n)` for dense layers, drawn as a single strip of `n` cells.
    ///   - caption: A line above the grid, e.g. the layer's name and output shape.
    ///   - tileSize: The side, in pixels, that each tile's integer upscaling comes closest to
    ///     (not used for the dense strip).
    ///   - columns: Tiles per row; default `defaultColumns(c)` (not used for the dense strip).
    ///   - style: Colours and spacing.
    /// - Returns: Each channel min-max scaled on its own (lowest value black, highest white; a
    ///   constant channel, such as a dead ReLU map, all black), tiles about `tileSize` pixels wide,
    ///   `defaultColumns(c)` per row, `caption` (layer name and shape) above.
    public static func featureMaps(_ activations: Tensor, caption: String? = nil, tileSize: Int = 56, columns: Int? = nil,
                                   style: Style = Style()) throws -> Tensor {
        var shape = activations.shape
        if shape.count == 4 || shape.count == 2, shape[0] == 1 { shape.removeFirst() }
        if shape.count == 1 {
            let units = shape[0]
            let cell = max(min(512 / max(units, 1), 16), 2)
            let strip = try Tensor(shape: [1, units, 1], scalars: channelScaled(activations.scalars))
            return try make(tiles: [upscaledNearest(strip, scaleX: cell, scaleY: 16)], columns: 1, caption: caption, style: style)
        }
        guard shape.count == 3, !shape.contains(0) else {
            throw ConvNetError.shape(op: "ImageGrid.featureMaps",
                                     message: "expected one sample's activations (h, w, c) or (n), got \(describe(shape: activations.shape))")
        }
        let (h, w, c) = (shape[0], shape[1], shape[2])
        let tiles = try (0..<c).map { channel in
            let plane = stride(from: channel, to: activations.count, by: c).map { activations.scalars[$0] }
            return try Tensor(shape: [h, w, 1], scalars: channelScaled(plane))
        }
        return try make(tiles: tiles, columns: columns ?? defaultColumns(c), scale: upscaleFactor(size: max(h, w), tileSize: tileSize),
                        caption: caption, style: style)
    }

    /// Min-max scaling to `0...255`, with a constant input all 0.
    private static func channelScaled(_ values: [Float]) -> [Float] {
        let finite = values.filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max(), high > low else { return values.map { _ in 0 } }
        return DisplayScaling.minMax.apply(to: values)
    }

    /// `image` `(h, w, c)` enlarged to `(h · scaleY, w · scaleX, c)` by repeating pixels.
    public static func upscaledNearest(_ image: Tensor, scaleX: Int, scaleY: Int) throws -> Tensor {
        guard image.rank == 3 else {
            throw ConvNetError.shape(op: "upscaledNearest", message: "expected (height, width, channels), got \(describe(shape: image.shape))")
        }
        let (h, w, c) = (image.shape[0], image.shape[1], image.shape[2])
        let (sx, sy) = (max(scaleX, 1), max(scaleY, 1))
        var scalars = [Float](repeating: 0, count: h * sy * w * sx * c)
        for y in 0..<(h * sy) {
            for x in 0..<(w * sx) {
                for k in 0..<c { scalars[(y * w * sx + x) * c + k] = image.scalars[((y / sy) * w + x / sx) * c + k] }
            }
        }
        return try Tensor(shape: [h * sy, w * sx, c], scalars: scalars)
    }
}

extension Array {
    /// The element at `index`, or nil outside the array.
    fileprivate subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
