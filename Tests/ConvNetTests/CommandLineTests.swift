import ConvNet
import Foundation
import Testing

/// The `convnet` tool end to end: bad input gives a one-line error naming the file or flag, exit
/// code 1 (2 for usage), and no half-written output; the main commands work on real files.
@Suite(.serialized) struct CommandLineTests {
    struct Run {
        let status: Int32
        let output: String
        let error: String
    }

    /// The `convnet` binary built beside the test bundle.
    static var binary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("convnet").path
    }

    static func run(_ arguments: [String]) throws -> Run {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw FixtureError("\(binary) is missing: build the package (swift build) before the tests")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        // Any download a test triggers by mistake goes to a closed local port, never outside.
        process.environment = ProcessInfo.processInfo.environment.merging(["CONVNET_DATASET_MIRROR": "http://127.0.0.1:9"]) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile(), error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
                   error: String(decoding: error, as: UTF8.self))
    }

    /// Expects failure with `status` and a first error line containing every fragment.
    func expectFailure(_ arguments: [String], status: Int32 = 1, mentions fragments: [String],
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try Self.run(arguments)
        #expect(result.status == status, "\(arguments): exit \(result.status), stderr \(result.error)", sourceLocation: sourceLocation)
        let firstLine = result.error.split(separator: "\n").first.map(String.init) ?? ""
        #expect(firstLine.hasPrefix("Error: "), "\(result.error)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(firstLine.contains(fragment), "\"\(firstLine)\" should mention \"\(fragment)\"", sourceLocation: sourceLocation)
        }
        #expect(!result.error.contains("Stack dump") && !result.error.contains("Fatal error"), sourceLocation: sourceLocation)
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("convnet-cli-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func usageErrorsExitWithTwo() throws {
        try expectFailure(["train", "--batch-size", "0"], status: 2, mentions: ["--batch-size", "0"])
        try expectFailure(["train", "--lr=-1"], status: 2, mentions: ["--lr", "-1"])
        try expectFailure(["train", "--epochs", "x"], status: 2, mentions: ["--epochs"])
        try expectFailure(["train", "--save", "out.txt"], status: 2, mentions: ["--save", ".h5"])
        try expectFailure(["bench", "gemm", "--precision", "fp16"], status: 2, mentions: ["--precision", "fp32 or bf16", "fp16"])
    }

    @Test func badModelsAndDatasets() throws {
        try expectFailure(["train", "--model", "nonet"], mentions: ["unknown model 'nonet'", "lenet5"])
        try expectFailure(["evaluate", "--model", "/nonexistent/model.h5"], mentions: ["/nonexistent/model.h5"])
        // Tests never download: CI has no internet, and nothing here may contact anything but 127.0.0.1.
        try expectFailure(["train", "--dataset", "mnist", "--no-download"], mentions: ["MNIST not found", "--data-dir"])
        try expectFailure(["train", "--dataset", "/nonexistent/folder"], mentions: ["/nonexistent/folder"])
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try expectFailure(["train", "--dataset", "mnist", "--data-dir", directory.path, "--no-download"], mentions: [directory.path, "not found"])
    }

    @Test func corruptFiles() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // A truncated gzip IDX file, then a wrong magic number (all four files present each time).
        let labels = try Gzip.compress([0, 0, 8, 1, 0, 0, 0, 2, 1, 2])
        for split in ["train", "t10k"] {
            try Data(labels).write(to: directory.appendingPathComponent("\(split)-labels-idx1-ubyte.gz"))
            try Data(try Gzip.compress([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28] + [UInt8](repeating: 7, count: 2 * 784)))
                .write(to: directory.appendingPathComponent("\(split)-images-idx3-ubyte.gz"))
        }
        let images = directory.appendingPathComponent("train-images-idx3-ubyte.gz")
        try Data(try Data(contentsOf: images).prefix(40)).write(to: images)
        try expectFailure(["train", "--dataset", "mnist", "--data-dir", directory.path, "--no-download"],
                          mentions: [images.path, "gzip"])
        try FileManager.default.removeItem(at: images)
        try Data([0, 0, 8, 9, 0, 0, 0, 2]).write(to: directory.appendingPathComponent("train-images-idx3-ubyte"))
        try expectFailure(["train", "--dataset", "mnist", "--data-dir", directory.path, "--no-download"],
                          mentions: [directory.appendingPathComponent("train-images-idx3-ubyte").path, "magic"])
        // A truncated HDF5 model.
        let model = directory.appendingPathComponent("model.h5")
        let original = try Data(contentsOf: Fixtures.url("keras/lenet5.h5"))
        try original.prefix(5000).write(to: model)
        try expectFailure(["evaluate", "--model", model.path], mentions: [model.path])
        // A corrupt PNG given to predict.
        let image = directory.appendingPathComponent("broken.png")
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3]).write(to: image)
        try expectFailure(["predict", "--model", Fixtures.url("keras/lenet5.h5").path, image.path],
                          mentions: [image.path])
    }

    @Test func imageFolderProblems() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["a", "b"] {
            try FileManager.default.createDirectory(at: directory.appendingPathComponent(name), withIntermediateDirectories: true)
        }
        let pixels = try Tensor(shape: [28, 28, 1], scalars: (0..<784).map { Float($0 % 256) })
        try ImageCodec.write(pixels, to: directory.appendingPathComponent("a/1.png").path)
        try expectFailure(["train", "--dataset", directory.path], mentions: ["b"])  // an empty class folder
        try ImageCodec.write(pixels, to: directory.appendingPathComponent("b/1.png").path)
        try Data("hello".utf8).write(to: directory.appendingPathComponent("b/notes.txt"))
        try expectFailure(["train", "--dataset", directory.path], mentions: ["notes.txt"])
    }

    /// A save that cannot complete leaves no file behind, and a good one writes a loadable model.
    @Test func trainSavesAtomically() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let missingFolder = directory.appendingPathComponent("no/such/folder/model.h5").path
        // A folder that does not exist is a usage error, found before any data is loaded.
        try expectFailure(["train", "--limit", "64", "--epochs", "1", "--quiet", "--save", missingFolder], status: 2,
                          mentions: ["--save", missingFolder])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)

        let saved = directory.appendingPathComponent("lenet5.h5").path
        let train = try Self.run(["train", "--limit", "256", "--epochs", "1", "--quiet", "--save", saved, "--log", directory.appendingPathComponent("log.csv").path])
        #expect(train.status == 0, "\(train.error)")
        #expect(train.output.contains("Test accuracy: "))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["lenet5.h5", "log.csv"])
        let evaluation = try Self.run(["evaluate", "--model", saved, "--json"])
        #expect(evaluation.status == 0, "\(evaluation.error)")
        let json = try JSONSerialization.jsonObject(with: Data(evaluation.output.utf8)) as? [String: Any]
        #expect(json?["samples"] as? Int == 10_000)
        #expect((json?["per_class_accuracy"] as? [Double])?.count == 10)
    }

    /// `--validate-on-test` evaluates on the test split after every epoch: the log's last
    /// `test_accuracy` is the test accuracy printed at the end (the columns say "test", not "val").
    @Test func validateOnTestLogsTestAccuracy() throws {
        try expectFailure(["train", "--validate-on-test", "--validation-split", "0.1"], status: 2,
                          mentions: ["--validate-on-test", "--validation-split"])
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("log.csv")
        let train = try Self.run(["train", "--limit", "256", "--epochs", "2", "--quiet", "--validate-on-test", "--log", log.path])
        #expect(train.status == 0, "\(train.error)")
        let rows = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        let column = try #require(rows.first?.firstIndex(of: "test_accuracy"), "\(rows.first ?? [])")
        #expect(rows.first?.contains { $0.hasPrefix("val_") } == false, "\(rows.first ?? [])")
        #expect(rows.count == 3)
        let lastValidation = try #require(Double(rows[rows.count - 1][column]))
        #expect(train.output.contains(String(format: "Test accuracy: %.4f", lastValidation)), "\(train.output)")
    }

    /// `--resume` continues a `--checkpoint` run: the log of 2 epochs + 1 resumed epoch is the log
    /// of 3 epochs without a break, every row numbered, and the final test accuracy is the same.
    @Test func resumeContinuesTheRunAndItsLog() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let common = ["train", "--limit", "256", "--quiet", "--schedule", "cosine", "--augment"]
        let straight = try Self.run(common + ["--epochs", "3", "--log", path("straight.csv")])
        #expect(straight.status == 0, "\(straight.error)")
        let first = try Self.run(common + ["--epochs", "3", "--log", path("resumed.csv"), "--checkpoint", path("ck-{epoch}.h5")])
        #expect(first.status == 0, "\(first.error)")
        let resumed = try Self.run(common + ["--epochs", "3", "--log", path("resumed.csv"), "--resume", path("ck-2.h5")])
        #expect(resumed.status == 0, "\(resumed.error)")
        let straightLog = try String(contentsOfFile: path("straight.csv"), encoding: .utf8)
        #expect(try String(contentsOfFile: path("resumed.csv"), encoding: .utf8) == straightLog)
        #expect(straightLog.split(separator: "\n").map { $0.prefix(2) } == ["ep", "1,", "2,", "3,"])
        func accuracy(_ run: Run) -> String { run.output.components(separatedBy: "; training took").first ?? "" }
        #expect(accuracy(resumed).hasPrefix("Test accuracy: "))
        #expect(accuracy(resumed) == accuracy(straight))
    }

    /// `--stream-images` decodes the folders batch by batch instead of loading them: the same
    /// batches, so the same log and test accuracy as training from memory, standardisation included.
    @Test func streamedFoldersTrainLikeLoadedOnes() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var generator = RandomGenerator(seed: 3)
        for (split, count) in [("train", 6), ("test", 3)] {
            for (label, name) in ["a", "b", "c"].enumerated() {
                let folder = directory.appendingPathComponent("\(split)/\(name)")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                for index in 0..<count {
                    // Each class has its own brightness, plus noise.
                    let pixels = try Tensor(shape: [20, 20, 3], scalars: (0..<1200).map { _ in
                        Float(40 + 80 * label + Int.random(in: 0..<60, using: &generator)) })
                    try ImageCodec.write(pixels, to: folder.appendingPathComponent("\(index).png").path)
                }
            }
        }
        func train(_ extra: [String], log: String) throws -> Run {
            let run = try Self.run(["train", "--model", "lenet5", "--dataset", directory.path, "--epochs", "2", "--batch-size", "4",
                                    "--augment", "--preprocessing", "standardize", "--validate-on-test",
                                    "--log", directory.appendingPathComponent(log).path] + extra)
            #expect(run.status == 0, "\(run.error)")
            return run
        }
        let loaded = try train([], log: "loaded.csv")
        let streamed = try train(["--stream-images"], log: "streamed.csv")
        #expect(streamed.output.contains("Decoding the images from disk batch by batch (--stream-images)"), "\(streamed.output)")
        #expect(!loaded.output.contains("Decoding the images from disk"))
        #expect(try String(contentsOfFile: directory.appendingPathComponent("streamed.csv").path, encoding: .utf8)
                == String(contentsOfFile: directory.appendingPathComponent("loaded.csv").path, encoding: .utf8))
        func result(_ run: Run) -> String? {
            run.output.split(separator: "\n").first { $0.hasPrefix("Test accuracy: ") }?.components(separatedBy: "; training took").first
        }
        #expect(result(streamed) != nil && result(streamed) == result(loaded), "\(streamed.output)\n\(loaded.output)")
    }

    @Test func predictUsesStoredPreprocessingAndNames() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // The first Fashion-MNIST test image (an ankle boot), written as a PNG.
        let first = try MNISTStyle.load(split: .test, limit: 1)
        let png = directory.appendingPathComponent("boot.png").path
        try ImageCodec.write(first.images.reshaped(to: [28, 28, 1]), to: png)
        let model = directory.appendingPathComponent("keras.h5").path
        let convert = try Self.run(["convert", Fixtures.url("keras/lenet5.h5").path, model])
        #expect(convert.status == 0, "\(convert.error)")
        let result = try Self.run(["predict", "--model", model, "--json", png])
        #expect(result.status == 0, "\(result.error)")
        let predictions = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]]
        #expect(predictions?.first?["class"] as? Int == 9)  // Keras's model gives 0.964 to class 9
        #expect((predictions?.first?["probabilities"] as? [Double])?.count == 10)
    }
}
