import ConvNet
import Foundation
import Testing

/// Keras-style transfer learning: `trainable`, frozen means frozen, and model surgery.
@Suite struct TransferLearningTests {
    /// A small random dataset of `count` images of `shape` with `classes` labels.
    static func randomData(count: Int, shape: [Int], classes: Int, seed: UInt64) -> (x: Tensor, y: [Int]) {
        var generator = RandomGenerator(seed: seed)
        let x = Tensor.randomUniform(shape: [count] + shape, generator: &generator)
        return (x, (0..<count).map { $0 % classes })
    }

    /// A small net with a batch normalization layer.
    static func normalizedModel() throws -> Model {
        try Model(inputShape: [8, 8, 1], seed: 3) {
            Conv2D(4, kernelSize: 3, padding: .same, activation: .relu)
            BatchNormalization()
            MaxPooling2D()
            Flatten()
            Dense(3, activation: .softmax)
        }
    }

    /// LeNet-5 trained with its base frozen: every frozen weight bit-identical (AdamW's decay
    /// included), every head weight changed.
    @Test func frozenBaseStaysFrozen() throws {
        var model = try ModelZoo.model(named: "lenet5", classes: 4, seed: 1)
        let baseNames = try model.base().layers.map(\.name)
        #expect(baseNames == ["conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1", "flatten"])
        try model.setTrainable(false, layers: baseNames)
        #expect(model.trainableParameters.map(\.path) == ["dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias",
                                                          "dense_2/kernel", "dense_2/bias"])
        let before = model.namedWeights
        model.compile(optimizer: Adam(learningRate: 0.01, weightDecay: 0.1), loss: .sparseCategoricalCrossentropy(), metrics: [])
        let (x, y) = Self.randomData(count: 16, shape: [28, 28, 1], classes: 4, seed: 2)
        try model.fit(x: x, y: y, epochs: 2, batchSize: 8, verbosity: .silent)
        let after = model.namedWeights
        #expect(after.map(\.path) == before.map(\.path))
        for (old, new) in zip(before, after) {
            if baseNames.contains(old.layerName) {
                #expect(old.value.scalars == new.value.scalars, "\(old.path) changed")
                #expect(!new.isTrainable)
            } else {
                #expect(old.value.scalars != new.value.scalars, "\(old.path) did not change")
            }
        }
    }

    /// A frozen BatchNormalization runs in inference mode in training: its moving statistics (and
    /// gamma, beta) stay bit-identical, while an unfrozen one's statistics move.
    @Test func frozenBatchNormalizationKeepsItsStatistics() throws {
        let (x, y) = Self.randomData(count: 16, shape: [8, 8, 1], classes: 3, seed: 4)
        for frozen in [true, false] {
            var model = try Self.normalizedModel()
            if frozen { try model.setTrainable(false, layers: ["batch_normalization"]) }
            let before = model.layers[1].trainableWeights + model.layers[1].nonTrainableWeights
            model.compile(optimizer: Adam(learningRate: 0.01), loss: .sparseCategoricalCrossentropy(), metrics: [])
            try model.fit(x: x, y: y, epochs: 2, batchSize: 8, verbosity: .silent)
            let after = model.layers[1].trainableWeights + model.layers[1].nonTrainableWeights
            #expect(zip(before, after).allSatisfy { $0.scalars == $1.scalars } == frozen)
            #expect(model.weight(at: "conv2d/kernel") != nil)
        }
    }

    /// `trainable: false` goes through Keras JSON text and `Model.save`/`Model.load` both ways.
    @Test func trainableRoundTrips() throws {
        var model = try Self.normalizedModel()
        try model.setTrainable(false, layers: ["conv2d", "batch_normalization"])
        let json = try KerasModelJSON.json(for: model)
        #expect(json.contains("\"trainable\":false"))
        let fromJSON = try KerasModelJSON.model(fromJSON: json)
        #expect(fromJSON.layers.map(\.trainable) == [false, false, true, true, true])

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("convnet-frozen-\(UUID()).h5").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.save(to: path)
        let loaded = try Model.load(from: path)
        #expect(loaded.layers.map(\.trainable) == [false, false, true, true, true])
        #expect(loaded.namedWeights == model.namedWeights)
        #expect(loaded.parameterCounts == model.parameterCounts)

        let unfrozen = try KerasModelJSON.model(fromJSON: json.replacingOccurrences(of: "\"trainable\":false", with: "\"trainable\":true"))
        #expect(unfrozen.layers.allSatisfy { $0.trainable })
        let bad = thrownMessage { _ = try KerasModelJSON.model(fromJSON: json.replacingOccurrences(of: "\"trainable\":false", with: "\"trainable\":3")) }
        #expect(bad?.contains("'conv2d'") == true && bad?.contains("'trainable'") == true, "\(bad ?? "")")
    }

    /// Keras's counts: a frozen layer's weights are non-trainable, in `parameterCounts`, the
    /// summary and `namedWeights` (whose order does not change).
    @Test func countsFollowFreezing() throws {
        var model = try Self.normalizedModel()
        // conv 3·3·1·4 + 4 = 40; BN 4 + 4 trainable, 8 not; dense 64·3 + 3 = 195.
        #expect(model.parameterCounts == (trainable: 243, nonTrainable: 8))
        let paths = model.namedWeights.map(\.path)
        try model.setTrainable(false, layers: ["conv2d", "batch_normalization"])
        #expect(model.parameterCounts == (trainable: 195, nonTrainable: 56))
        #expect(model.namedWeights.map(\.path) == paths)
        #expect(model.trainableWeights.count == 2)
        let summary = model.summary()
        #expect(summary.contains(" Trainable params: 195 "), "\(summary)")
        #expect(summary.contains(" Non-trainable params: 56 "), "\(summary)")
        let flags = model.summaryRows.map(\.trainable)
        #expect(flags.filter { $0 == false }.count == 2 && flags.filter { $0 == true }.count == 1, "\(flags)")
        let column = model.summary(showTrainable: true).split(separator: "\n").filter { $0.contains("conv2d") || $0.contains("dense") }
        #expect(column.count == 2 && column[0].contains("│ N ") && column[1].contains("│ Y "), "\(column)")
        try model.setTrainable(true)
        #expect(model.parameterCounts == (trainable: 243, nonTrainable: 8))
        let unknown = thrownMessage { try model.setTrainable(false, layers: ["conv9"]) }
        #expect(unknown?.contains("'conv9'") == true, "\(unknown ?? "")")
    }

    /// LeNet-5's base ends at its flatten layer; a new head keeps the base's weights.
    @Test func lenetSurgery() throws {
        let model = try ModelZoo.model(named: "lenet5", seed: 1)
        let base = try model.base()
        #expect(base.outputShape == [400])
        #expect(base.isSequential)
        #expect(base.namedWeights == Array(model.namedWeights.prefix(4)))
        let tuned = try Model(base: base, seed: 9) {
            Dense(32, activation: .relu)
            Dense(3, activation: .softmax)
        }
        #expect(tuned.outputShape == [3])
        #expect(tuned.layers.map(\.name).suffix(2) == ["dense", "dense_1"])
        #expect(Array(tuned.namedWeights.prefix(4)) == base.namedWeights)
        let (x, _) = Self.randomData(count: 2, shape: [28, 28, 1], classes: 2, seed: 5)
        #expect(try tuned.predict(x).shape == [2, 3])
        #expect(try base.predict(x) == model.truncated(after: "flatten").predict(x))
    }

    /// ResNet-20 (a graph with residual additions): the base ends at the global average pool and
    /// keeps every weight; its features equal the full model's at that layer.
    @Test func resnetSurgery() throws {
        let model = try ModelZoo.model(named: "resnet20", seed: 1)
        let base = try model.base()
        #expect(base.layers.last?.kerasClassName == "GlobalAveragePooling2D")
        #expect(!base.isSequential)
        #expect(base.outputShape == [64])
        #expect(base.layers.count == model.layers.count - 1)
        let expectedWeights = model.namedWeights.filter { $0.layerName != model.layers[model.layers.count - 1].name }
        #expect(base.namedWeights == expectedWeights)
        let tuned = try Model(base: base, head: [Dense(5, activation: .softmax, name: "new_head")], seed: 2)
        #expect(tuned.outputShape == [5])
        #expect(Array(tuned.namedWeights.prefix(base.namedWeights.count)) == base.namedWeights)
        let (x, _) = Self.randomData(count: 2, shape: model.inputShape.compactMap { $0 }, classes: 2, seed: 6)
        #expect(try tuned.predict(x).shape == [2, 5])
        var full = model
        var context = ForwardContext(training: false)
        let features = try full.forward(x, context: &context, outputs: [base.layers.count - 1]).intermediate[base.layers.count - 1]
        #expect(try base.predict(x) == features)
        #expect(thrownMessage { _ = try Model(base: base, head: []) } != nil)
    }
}

