import ConvNet
import Foundation
import Testing

/// Keras files both ways: the real LeNet-5 trained by Keras 3.15 (`Fixtures/keras`) must
/// give Keras's own outputs and accuracy here, and ConvNet's files must read back identically.
@Suite struct KerasModelFileTests {
    static let keras = Fixtures.keras

    struct Expected {
        let probabilities: [[Float]]
        let indices: [Int]
        let accuracy: Double
        let loss: Double
    }

    static func expected() throws -> Expected {
        let url = keras.appendingPathComponent("lenet5.expected.json")
        guard let data = FileManager.default.contents(atPath: url.path),
              let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw FixtureError("missing or unreadable \(url.path)")
        }
        return Expected(probabilities: (json["first_k_probabilities"] as? [[NSNumber]] ?? []).map { $0.map(\.floatValue) },
                        indices: try JSONValue.ints(json["first_k_test_indices"]),
                        accuracy: try JSONValue.number(json["test_accuracy"]), loss: try JSONValue.number(json["test_loss"]))
    }

    static func testImages(limit: Int? = nil) throws -> LabeledImages {
        try MNISTStyle.load(split: .test, limit: limit)
    }

    /// Keras rounds the stored probabilities to 7 decimals or 3 significant digits; 1e-5 covers both.
    func expectKerasProbabilities(_ model: Model, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let expected = try Self.expected()
        let images = try Self.testImages(limit: expected.indices.count)
        let output = try model.predict(images.images.scaledToUnitRange())
        for (row, probabilities) in expected.probabilities.enumerated() {
            let ours = Array(output.scalars[row * 10..<(row + 1) * 10])
            #expect(allClose(ours, probabilities, absolute: 1e-5, relative: 0), "image \(row): \(ours) vs \(probabilities)",
                    sourceLocation: sourceLocation)
        }
    }

    @Test func loadsKerasLegacyModelFile() throws {
        let model = try Model.load(from: Self.keras.appendingPathComponent("lenet5.h5").path)
        #expect(model.metadata == nil)
        #expect(model.name == "lenet5")
        #expect(model.layers.map(\.kerasClassName) == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense", "Dense"])
        #expect(model.parameterCounts.trainable == 61_706)
        try expectKerasProbabilities(model)
    }

    @Test func loadsKeras3WeightsFileIntoTheZooModel() throws {
        var model = try ModelZoo.model(named: "lenet5")
        try model.loadWeights(from: Self.keras.appendingPathComponent("lenet5.weights.h5").path)
        try expectKerasProbabilities(model)
    }

    /// All 10,000 Fashion-MNIST test images (pixels / 255): Keras's accuracy exactly, its loss within 1e-4.
    @Test func evaluatesLikeKeras() throws {
        let model = try Model.load(from: Self.keras.appendingPathComponent("lenet5.h5").path)
        let test = try Self.testImages()
        let result = try model.evaluate(TensorDataset(inputs: test.images.scaledToUnitRange(), labels: test.labels), batchSize: 500)
        let expected = try Self.expected()
        #expect(result["accuracy"].map { Float($0) } == Float(expected.accuracy))
        #expect(abs((result["loss"] ?? 0) - expected.loss) < 1e-4, "loss \(result["loss"] ?? 0) vs Keras \(expected.loss)")
    }

    @Test func roundTripsEveryLayout() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("convnet-keras-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try Model.load(from: Self.keras.appendingPathComponent("lenet5.h5").path)
        var generator = RandomGenerator(seed: 1)
        let x = Tensor.randomUniform(shape: [4, 28, 28, 1], generator: &generator)
        let reference = try model.predict(x)

        let full = directory.appendingPathComponent("model.h5").path
        let metadata = ModelMetadata(preprocessing: .unitRange, classNames: MNISTStyle.fashionMNISTClassNames)
        try model.save(to: full, metadata: metadata)
        let reloaded = try Model.load(from: full)
        #expect(reloaded.metadata == metadata)
        #expect(try reloaded.predict(x) == reference)
        #expect(try KerasWeightsFile.layout(of: full) == .legacyModel)

        for name in ["weights.weights.h5", "weights.h5"] {
            let path = directory.appendingPathComponent(name).path
            try model.saveWeights(to: path)
            var fresh = try ModelZoo.model(named: "lenet5", seed: 99)
            try fresh.loadWeights(from: path)
            #expect(try fresh.predict(x) == reference, "\(name)")
        }
        #expect(try KerasWeightsFile.layout(of: directory.appendingPathComponent("weights.weights.h5").path) == .keras3Weights)
        #expect(try KerasWeightsFile.layout(of: directory.appendingPathComponent("weights.h5").path) == .legacyWeights)
    }

    /// A functional model with batch normalization, explicit padding, a residual join and a concatenation.
    @Test func functionalModelRoundTrip() throws {
        let input = SymbolicTensor.input(shape: [12, 12, 3])
        let stem = Conv2D(4, kernelSize: 3, padding: .uniform(1), activation: .relu)(input)
        let branch = BatchNormalization(scale: false)(Conv2D(4, kernelSize: 3, padding: .same)(stem))
        let joined = Activation(.leakyRelu(alpha: 0.1))(Add()([branch, stem]))
        let wide = Concatenate()([joined, MaxPooling2D(poolSize: 3, strides: 1, padding: .same)(stem)])
        let output = Dense(3, activation: .softmax)(Dropout(0.5)(GlobalAveragePooling2D()(wide)))
        var model = try Model(name: "blocks", input: input, output: output, seed: 3)
        model.compile(optimizer: Adam(learningRate: 0.05))
        var generator = RandomGenerator(seed: 2)
        let x = Tensor.randomUniform(shape: [8, 12, 12, 3], generator: &generator)
        try model.fit(x: x, y: (0..<8).map { $0 % 3 }, epochs: 2, batchSize: 4, verbosity: .silent)  // non-trivial BN statistics

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("convnet-functional-\(UUID()).h5").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.save(to: path)
        let reloaded = try Model.load(from: path)
        #expect(try reloaded.predict(x) == model.predict(x))
        // The explicit padding became a Keras ZeroPadding2D layer in front of a valid convolution.
        #expect(reloaded.layers.map(\.kerasClassName).prefix(2) == ["ZeroPadding2D", "Conv2D"])
        #expect(reloaded.parameterCounts == model.parameterCounts)
    }

    @Test func mismatchedFilesNameTheLayer() throws {
        let path = Self.keras.appendingPathComponent("lenet5.h5").path
        var conv4x7 = try ModelZoo.model(named: "conv4x7")
        #expect(throws: ConvNetError.file(path: path, message: "weight lenet5/conv2d/kernel of layer 'conv2d' has shape (5, 5, 1, 6), but layer 'conv2d' expects (7, 7, 1, 32)")) {
            try conv4x7.loadWeights(from: path)
        }
        var signs = try ModelZoo.model(named: "signs")
        #expect(throws: ConvNetError.file(path: path, message: "has 5 layers with weights, but model 'signs' has 4 (conv2d, conv2d_1, dense, dense_1)")) {
            try signs.loadWeights(from: path)
        }
    }

    @Test func corruptFilesGiveClearErrors() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("convnet-corrupt-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = try Data(contentsOf: Self.keras.appendingPathComponent("lenet5.h5"))
        let truncated = directory.appendingPathComponent("truncated.h5").path
        try original.prefix(original.count / 2).write(to: URL(fileURLWithPath: truncated))
        let text = directory.appendingPathComponent("text.h5").path
        try Data("not hdf5".utf8).write(to: URL(fileURLWithPath: text))
        for path in [truncated, text, directory.appendingPathComponent("missing.h5").path] {
            do {
                _ = try Model.load(from: path)
                Issue.record("\(path) loaded")
            } catch let error as ConvNetError {
                #expect(error.description.hasPrefix(path), "\(error)")
            }
        }
    }
}
