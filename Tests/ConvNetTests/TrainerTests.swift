import ConvNet
import Foundation
import Testing

/// The public training step, its per-batch and gradient hooks, and what is built on them
/// (clipping, moving averages), each against values computed by hand.
@Suite struct TrainerTests {
    /// A dense softmax classifier on 3 features, weights from seed 3, plain SGD.
    static func model(learningRate: Float = 0.1) throws -> Model {
        var model = try Model(inputShape: [3], seed: 3) { Dense(2, activation: .softmax) }
        model.compile(optimizer: SGD(learningRate: learningRate), loss: .sparseCategoricalCrossentropy(), metrics: [.accuracy])
        return model
    }

    static let batches = [
        Batch(inputs: try! Tensor(shape: [2, 3], scalars: [1, -2, 0.5, 3, 1, -1]), labels: [0, 1]),
        Batch(inputs: try! Tensor(shape: [2, 3], scalars: [-1, 4, 2, 0.5, 0.5, 0.5]), labels: [1, 1]),
        Batch(inputs: try! Tensor(shape: [2, 3], scalars: [2, 2, -3, 1, 0, 1]), labels: [0, 0]),
    ]

    /// Records what the hooks see: steps, learning rates, gradients before any later callback
    /// changes them, and the weights after each update.
    struct Recorder: Callback {
        var events: [String] = []
        var gradients: [[Tensor]] = []
        var weightsAfterStep: [[Tensor]] = []

        mutating func onEpochBegin(_ epoch: Int, state: inout TrainingState) throws { events.append("epoch \(epoch)") }
        mutating func onTrainBatchBegin(_ step: Int, state: inout TrainingState) throws {
            events.append("begin \(state.epoch).\(step) global \(state.globalStep)")
        }
        mutating func onGradients(_ gradients: inout Gradients, state: inout TrainingState) throws {
            #expect(gradients.paths == ["dense/kernel", "dense/bias"])
            self.gradients.append(gradients.values)
        }
        mutating func onTrainBatchEnd(_ step: Int, logs: [String: Double], state: inout TrainingState) throws {
            #expect(logs["loss"]?.isFinite == true)
            events.append("end \(state.epoch).\(step) global \(state.globalStep)")
            weightsAfterStep.append(state.model.trainableWeights)
        }
    }

    /// Runs `epochs` epochs of `batches` through a trainer and returns it.
    static func train(_ model: Model, callbacks: [any Callback], epochs: Int = 1) throws -> Trainer {
        var trainer = try Trainer(model: model, callbacks: callbacks, epochs: epochs, stepsPerEpoch: batches.count)
        try trainer.beginTraining()
        for epoch in 1...epochs {
            try trainer.beginEpoch(epoch)
            for batch in batches { _ = try trainer.step(batch) }
            try trainer.endEpoch(epoch, logs: [:])
        }
        try trainer.endTraining()
        return trainer
    }

    @Test("per-batch hooks see every step, in order, with the step counters")
    func batchHooksSeeEveryStep() throws {
        let trainer = try Self.train(try Self.model(), callbacks: [Recorder()], epochs: 2)
        let recorder = try #require(trainer.callbacks[0] as? Recorder)
        var expected: [String] = []
        for epoch in 1...2 {
            expected.append("epoch \(epoch)")
            for step in 1...3 {
                let global = (epoch - 1) * 3 + step
                expected += ["begin \(epoch).\(step) global \(global - 1)", "end \(epoch).\(step) global \(global)"]
            }
        }
        #expect(recorder.events == expected)
        #expect(trainer.state.globalStep == 6)
    }

    @Test("fit is the same loop: driving the public step by hand gives bit-identical weights")
    func fitEqualsManualSteps() throws {
        var fitted = try Self.model()
        let inputs = try Tensor(shape: [6, 3], scalars: Self.batches.flatMap(\.inputs.scalars))
        try fitted.fit(x: inputs, y: Self.batches.flatMap(\.labels), epochs: 1, batchSize: 2, shuffle: false, verbosity: .silent)
        let manual = try Self.train(try Self.model(), callbacks: [])
        #expect(fitted.trainableWeights.map(\.scalars) == manual.model.trainableWeights.map(\.scalars))
    }

