import ConvNet
import Foundation
import Testing

/// `convnet speedrun` end to end on a tiny generated CIFAR-style folder of JPEG files: the epoch
/// lines, the test-time-augmented accuracy, the saved model, determinism for a seed, and the
/// usage errors. Also `evaluate --tta`.
@Suite(.serialized) struct SpeedrunCommandTests {
    /// `root/{train,test}/class<k>/<i>.jpg`, 32×32 RGB, ten classes of different mean colour.
    static func makeFolders(train: Int, test: Int) throws -> URL {
        let root = try CommandLineTests.temporaryDirectory()
        var generator = RandomGenerator(seed: 21)
        for (split, count) in [("train", train), ("test", test)] {
            for label in 0..<10 {
                let folder = root.appendingPathComponent(split).appendingPathComponent("class\(label)")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                for index in 0..<count {
                    let pixels = (0..<32 * 32 * 3).map { channel in
                        min(255, max(0, Float(label * 20 + (channel % 3) * 15) + 30 * generator.nextNormal()))
                    }
                    try ImageCodec.write(try Tensor(shape: [32, 32, 3], scalars: pixels),
                                         to: folder.appendingPathComponent("\(index).jpg").path)
                }
            }
        }
        return root
    }

    @Test func speedrunTrainsReportsAndSavesDeterministically() throws {
        let root = try Self.makeFolders(train: 4, test: 2)
        defer { try? FileManager.default.removeItem(at: root) }
        let model = root.appendingPathComponent("airbench.h5").path
        let arguments = ["speedrun", "--data", root.path, "--epochs", "2", "--batch-size", "8", "--seed", "3", "-o", model]
        let first = try CommandLineTests.run(arguments)
        #expect(first.status == 0, "\(first.error)")
        #expect(first.output.contains("airbench94 on 40 training and 20 test images"))
        #expect(first.output.contains("epoch  1:   5 steps") && first.output.contains("epoch  2:   5 steps"))
        #expect(first.output.contains("with test-time augmentation"))
        #expect(FileManager.default.fileExists(atPath: model))
        let second = try CommandLineTests.run(arguments)
        // Everything but the timings is the same for the same seed.
        func accuracies(_ output: String) -> [String] {
            output.split(separator: "\n").compactMap { line in
                line.range(of: "accuracy").map { String(line[$0.lowerBound...].prefix { $0 != "(" }) }
            }
        }
        #expect(accuracies(first.output) == accuracies(second.output) && !accuracies(first.output).isEmpty)
        let evaluated = try CommandLineTests.run(["evaluate", "--model", model, "--dataset", root.path, "--tta", "flip-translate", "--json"])
        #expect(evaluated.status == 0, "\(evaluated.error)")
        #expect(evaluated.output.contains("\"accuracy\""))
    }

    @Test func speedrunRejectsBadInput() throws {
        let usage = CommandLineTests()
        try usage.expectFailure(["speedrun", "--recipe", "airbench99"], status: 2, mentions: ["--recipe", "airbench99"])
        try usage.expectFailure(["speedrun", "--runs", "0"], status: 2, mentions: ["--runs"])
        try usage.expectFailure(["speedrun", "--data", "/nonexistent/cifar"], mentions: ["--data /nonexistent/cifar"])
        try usage.expectFailure(["evaluate", "--model", "lenet5", "--allow-untrained", "--tta", "rotate"], status: 2, mentions: ["--tta", "rotate"])
    }
}
