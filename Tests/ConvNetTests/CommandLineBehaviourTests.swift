import ConvNet
import Foundation
import Testing

/// The `convnet` tool as a Keras or PyTorch user expects it: progress in logs, Ctrl-C, flags
/// checked before any work, the same flag names everywhere, untrained models refused, images
/// resized to the model, `--version`.
@Suite(.serialized) struct CommandLineBehaviourTests {
    /// A `convnet` child process whose output goes to files, so a test can watch it while it runs.
    final class Child {
        let process = Process()
        let folder: URL
        var output: String { (try? String(contentsOf: folder.appendingPathComponent("stdout.txt"), encoding: .utf8)) ?? "" }
        var error: String { (try? String(contentsOf: folder.appendingPathComponent("stderr.txt"), encoding: .utf8)) ?? "" }

        init(_ arguments: [String], in folder: URL, environment: [String: String] = [:]) throws {
            self.folder = folder
            process.executableURL = URL(fileURLWithPath: CommandLineTests.binary)
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment
                .merging(["CONVNET_DATASET_MIRROR": "http://127.0.0.1:9"].merging(environment) { $1 }) { $1 }
            for name in ["stdout.txt", "stderr.txt"] {
                try Data().write(to: folder.appendingPathComponent(name))
            }
            process.standardOutput = try FileHandle(forWritingTo: folder.appendingPathComponent("stdout.txt"))
            process.standardError = try FileHandle(forWritingTo: folder.appendingPathComponent("stderr.txt"))
            try process.run()
        }

        /// Waits up to `seconds` for `condition`; false on timeout or when the process ended first.
        func wait(seconds: Double, until condition: () -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if condition() { return true }
                if !process.isRunning { return condition() }
                Thread.sleep(forTimeInterval: 0.05)
            }
            return false
        }

        /// Sends SIGINT, as Ctrl-C does.
        func interrupt() {
            kill(process.processIdentifier, SIGINT)
        }

        func finish() -> Int32 {
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    /// Files in `folder` that a writer left half-done (`.<name>.convnet-tmp-*`, or `*.tmp*` of earlier versions).
    static func temporaryFiles(in folder: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains(".tmp") || $0.contains(AtomicFile.temporaryMarker) }
    }

    @Test func progressLinesInALogEveryInterval() throws {
        let folder = try CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let child = try Child(["train", "--limit", "2000", "--epochs", "1", "--batch-size", "16"], in: folder,
                              environment: ["CONVNET_PROGRESS_INTERVAL": "0.02"])
        #expect(child.finish() == 0, "\(child.error)")
        let lines = child.output.split(separator: "\n").map(String.init)
        // Steps before the last one (125/125), each with the ETA, throughput, loss and accuracy.
        let intermediate = lines.filter { $0.contains("/125 - ETA ") }
        #expect(intermediate.count >= 2, "\(child.output)")
        for line in intermediate {
            #expect(!line.hasPrefix("125/125") && line.contains(" img/s - accuracy: ") && line.contains(" - loss: "), "\(line)")
        }
        #expect(lines.contains { $0.hasPrefix("125/125 - ") && $0.contains("ms/step") }, "\(child.output)")
        #expect(!child.output.contains("\r") && !child.output.contains("\u{1B}["), "no terminal codes in a log")

        // The default interval (30 s) prints no intermediate line in a short epoch.
        let quiet = try CommandLineTests.run(["train", "--limit", "512", "--epochs", "1"])
        #expect(quiet.status == 0, "\(quiet.error)")
        #expect(!quiet.output.contains("ETA"), "\(quiet.output)")
    }

