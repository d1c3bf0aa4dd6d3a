import ConvNet
import Foundation
import Testing

/// The bitmap font, the canvas, filter grids and feature-map grids, pixel by pixel.
@Suite struct VisualizationGridTests {
    /// The pixel at `(x, y)` of an `(h, w, 3)` image.
    static func pixel(_ image: Tensor, _ x: Int, _ y: Int) -> [Float] {
        let offset = (y * image.shape[1] + x) * 3
        return Array(image.scalars[offset..<offset + 3])
    }

    /// "A" drawn at scale 1 and 2 covers exactly its glyph's pixels.
    @Test func bitmapFontDrawsAKnownGlyph() {
        let rows = [".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#", "....."]
        #expect(BitmapFont.glyph("A") == rows.map { $0.reduce(UInt8(0)) { $0 << 1 | ($1 == "#" ? 1 : 0) } })
        for scale in [1, 2] {
            var canvas = Canvas(width: 8 * scale, height: 10 * scale)
            canvas.drawText("A", x: scale, y: scale, fontScale: scale)
            for y in 0..<(10 * scale) {
                for x in 0..<(8 * scale) {
                    let (row, column) = ((y - scale) / scale, (x - scale) / scale)
                    let inGlyph = y >= scale && x >= scale && row < 8 && column < 5
                        && Array(rows[row])[column] == "#"
                    #expect(canvas[x, y] == (inGlyph ? .black : .white), "scale \(scale), pixel (\(x), \(y))")
                }
            }
        }
        #expect(BitmapFont.textWidth("conv2d (28, 28, 6)") == 18 * 6 - 1)
        #expect(BitmapFont.glyph("é") != BitmapFont.glyph("e"))  // unknown characters get the box
    }

    /// Turned text reads upwards: glyph row r, column c lands at (x + r, y − 1 − c).
    @Test func verticalText() {
        var canvas = Canvas(width: 10, height: 12)
        canvas.drawText("L", x: 1, y: 10, vertical: true)
        let rows = ["#....", "#....", "#....", "#....", "#....", "#....", "#####"]
        for (r, row) in rows.enumerated() {
            for (c, mark) in row.enumerated() {
                #expect(canvas[1 + r, 9 - c] == (mark == "#" ? .black : .white), "row \(r), column \(c)")
            }
        }
    }

    /// A known kernel in a model's first layer appears at its tile, min-max scaled, and the other
    /// tiles and the separators are where the layout says.
    @Test func knownKernelAppearsAtItsTile() throws {
        var model = try Model(inputShape: [8, 8, 1]) {
            Conv2D(4, kernelSize: 3)
            Flatten()
            Dense(2)
        }
        var conv = try #require(model.layers[0] as? Conv2D)
        let pattern: [Float] = [-1, -0.5, 0, 0, 0.5, 1, 1, 1, 1]  // filter 2, row-major over the 3x3 window
        var weights = [Float](repeating: 0.25, count: 3 * 3 * 1 * 4)
        for (index, value) in pattern.enumerated() { weights[index * 4 + 2] = value }
        conv.kernel = try Tensor(shape: [3, 3, 1, 4], scalars: weights)
        model.layers[0] = conv
        let kernel = try #require((model.layers.first { $0 is Conv2D } as? Conv2D)?.kernel)

        let grid = try ImageGrid.filters(kernel, tileSize: 30)  // scale 10, 4 tiles in one row, 1-pixel separators
        #expect(grid.shape == [1 + 30 + 1, 1 + 4 * 31, 3])
        let separator = Float(ImageGrid.Style().separatorColor.red)
        #expect(Self.pixel(grid, 0, 5) == [separator, separator, separator])
        #expect(Self.pixel(grid, 31, 5) == [separator, separator, separator])
        let tileLeft = 1 + 2 * 31
        for (index, value) in pattern.enumerated() {
            let expected = ((value + 1) / 2 * 255).rounded()
            for (dx, dy) in [(0, 0), (9, 9), (5, 3)] {
                let x = tileLeft + (index % 3) * 10 + dx, y = 1 + (index / 3) * 10 + dy
                #expect(Self.pixel(grid, x, y) == [expected, expected, expected], "weight \(index) at (\(x), \(y))")
            }
        }
        // Filter 0 is constant: mid-gray.
        #expect(Self.pixel(grid, 1 + 15, 1 + 15) == [128, 128, 128])
    }

