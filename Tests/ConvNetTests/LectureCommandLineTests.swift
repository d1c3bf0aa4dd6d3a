import ConvNet
import Foundation
import Testing

/// The lecture notes' knobs from the command line: optimizer hyper-parameters reach the optimizer
/// (read back from a checkpoint), decay schedules are drawn, pooling is applied to a photo, a
/// model file is swept over dropout, and bad values are refused with a usage error.
@Suite(.serialized) struct LectureCommandLineTests {
    typealias CLI = CommandLineTests

    @Test func badTuningFlagsAreUsageErrors() throws {
        let cli = CLI()
        try cli.expectFailure(["train", "--optimizer", "sgd", "--beta1", "0.8"], status: 2, mentions: ["--beta1", "sgd", "adam"])
        try cli.expectFailure(["train", "--optimizer", "nesterov", "--momentum-form", "classic"], status: 2, mentions: ["--momentum-form", "momentum"])
        try cli.expectFailure(["train", "--momentum-form", "heavy"], status: 2, mentions: ["--momentum-form", "average or classic"])
        try cli.expectFailure(["train", "--kernel-initializer", "he-normall"], status: 2, mentions: ["--kernel-initializer", "he_normal"])
        try cli.expectFailure(["train", "--beta2", "1.5"], status: 2, mentions: ["--beta2"])
        try cli.expectFailure(["train", "--reduce-lr-on-plateau", "--schedule", "exponential:0.1"], status: 2, mentions: ["--reduce-lr-on-plateau", "--schedule"])
        try cli.expectFailure(["train", "--channels", "2"], status: 2, mentions: ["--channels"])
        try cli.expectFailure(["sweep", "--k", "0.1,0.5", "-o", "k.svg"], status: 2, mentions: ["--k", "--schedule"])
        try cli.expectFailure(["sweep", "--k", "0.1", "--schedule", "exponential", "--dropout", "0.1,0.2", "-o", "k.svg"], status: 2, mentions: ["--dropout", "one"])
        try cli.expectFailure(["filter", "--pool", "median", "x.png", "-o", "p.png"], status: 2, mentions: ["--pool", "max or average"])
        try cli.expectFailure(["plot", "--schedule", "sometimes:1", "-o", "d.svg"], status: 2, mentions: ["--schedule", "sometimes"])
        try cli.expectFailure(["visualize", "--top-patches", "conv2d", "-o", "t.png"], status: 2, mentions: ["--top-patches", "LAYER:CHANNEL"])
    }

    /// `--momentum-form classic` and Adam's `--beta1/--beta2/--epsilon` are the optimizer's settings
    /// in the checkpoint the run writes.
    @Test func optimizerFlagsReachTheOptimizer() throws {
        let folder = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let momentum = folder.appendingPathComponent("momentum.h5").path
        var run = try CLI.run(["train", "--model", "lenet5", "--limit", "64", "--epochs", "1", "--optimizer", "momentum",
                               "--momentum-form", "classic", "--momentum", "0.8", "--kernel-initializer", "he-normal",
                               "--checkpoint", momentum, "--quiet"])
        #expect(run.status == 0, "\(run.error)")
        let classic = try #require(try TrainingCheckpoint.load(from: momentum).model.training?.optimizer as? Momentum)
        #expect(classic.form == .classic && classic.beta == 0.8)
        let conv = try #require(try TrainingCheckpoint.load(from: momentum).model.layers.first as? Conv2D)
        #expect(conv.kernelInitializer == .heNormal)

        let adam = folder.appendingPathComponent("adam.h5").path
        run = try CLI.run(["train", "--model", "lenet5", "--limit", "64", "--epochs", "1", "--beta1", "0.8", "--beta2", "0.99",
                           "--epsilon", "1e-6", "--checkpoint", adam, "--quiet"])
        #expect(run.status == 0, "\(run.error)")
        let settings = try #require(try TrainingCheckpoint.load(from: adam).model.training?.optimizer as? Adam)
        #expect(settings.beta1 == 0.8 && settings.beta2 == 0.99 && settings.epsilon == 1e-6)
    }

    /// The columns of a `--log` CSV by name.
    static func columns(_ path: String) throws -> [String: [Double]] {
        let rows = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        guard let header = rows.first else { return [:] }
        var columns: [String: [Double]] = [:]
        for (index, name) in header.enumerated() { columns[name] = rows.dropFirst().compactMap { Double($0[index]) } }
        return columns
    }