/// Every zoo architecture serves as a base: cut at its last pooling or flatten layer, with a new
/// head that predicts, the base's weights kept and frozen.
@Suite struct ZooBaseTests {
    /// The ImageNet-size models are built at a smaller input (their convolutional parts take any
    /// size the pooling allows) to keep the test fast; AlexNet's 11x11/4 stem needs at least 67.
    static let smallInputs: [String: LayerShape] = [
        "alexnet": [67, 67, 3], "vgg16": [32, 32, 3], "resnet18": [32, 32, 3], "resnet34": [32, 32, 3],
        "resnet50": [32, 32, 3], "googlenet": [32, 32, 3], "fmnist-fcn": [28, 28, 1],
    ]

    @Test(arguments: ModelZoo.catalog.map(\.name))
    func zooModelAsBase(name: String) throws {
        let model = try ModelZoo.model(named: name, inputShape: Self.smallInputs[name], seed: 1)
        let base = try model.base()
        #expect(base.layers.count < model.layers.count)
        #expect(base.namedWeights == model.namedWeights.filter { weight in base.layers.contains { $0.name == weight.layerName } })
        var tuned = try Model(base: base, head: Model.newClassifier(for: base, classes: 3), seed: 2)
        try tuned.setTrainable(false, layers: base.layers.map(\.name))
        #expect(tuned.parameterCounts.trainable == (base.outputShape.compactMap { $0 }.reduce(1, *) + 1) * 3)
        let shape = model.inputShape.compactMap { $0 }
        let x = GradientCheck.random([2] + shape, seed: 5, low: 0, high: 1)
        let y = try tuned.predict(x)
        #expect(y.shape == [2, 3])
        #expect(y.scalars.allSatisfy { $0.isFinite })
    }
}