    @Test("SGD applies exactly the gradients the hook saw: W₁ = W₀ − α·g, with α from state.learningRate")
    func updateUsesHookGradientsAndStateRate() throws {
        /// Halves the learning rate before the second step (one owner: `state.learningRate`).
        struct HalveAtStepTwo: Callback {
            mutating func onTrainBatchBegin(_ step: Int, state: inout TrainingState) throws {
                if step == 2 { state.learningRate /= 2 }
            }
        }
        let initial = try Self.model().trainableWeights
        let trainer = try Self.train(try Self.model(learningRate: 0.1), callbacks: [HalveAtStepTwo(), Recorder()])
        let recorder = try #require(trainer.callbacks[1] as? Recorder)
        var weights = initial
        for (step, gradients) in recorder.gradients.enumerated() {
            let rate: Float = step == 0 ? 0.1 : 0.05
            weights = zip(weights, gradients).map { w, g in try! Tensor(shape: w.shape, scalars: zip(w.scalars, g.scalars).map { $0 - rate * $1 }) }
            #expect(weights.map(\.scalars) == recorder.weightsAfterStep[step].map(\.scalars))
        }
        #expect(trainer.state.learningRate == 0.05)
    }

    @Test("a gradient hook that zeroes the gradients leaves every weight bit-identical")
    func gradientHookCanChangeGradients() throws {
        struct ZeroGradients: Callback {
            mutating func onGradients(_ gradients: inout Gradients, state: inout TrainingState) throws {
                gradients.values = gradients.values.map { Tensor(shape: $0.shape) }
            }
        }
        let initial = try Self.model().trainableWeights
        let trainer = try Self.train(try Self.model(), callbacks: [ZeroGradients()])
        #expect(trainer.model.trainableWeights.map(\.scalars) == initial.map(\.scalars))
    }

    @Test("clipping by value, by each weight's norm and by the global norm, against hand-computed values")
    func clippingFormulas() throws {
        // g₁ = [3, −4] (norm 5), g₂ = [12] (norm 12); global norm 13.
        func clipped(_ mode: GradientClipping.Mode) throws -> [[Float]] {
            var gradients = Gradients(paths: ["a", "b"], values: [Tensor([3, -4]), Tensor([12])])
            var clipping = try GradientClipping(mode)
            var state = TrainingState(model: try Self.model(), learningRate: 0.1, epochs: 1)
            try clipping.onGradients(&gradients, state: &state)
            return gradients.values.map(\.scalars)
        }
        #expect(try clipped(.value(3.5)) == [[3, -3.5], [3.5]])
        #expect(try clipped(.norm(10)) == [[3, -4], [10]])                       // only g₂ exceeds 10: 12·10/12
        #expect(try clipped(.norm(2.5)) == [[1.5, -2], [2.5]])                   // ·2.5/5 and ·2.5/12
        #expect(try clipped(.globalNorm(6.5)) == [[1.5, -2], [6]])               // all ·6.5/13
        #expect(try clipped(.globalNorm(100)) == [[3, -4], [12]])
        #expect(throws: ConvNetError.self) { try GradientClipping(.norm(0)) }
        #expect(throws: ConvNetError.self) { try GradientClipping(.value(.nan)) }
    }

    @Test("clipping runs between the backward pass and the update: W₁ = W₀ − α·g·c/max(‖G‖, c)")
    func clippingInTraining() throws {
        let initial = try Self.model().trainableWeights
        let bound: Float = 0.05
        let trainer = try Self.train(try Self.model(), callbacks: [Recorder(), try GradientClipping(.globalNorm(bound))])
        let recorder = try #require(trainer.callbacks[0] as? Recorder)
        let g = recorder.gradients[0]
        let norm = Float(g.reduce(0.0) { $0 + $1.scalars.reduce(0.0) { $0 + Double($1) * Double($1) } }.squareRoot())
        #expect(norm > bound)  // the clipping is active
        let factor = bound / norm
        let expected = zip(initial, g).map { w, g in zip(w.scalars, g.scalars).map { $0 - 0.1 * ($1 * factor) } }
        for (actual, expected) in zip(recorder.weightsAfterStep[0], expected) {
            #expect(allClose(actual.scalars, expected, absolute: 1e-7, relative: 1e-6))
        }
    }

