import ConvNet
import Foundation
import Testing

/// The names a Keras user reaches for: `Input`, `Activation`, `x[0..<100]`, `argmax`, `Model.load`,
/// ordered `evaluate` results, `history["loss"]`, and class names that survive training and saving.
@Suite struct KerasStyleAPITests {
    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("convnet-keras-style-\(UUID())-\(name)").path
    }

    /// Four 4×4 gray images per class: class `c` is bright in quadrant `c`.
    static func quadrants(count: Int) throws -> (x: Tensor, y: [Int]) {
        var x = Tensor(shape: [count, 4, 4, 1])
        let y = (0..<count).map { $0 % 4 }
        for (sample, label) in y.enumerated() {
            for row in 0..<2 { for column in 0..<2 {
                x.scalars[sample * 16 + (row + 2 * (label / 2)) * 4 + column + 2 * (label % 2)] = 1
            } }
        }
        return (x, y)
    }

    static func smallModel() throws -> Model {
        try Model(inputShape: [4, 4, 1]) {
            Flatten()
            Dense(8)
            Activation(.relu)
            Dense(4, activation: .softmax)
        }
    }

    // MARK: 1. Input(shape:)

    @Test func inputStartsAFunctionalModel() throws {
        func build(_ input: SymbolicTensor) throws -> Model {
            let features = Conv2D(2, kernelSize: 3, padding: .same, activation: .relu)(input)
            let joined = Add()([Conv2D(2, kernelSize: 1)(features), features])
            return try Model(input: input, output: Dense(3, activation: .softmax)(Flatten()(joined)), seed: 7)
        }
        let model = try build(Input(shape: [6, 6, 1]))
        #expect(model.inputShape == [6, 6, 1])
        #expect(!model.isSequential)
        #expect(model.layers.map(\.kerasClassName) == ["Conv2D", "Conv2D", "Add", "Flatten", "Dense"])
        var generator = RandomGenerator(seed: 1)
        let x = Tensor.randomUniform(shape: [2, 6, 6, 1], generator: &generator)
        #expect(try model.predict(x) == build(SymbolicTensor.input(shape: [6, 6, 1])).predict(x))
        #expect(throws: ConvNetError.self) { try model.predict(Tensor(shape: [2, 5, 5, 1])) }
    }

    // MARK: 2. Activation

    static let everyActivation: [ActivationFunction] = [.linear, .relu, .leakyRelu(alpha: 0.2), .leakyRelu(alpha: 0.05),
                                                        .elu(alpha: 1), .elu(alpha: 0.5), .sigmoid, .tanh, .softmax]

    @Test(arguments: everyActivation)
    func activationLayerRoundTripsThroughAModelFile(_ function: ActivationFunction) throws {
        let model = try Model(inputShape: [3]) {
            Dense(4)
            Activation(function)
        }
        let path = Self.temporaryPath("activation.h5")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.save(to: path)
        let loaded = try Model.load(from: path)
        let layer = try #require(loaded.layers.last as? Activation)
        #expect(layer.activation == function)
        let x = try Tensor([[-2, -0.5, 1.5], [0.25, 3, -1]])
        #expect(try loaded.predict(x) == model.predict(x))
    }

    @Test func activationSavesAsKerasActivation() throws {
        let json = try KerasModelJSON.json(for: Self.smallModel())
        let root = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let layers = try #require((root["config"] as? [String: Any])?["layers"] as? [[String: Any]])
        let activation = try #require(layers.first { $0["class_name"] as? String == "Activation" })
        #expect((activation["config"] as? [String: Any])?["activation"] as? String == "relu")
        #expect((activation["config"] as? [String: Any])?["name"] as? String == "activation")
    }

    @Test func kerasActivationLayerLoads() throws {
        let json = """
        {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
          {"class_name": "InputLayer", "config": {"batch_shape": [null, 3], "name": "input_layer"}},
          {"class_name": "Activation", "config": {"name": "act", "activation": "tanh"}},
          {"class_name": "Activation", "config": {"name": "act_1", "activation": "relu"}}]}}
        """
        let model = try KerasModelJSON.model(fromJSON: json)
        #expect(model.layers.compactMap { ($0 as? Activation)?.activation } == [.tanh, .relu])
        let output = try model.predict(Tensor([[-1, 0, 2]]))
        #expect(output.scalars == [0, 0, Float(Foundation.tanh(2.0))])
        let unknown = json.replacingOccurrences(of: "\"tanh\"", with: "\"swish\"")
        #expect(throws: ConvNetError.self) { try KerasModelJSON.model(fromJSON: unknown) }
    }

    // MARK: 3. Slicing along the batch axis

    @Test func slicesTheBatchAxis() throws {
        let x = try Tensor(shape: [5, 2, 1], scalars: (0..<10).map(Float.init))
        #expect(x[1..<3] == (try Tensor(shape: [2, 2, 1], scalars: [2, 3, 4, 5])))
        #expect(x[3...] == (try Tensor(shape: [2, 2, 1], scalars: [6, 7, 8, 9])))
        #expect(x[..<1] == (try Tensor(shape: [1, 2, 1], scalars: [0, 1])))
        #expect(x[...1] == x[0..<2])
        #expect(x[5...].shape == [0, 2, 1])
        #expect(x[0..<5] == x)
    }

    @Test func sliceGradientReachesTheSelectedRows() throws {
        let tape = GradientTape()
        let x = tape.watch(try Tensor(shape: [4, 2], scalars: (0..<8).map(Float.init)))
        let gradient = try tape.gradient(of: x[1..<3].sum(), withRespectTo: [x])[0]
        #expect(gradient.scalars == [0, 0, 1, 1, 1, 1, 0, 0])
    }

    @Test func sliceOutsideTheBatchTraps() async {
        await #expect(processExitsWith: .failure) { _ = Tensor(shape: [3, 2])[1..<4] }
        await #expect(processExitsWith: .failure) { _ = Tensor(shape: [3, 2])[4...] }
        await #expect(processExitsWith: .failure) { _ = Tensor(shape: [3, 2])[(-1)..<2] }
    }

    // MARK: 4. argmax

    @Test func argmaxPerRowAlongTheLastAxis() throws {
        let scores = try Tensor([[0.1, 0.7, 0.2], [0.5, 0.5, 0], [-1, -3, -2], [0, 0, 4]])
        #expect(scores.argmax() == [1, 0, 0, 2])
        #expect(predictedClasses(scores) == scores.argmax())
        #expect(Tensor([3, 9, 1]).argmax() == [1])
        let images = try Tensor(shape: [1, 2, 2], scalars: [5, 1, 2, 8])
        #expect(images.argmax() == [0, 1])
    }

    // MARK: 5–8. Load, evaluate, history, class names

    @Test func trainedModelKeepsClassNamesThroughSaveAndLoad() throws {
        let (x, y) = try Self.quadrants(count: 32)
        let names = ["top left", "top right", "bottom left", "bottom right"]
        var model = try Self.smallModel()
        #expect(model.metadata == nil)
        model.compile(optimizer: Adam(learningRate: 0.05), metrics: [.accuracy])
        try model.fit(TensorDataset(inputs: x, labels: y, classNames: names), epochs: 2, batchSize: 8, verbosity: .silent)
        #expect(model.metadata?.classNames == names)

        let path = Self.temporaryPath("named.h5")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.save(to: path)
        let loaded: Model = try Model.load(from: path)
        #expect(loaded.metadata?.classNames == names)
        #expect(try Model.loadWithMetadata(from: path).metadata == loaded.metadata)
        #expect(try loaded.predict(x) == model.predict(x))
        let predicted = try loaded.predict(x[0..<4]).argmax().map { loaded.metadata?.classNames?[$0] ?? "?" }
        #expect(predicted.count == 4 && predicted.allSatisfy(names.contains))
    }

    @Test func numericLabelsAndExplicitNamesAreLeftAlone() throws {
        let (x, y) = try Self.quadrants(count: 8)
        var model = try Self.smallModel()
        model.compile()
        try model.fit(x: x, y: y, epochs: 1, verbosity: .silent)
        #expect(model.metadata == nil)
        model.metadata = ModelMetadata(preprocessing: .none, classNames: ["a", "b", "c", "d"])
        try model.fit(TensorDataset(inputs: x, labels: y, classNames: ["w", "x", "y", "z"]), epochs: 1, verbosity: .silent)
        #expect(model.metadata == ModelMetadata(preprocessing: .none, classNames: ["a", "b", "c", "d"]))
    }

    @Test func labeledImagesTrainWithTheirNames() throws {
        let (x, y) = try Self.quadrants(count: 8)
        let images = try LabeledImages(images: x * 255, labels: y, classNames: ["n", "e", "s", "w"], source: "memory")
        var model = try Self.smallModel()
        model.compile()
        try model.fit(images.preprocessed(.centeredUnitRange), epochs: 1, verbosity: .silent)
        #expect(model.metadata == ModelMetadata(preprocessing: .centeredUnitRange, classNames: ["n", "e", "s", "w"]))
    }

    @Test func evaluateListsLossThenMetricsInOrder() throws {
        let (x, y) = try Self.quadrants(count: 16)
        var model = try Self.smallModel()
        model.compile(optimizer: Adam(learningRate: 0.05), metrics: [.topKAccuracy(2), .accuracy])
        let history = try model.fit(x: x, y: y, epochs: 3, batchSize: 8, verbosity: .silent)
        let result = try model.evaluate(TensorDataset(inputs: x, labels: y))
        #expect(result.names == ["loss", "top_2_accuracy", "accuracy"])
        #expect(result.map(\.name) == result.names)
        #expect(result.map(\.value) == result.values)
        #expect(result.loss == result["loss"])
        #expect(result["accuracy"] == result.values[2])
        #expect(result["precision"] == nil)
        #expect(result.description.hasPrefix("loss: "))
        #expect(result.description.contains(" - top_2_accuracy: ") && result.description.hasSuffix(String(format: "accuracy: %.4f", result.values[2])))

        #expect(history["loss"] == history.values("loss"))
        #expect(history["loss"].count == 3)
        #expect(history["accuracy"].allSatisfy { (0...1).contains($0) })
        #expect(history["val_loss"].isEmpty)
    }
}
