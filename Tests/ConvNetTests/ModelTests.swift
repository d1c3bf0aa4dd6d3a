import ConvNet
import Foundation
import Testing

@Suite struct ModelTests {
    /// Deck 002's Keras summary of the four-7x7-conv model and its LeNet total.
    @Test func summaryCountsMatchTheDeck() throws {
        let examples = try #require(try Fixtures.seedExamples()["parameter_counts"] as? [[String: Any]])
        let conv4x7 = try ModelZoo.model(named: "conv4x7")
        let perLayer = try JSONValue.ints(examples[1]["per_layer"])
        #expect(conv4x7.summaryRows.map(\.parameters) == perLayer)
        #expect(conv4x7.parameterCounts.trainable == Int(try JSONValue.number(examples[1]["total"])))
        let summary = conv4x7.summary()
        #expect(summary.contains("│ conv2d (Conv2D)                 │ (None, 22, 22, 32)     │         1,600 │"))
        #expect(summary.contains("│ conv2d_3 (Conv2D)               │ (None, 4, 4, 256)      │     1,605,888 │"))
        #expect(summary.contains("│ dense (Dense)                   │ (None, 10)             │        40,970 │"))
        #expect(summary.contains(" Total params: 2,150,410 (8.20 MB)"))
        #expect(summary.contains(" Non-trainable params: 0 (0.00 B)"))
        let lenet = try ModelZoo.model(named: "lenet5")
        #expect(lenet.parameterCounts.trainable == Int(try JSONValue.number(examples[2]["total"])))
        #expect(lenet.summaryRows.map(\.outputShape) == ["(None, 28, 28, 6)", "(None, 14, 14, 6)", "(None, 10, 10, 16)",
                                                         "(None, 5, 5, 16)", "(None, 400)", "(None, 120)", "(None, 84)", "(None, 10)"])
    }

    /// Every zoo model builds and runs a forward pass of the right output shape.
    @Test(arguments: ModelZoo.catalog.map(\.name))
    func zooModelsRun(name: String) throws {
        let model = try ModelZoo.model(named: name, classes: name == "signs" ? nil : 10)
        let shape = model.inputShape.map { $0 ?? 28 }
        let output = try model.predict(Tensor(shape: [2] + shape, repeating: 0.5))
        #expect(output.shape.first == 2)
        #expect(output.shape.last == (name == "signs" ? 6 : 10))
    }

    /// Deck 003's LeNet chain and deck 000's SIGNS chain, as models.
    @Test func deckShapeChains() throws {
        let classic = try ModelZoo.model(named: "lenet5-classic")
        #expect(classic.outputShapes.map(describe(layerShape:)) == ["(None, 28, 28, 6)", "(None, 14, 14, 6)", "(None, 10, 10, 16)",
                                                                     "(None, 5, 5, 16)", "(None, 400)", "(None, 120)", "(None, 84)", "(None, 10)"])
        let signs = try ModelZoo.model(named: "signs")
        #expect(signs.outputShapes.map(describe(layerShape:)) == ["(None, 32, 32, 8)", "(None, 28, 28, 8)", "(None, 13, 13, 16)",
                                                                   "(None, 9, 9, 16)", "(None, 1296)", "(None, 108)", "(None, 6)"])
    }

    /// Deck 002's fully convolutional net: 28x28 gives 1x1x10, and the same weights on a 56x56
    /// image give an 8x8 map of class scores (56 → 28 → 14 after the stride-2 convs, 14 − 7 + 1 = 8).
    @Test func fullyConvolutionalModelTakesAnySize() throws {
        let model = try ModelZoo.model(named: "fmnist-fcn")
        #expect(model.outputShape == [nil, nil, 10])
        #expect(try model.predict(Tensor(shape: [1, 28, 28, 1], repeating: 0.1)).shape == [1, 1, 1, 10])
        let map = try model.predict(Tensor(shape: [1, 56, 56, 1], repeating: 0.1))
        #expect(map.shape == [1, 8, 8, 10])
        // Softmax over the classes at every position.
        for position in 0..<64 {
            #expect(abs(map.scalars[position * 10..<(position + 1) * 10].reduce(0, +) - 1) < 1e-5)
        }
    }

    /// A residual block through the functional API; summary lists connections; names are unique.
    @Test func functionalResidualBlock() throws {
        let input = SymbolicTensor.input(shape: [8, 8, 3])
        let stem = Conv2D(4, kernelSize: 3, padding: .same, activation: .relu)(input)
        let branch = BatchNormalization()(Conv2D(4, kernelSize: 3, padding: .same)(stem))
        let joined = Activation(.relu)(Add()([branch, stem]))
        let output = Dense(3, activation: .softmax)(GlobalAveragePooling2D()(joined))
        var model = try Model(name: "residual", input: input, output: output)
        #expect(model.layers.map(\.name) == ["conv2d", "conv2d_1", "batch_normalization", "add", "activation",
                                             "global_average_pooling2d", "dense"])
        #expect(model.parameterCounts.trainable == (3 * 3 * 3 * 4 + 4) + (3 * 3 * 4 * 4 + 4) + 8 + (4 * 3 + 3))
        #expect(model.parameterCounts.nonTrainable == 8)
        #expect(model.summary().contains("add (Add)"))
        #expect(model.summary().contains("batch_normalization[0][0], conv2d[0][0]"))
        // It learns which channel is brightest.
        var generator = RandomGenerator(seed: 4)
        var x = Tensor.randomUniform(shape: [48, 8, 8, 3], generator: &generator)
        let y = (0..<48).map { $0 % 3 }
        for i in x.scalars.indices where (i % 3) == y[i / 192] { x.scalars[i] += 1 }
        model.compile(optimizer: Adam(learningRate: 0.02))
        let history = try model.fit(x: x, y: y, epochs: 40, batchSize: 16, verbosity: .silent)
        #expect(history.values("accuracy").last == 1)
        #expect(history.values("loss").last! < history.values("loss").first! * 0.5)
    }

    @Test func sequentialBuilderSupportsControlFlow() throws {
        let deep = true
        let model = try Model(inputShape: [8, 8, 1]) {
            for filters in [2, 4] { Conv2D(filters, kernelSize: 3, padding: .same) }
            if deep { MaxPooling2D() } else { AveragePooling2D() }
            Flatten()
            Dense(3)
        }
        #expect(model.layers.map(\.kerasClassName) == ["Conv2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense"])
    }

    @Test func badShapesNameTheLayer() throws {
        #expect(throws: ConvNetError.shape(op: "Dense 'dense'", message: "expected input (features) — add a Flatten layer before Dense, got (None, 4, 4, 2)")) {
            try Model(inputShape: [4, 4, 2]) { Dense(3) }
        }
        let model = try ModelZoo.model(named: "lenet5")
        #expect(throws: ConvNetError.shape(op: "Model 'lenet5'", message: "expected input (None, 28, 28, 1), got (1, 32, 32, 1)")) {
            try model.predict(Tensor(shape: [1, 32, 32, 1]))
        }
        #expect(throws: ConvNetError.self) { try ModelZoo.model(named: "nonet") }
    }
}