    /// Ctrl-C with `--checkpoint`: exit 130, one line naming the checkpoint, no temporary file
    /// left; `--resume` on it says from where it continues, and finishes.
    @Test func interruptKeepsTheCheckpointAndResumes() throws {
        let folder = try CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let checkpoint = folder.appendingPathComponent("ck.h5").path
        let log = folder.appendingPathComponent("log.csv").path
        let child = try Child(["train", "--limit", "2000", "--epochs", "50", "--checkpoint", checkpoint, "--log", log,
                               "--save", folder.appendingPathComponent("model.h5").path], in: folder)
        let started = child.wait(seconds: 300) { FileManager.default.fileExists(atPath: checkpoint) }
        try #require(started, "no checkpoint written: \(child.error)")
        child.interrupt()
        #expect(child.finish() == 130, "\(child.error)")
        #expect(child.process.terminationReason == .exit)
        let lines = child.error.split(separator: "\n")
        #expect(lines.count == 1, "\(child.error)")
        let message = String(lines.first ?? "")
        #expect(message.hasPrefix("Interrupted at epoch ") && message.contains("/63: checkpoint at epoch ")
                && message.hasSuffix("in \(checkpoint); resume with --resume \(checkpoint)"), "\(message)")
        #expect(try Self.temporaryFiles(in: folder).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.h5").path), "no final save")

