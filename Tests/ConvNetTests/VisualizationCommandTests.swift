import ConvNet
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// Runs the `convnet` executable that `swift test` builds beside the test bundle.
enum ConvNetTool {
    /// The executable, when it was built next to the tests.
    static let path: String? = {
        let candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
                          Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
            .map { $0.appendingPathComponent("convnet").path }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// Runs `convnet arguments...`, returning its exit status and what it wrote to stderr.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(path))
        process.arguments = arguments
        // Any download a test triggers by mistake goes to a closed local port, never outside.
        process.environment = ProcessInfo.processInfo.environment.merging(["CONVNET_DATASET_MIRROR": "http://127.0.0.1:9"]) { $1 }
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }
}

/// The `filter`, `visualize` and `plot` commands end to end: files in, pixels and SVG out, exit codes.
@Suite(.enabled(if: ConvNetTool.path != nil, "the convnet executable is built beside the tests"))
struct VisualizationCommandTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("convnet-vis-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// `convnet filter --kernel vertical-edge --padding valid` on the deck's 6x6 image: white 30-columns.
    @Test func filterCommandOnTheDeckImage() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let deck = try Tensor(shape: [6, 6, 1], scalars: (0..<36).map { $0 % 6 < 3 ? 10 : 0 })
        try VisualOutput.writeImage(deck, to: path("deck.png"))
        let run = try ConvNetTool.run(["filter", "--kernel", "vertical-edge", "--padding", "valid", path("deck.png"), "-o", path("edges.png")])
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.output.contains("max |v| = 30 -> 255"))
        let edges = try ImageCodec.decode(path: path("edges.png"))
        #expect(edges.shape == [4, 4, 1])
        #expect(edges.scalars == [Float]((0..<4).flatMap { _ in [0, 255, 255, 0] }))
    }

    /// A bad kernel file: exit status 1 and a one-line message naming the file.
    @Test func filterCommandRejectsABadKernelFile() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        try VisualOutput.writeImage(Tensor(shape: [4, 4, 1], repeating: 9), to: path("flat.png"))
        try Data(#"{"kernel": [[1, 2], [3]]}"#.utf8).write(to: URL(fileURLWithPath: path("ragged.json")))
        let run = try ConvNetTool.run(["filter", "--kernel", path("ragged.json"), path("flat.png"), "-o", path("out.png")])
        #expect(run.status == 1)
        #expect(run.errors.contains(path("ragged.json")) && run.errors.contains("not rectangular"), "\(run.errors)")
        #expect(run.errors.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: path("out.png")))
    }

    /// `convnet visualize --filters first` on LeNet-5: six 5x5 kernels as 40-pixel tiles under a caption.
    @Test func visualizeFiltersCommand() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try ConvNetTool.run(["visualize", "--model", "lenet5", "--filters", "first", "-o", path("filters.png")])
        #expect(run.status == 0, "\(run.errors)")
        let grid = try ImageCodec.decode(path: path("filters.png"))
        #expect(grid.shape == [BitmapFont.lineHeight + 6 + 1 + 40 + 1, 1 + 6 * 41, 3])
        // Each kernel is min-max scaled on its own, so every tile holds a black and a white pixel.
        for tile in 0..<6 {
            var values = Set<Float>()
            for y in 0..<5 {
                for x in 0..<5 {
                    let offset = ((BitmapFont.lineHeight + 7 + y * 8) * grid.shape[1] + 1 + tile * 41 + x * 8) * 3
                    values.insert(grid.scalars[offset])
                }
            }
            #expect(values.contains(0) && values.contains(255), "tile \(tile)")
        }
    }

    /// A Keras `.h5` model file: the known kernel of its first layer appears at its tile, and the
    /// saliency caption uses the class names saved in the file's metadata.
    @Test func visualizeAModelFile() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        var model = try Model(inputShape: [6, 6, 1]) {
            Conv2D(2, kernelSize: 3, activation: .relu)
            Flatten()
            Dense(3, activation: .softmax)
        }
        var conv = try #require(model.layers[0] as? Conv2D)
        var weights = [Float](repeating: 0.5, count: 3 * 3 * 1 * 2)
        for index in 0..<9 { weights[index * 2 + 1] = Float(index) }  // filter 1: 0 ... 8 row by row
        conv.kernel = try Tensor(shape: [3, 3, 1, 2], scalars: weights)
        model.layers[0] = conv
        try model.save(to: path("model.h5"), metadata: ModelMetadata(classNames: ["circle", "square", "cross"]))
        try VisualOutput.writeImage(Tensor(shape: [6, 6, 1], repeating: 200), to: path("input.png"))

        let run = try ConvNetTool.run(["visualize", "--model", path("model.h5"), "--filters", "first", "--saliency", path("input.png"),
                                       "-o", path("out.png")])
        #expect(run.status == 0, "\(run.errors)")
        let grid = try ImageCodec.decode(path: path("out-filters.png"))
        let (header, scale) = (BitmapFont.lineHeight + 6, 13)  // 3x3 kernels enlarged to about 40 pixels
        // Two 39-pixel tiles with separators, under the caption "conv2d kernels (3, 3, 1, 2)", which is wider.
        #expect(grid.shape == [header + 1 + 39 + 1, max(1 + 2 * 40, BitmapFont.textWidth("conv2d kernels (3, 3, 1, 2)") + 4), 3])
        for index in 0..<9 {
            let x = 1 + 40 + (index % 3) * scale + 6, y = header + 1 + (index / 3) * scale + 6
            let expected = (Float(index) / 8 * 255).rounded()
            #expect(Array(grid.scalars[(y * grid.shape[1] + x) * 3..<(y * grid.shape[1] + x) * 3 + 3]) == [expected, expected, expected])
        }
        let named = ["circle", "square", "cross"].contains { run.output.contains("explaining \($0) (output") }
        #expect(named, "\(run.output)")
        #expect(try ImageCodec.decode(path: path("out-saliency.png")).shape[2] == 3)
    }

    /// `convnet plot history.csv -o curves.svg --png curves.png`.
    @Test func plotCommand() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("epoch,loss,accuracy,val_loss,val_accuracy\n1,0.9,0.7,0.8,0.72\n2,0.6,0.8,0.7,0.78\n".utf8)
            .write(to: URL(fileURLWithPath: path("history.csv")))
        let run = try ConvNetTool.run(["plot", path("history.csv"), "-o", path("curves.svg"), "--png", path("curves.png")])
        #expect(run.status == 0, "\(run.errors)")
        let parsed = try SVGElements(String(contentsOfFile: path("curves.svg"), encoding: .utf8))
        let series = parsed.named("polyline").filter { $0.attributes["class"] == "series" }
        #expect(series.count == 4)
        #expect(series.allSatisfy { ($0.attributes["points"] ?? "").split(separator: " ").count == 2 })
        #expect(try ImageCodec.decode(path: path("curves.png")).shape[2] == 3)

        let missing = try ConvNetTool.run(["plot", path("nope.csv"), "-o", path("x.svg")])
        #expect(missing.status == 1 && missing.errors.contains(path("nope.csv")))
    }
}