@Suite struct TrainingTests {
    /// A learnable toy problem: the class is which quadrant holds the bright pixel.
    static func quadrants(count: Int, seed: UInt64) throws -> (Tensor, [Int]) {
        var generator = RandomGenerator(seed: seed)
        var scalars = [Float](repeating: 0, count: count * 8 * 8)
        var labels: [Int] = []
        for i in 0..<count {
            let label = Int(generator.next() % 4)
            let y = Int(generator.next() % 4) + (label / 2) * 4, x = Int(generator.next() % 4) + (label % 2) * 4
            scalars[i * 64 + y * 8 + x] = 1
            labels.append(label)
        }
        return (try Tensor(shape: [count, 8, 8, 1], scalars: scalars), labels)
    }

    static func smallModel(seed: UInt64 = 1) throws -> Model {
        try Model(inputShape: [8, 8, 1], seed: seed) {
            Conv2D(4, kernelSize: 3, padding: .same, activation: .relu)
            MaxPooling2D(poolSize: 2)
            Flatten()
            Dropout(0.2)
            Dense(4, activation: .softmax, kernelRegularizer: .l2(1e-4))
        }
    }

    @Test func learnsAndReportsAccuracy() throws {
        let (x, y) = try Self.quadrants(count: 256, seed: 1)
        let (testX, testY) = try Self.quadrants(count: 128, seed: 2)
        var model = try Self.smallModel()
        model.compile(optimizer: Adam(learningRate: 0.01), metrics: [.accuracy, .topKAccuracy(2)])
        let test = try TensorDataset(inputs: testX, labels: testY)
        let history = try model.fit(x: x, y: y, epochs: 15, batchSize: 32, validationData: test, verbosity: .silent)
        #expect(history.epochs.count == 15)
        #expect(Set(history.keys) == ["loss", "accuracy", "top_2_accuracy", "val_loss", "val_accuracy", "val_top_2_accuracy", "learning_rate"])
        let result = try model.evaluate(test)
        #expect(result["accuracy"]! > 0.9)
        #expect(result["top_2_accuracy"]! >= result["accuracy"]!)
        #expect(abs(result["loss"]! - history.values("val_loss").last!) < 1e-6)
    }

    /// The same seed gives bit-identical weights and metrics.
    @Test func deterministic() throws {
        let (x, y) = try Self.quadrants(count: 96, seed: 3)
        func train() throws -> (Model, History) {
            var model = try Self.smallModel(seed: 9)
            model.compile(optimizer: Adam(learningRate: 0.01))
            let history = try model.fit(x: x, y: y, epochs: 3, batchSize: 16, validationSplit: 0.25, seed: 42, verbosity: .silent)
            return (model, history)
        }
        let (a, historyA) = try train(), (b, historyB) = try train()
        #expect(a.trainableWeights == b.trainableWeights)
        #expect(historyA == historyB)
        var c = try Self.smallModel(seed: 9)
        c.compile(optimizer: Adam(learningRate: 0.01))
        try c.fit(x: x, y: y, epochs: 3, batchSize: 16, validationSplit: 0.25, seed: 43, verbosity: .silent)
        #expect(c.trainableWeights != a.trainableWeights)
    }

