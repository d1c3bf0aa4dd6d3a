import ConvNet
import Foundation
import Testing
import ZIPFoundation

/// Keras 3 native `.keras` files: a file Keras 3.15 wrote (`Fixtures/keras/residual_keras.keras`, a
/// functional model with batch normalization and a residual Add) must give Keras's own outputs, and
/// ConvNet's `.keras` files must read back identically. (That Keras itself reads ConvNet's `.keras`
/// files is checked by `scripts/keras3-interop.sh`, with Keras installed.)
@Suite struct KerasArchiveTests {
    static let fixture = Fixtures.keras.appendingPathComponent("residual_keras.keras").path

    /// Keras's probabilities for the first test images, from `residual_keras.expected.json`.
    static func expectedProbabilities() throws -> [[Float]] {
        let url = Fixtures.keras.appendingPathComponent("residual_keras.expected.json")
        guard let data = FileManager.default.contents(atPath: url.path),
              let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw FixtureError("missing or unreadable \(url.path)")
        }
        #expect(try JSONValue.ints(json["first_k_test_indices"]) == Array(0..<16))
        return try JSONValue.matrix(json["first_k_probabilities"])
    }

    /// The first `count` Fashion-MNIST test images, pixels / 255, as Keras was given them.
    static func testInputs(_ count: Int) throws -> Tensor {
        try MNISTStyle.load(split: .test, limit: count).images.scaledToUnitRange()
    }

    static func rows(_ output: Tensor) -> [[Float]] {
        let width = output.shape[1]
        return (0..<output.shape[0]).map { Array(output.scalars[$0 * width..<($0 + 1) * width]) }
    }

    @Test("a .keras file written by Keras 3.15 loads and predicts Keras's probabilities within 1e-5")
    func loadsKerasWrittenArchive() throws {
        let model = try Model.load(from: Self.fixture)
        #expect(!model.isSequential)
        #expect(model.layers.map(\.kerasClassName) == ["Conv2D", "BatchNormalization", "Activation", "Conv2D", "BatchNormalization",
                                                       "Add", "Activation", "MaxPooling2D", "Flatten", "Dense"])
        #expect(model.parameterCounts.trainable + model.parameterCounts.nonTrainable == 16_418)
        #expect(model.metadata == nil)
        let expected = try Self.expectedProbabilities()
        let ours = Self.rows(try model.predict(Self.testInputs(expected.count)))
        for (row, (mine, theirs)) in zip(ours, expected).enumerated() {
            #expect(allClose(mine, theirs, absolute: 1e-5, relative: 0), "image \(row): largest difference \(maxDifference(mine, theirs))")
        }
    }

    @Test("a model saved as .keras reads back with the same predictions, metadata and structure")
    func roundTrips() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        var model = try Model.load(from: Self.fixture)
        model.metadata = ModelMetadata(preprocessing: .unitRange, classNames: (0..<10).map { "class \($0)" })
        let path = folder.file("copy.keras")
        try model.save(to: path)
        let entries = try Archive(url: URL(fileURLWithPath: path), accessMode: .read).map(\.path)
        #expect(entries == ["metadata.json", "config.json", "model.weights.h5"])
        let loaded = try Model.load(from: path)
        #expect(loaded.metadata == model.metadata)
        #expect(loaded.layers.map(\.name) == model.layers.map(\.name))
        #expect(loaded.inbound == model.inbound)
        let x = try Self.testInputs(8)
        #expect(try loaded.predict(x).scalars == model.predict(x).scalars)
        #expect(try !FileManager.default.contentsOfDirectory(atPath: folder.path).contains { $0.contains(".tmp-") })

        // loadWeights reads a .keras file's weights by position into a model built from the same config.
        var fresh = try KerasModelJSON.model(fromJSON: KerasModelJSON.json(for: model), seed: 7)
        #expect(try fresh.predict(x).scalars != model.predict(x).scalars)
        try fresh.loadWeights(from: path)
        #expect(try fresh.predict(x).scalars == model.predict(x).scalars)
        #expect(throws: ConvNetError.self) { try fresh.loadWeights(from: path, byName: true) }
    }

    @Test("the Keras LeNet-5 .h5 fixture converts to .keras and back without changing a prediction")
    func convertsLegacyFile() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        let legacy = try Model.load(from: Fixtures.keras.appendingPathComponent("lenet5.h5").path)
        try legacy.save(to: folder.file("lenet5.keras"))
        let archived = try Model.load(from: folder.file("lenet5.keras"))
        #expect(archived.isSequential && archived.name == "lenet5")
        let x = try Self.testInputs(8)
        #expect(try archived.predict(x).scalars == legacy.predict(x).scalars)
        try archived.save(to: folder.file("back.h5"))
        #expect(try Model.load(from: folder.file("back.h5")).predict(x).scalars == legacy.predict(x).scalars)
    }

    @Test("damaged archives and missing members give one line naming the file")
    func damagedArchives() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.fixture)))
        func expectOneLineError(_ path: String, mentioning words: [String]) {
            let message = dataFileError(naming: path) { _ = try Model.load(from: path) }
            #expect(!message.contains("\n"), "\(message)")
            for word in words { #expect(message.contains(word), "\(message) should mention \(word)") }
        }

        expectOneLineError(folder.file("missing.keras"), mentioning: ["no such file"])
        try folder.write(Array("not a zip archive at all".utf8), to: "text.keras")
        expectOneLineError(folder.file("text.keras"), mentioning: ["zip archive"])
        try folder.write(Array(original.prefix(original.count / 2)), to: "truncated.keras")
        expectOneLineError(folder.file("truncated.keras"), mentioning: ["zip"])

        // A flipped byte inside model.weights.h5 (stored uncompressed): its CRC-32 no longer matches.
        let archive = try Archive(url: URL(fileURLWithPath: Self.fixture), accessMode: .read)
        let weights = try #require(archive["model.weights.h5"])
        let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]  // HDF5's, where the member's data starts
        let start = try #require((0..<(original.count - 8)).first { original[$0..<($0 + 8)].elementsEqual(signature) })
        var damaged = original
        damaged[start + Int(weights.uncompressedSize) / 2] ^= 0xFF
        try folder.write(damaged, to: "crc.keras")
        expectOneLineError(folder.file("crc.keras"), mentioning: ["model.weights.h5", "CRC"])

        // Archives that lack a member Keras needs, or whose config is not JSON.
        func copy(to name: String, without missing: String, replacing replacements: [String: Data] = [:]) throws -> String {
            let path = folder.file(name)
            let copy = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
            for entry in archive where entry.path != missing {
                var data = Data()
                _ = try archive.extract(entry) { data.append($0) }
                data = replacements[entry.path] ?? data
                try copy.addEntry(with: entry.path, type: .file, uncompressedSize: Int64(data.count)) { position, size in
                    data.subdata(in: Int(position)..<Int(position) + size)
                }
            }
            return path
        }
        expectOneLineError(try copy(to: "no-config.keras", without: "config.json"), mentioning: ["config.json", "model.weights.h5"])
        expectOneLineError(try copy(to: "no-weights.keras", without: "model.weights.h5"), mentioning: ["model.weights.h5", "config.json"])
        expectOneLineError(try copy(to: "bad-config.keras", without: "", replacing: ["config.json": Data("[1, 2".utf8)]),
                           mentioning: ["config.json"])
    }

    @Test("convnet convert and --model take .keras files; bad ones exit 1 with one line, bad names exit 2")
    func commandLine() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        let converted = folder.file("residual.h5"), back = folder.file("residual.keras")
        #expect(try CommandLineTests.run(["convert", Self.fixture, converted]).status == 0)
        #expect(try CommandLineTests.run(["convert", converted, back]).status == 0)
        let model = try Model.load(from: Self.fixture), again = try Model.load(from: back)
        let x = try Self.testInputs(4)
        #expect(try again.predict(x).scalars == model.predict(x).scalars)
        let summary = try CommandLineTests.run(["summary", "--model", back])
        #expect(summary.status == 0 && summary.output.contains("batch_normalization"), "\(summary.error)")

        try folder.write(Array("PK but not really".utf8), to: "broken.keras")
        let broken = try CommandLineTests.run(["summary", "--model", folder.file("broken.keras")])
        #expect(broken.status == 1 && broken.error.hasPrefix("Error: \(folder.file("broken.keras")): "), "\(broken.error)")
        #expect(broken.error.split(separator: "\n").count == 1, "\(broken.error)")
        let wrongName = try CommandLineTests.run(["convert", Self.fixture, folder.file("out.zip")])
        #expect(wrongName.status == 2 && wrongName.error.contains(".keras or .h5"), "\(wrongName.error)")
    }

    @Test("ModelFileFormat tells the formats apart by name, as Keras does")
    func formatsByName() {
        #expect(ModelFileFormat(path: "m.keras") == .kerasArchive)
        #expect(ModelFileFormat(path: "M.KERAS") == .kerasArchive)
        #expect(ModelFileFormat(path: "m.weights.h5") == .hdf5)
        #expect(ModelFileFormat(path: "config.json") == .kerasConfig)
        #expect(ModelFileFormat(path: "lenet5") == nil)
        #expect(ModelFileFormat.trainedModelExtensions == ".keras or .h5")
    }
}
