import ConvNet
import Foundation
import Testing

/// The error `body` throws, as its one-line description (nil when it does not throw).
func thrownMessage(_ body: () throws -> Void) -> String? {
    do { try body() } catch { return "\(error)" }
    return nil
}

/// Weights by path: the model's named view, lookup and assignment.
@Suite struct NamedParameterTests {
    @Test func pathsFollowKerasNames() throws {
        var model = try CheckpointTests.model()
        #expect(model.namedWeights.map(\.path) == [
            "conv2d/kernel", "conv2d/bias", "batch_normalization/gamma", "batch_normalization/beta",
            "batch_normalization/moving_mean", "batch_normalization/moving_variance", "dense/kernel", "dense/bias"])
        #expect(model.trainableParameters.map(\.value) == model.trainableWeights)
        #expect(model.nonTrainableParameters.map(\.path) == ["batch_normalization/moving_mean", "batch_normalization/moving_variance"])
        #expect(model.trainableParameters[2].layerKind == "BatchNormalization")
        #expect(model.trainableParameters[2].weightName == "gamma")

        #expect(model.weight(at: "dense/bias") == model.layers[5].trainableWeights[1])
        #expect(model.weight(at: "dense/nothing") == nil)
        try model.setWeight(Tensor([1, 2, 3, 4]), at: "batch_normalization/moving_mean")
        #expect(model.layers[1].nonTrainableWeights[0] == Tensor([1, 2, 3, 4]))
        let wrongShape = thrownMessage { try model.setWeight(Tensor([1, 2]), at: "dense/bias") }
        #expect(wrongShape?.contains("'dense/bias'") == true && wrongShape?.contains("(4,)") == true, "\(wrongShape ?? "")")
        #expect(thrownMessage { try model.setWeight(Tensor([1]), at: "dense2/bias") }?.contains("'dense2/bias'") == true)
        // All or nothing.
        let before = model.namedWeights
        #expect(throws: ConvNetError.self) {
            try model.setWeights(["conv2d/bias": Tensor([0, 0, 0, 0]), "dense/bias": Tensor([1])])
        }
        #expect(model.namedWeights == before)
    }

    /// Slots are keyed by path; a slot that does not fit its parameter throws naming it and
    /// changes nothing (it used to be reset to zeros, or written past its end).
    @Test func slotsAreKeyedByPathAndChecked() throws {
        var adam = Adam(learningRate: 0.01)
        var parameters = [Parameter(path: "a/kernel", value: Tensor([1, 2, 3])), Parameter(path: "b/bias", value: Tensor([4]))]
        let gradients = [Tensor([0.1, 0.2, 0.3]), Tensor([1])]
        try adam.update(&parameters, gradients: gradients)
        #expect(Set(adam.slots.keys) == ["a/kernel", "b/bias"])
        #expect(adam.slots["a/kernel"]?.map(\.shape) == [[3], [3]])

        var crafted = adam
        crafted.slots["a/kernel"]?[1] = Tensor([0])
        let snapshot = parameters
        let message = thrownMessage { try crafted.update(&parameters, gradients: gradients) }
        #expect(message?.contains("slot 1 of weight 'a/kernel'") == true, "\(message ?? "")")
        #expect(parameters == snapshot && crafted.step == 1)

        crafted = adam
        crafted.slots["b/bias"] = [Tensor([0])]
        #expect(thrownMessage { try crafted.update(&parameters, gradients: gradients) }?.contains("'b/bias' has 1 optimizer slots, expected 2") == true)
        #expect(thrownMessage { try crafted.validateSlots(for: parameters) }?.contains("'b/bias'") == true)
        crafted.slots["b/bias"] = nil
        #expect(thrownMessage { try crafted.validateSlots(for: parameters) }?.contains("no optimizer state for weight 'b/bias'") == true)
        crafted.slots["b/bias"] = adam.slots["b/bias"]
        crafted.slots["c/gamma"] = [Tensor([0]), Tensor([0])]
        #expect(thrownMessage { try crafted.validateSlots(for: parameters) }?.contains("'c/gamma'") == true)

        let mismatched = thrownMessage { try adam.update(&parameters, gradients: [Tensor([1, 2]), Tensor([1])]) }
        #expect(mismatched?.contains("'a/kernel'") == true, "\(mismatched ?? "")")
    }
}

