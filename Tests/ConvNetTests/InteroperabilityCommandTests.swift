import ConvNet
import Foundation
import Testing

/// `convnet export` and `convnet train --tensorboard` on the command line: bad input is one line
/// naming the flag or file (exit 2 for usage, 1 for a failure), and good input writes the files.
@Suite(.serialized) struct InteroperabilityCommandTests {
    let cli = CommandLineTests()

    @Test func exportRefusesBadFlagsAndFiles() throws {
        let folder = try CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("m.onnx").path
        try cli.expectFailure(["export", "--format", "tflite", "lenet5", "-o", output], status: 2, mentions: ["--format", "tflite"])
        try cli.expectFailure(["export", "lenet5", "-o", output, "--opset", "12"], status: 2, mentions: ["--opset", "12"])
        try cli.expectFailure(["export", "lenet5", "-o", folder.appendingPathComponent("m.pb").path], status: 2, mentions: ["--output", ".onnx"])
        try cli.expectFailure(["export", "lenet5", "-o", "/no/such/folder/m.onnx"], status: 2, mentions: ["--output", "/no/such/folder"])
        try cli.expectFailure(["export", folder.appendingPathComponent("missing.h5").path, "-o", output], status: 2, mentions: ["missing.h5"])
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test func exportWritesTheModelsGraph() throws {
        let folder = try CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("lenet5.onnx").path
        let result = try CommandLineTests.run(["export", "--format", "onnx", Fixtures.url("keras/lenet5.h5").path, "-o", output, "--channels-first"])
        #expect(result.status == 0, "\(result.error)")
        let written = [UInt8](try Data(contentsOf: URL(fileURLWithPath: output)))
        let model = try Model.load(from: Fixtures.url("keras/lenet5.h5").path)
        #expect(written == (try model.onnxModel(channelsFirst: true)))
    }

    @Test func trainWritesTensorBoardLogsAndRefusesAFile() throws {
        let folder = try CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("file")
        try Data().write(to: file)
        try cli.expectFailure(["train", "--tensorboard", file.path], status: 2, mentions: ["--tensorboard", "folder"])
        let logs = folder.appendingPathComponent("logs")
        let result = try CommandLineTests.run(["train", "--model", "lenet5", "--epochs", "1", "--limit", "64", "--validation-split", "0.25",
                                               "--quiet", "--tensorboard", logs.path])
        #expect(result.status == 0, "\(result.error)")
        for run in ["train", "validation"] {
            let names = try FileManager.default.contentsOfDirectory(atPath: logs.appendingPathComponent(run).path)
            #expect(names.count == 1 && names.allSatisfy { $0.hasPrefix("events.out.tfevents.") }, "\(run): \(names)")
        }
    }
}
