import ConvNet
import Foundation
import Testing

@Suite struct CheckpointTests {
    static func model() throws -> Model {
        try Model(inputShape: [8, 8, 1], seed: 5) {
            Conv2D(4, kernelSize: 3, padding: .same, activation: .relu)
            BatchNormalization()
            MaxPooling2D()
            Flatten()
            Dropout(0.3)
            Dense(4, activation: .softmax)
        }
    }

    /// Resuming from the checkpoint of epoch 2 gives the same weights, optimizer state and history
    /// as training 4 epochs without a break.
    @Test(arguments: ["adam", "momentum", "rmsprop"])
    func resumingEqualsAnUninterruptedRun(optimizer: String) throws {
        let (x, y) = try TrainingTests.quadrants(count: 96, seed: 8)
        let data = try TensorDataset(inputs: x, labels: y)
        func compiled() throws -> Model {
            var model = try Self.model()
            let choice: any Optimizer = switch optimizer {
            case "adam": Adam(learningRate: 0.01)
            case "momentum": Momentum(learningRate: 0.05, form: .classic)
            default: RMSprop(learningRate: 0.005)
            }
            model.compile(optimizer: choice, schedule: .exponential(k: 0.1))
            return model
        }
        var straight = try compiled()
        let fullHistory = try straight.fit(data, epochs: 4, batchSize: 16, seed: 3, verbosity: .silent)

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("convnet-checkpoint-\(UUID())-{epoch}.h5").path
        defer { for epoch in 1...2 { try? FileManager.default.removeItem(atPath: path.replacingOccurrences(of: "{epoch}", with: "\(epoch)")) } }
        var interrupted = try compiled()
        try interrupted.fit(data, epochs: 2, batchSize: 16, seed: 3, callbacks: [CheckpointWriter(path: path)], verbosity: .silent)

        let checkpoint = try TrainingCheckpoint.load(from: path.replacingOccurrences(of: "{epoch}", with: "2"))
        #expect(checkpoint.epoch == 2)
        var resumed = checkpoint.model
        let rest = try resumed.fit(data, epochs: 4, batchSize: 16, seed: 3, verbosity: .silent, resumingFrom: checkpoint)
        #expect(resumed.trainableWeights == straight.trainableWeights)
        #expect(resumed.layers[1].nonTrainableWeights == straight.layers[1].nonTrainableWeights)
        #expect(resumed.training?.optimizer.step == straight.training?.optimizer.step)
        #expect(checkpoint.history.epochs == Array(fullHistory.epochs.prefix(2)))
        #expect(rest == fullHistory)  // the resumed fit's history continues the checkpoint's
    }

    @Test func checkpointIsAKerasModelFile() throws {
        var model = try Self.model()
        model.compile()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("convnet-checkpoint-\(UUID()).h5").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try TrainingCheckpoint(model: model, epoch: 0, shuffler: RandomGenerator(seed: 1), dropoutGenerator: RandomGenerator(seed: 2))
            .save(to: path)
        #expect(try KerasWeightsFile.layout(of: path) == .legacyModel)
        let loaded = try Model.load(from: path)
        #expect(loaded.trainableWeights == model.trainableWeights)
        // A plain model file is not a checkpoint.
        try model.save(to: path)
        #expect(throws: ConvNetError.self) { try TrainingCheckpoint.load(from: path) }
    }
}