/// Parameter groups against steps computed by hand: per-group learning rates, both decay forms,
/// frozen parameters.
@Suite struct ParameterGroupTests {
    static let gradients: [[[Float]]] = [[[0.5, -0.25, 1], [0.1, 0.2], [1]], [[0.1, 0.2, -0.3], [-0.4, 0.05], [1]]]

    static func parameters() -> [Parameter] {
        [Parameter(layerName: "a", weightName: "kernel", layerKind: "Dense", value: Tensor([1, -2, 0.5])),
         Parameter(layerName: "b", weightName: "bias", layerKind: "Dense", value: Tensor([0.3, -0.7])),
         Parameter(layerName: "c", weightName: "gamma", layerKind: "BatchNormalization", value: Tensor([0.25]))]
    }

    /// Two steps of `optimizer`; returns the parameters after each.
    static func run(_ optimizer: any Optimizer) throws -> [[[Float]]] {
        var optimizer = optimizer
        var parameters = Self.parameters()
        var trace: [[[Float]]] = []
        for step in gradients {
            try optimizer.update(&parameters, gradients: step.map { Tensor($0) })
            trace.append(parameters.map(\.value.scalars))
        }
        #expect(!optimizer.isFrozen(parameters[2]) || optimizer.slots["c/gamma"] == nil)  // frozen: no state
        return trace
    }

    static let groups = [
        ParameterGroup([.path("a/kernel")], learningRateMultiplier: 0.5, weightDecay: .coupled(0.1)),
        ParameterGroup([.weight("bias")], weightDecay: .decoupled(0.2)),
        ParameterGroup.frozen([.layerKind("BatchNormalization", weight: "gamma")]),
    ]

