import ConvNet
import Foundation
import Testing

/// `convnet train`'s gradient clipping and weight averaging flags.
@Suite(.serialized) struct CommandLineTrainingHookTests {
    @Test("clipping and averaging flags are checked before any data is read")
    func badFlagsAreUsageErrors() throws {
        let cli = CommandLineTests()
        try cli.expectFailure(["train", "--clipnorm", "0", "--dataset", "mnist", "--no-download"], status: 2, mentions: ["--clipnorm"])
        try cli.expectFailure(["train", "--clipnorm", "1", "--clipvalue", "1", "--dataset", "mnist", "--no-download"], status: 2,
                              mentions: ["--clipnorm and --clipvalue", "only one"])
        try cli.expectFailure(["train", "--ema", "1", "--dataset", "mnist", "--no-download"], status: 2, mentions: ["--ema", "[0, 1)"])
        try cli.expectFailure(["train", "--ema-overwrite-frequency", "5", "--dataset", "mnist", "--no-download"], status: 2,
                              mentions: ["--ema-overwrite-frequency needs --ema"])
    }

    @Test("training with global-norm clipping and a moving average saves the averaged model")
    func clippedAveragedTraining() throws {
        let folder = try CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let saved = folder.appendingPathComponent("m.h5").path
        let run = try CommandLineTests.run(["train", "--limit", "512", "--epochs", "1", "--global-clipnorm", "1",
                                            "--ema", "0.9", "--save", saved, "--quiet"])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("Test accuracy"), "\(run.output)")
        #expect(FileManager.default.fileExists(atPath: saved))
    }
}