    @Test("moving average: Ŵ₁ = W₁, then Ŵ ← μ·Ŵ + (1 − μ)·W; the model ends with the averages")
    func movingAverage() throws {
        let momentum: Float = 0.9
        let trainer = try Self.train(try Self.model(), callbacks: [Recorder(), try ExponentialMovingAverage(momentum: momentum)])
        let recorder = try #require(trainer.callbacks[0] as? Recorder)
        let ema = try #require(trainer.callbacks[1] as? ExponentialMovingAverage)
        var expected = recorder.weightsAfterStep[0].map(\.scalars)
        for weights in recorder.weightsAfterStep.dropFirst() {
            expected = zip(expected, weights).map { average, w in zip(average, w.scalars).map { momentum * $0 + (1 - momentum) * $1 } }
        }
        #expect(ema.averages.map(\.scalars) == expected)
        #expect(trainer.model.trainableWeights.map(\.scalars) == expected)
        #expect(recorder.weightsAfterStep[2].map(\.scalars) != expected)  // the raw weights differ from the averages
        #expect(ema.averagedModel(of: try Self.model()).trainableWeights.map(\.scalars) == expected)
    }

    @Test("moving average with an overwrite frequency writes the averages into the model every k-th update")
    func movingAverageOverwrite() throws {
        let trainer = try Self.train(try Self.model(), callbacks: [try ExponentialMovingAverage(momentum: 0.5, overwriteFrequency: 2, applyAtEnd: false), Recorder()])
        let recorder = try #require(trainer.callbacks[1] as? Recorder)
        // After update 2 the model holds Ŵ₂ = 0.5·W₁ + 0.5·W₂; after update 3 (no overwrite) it holds W₃,
        // which started from Ŵ₂.
        let w1 = recorder.weightsAfterStep[0].map(\.scalars)
        let afterTwo = recorder.weightsAfterStep[1].map(\.scalars)
        let raw2 = try #require(recorder.gradients.count == 3 ? recorder.gradients[1] : nil)
        let w2 = zip(w1, raw2).map { w, g in zip(w, g.scalars).map { $0 - 0.1 * $1 } }
        let average = zip(w1, w2).map { a, b in zip(a, b).map { 0.5 * $0 + 0.5 * $1 } }
        for (actual, expected) in zip(afterTwo, average) { #expect(allClose(actual, expected, absolute: 1e-7, relative: 1e-6)) }
        #expect(throws: ConvNetError.self) { try ExponentialMovingAverage(momentum: 1) }
        #expect(throws: ConvNetError.self) { try ExponentialMovingAverage(overwriteFrequency: 0) }
    }
}

/// The README's training-core example, run as written (on a small model with the layers it names).
@Suite struct ReadmeTrainingExampleTests {
    @Test("parameter groups, clipping and loading by name, as the README shows them")
    func readmeExample() throws {
        var model = try Model(inputShape: [6, 6, 1], seed: 1) {
            Conv2D(2, kernelSize: 3)
            BatchNormalization()
            Flatten()
            Dense(2, activation: .softmax)
        }
        var generator = RandomGenerator(seed: 2)
        let x = Tensor.randomUniform(shape: [8, 6, 6, 1], generator: &generator)
        let y = [0, 1, 0, 1, 1, 0, 1, 0]
        let before = model.namedWeights
        let optimizer = SGD(learningRate: 0.1).withParameterGroups([
            ParameterGroup([.layerKind("BatchNormalization")], weightDecay: .zero),
            ParameterGroup([.layer("conv2d")], frozen: true),
            ParameterGroup([.all], weightDecay: .coupled(5e-4)),
        ])
        model.compile(optimizer: optimizer, loss: .sparseCategoricalCrossentropy(), metrics: [.accuracy])
        try model.fit(x: x, y: y, epochs: 5, callbacks: [try GradientClipping(.globalNorm(1))], verbosity: .silent)
        let after = Dictionary(uniqueKeysWithValues: model.namedWeights.map { ($0.path, $0.value.scalars) })
        for parameter in before where parameter.isTrainable {
            if parameter.layerName == "conv2d" {
                #expect(after[parameter.path] == parameter.value.scalars, "\(parameter.path) is frozen")
            } else {
                #expect(after[parameter.path] != parameter.value.scalars, "\(parameter.path) trains")
            }
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("convnet-readme-\(UUID()).h5").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.save(to: path)
        let report = try model.loadWeights(from: path, byName: true, skipMismatch: true)   // Keras's by_name
        #expect(report.skipped.isEmpty && report.loaded.count == model.namedWeights.count)
    }
}