    /// SGD, α = 0.1. a: α = 0.05, g ← g + 0.1·w. b: w ← w − 0.1·0.2·w then w ← w − 0.1·g. c: frozen.
    ///   a: g' = (0.6, −0.45, 1.05) → w = (0.97, −1.9775, 0.4475);
    ///      g' = (0.197, 0.00225, −0.25525) → w = (0.96015, −1.9776125, 0.4602625)
    ///   b: w = (0.294 − 0.01, −0.686 − 0.02) = (0.284, −0.706); w = (0.27832 + 0.04, −0.69188 − 0.005) = (0.31832, −0.69688)
    @Test func sgdWithGroupLearningRatesAndBothDecays() throws {
        let trace = try Self.run(SGD(learningRate: 0.1).withParameterGroups(Self.groups))
        let expected: [[[Float]]] = [[[0.97, -1.9775, 0.4475], [0.284, -0.706], [0.25]],
                                     [[0.96015, -1.9776125, 0.4602625], [0.31832, -0.69688], [0.25]]]
        for (actual, wanted) in zip(trace, expected) {
            for (a, b) in zip(actual.dropLast(), wanted.dropLast()) { #expect(allClose(a, b, absolute: 1e-6, relative: 1e-6), "\(a) vs \(b)") }
            #expect(actual[2] == [0.25])  // bit-identical
        }
    }

    /// Adam (α = 0.01, AdamW default λ = 0.01): a has coupled L2 λ = 0.1 at α/2 instead of the
    /// default decay; b overrides the decoupled λ with 0.2; both steps from the formulas in Double.
    @Test func adamWithCoupledAndDecoupledGroups() throws {
        let trace = try Self.run(Adam(learningRate: 0.01, weightDecay: 0.01).withParameterGroups(Self.groups))
        var w: [[Double]] = Self.parameters().map { $0.value.scalars.map(Double.init) }
        var m = w.map { $0.map { _ in 0.0 } }, v = m
        for (t, step) in Self.gradients.enumerated() {
            for p in 0..<2 {
                let (lr, coupled, decoupled) = p == 0 ? (0.005, 0.1, 0.0) : (0.01, 0.0, 0.2)
                for i in w[p].indices {
                    let g = Double(step[p][i]) + coupled * w[p][i]
                    m[p][i] = 0.9 * m[p][i] + 0.1 * g
                    v[p][i] = 0.999 * v[p][i] + 0.001 * g * g
                    let mHat = m[p][i] / (1 - pow(0.9, Double(t + 1))), vHat = v[p][i] / (1 - pow(0.999, Double(t + 1)))
                    w[p][i] -= lr * mHat / (vHat + 1e-8).squareRoot() + lr * decoupled * w[p][i]
                }
            }
            for p in 0..<2 {
                #expect(allClose(trace[t][p], w[p].map { Float($0) }, absolute: 1e-6, relative: 1e-5), "\(trace[t][p]) vs \(w[p])")
            }
            #expect(trace[t][2] == [0.25])
        }
    }

    /// Without groups, a `.all` group with multiplier 1 and no decay override changes nothing, bit for bit.
    @Test func neutralGroupIsBitIdentical() throws {
        let plain = try Self.run(Adam(learningRate: 0.01, weightDecay: 0.004))
        let grouped = try Self.run(Adam(learningRate: 0.01, weightDecay: 0.004).withParameterGroups([ParameterGroup([.all])]))
        #expect(plain == grouped)
    }

    /// A frozen layer keeps bit-identical weights through `fit` while the others train, and gets
    /// no optimizer state.
    @Test func frozenLayerIsUntouchedByFit() throws {
        let (x, y) = try TrainingTests.quadrants(count: 48, seed: 4)
        var model = try CheckpointTests.model()
        model.compile(optimizer: Adam(learningRate: 0.01, weightDecay: 0.01).withParameterGroups([
            .frozen([.layer("conv2d")]),
            ParameterGroup([.layerKind("BatchNormalization", weight: "beta")], weightDecay: .zero),
        ]))
        let before = model
        try model.fit(x: x, y: y, epochs: 2, batchSize: 16, verbosity: .silent)
        #expect(model.weight(at: "conv2d/kernel") == before.weight(at: "conv2d/kernel"))
        #expect(model.weight(at: "conv2d/bias") == before.weight(at: "conv2d/bias"))
        #expect(model.weight(at: "dense/kernel") != before.weight(at: "dense/kernel"))
        #expect(model.weight(at: "batch_normalization/beta") != before.weight(at: "batch_normalization/beta"))
        let slots = try #require(model.training?.optimizer.slots)
        #expect(Set(slots.keys) == ["batch_normalization/gamma", "batch_normalization/beta", "dense/kernel", "dense/bias"])
    }

    /// Keeps the gradients of every step as the optimizer will get them.
    struct GradientRecorder: Callback {
        var steps: [Gradients] = []
        mutating func onGradients(_ gradients: inout Gradients, state: inout TrainingState) throws { steps.append(gradients) }
    }

    /// Frozen weights are not differentiated (PyTorch's `requires_grad = False`): a training step
    /// hands the optimizer zeros for them, while their true gradients are not zero, and every other
    /// weight gets bit for bit the gradient it gets when nothing is frozen. Frozen: the whole first
    /// layer (its backward pass is skipped), or only its kernel (its bias gradient is computed
    /// without the kernel's).
    @Test(arguments: [(ParameterSelector.layer("conv2d"), ["conv2d/kernel", "conv2d/bias"]),
                      (ParameterSelector.path("conv2d/kernel"), ["conv2d/kernel"])])
    func frozenWeightsAreNotDifferentiated(selector: ParameterSelector, frozenPaths: [String]) throws {
        let (x, y) = try TrainingTests.quadrants(count: 16, seed: 4)
        let batch = Batch(inputs: x, labels: y)
        func firstGradients(_ groups: [ParameterGroup]) throws -> Gradients {
            var model = try CheckpointTests.model()
            model.compile(optimizer: SGD(learningRate: 0.1).withParameterGroups(groups))
            var trainer = try Trainer(model: model, callbacks: [GradientRecorder()], epochs: 1, stepsPerEpoch: 1)
            try trainer.beginTraining()
            try trainer.beginEpoch(1)
            _ = try trainer.step(batch)
            return try #require((trainer.callbacks[0] as? GradientRecorder)?.steps.first)
        }
        let all = try firstGradients([])
        let frozen = try firstGradients([.frozen([selector])])
        #expect(frozen.paths == all.paths)
        for (path, gradient) in zip(all.paths, all.values) {
            let seen = try #require(frozen[path])
            if frozenPaths.contains(path) {
                #expect(gradient.scalars.contains { $0 != 0 }, "\(path): the unfrozen gradient is not zero")
                #expect(seen.shape == gradient.shape && seen.scalars.allSatisfy { $0 == 0 }, "\(path)")
            } else {
                #expect(seen == gradient, "\(path)")
            }
        }
    }
}

/// Optimizer state stored by weight path in checkpoints, and checked on resume. Serialized: a
/// `convnet` child spawned while another test holds an HDF5 file open inherits the descriptor and
/// its lock, and a reopen of that file then fails with EAGAIN.
@Suite(.serialized) struct NamedCheckpointTests {
    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("convnet-named-\(UUID())-\(name)").path
    }