        let saved = try #require(message.components(separatedBy: "checkpoint at epoch ").last?.split(separator: " ").first.flatMap { Int($0) })
        let resumed = try CommandLineTests.run(["train", "--limit", "2000", "--epochs", String(saved + 1), "--resume", checkpoint,
                                                "--log", log])
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(resumed.output.hasPrefix("Resuming from \(checkpoint) at epoch \(saved + 1) of \(saved + 1)\n"), "\(resumed.output)")
        #expect(resumed.output.contains("Test accuracy: "))
        #expect(try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").count == saved + 2)  // header + epochs
    }

    /// Ctrl-C without `--checkpoint` says nothing was kept and how to keep progress.
    @Test func interruptWithoutCheckpointSaysNothingWasSaved() throws {
        let folder = try CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let child = try Child(["train", "--limit", "2000", "--epochs", "50", "--batch-size", "8"], in: folder)
        let started = child.wait(seconds: 300) { child.output.contains("Epoch 1/50") }
        try #require(started, "training did not start: \(child.error)")
        child.interrupt()
        #expect(child.finish() == 130, "\(child.error)")
        #expect(child.error.contains("/250: nothing was saved (pass --checkpoint FILE to keep progress)"), "\(child.error)")
        #expect(child.error.hasPrefix("Interrupted at epoch "), "\(child.error)")
    }

    /// Bad flags exit 2 with one line naming the flag, before any data is read: the dataset here
    /// (MNIST without downloading) would otherwise fail with exit 1.
    @Test func flagsAreCheckedBeforeAnyData() throws {
        let tool = CommandLineTests()
        let missing = "/nonexistent-folder/out"
        let noData = ["--dataset", "mnist", "--no-download"]
        let cases: [([String], [String])] = [
            (["train", "--schedule", "sometimes"], ["--schedule sometimes"]),
            (["train", "--preprocessing", "squash"], ["--preprocessing squash"]),
            (["train", "--augmentations", "flip,spin"], ["--augmentations flip,spin", "spin"]),
            (["train", "--optimizer", "adamax"], ["--optimizer adamax"]),
            (["train", "--resize", "32by32"], ["--resize 32by32"]),
            (["train", "--save", missing + ".h5"], ["--save", "/nonexistent-folder"]),
            (["train", "--checkpoint", missing + ".h5"], ["--checkpoint", "/nonexistent-folder"]),
            (["train", "--log", missing + ".csv"], ["--log", "/nonexistent-folder"]),
            (["train", "--plot", missing + ".svg"], ["--plot", "/nonexistent-folder"]),
            (["train", "--resume", missing + ".h5"], ["--resume", "no such file"]),
            (["visualize", "--confusion", "-o", missing + ".svg"], ["--output", "/nonexistent-folder"]),
            (["sweep", "--csv", missing + ".csv", "-o", "sweep.svg"], ["--csv", "/nonexistent-folder"]),
            (["evaluate", "--model", Fixtures.url("keras/lenet5.h5").path, "--batch-size", "0"], ["--batch-size", "0"]),
        ]
        for (arguments, fragments) in cases {
            let start = Date()
            try tool.expectFailure(arguments + noData, status: 2, mentions: fragments)
            let run = try CommandLineTests.run(arguments + noData)
            #expect(run.output.isEmpty, "\(arguments): nothing may be loaded or trained, got \(run.output)")
            #expect(Date().timeIntervalSince(start) < 20, "\(arguments) took too long to fail")
        }
        try tool.expectFailure(["filter", "--kernel", "blurry", "image.png", "-o", "out.png"], status: 2, mentions: ["--kernel", "blurry"])
        try tool.expectFailure(["filter", "--kernel", "sobel", "image.png", "-o", missing + ".png"], status: 2, mentions: ["--output"])
        try tool.expectFailure(["plot", "log.csv", "-o", missing + ".svg"], status: 2, mentions: ["--output", "/nonexistent-folder"])
    }

    /// `bench conv` times one layer through the kernel a model would use, and says which; a shape
    /// that cannot be a convolution is a usage error naming the flag.
    @Test func benchConvTimesOneLayer() throws {
        // A small layer runs the direct loop forward where this CPU has AVX2 and FMA; 40 filters are too many for it.
        for (arguments, algorithm) in [(["--input", "2x8x8x8", "--filters", "8"], "winograd"),
                                       (["--input", "2x9x9x3", "--filters", "12", "--kernel-size", "5", "--padding", "valid"],
                                        ConvolutionDirect.isVectorised ? "direct" : "im2col"),
                                       (["--input", "2x9x9x3", "--filters", "40", "--kernel-size", "5", "--padding", "valid"], "im2col")] {
            let run = try CommandLineTests.run(["bench", "conv"] + arguments + ["--repeats", "2", "--threads", "1", "--json"])
            #expect(run.status == 0, "\(run.error)")
            #expect(run.output.contains("\"algorithm\":\"\(algorithm)\"") && run.output.contains("\"forward_ms\":"), "\(run.output)")
        }
        let tool = CommandLineTests()
        try tool.expectFailure(["bench", "conv", "--input", "2x8x8", "--filters", "8"], status: 2, mentions: ["--input", "2x8x8"])
        try tool.expectFailure(["bench", "conv", "--input", "2x4x4x3", "--filters", "8", "--kernel-size", "7", "--padding", "valid"],
                               status: 2, mentions: ["--kernel-size 7"])
        try tool.expectFailure(["bench", "conv", "--input", "2x8x8x3", "--filters", "8", "--padding", "full"], status: 2, mentions: ["--padding"])
    }

    /// Every subcommand spells a shared option the same way: `--batch-size`, never `--batch`.
    @Test func sharedFlagsHaveOneName() throws {
        try CommandLineTests().expectFailure(["bench", "--model", "lenet5", "--batch", "8"], status: 2, mentions: ["--batch"])
        let bench = try CommandLineTests.run(["bench", "--model", "lenet5", "--batch-size", "4", "--threads", "1",
                                              "--steps", "1", "--warmup", "0", "--min-seconds", "0", "--repeats", "1", "--json"])
        #expect(bench.status == 0, "\(bench.error)")
        #expect(bench.output.contains("\"batch\": 4") && bench.output.contains("\"threads\": 1"), "\(bench.output)")
        for command in [["train"], ["evaluate"], ["visualize"], ["sweep"], ["bench", "model"]] {
            let help = try CommandLineTests.run(command + ["--help"])
            #expect(help.output.contains("--batch-size") && help.output.contains("--threads"), "\(command) --help")
        }
        for command in ["train", "evaluate", "visualize", "sweep"] {
            let help = try CommandLineTests.run([command, "--help"]).output
            for flag in ["--model", "--dataset", "--data-dir", "--no-download"] {
                #expect(help.contains(flag), "\(command) --help lacks \(flag)")
            }
        }
    }

    /// `evaluate` and `predict` refuse a zoo model's random weights unless told otherwise.
    @Test func untrainedModelsAreRefused() throws {
        let tool = CommandLineTests()
        try tool.expectFailure(["evaluate", "--model", "lenet5"], status: 2, mentions: ["--model lenet5", "untrained", "--allow-untrained"])
        try tool.expectFailure(["predict", "--model", "cifar", "image.png"], status: 2, mentions: ["--model cifar", "untrained", "trained model file"])
        try tool.expectFailure(["evaluate"], status: 2, mentions: ["--model"])
        let anyway = try CommandLineTests.run(["evaluate", "--model", "lenet5", "--allow-untrained", "--json"])
        #expect(anyway.status == 0, "\(anyway.error)")
        #expect(anyway.output.contains("\"samples\":10000"), "\(anyway.output)")
    }

    /// A built-in dataset whose images differ from the model's input is resized with a one-line
    /// notice; a zoo model takes the data's channels unless `--channels` says otherwise (then the
    /// colours are converted); `--resize` picks the size.
    @Test func builtInDatasetsAreResizedToTheModel() throws {
        let gray = try CommandLineTests.run(["train", "--model", "signs", "--limit", "64", "--epochs", "1"])
        #expect(gray.status == 0, "\(gray.error)")
        #expect(gray.output.hasPrefix("Resizing fashion-mnist's 28x28x1 images to 64x64x1 for the model\n"), "\(gray.output)")
        let colour = try CommandLineTests.run(["train", "--model", "signs", "--channels", "3", "--limit", "64", "--epochs", "1"])
        #expect(colour.status == 0, "\(colour.error)")
        #expect(colour.output.hasPrefix("Resizing fashion-mnist's 28x28x1 images to 64x64x3 for the model (gray to RGB)\n"), "\(colour.output)")
        let explicit = try CommandLineTests.run(["train", "--model", "lenet5", "--resize", "32x32", "--limit", "64", "--epochs", "1"])
        #expect(explicit.status == 0, "\(explicit.error)")
        #expect(explicit.output.hasPrefix("Resizing fashion-mnist's 28x28x1 images to 32x32x1 for the model\n"), "\(explicit.output)")
        let native = try CommandLineTests.run(["train", "--limit", "64", "--epochs", "1"])
        #expect(native.status == 0 && !native.output.contains("Resizing"), "\(native.output)")
    }

    /// `convnet plot` of a `--validate-on-test` log calls the held-out curves "test".
    @Test func plotLabelsTestColumnsAsTest() throws {
        let folder = try CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let log = folder.appendingPathComponent("log.csv").path, svg = folder.appendingPathComponent("curves.svg").path
        try Data("epoch,loss,accuracy,test_accuracy,test_loss\n1,0.9,0.7,0.72,0.8\n2,0.6,0.8,0.78,0.7\n".utf8).write(to: URL(fileURLWithPath: log))
        let run = try CommandLineTests.run(["plot", log, "-o", svg])
        #expect(run.status == 0, "\(run.error)")
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(text.contains("test accuracy") && text.contains("test loss"))
        #expect(!text.contains("validation"))
    }

    @Test func versionAndPlainWording() throws {
        let version = try CommandLineTests.run(["--version"])
        #expect(version.status == 0)
        #expect(version.output == ConvNetVersion.current + "\n")
        var texts = [try CommandLineTests.run(["summary", "--list"]).output, try CommandLineTests.run(["--help"]).output]
        for command in ["train", "evaluate", "predict", "summary", "convert", "datasets", "filter", "visualize", "plot", "sweep", "bench", "demo"] {
            texts.append(try CommandLineTests.run([command, "--help"]).output)
        }
        for text in texts {
            for shorthand in ["deck 0", "decks", "Deck 0", "issue "] {
                #expect(!text.contains(shorthand), "\(shorthand) in \(text)")
            }
        }
    }
}