/// `convnet finetune`: a new head on a trained model's base, the base frozen or not.
@Suite(.serialized) struct FinetuneCommandTests {
    @Test func finetuneReplacesTheHeadAndFreezesTheBase() throws {
        let directory = try CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let base = directory.appendingPathComponent("base.h5").path
        let trained = try CommandLineTests.run(["train", "--limit", "64", "--epochs", "1", "--quiet", "--save", base])
        #expect(trained.status == 0, "\(trained.error)")
        let original = try Model.load(from: base)
        let baseLayers = ["conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1", "flatten"]
        for (flags, frozen) in [([String](), baseLayers), (["--freeze", "none"], []),
                                (["--freeze-until", "max_pooling2d"], ["conv2d", "max_pooling2d"])] {
            let saved = directory.appendingPathComponent("tuned.h5").path
            let run = try CommandLineTests.run(["finetune", "--model", base, "--limit", "64", "--epochs", "1", "--quiet",
                                                "--save", saved] + flags)
            #expect(run.status == 0, "\(flags): \(run.error)")
            let tuned = try Model.load(from: saved)
            #expect(tuned.layers.map(\.name) == baseLayers + ["dense"])
            #expect(tuned.outputShape == [10])
            #expect(tuned.layers.filter { !$0.trainable }.map(\.name) == frozen, "\(flags)")
            for parameter in tuned.namedWeights where frozen.contains(parameter.layerName) {
                #expect(parameter.value == original.weight(at: parameter.path), "\(parameter.path)")
            }
            if frozen.isEmpty { #expect(tuned.weight(at: "conv2d/kernel") != original.weight(at: "conv2d/kernel")) }
        }
        let bad = try CommandLineTests.run(["finetune", "--model", base, "--freeze", "all"])
        #expect(bad.status == 2 && bad.error.hasPrefix("Error: --freeze must be base or none, got all"), "\(bad.error)")
        let unknown = try CommandLineTests.run(["finetune", "--model", base, "--limit", "64", "--epochs", "1", "--freeze-until", "nope"])
        #expect(unknown.status == 2 && unknown.error.contains("no layer 'nope'"), "\(unknown.error)")
    }

    /// The README's recipe: a base on classes 0-4, a new head on classes 5-9 (relabelled 0-4),
    /// then every layer trained again with `train --unfreeze all`.
    @Test func classSubsetsAndTwoPhases() throws {
        let directory = try CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let base = directory.appendingPathComponent("base.h5").path
        let head = directory.appendingPathComponent("head.h5").path
        let all = directory.appendingPathComponent("all.h5").path
        let trained = try CommandLineTests.run(["train", "--class-subset", "0-4", "--limit", "64", "--epochs", "1", "--quiet", "--save", base])
        #expect(trained.status == 0, "\(trained.error)")
        #expect(try Model.load(from: base).outputShape == [5])
        let tuned = try CommandLineTests.run(["finetune", "--model", base, "--class-subset", "9,5", "--limit", "32", "--epochs", "1",
                                              "--save", head])
        #expect(tuned.status == 0, "\(tuned.error)")
        #expect(tuned.output.contains("on 32 images"), "\(tuned.output)")
        let headModel = try Model.load(from: head)
        #expect(headModel.metadata?.classNames == ["Ankle boot", "Sandal"])
        #expect(headModel.layers.filter { !$0.trainable }.count == 5)
        let thawed = try CommandLineTests.run(["train", "--model", head, "--class-subset", "9,5", "--limit", "32", "--epochs", "1",
                                               "--quiet", "--unfreeze", "all", "--lr", "0.0001", "--save", all])
        #expect(thawed.status == 0, "\(thawed.error)")
        let allModel = try Model.load(from: all)
        #expect(allModel.layers.allSatisfy { $0.trainable })
        #expect(allModel.weight(at: "conv2d/kernel") != headModel.weight(at: "conv2d/kernel"))
        let bad = try CommandLineTests.run(["train", "--class-subset", "4-2"])
        #expect(bad.status == 2 && bad.error.contains("--class-subset 4-2"), "\(bad.error)")
        let missing = try CommandLineTests.run(["train", "--class-subset", "7,12", "--limit", "8", "--epochs", "1"])
        #expect(missing.status == 1 && missing.error.contains("class 12"), "\(missing.error)")
    }
}

/// The README's transfer-learning example, run as written (on a LeNet-5 saved to a temporary file).
@Suite struct ReadmeTransferLearningExampleTests {
    @Test func readmeExample() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("convnet-readme-\(UUID()).h5").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ModelZoo.model(named: "lenet5", seed: 1).save(to: path)
        // As in the README, with `path` for "lenet5.h5".
        let base = try Model.load(from: path).base()             // Keras include_top=False
        var tuned = try Model(base: base) { Dense(3, activation: .softmax) }
        try tuned.setTrainable(false, layers: base.layers.map(\.name))  // layer.trainable = False
        tuned.compile(optimizer: Adam(learningRate: 1e-3), loss: .sparseCategoricalCrossentropy(), metrics: [.accuracy])

        #expect(tuned.parameterCounts == (trainable: 400 * 3 + 3, nonTrainable: base.parameterCounts.trainable))
        let (x, y) = TransferLearningTests.randomData(count: 8, shape: [28, 28, 1], classes: 3, seed: 7)
        try tuned.fit(x: x, y: y, epochs: 1, batchSize: 4, verbosity: .silent)
        #expect(Array(tuned.namedWeights.prefix(4)) == base.namedWeights.map { parameter in
            Parameter(layerName: parameter.layerName, weightName: parameter.weightName, layerKind: parameter.layerKind,
                      isTrainable: false, value: parameter.value)
        })
    }
}