    /// A model trained one epoch (two steps) with Adam and a frozen layer, saved as a checkpoint.
    static func savedCheckpoint() throws -> String {
        let (x, y) = try TrainingTests.quadrants(count: 32, seed: 2)
        var model = try CheckpointTests.model()
        model.compile(optimizer: Adam(learningRate: 0.01).withParameterGroups([.frozen([.layer("conv2d")])]))
        try model.fit(x: x, y: y, epochs: 1, batchSize: 16, seed: 1, verbosity: .silent)
        let path = temporaryPath("checkpoint.h5")
        try TrainingCheckpoint(model: model, epoch: 1, shuffler: RandomGenerator(seed: 1), dropoutGenerator: RandomGenerator(seed: 2))
            .save(to: path)
        return path
    }

    /// Rewrites the checkpoint at `path` with `edit` applied to its optimizer datasets.
    static func edit(_ path: String, _ edit: (inout [String: Tensor]) -> Void) throws {
        var file = try KerasWeightsFile.read(path)
        edit(&file.extraDatasets)
        try file.writeLegacy(to: path)
    }

    @Test func slotsAreStoredByNameAndRoundTrip() throws {
        let path = try Self.savedCheckpoint()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let keys = try KerasWeightsFile.read(path).extraDatasets.keys.sorted()
        #expect(keys.contains("convnet_optimizer/dense/kernel/0") && keys.contains("convnet_optimizer/dense/kernel/1"))
        #expect(!keys.contains { $0.hasPrefix("convnet_optimizer/conv2d/") })  // frozen: no state
        let checkpoint = try TrainingCheckpoint.load(from: path)
        let optimizer = try #require(checkpoint.model.training?.optimizer)
        #expect(optimizer.parameterGroups == [.frozen([.layer("conv2d")])])
        #expect(optimizer.slots["batch_normalization/beta"]?.count == 2)
        #expect(optimizer.step == 2)
    }

    /// Resuming with named slots and parameter groups equals an uninterrupted run, bit for bit.
    @Test func resumeWithGroupsEqualsAnUninterruptedRun() throws {
        let (x, y) = try TrainingTests.quadrants(count: 64, seed: 8)
        let data = try TensorDataset(inputs: x, labels: y)
        func compiled() throws -> Model {
            var model = try CheckpointTests.model()
            model.compile(optimizer: Momentum(learningRate: 0.05, form: .classic).withParameterGroups([
                ParameterGroup([.layer("dense")], learningRateMultiplier: 0.5, weightDecay: .coupled(0.01)),
                .frozen([.layerKind("BatchNormalization", weight: "gamma")]),
            ]))
            return model
        }
        var straight = try compiled()
        try straight.fit(data, epochs: 3, batchSize: 16, seed: 3, verbosity: .silent)
        let path = Self.temporaryPath("{epoch}.h5")
        defer { for epoch in 1...2 { try? FileManager.default.removeItem(atPath: path.replacingOccurrences(of: "{epoch}", with: "\(epoch)")) } }
        var interrupted = try compiled()
        try interrupted.fit(data, epochs: 2, batchSize: 16, seed: 3, callbacks: [CheckpointWriter(path: path)], verbosity: .silent)
        let checkpoint = try TrainingCheckpoint.load(from: path.replacingOccurrences(of: "{epoch}", with: "2"))
        var resumed = checkpoint.model
        try resumed.fit(data, epochs: 3, batchSize: 16, seed: 3, verbosity: .silent, resumingFrom: checkpoint)
        #expect(resumed.namedWeights == straight.namedWeights)
        #expect(resumed.training?.optimizer.slots == straight.training?.optimizer.slots)
        let fresh = try compiled()
        #expect(resumed.weight(at: "batch_normalization/gamma") == fresh.weight(at: "batch_normalization/gamma"))
    }

