import ConvNet
import Foundation
import Testing

/// Classic kernels through `conv2d`, the image gradients, display scaling and the JSON kernel file.
@Suite struct VisualizationFilterTests {
    /// Deck 001's 6×6 image: three columns of 10, then three of 0, as `(6, 6, 1)`.
    static let deckImage = try? Tensor(shape: [6, 6, 1], scalars: (0..<36).map { $0 % 6 < 3 ? 10 : 0 })

    /// The vertical-edge kernel yields the deck's 30-valued columns, and the display scaling turns
    /// them into white columns of a PNG that decodes to the same pixels.
    @Test func verticalEdgeOnTheDeckImage() throws {
        let image = try #require(Self.deckImage)
        let raw = try ImageFilters.apply(.verticalEdge, to: image, padding: .valid)
        #expect(raw.shape == [4, 4, 1])
        #expect(raw.scalars == [Float]((0..<4).flatMap { _ in [0, 30, 30, 0] }))
        let fixture = try #require(try Fixtures.seedExamples()["convolution"] as? [[String: Any]])
        #expect(raw.scalars == (try JSONValue.matrix(fixture[0]["output"])).flatMap { $0 })

        let display = DisplayScaling.absolute.apply(to: raw)
        #expect(display.scalars == [Float]((0..<4).flatMap { _ in [0, 255, 255, 0] }))
        let decoded = try ImageCodec.decode(bytes: ImageCodec.encodePNG(display), source: "memory")
        #expect(decoded.shape == [4, 4, 1])
        #expect(decoded.scalars == display.scalars)
    }

    /// The horizontal-edge kernel on the deck's checkered example, and the dark-to-light case.
    @Test func horizontalEdgeAndNegativeEdgesMatchTheDeck() throws {
        let fixture = try #require(try Fixtures.seedExamples()["convolution"] as? [[String: Any]])
        for (index, kernel) in [(1, FilterKernel.verticalEdge), (2, FilterKernel.horizontalEdge)] {
            let input = try JSONValue.matrix(fixture[index]["input"])
            let image = try Tensor(shape: [input.count, input[0].count, 1], scalars: input.flatMap { $0 })
            let raw = try ImageFilters.apply(kernel, to: image, padding: .valid)
            #expect(raw.scalars == (try JSONValue.matrix(fixture[index]["output"])).flatMap { $0 }, "\(fixture[index]["source"] ?? index)")
        }
    }

    /// Channels are filtered separately and come back in their places; batches keep their axis.
    @Test func channelsAreFilteredSeparately() throws {
        let deck = try #require(Self.deckImage).scalars
        let transposed = (0..<36).map { deck[($0 % 6) * 6 + $0 / 6] }  // three rows of 10, three of 0
        var rgb = [Float]()
        for pixel in 0..<36 { rgb += [deck[pixel], transposed[pixel], 7] }
        let image = try Tensor(shape: [6, 6, 3], scalars: rgb)
        let raw = try ImageFilters.apply(.verticalEdge, to: image, padding: .valid)
        #expect(raw.shape == [4, 4, 3])
        for row in 0..<4 {
            for column in 0..<4 {
                let offset = (row * 4 + column) * 3
                #expect(raw.scalars[offset] == [0, 30, 30, 0][column])
                #expect(raw.scalars[offset + 1] == 0)
                #expect(raw.scalars[offset + 2] == 0)
            }
        }
        let batch = try ImageFilters.apply(.verticalEdge, to: image.reshaped(to: [1, 6, 6, 3]), padding: .valid)
        #expect(batch.shape == [1, 4, 4, 3])
        #expect(batch.scalars == raw.scalars)
    }

    /// Strides and same padding follow TensorFlow's rule (output ⌈n / s⌉).
    @Test func strideAndSamePadding() throws {
        let image = try #require(Self.deckImage)
        let raw = try ImageFilters.apply(.verticalEdge, to: image, strides: (2, 2), padding: .same)
        #expect(raw.shape == [3, 3, 1])
        // TF pads 0 before and 1 after for n = 6, k = 3, s = 2: windows start at columns 0, 2, 4.
        #expect(Array(raw.scalars.prefix(3)) == [0, 30, 0])
        #expect(Array(raw.scalars[3..<6]) == [0, 30, 0])
    }

    /// `tf.image.sobel_edges` on a step: reflect padding, g_x = 40 on both sides of the step, g_y = 0.
    @Test func sobelOnAStep() throws {
        let image = try Tensor(shape: [4, 4, 1], scalars: (0..<16).map { $0 % 4 < 2 ? 0 : 10 })
        let (dy, dx) = try ImageFilters.sobelEdges(image)
        #expect(dx.shape == [4, 4, 1])
        #expect(dx.scalars == [Float]((0..<4).flatMap { _ in [0, 40, 40, 0] }))
        #expect(dy.scalars.allSatisfy { $0 == 0 })
        let magnitude = try ImageFilters.sobelMagnitude(image)
        #expect(magnitude.scalars == dx.scalars)
    }