    /// RGB kernels are drawn in colour, scaled over all three channels together.
    @Test func rgbKernelsInColour() throws {
        var weights = [Float](repeating: 0, count: 3 * 3 * 3 * 2)
        // Filter 0: red +1 at the centre (1, 1), blue −1 at the corner (0, 0).
        weights[((1 * 3 + 1) * 3 + 0) * 2 + 0] = 1
        weights[((0 * 3 + 0) * 3 + 2) * 2 + 0] = -1
        let grid = try ImageGrid.filters(try Tensor(shape: [3, 3, 3, 2], scalars: weights), tileSize: 3)
        #expect(grid.shape == [5, 9, 3])  // scale 1
        #expect(Self.pixel(grid, 1 + 1, 1 + 1) == [255, 128, 128])
        #expect(Self.pixel(grid, 1, 1) == [128, 128, 0])
        #expect(Self.pixel(grid, 1 + 2, 1) == [128, 128, 128])
    }

    /// Feature maps: one tile per channel, each min-max scaled on its own, a constant one black,
    /// under a caption.
    @Test func featureMapTiles() throws {
        // (1, 2, 2, 2): channel 0 = 0, 1, 2, 3; channel 1 = 5 everywhere.
        let activations = try Tensor(shape: [1, 2, 2, 2], scalars: [0, 5, 1, 5, 2, 5, 3, 5])
        let grid = try ImageGrid.featureMaps(activations, caption: "conv (2, 2, 2)", tileSize: 4)  // scale 2
        let header = BitmapFont.lineHeight + 6
        // The caption (14 characters, 83 pixels, 2 pixels of margin each side) is wider than the grid.
        #expect(grid.shape == [header + 1 + 4 + 1, 83 + 4, 3])
        for (index, expected) in [Float(0), 85, 170, 255].enumerated() {
            let x = 1 + (index % 2) * 2, y = header + 1 + (index / 2) * 2
            #expect(Self.pixel(grid, x, y) == [expected, expected, expected])
            #expect(Self.pixel(grid, x + 1, y + 1) == [expected, expected, expected])
        }
        #expect(Self.pixel(grid, 1 + 5 + 1, header + 2) == [0, 0, 0])
        // The caption's first glyph, "c", has ink on row 2 (the top of lowercase letters), column 1.
        #expect(Self.pixel(grid, 2 + 1, 3 + 2) == [0, 0, 0])
        #expect(Self.pixel(grid, 2 + 0, 3 + 0) == [255, 255, 255])

        let dense = try ImageGrid.featureMaps(try Tensor(shape: [1, 4], scalars: [0, 1, 2, 3]))
        #expect(dense.shape[0] == 1 + 16 + 1)
        #expect(Self.pixel(dense, 1, 1) == [0, 0, 0])
        #expect(Self.pixel(dense, dense.shape[1] - 2, 1) == [255, 255, 255])
    }

    /// Grid layout: columns, captions under tiles, nearest-neighbour enlargement, bad tiles.
    @Test func gridLayoutAndUpscaling() throws {
        let tile = try Tensor(shape: [1, 2, 1], scalars: [0, 255])
        let up = try ImageGrid.upscaledNearest(tile, scaleX: 3, scaleY: 2)
        #expect(up.shape == [2, 6, 1])
        #expect(up.scalars == [0, 0, 0, 255, 255, 255, 0, 0, 0, 255, 255, 255])
        let grid = try ImageGrid.make(tiles: [tile, tile, tile], columns: 2, scale: 4, tileCaptions: ["a", "b", "c"])
        let cellHeight = 4 + BitmapFont.lineHeight + 2
        #expect(grid.shape == [1 + 2 * (cellHeight + 1), 1 + 2 * (8 + 1), 3])
        let secondRow = 1 + cellHeight + 1
        #expect(Self.pixel(grid, 1 + 1, secondRow + 1) == [0, 0, 0])              // third tile, left half
        #expect(Self.pixel(grid, 1 + 5, secondRow + 1) == [255, 255, 255])       // third tile, right half
        #expect(Self.pixel(grid, 0, secondRow + 1) == [150, 150, 150])           // separator
        #expect(Self.pixel(grid, 1 + 9 + 1, secondRow + 1) == [255, 255, 255])   // empty fourth cell
        // "c" under the third tile: centred at x = 1 + (8 − 5) / 2, its row 2 inked in columns 1–3.
        #expect(Self.pixel(grid, 2 + 1, secondRow + 4 + 2 + 2) == [0, 0, 0])
        #expect(Self.pixel(grid, 2 + 0, secondRow + 4 + 2 + 2) == [255, 255, 255])
        #expect(throws: ConvNetError.self) { try ImageGrid.make(tiles: [Tensor(shape: [2, 2])], columns: 1) }
        #expect(ImageGrid.defaultColumns(6) == 6)
        #expect(ImageGrid.defaultColumns(16) == 8)
        #expect(ImageGrid.defaultColumns(100) == 10)
    }
}