    @Test func misShapedMissingOrExtraSlotsNameTheWeight() throws {
        let path = try Self.savedCheckpoint()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let original = try KerasWeightsFile.read(path)
        func expectResumeFails(mentioning fragment: String, _ change: (inout [String: Tensor]) -> Void,
                               sourceLocation: SourceLocation = #_sourceLocation) throws {
            try original.writeLegacy(to: path)
            try Self.edit(path, change)
            let message = thrownMessage { _ = try TrainingCheckpoint.load(from: path) }
            #expect(message?.contains(fragment) == true, "\(message ?? "no error")", sourceLocation: sourceLocation)
            #expect(message?.contains(path) == true && message?.contains("\n") == false, sourceLocation: sourceLocation)
        }
        try expectResumeFails(mentioning: "slot 1 of weight 'dense/kernel' has shape (3,)") {
            $0["convnet_optimizer/dense/kernel/1"] = Tensor([1, 2, 3])
        }
        try expectResumeFails(mentioning: "weight 'dense/bias' has 1 optimizer slots, expected 2") {
            $0["convnet_optimizer/dense/bias/1"] = nil
        }
        try expectResumeFails(mentioning: "optimizer slot 0 of weight 'dense/bias' is missing") {
            $0["convnet_optimizer/dense/bias/0"] = nil
        }
        try expectResumeFails(mentioning: "no optimizer state for weight 'dense/bias'") {
            $0["convnet_optimizer/dense/bias/0"] = nil
            $0["convnet_optimizer/dense/bias/1"] = nil
        }
        try expectResumeFails(mentioning: "optimizer state for 'dense_9/kernel'") {
            $0["convnet_optimizer/dense_9/kernel/0"] = Tensor([1])
        }
    }

    /// A checkpoint written before slots were named (`convnet_optimizer/<position>/<slot>`) is read
    /// by the weights' positions.
    @Test func positionalCheckpointsStillLoad() throws {
        let path = try Self.savedCheckpoint()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let named = try TrainingCheckpoint.load(from: path)
        let paths = named.model.trainableParameters.map(\.path)
        try Self.edit(path) { datasets in
            for (key, tensor) in datasets where key.hasPrefix("convnet_optimizer/") {
                let parts = key.split(separator: "/")
                let position = paths.firstIndex(of: parts[1...2].joined(separator: "/")) ?? -1  // -1: the load fails
                datasets[key] = nil
                datasets["convnet_optimizer/\(position)/\(parts[3])"] = tensor
            }
        }
        #expect(try TrainingCheckpoint.load(from: path).model.training?.optimizer.slots == named.model.training?.optimizer.slots)
    }

    /// The CLI resuming from a damaged checkpoint prints one line naming the weight and exits 1.
    @Test func commandLineNamesTheWeight() throws {
        let path = try Self.savedCheckpoint()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Self.edit(path) { $0["convnet_optimizer/dense/kernel/0"] = Tensor([1]) }
        let result = try CommandLineTests.run(["train", "--resume", path, "--epochs", "3"])
        #expect(result.status == 1, "\(result.error)")
        let lines = result.error.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("'dense/kernel'"), "\(result.error)")
    }
}