    /// Batch normalization's moving statistics change in training and are used in inference.
    @Test func batchNormalizationUpdatesMovingStatistics() throws {
        var model = try Model(inputShape: [4, 4, 1]) {
            Conv2D(2, kernelSize: 3)
            BatchNormalization(momentum: 0.5)
            Flatten()
            Dense(2, activation: .softmax)
        }
        let before = model.layers[1].nonTrainableWeights
        model.compile(optimizer: SGD(learningRate: 0.01))
        var generator = RandomGenerator(seed: 1)
        try model.fit(x: Tensor.randomUniform(shape: [8, 4, 4, 1], low: 2, high: 3, generator: &generator), y: Array(repeating: 1, count: 8),
                      epochs: 1, batchSize: 8, verbosity: .silent)
        #expect(model.layers[1].nonTrainableWeights != before)
    }

    @Test func callbacks() throws {
        let (x, y) = try Self.quadrants(count: 64, seed: 5)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("convnet-callbacks-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = directory.appendingPathComponent("log.csv").path
        let written = Locked<[String]>([])

        var model = try Self.smallModel()
        model.compile(optimizer: SGD(learningRate: 0))  // nothing improves: early stopping must fire
        let history = try model.fit(x: x, y: y, epochs: 10, batchSize: 32, validationSplit: 0.25, callbacks: [
            EarlyStopping(monitor: "val_loss", patience: 1),
            CSVLogger(path: csv),
            ModelCheckpoint(path: directory.appendingPathComponent("epoch{epoch}.h5").path, saveBestOnly: false) { _, path in
                written.withLock { $0.append(path) }
            },
            LearningRateScheduler { epoch, _ in 0.001 * Float(epoch) * 0 },
        ], verbosity: .silent)
        #expect(history.epochs.count == 3)  // best at 1, no improvement at 2 and 3, stop after 3
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 4)
        #expect(rows[0] == "epoch,loss,accuracy,val_accuracy,val_loss,learning_rate")
        #expect(written.withLock { $0.map { URL(fileURLWithPath: $0).lastPathComponent } } == ["epoch1.h5", "epoch2.h5", "epoch3.h5"])

    }

    @Test func reduceLearningRateOnPlateau() throws {
        var callback = ReduceLearningRateOnPlateau(monitor: "val_loss", factor: 0.5, patience: 1, minimum: 0.02)
        var state = TrainingState(model: try Self.smallModel(), learningRate: 0.1, epochs: 7)
        var rates: [Float] = []
        for (epoch, loss) in [1.0, 1.0, 0.9, 0.95, 0.96, 0.97, 0.98].enumerated() {
            try callback.onEpochEnd(epoch + 1, logs: ["val_loss": loss], state: &state)
            rates.append(state.learningRate)
        }
        #expect(rates == [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.025])
        #expect(throws: ConvNetError.self) { try callback.onEpochEnd(8, logs: ["loss": 1], state: &state) }
    }

    @Test func scheduleChangesTheRatePerEpoch() throws {
        let (x, y) = try Self.quadrants(count: 32, seed: 6)
        var model = try Self.smallModel()
        model.compile(optimizer: SGD(learningRate: 0.2), schedule: .inverseTime(k: 1))
        let history = try model.fit(x: x, y: y, epochs: 3, batchSize: 32, verbosity: .silent)
        #expect(allClose(history.values("learning_rate").map { Float($0) }, [0.1, 0.2 / 3, 0.05], absolute: 1e-7, relative: 1e-6))
    }

    @Test func badTrainingInput() throws {
        var model = try Self.smallModel()
        let x = Tensor(shape: [4, 8, 8, 1])
        #expect(throws: ConvNetError.argument("Model 'sequential': call compile(optimizer:loss:metrics:) before fit")) {
            try model.fit(x: x, y: [0, 1, 2, 3], verbosity: .silent)
        }
        model.compile()
        #expect(throws: ConvNetError.argument("fit: batch size must be positive, got 0")) {
            try model.fit(x: x, y: [0, 1, 2, 3], batchSize: 0, verbosity: .silent)
        }
        #expect(throws: ConvNetError.self) { try model.fit(x: x, y: [0, 1, 2], verbosity: .silent) }
        var exploding = try Self.smallModel()
        exploding.compile(optimizer: SGD(learningRate: .infinity))
        #expect(throws: ConvNetError.self) {
            try exploding.fit(x: Tensor(shape: [4, 8, 8, 1], repeating: 1), y: [0, 1, 2, 3], epochs: 3, verbosity: .silent)
        }
    }
}