    /// `--early-stopping 0` stops after the first epoch whose validation loss does not beat the best
    /// so far; `--reduce-lr-on-plateau` halves the rate after each such epoch. Checked against the
    /// validation losses the runs logged (SGD at a rate high enough for the loss to go up).
    @Test func earlyStoppingAndPlateauFollowTheValidationLoss() throws {
        let folder = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let common = ["train", "--model", "lenet5", "--limit", "256", "--epochs", "6", "--validation-split", "0.5",
                      "--optimizer", "sgd", "--lr", "0.5", "--quiet"]
        func improved(_ losses: [Double]) -> [Bool] {
            losses.indices.map { epoch in epoch == 0 || losses[epoch] < losses[..<epoch].min() ?? .infinity }
        }
        let stopping = folder.appendingPathComponent("stop.csv").path
        var run = try CLI.run(common + ["--early-stopping", "0", "--log", stopping])
        #expect(run.status == 0, "\(run.error)")
        let stopped = try #require(try Self.columns(stopping)["val_loss"])
        let firstWorse = improved(stopped).firstIndex(of: false)
        #expect(stopped.count == (firstWorse.map { $0 + 1 } ?? 6), "\(stopped)")

        let plateau = folder.appendingPathComponent("plateau.csv").path
        run = try CLI.run(common + ["--reduce-lr-on-plateau", "--plateau-patience", "0", "--plateau-factor", "0.5", "--log", plateau])
        #expect(run.status == 0, "\(run.error)")
        let log = try Self.columns(plateau)
        let losses = try #require(log["val_loss"]), rates = try #require(log["learning_rate"])
        #expect(rates.count == 6 && rates.first == 0.5)
        for (epoch, better) in improved(losses).enumerated().dropLast() {
            #expect(abs(rates[epoch + 1] - rates[epoch] * (better ? 1 : 0.5)) < 1e-9, "epoch \(epoch + 1): \(rates)")
        }
    }

    /// Deck 001's decay curves: one line per schedule, α0·e^(−kt) at epochs 1...10.
    @Test func plotDrawsSchedules() throws {
        let folder = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("decay.svg").path
        let run = try CLI.run(["plot", "--schedule", "exponential:0.5", "--schedule", "step:0.9:3", "--epochs", "10", "-o", path])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("exponential:0.5: 0.6065, 0.3679, 0.2231"))
        let parsed = try SVGElements(String(contentsOfFile: path, encoding: .utf8))
        let lines = parsed.named("polyline").filter { $0.attributes["class"] == "series" }
        #expect(lines.map { $0.attributes["data-name"] ?? "" } == ["exponential:0.5", "step:0.9:3"])
        #expect(lines.allSatisfy { ($0.attributes["points"] ?? "").split(separator: " ").count == 10 })
    }

    /// Deck 002's max versus average pooling on a picture: 28x28 → 14x14 each, side by side.
    @Test func filterPoolsAPhoto() throws {
        let folder = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let image = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/images/bag.png").path
        let output = folder.appendingPathComponent("pooled.png").path
        let run = try CLI.run(["filter", "--pool", "max", "--pool", "average", "--size", "2", "--stride", "2", image, "-o", output])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("max pooling 2x2, stride 2: (28, 28, 1) -> (14, 14, 1)"))
        #expect(run.output.contains("average pooling 2x2, stride 2: (28, 28, 1) -> (14, 14, 1)"))
        #expect(FileManager.default.fileExists(atPath: output))
    }

    /// `sweep` on a model file with --dropout: one model per rate, each with Dropout layers.
    @Test func sweepAModelFileOverDropout() throws {
        let folder = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("dnn.json").path
        try #"{"class_name": "Sequential", "config": {"name": "dnn", "layers": [{"class_name": "InputLayer", "config": {"batch_shape": [null, 28, 28, 1]}}, {"class_name": "Flatten", "config": {}}, {"class_name": "Dense", "config": {"units": 16, "activation": "relu"}}, {"class_name": "Dense", "config": {"units": 10, "activation": "softmax"}}]}}"#
            .write(toFile: config, atomically: true, encoding: .utf8)
        let csv = folder.appendingPathComponent("sweep.csv").path
        let run = try CLI.run(["sweep", "--model", config, "--dropout", "0.2,0.6", "--epochs", "1", "--limit", "256",
                               "--csv", csv, "-o", folder.appendingPathComponent("sweep.svg").path])
        #expect(run.status == 0, "\(run.error)")
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 3 && rows[0] == "dropout,train_accuracy,test_accuracy")
        #expect(rows[1].hasPrefix("0.2,") && rows[2].hasPrefix("0.6,"))
    }

    /// `sweep --k START:STOP`, as the lecture notes write the decay constant's range: five evenly
    /// spaced values, ends included, one model each.
    @Test func sweepTheDecayConstantOverARange() throws {
        let folder = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let csv = folder.appendingPathComponent("k.csv").path
        let run = try CLI.run(["sweep", "--model", "lenet5", "--dataset", "fashion-mnist", "--schedule", "exponential",
                               "--k", "0.5:0.9", "--epochs", "1", "--limit", "64", "--csv", csv,
                               "-o", folder.appendingPathComponent("k.svg").path])
        #expect(run.status == 0, "\(run.error)")
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 6 && rows[0].hasSuffix(",train_accuracy,test_accuracy"))
        #expect(rows.dropFirst().map { $0.split(separator: ",")[0] } == ["0.5", "0.6", "0.7", "0.8", "0.9"])
    }
}