/// Keras's `load_weights(by_name=True, skip_mismatch=True)`.
@Suite struct WeightsByNameTests {
    @Test func layersSharingNamesLoadTheRestIsReported() throws {
        let source = try CheckpointTests.model()  // conv2d (3, 3, 1, 4), batch_normalization, dense (64, 4)
        let path = NamedCheckpointTests.temporaryPath("weights.h5")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try source.saveWeights(to: path)

        func target() throws -> Model {
            try Model(inputShape: [8, 8, 1], seed: 9) {
                Conv2D(4, kernelSize: 3, padding: .same, activation: .relu)  // conv2d: same shapes
                Conv2D(2, kernelSize: 1, name: "head")                       // not in the file
                Flatten()
                Dense(3, activation: .softmax)                               // dense: shape mismatch
            }
        }
        var model = try target()
        let before = model
        let strict = thrownMessage { try model.loadWeights(from: path, byName: true) }
        #expect(strict?.contains("weight 'dense/kernel' has shape (64, 4) in the file, but the model expects (128, 3)") == true,
                "\(strict ?? "no error")")
        #expect(model.namedWeights == before.namedWeights)  // all or nothing

        let report = try model.loadWeights(from: path, byName: true, skipMismatch: true)
        #expect(report.loaded == ["conv2d/kernel", "conv2d/bias"])
        #expect(report.skipped == [
            .init(path: "head/kernel", reason: .notInFile), .init(path: "head/bias", reason: .notInFile),
            .init(path: "dense/kernel", reason: .shapeMismatch(expected: [128, 3], found: [64, 4])),
            .init(path: "dense/bias", reason: .shapeMismatch(expected: [3], found: [4])),
        ])
        #expect(report.unchanged == ["head/kernel", "head/bias", "dense/kernel", "dense/bias"])
        #expect(report.unusedFileLayers == ["batch_normalization"])
        #expect(model.weight(at: "conv2d/kernel") == source.weight(at: "conv2d/kernel"))
        #expect(model.weight(at: "conv2d/bias") == source.weight(at: "conv2d/bias"))
        for path in report.unchanged { #expect(model.weight(at: path) == before.weight(at: path)) }

        // By position the same file does not fit, and skipMismatch needs byName.
        #expect(throws: ConvNetError.self) { try model.loadWeights(from: path) }
        #expect(throws: ConvNetError.self) { try model.loadWeights(from: path, skipMismatch: true) }
        var same = try CheckpointTests.model()
        let positional = try same.loadWeights(from: path)
        #expect(positional.loaded == source.namedWeights.map(\.path) && same.namedWeights == source.namedWeights)
    }
}

/// `convnet train --freeze LAYER,...`.
@Suite(.serialized) struct FreezeCommandTests {
    /// Two runs with different learning rates end with the same frozen `conv2d` (the initial one)
    /// and different other weights; an unknown layer is a usage error naming it.
    @Test func frozenLayersKeepTheirWeights() throws {
        let directory = try CommandLineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var models: [Model] = []
        for lr in ["0.01", "0.001"] {
            let saved = directory.appendingPathComponent("lenet5-\(lr).h5").path
            let run = try CommandLineTests.run(["train", "--limit", "64", "--epochs", "1", "--quiet", "--lr", lr,
                                                "--freeze", "conv2d", "--save", saved])
            #expect(run.status == 0, "\(run.error)")
            models.append(try Model.load(from: saved))
        }
        #expect(models[0].weight(at: "conv2d/kernel") == models[1].weight(at: "conv2d/kernel"))
        #expect(models[0].weight(at: "conv2d/bias") == models[1].weight(at: "conv2d/bias"))
        #expect(models[0].weight(at: "conv2d_1/kernel") != models[1].weight(at: "conv2d_1/kernel"))
        // The layer is frozen Keras's way: saved as `trainable: false`, its weights counted as non-trainable.
        #expect(models[0].layers.map { $0.trainable } == models[0].layers.map { $0.name != "conv2d" })
        #expect(models[0].nonTrainableParameters.map(\.path) == ["conv2d/kernel", "conv2d/bias"])
        let bad = try CommandLineTests.run(["train", "--limit", "64", "--epochs", "1", "--freeze", "nope"])
        #expect(bad.status == 2 && bad.error.hasPrefix("Error: --freeze: model 'lenet5' has no layer 'nope'"), "\(bad.error)")
    }
}