    /// Sobel against a direct loop with mirrored indices on an irregular image.
    @Test func sobelMatchesADirectLoop() throws {
        let (h, w) = (5, 6)
        let values = (0..<(h * w)).map { Float(($0 * 37 + 11) % 23) }
        let image = try Tensor(shape: [h, w, 1], scalars: values)
        let (dy, dx) = try ImageFilters.sobelEdges(image)
        func mirror(_ i: Int, _ n: Int) -> Int { i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i) }
        let kx: [[Float]] = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
        for y in 0..<h {
            for x in 0..<w {
                var gx: Float = 0, gy: Float = 0
                for p in 0..<3 {
                    for q in 0..<3 {
                        let v = values[mirror(y + p - 1, h) * w + mirror(x + q - 1, w)]
                        gx += kx[p][q] * v
                        gy += kx[q][p] * v
                    }
                }
                #expect(dx.scalars[y * w + x] == gx)
                #expect(dy.scalars[y * w + x] == gy)
            }
        }
    }

    /// `tf.image.image_gradients`: forward differences, zero on the last row and column.
    @Test func imageGradientsAreForwardDifferences() throws {
        let image = try Tensor(shape: [2, 3, 1], scalars: [1, 2, 4, 8, 16, 32])
        let (dy, dx) = try ImageFilters.imageGradients(image)
        #expect(dy.scalars == [7, 14, 28, 0, 0, 0])
        #expect(dx.scalars == [1, 2, 0, 8, 16, 0])
        let gx = try ClassicFilter(named: "dx").apply(to: image)
        #expect(gx.scalars == dx.scalars)
        #expect(throws: ConvNetError.self) { try ClassicFilter.gradientY.apply(to: image, strides: (2, 2)) }
    }

    /// Reflect padding mirrors without repeating the edge, and refuses pads wider than the image.
    @Test func reflectPadding() throws {
        let row = try Tensor(shape: [1, 1, 4, 1], scalars: [1, 2, 3, 4])
        let padded = try ImageFilters.reflectPadded(row, top: 0, bottom: 0, left: 2, right: 1)
        #expect(padded.scalars == [3, 2, 1, 2, 3, 4, 3])
        #expect(throws: ConvNetError.self) { try ImageFilters.reflectPadded(row, top: 1, bottom: 0, left: 0, right: 0) }
    }

    /// Blurs keep a flat image flat (weights sum to 1, mirrored border); identity returns the input.
    @Test func smoothingKernelsPreserveFlatImages() throws {
        let flat = Tensor(shape: [5, 5, 3], repeating: 90)
        for name in ["box-blur", "gaussian-blur", "sharpen"] {
            let output = try ClassicFilter(named: name).apply(to: flat)
            #expect(output.shape == [5, 5, 3])
            #expect(output.scalars.allSatisfy { abs($0 - 90) < 1e-3 }, "\(name)")
        }
        let image = try #require(Self.deckImage)
        #expect(try ClassicFilter(named: "identity").apply(to: image) == image)
        #expect(try ImageFilters.apply(.identity, to: image, padding: .same) == image)
    }

    /// The three display scalings on known values.
    @Test func displayScalings() throws {
        let values = try Tensor(shape: [4], scalars: [-100, 0, 50, 300])
        #expect(DisplayScaling.clamp.apply(to: values).scalars == [0, 0, 50, 255])
        #expect(DisplayScaling.absolute.apply(to: values).scalars == [85, 0, 42.5, 255])
        #expect(DisplayScaling.minMax.apply(to: values).scalars == [0, 63.75, 95.625, 255])
        #expect(DisplayScaling.minMax.apply(to: Tensor(shape: [3], repeating: 4)).scalars == [128, 128, 128])
        #expect(DisplayScaling.absolute.apply(to: Tensor(shape: [2])).scalars == [0, 0])
    }

    /// A custom kernel from JSON; bad files are reported with their path.
    @Test func jsonKernelFiles() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("convnet-vis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func file(_ name: String, _ text: String) throws -> String {
            let path = folder.appendingPathComponent(name).path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            return path
        }
        let good = try file("emboss.json", #"{"kernel": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], "scaling": "clamp"}"#)
        let filter = try ClassicFilter(named: good)
        guard case let .kernel(kernel) = filter else {
            Issue.record("expected a kernel, got \(filter)")
            return
        }
        #expect(kernel.name == "emboss")
        #expect(kernel.rows == [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])
        #expect(kernel.displayScaling == .clamp)
        #expect(kernel.tensor.shape == [3, 3, 1, 1])
        #expect(try FilterKernel.load(jsonPath: try file("plain.json", #"{"kernel": [[1, 2]]}"#)).displayScaling == .minMax)

        for (name, text, fragment) in [("ragged.json", #"{"kernel": [[1, 2, 3], [4, 5]]}"#, "not rectangular"),
                                       ("broken.json", #"{"kernel": [[1, 2"#, "not valid JSON"),
                                       ("words.json", #"{"kernel": [["a", "b"]]}"#, "list of rows of numbers"),
                                       ("missing.json", #"{"weights": [[1]]}"#, "missing \"kernel\""),
                                       ("empty.json", #"{"kernel": []}"#, "empty"),
                                       ("scale.json", #"{"kernel": [[1]], "scaling": "log"}"#, "unknown scaling")] {
            let path = try file(name, text)
            do {
                _ = try ClassicFilter(named: path)
                Issue.record("\(name) should have been rejected")
            } catch let error as ConvNetError {
                guard case let .file(errorPath, message) = error else {
                    Issue.record("\(name): expected a file error, got \(error)")
                    continue
                }
                #expect(errorPath == path)
                #expect(message.contains(fragment), "\(name): \(message)")
            }
        }
        #expect(throws: ConvNetError.argument("unknown kernel 'emboss': use one of \(ClassicFilter.names.joined(separator: ", ")) or a FILE.json")) {
            try ClassicFilter(named: "emboss")
        }
    }
}
