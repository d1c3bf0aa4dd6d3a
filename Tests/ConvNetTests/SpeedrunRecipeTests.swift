import ConvNet
import Foundation
import Testing

/// The building blocks of the airbench recipe (`convnet speedrun`), each against values computed
/// by hand or by finite differences: GELU, label smoothing and summed losses, the identity
/// initialiser, mirror translation and the alternating flip, test-time augmentation, Lookahead,
/// the whitening initialisation, the per-step schedule and the recipe end to end on tiny data.
@Suite struct SpeedrunRecipeTests {
    // MARK: GELU

    @Test func geluFastAgreesWithReferenceAndTheNormalCDF() throws {
        var generator = RandomGenerator(seed: 11)
        let x = Tensor.randomUniform(shape: [10_007], low: -9, high: 9, generator: &generator)
        let fast = gelu(x, implementation: .fast), reference = gelu(x, implementation: .reference)
        #expect(maxDifference(fast.scalars, reference.scalars) < 2e-6)
        // Φ(1) = 0.841344746..., Φ(−1) = 0.158655254... (tables of the normal distribution).
        let known = try Tensor(shape: [4], scalars: [1, -1, 0, 3])
        for implementation in [Implementation.fast, .reference] {
            let y = gelu(known, implementation: implementation).scalars
            #expect(abs(y[0] - 0.841_344_7) < 1e-6 && abs(y[1] + 0.158_655_3) < 1e-6 && y[2] == 0 && abs(y[3] - 3 * 0.998_650_1) < 1e-5)
        }
    }

    /// The fast backward pass (vectorised `erf` and `exp`) against the C library's, over the whole
    /// range where the gradient is not yet 0 or 1 to a `Float`, vector lanes and scalar tail.
    @Test func geluFastGradientAgreesWithReference() throws {
        var generator = RandomGenerator(seed: 14)
        let x = Tensor.randomUniform(shape: [10_007], low: -9, high: 9, generator: &generator)
        let weights = Tensor.randomUniform(shape: [10_007], low: -1, high: 1, generator: &generator)
        let gradients = try [Implementation.fast, .reference].map { implementation in
            let tape = GradientTape()
            let watched = tape.watch(x)
            return try tape.gradient(of: (gelu(watched, implementation: implementation) * weights).sum(),
                                     withRespectTo: [watched])[0].scalars
        }
        #expect(maxDifference(gradients[0], gradients[1]) < 2e-6)
    }

    @Test(arguments: [Implementation.reference, .fast])
    func geluGradients(_ implementation: Implementation) throws {
        try GradientCheck.check([GradientCheck.random([2, 3, 4, 5], seed: 12, low: -3, high: 3)]) {
            gelu($0[0], implementation: implementation)
        }
        // The backward pass's vector and scalar tails, at a length that is not a multiple of 8.
        try GradientCheck.check([GradientCheck.random([13], seed: 13, low: -4, high: 4)]) { gelu($0[0], implementation: implementation) }
    }

    @Test func geluIsKerasGeluInConfigsAndFiles() throws {
        let model = try Model(inputShape: [6, 6, 2], seed: 1) {
            Conv2D(3, kernelSize: 3, activation: .gelu)
            Activation(.gelu)
            Flatten()
            Dense(2, activation: .gelu)
        }
        let json = try KerasModelJSON.json(for: model)
        #expect(json.components(separatedBy: "\"gelu\"").count - 1 == 3)
        let rebuilt = try KerasModelJSON.model(fromJSON: json)
        #expect((rebuilt.layers[0] as? Conv2D)?.activation == .gelu && (rebuilt.layers[1] as? Activation)?.activation == .gelu)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("gelu-\(UUID()).h5").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try model.save(to: file)
        var generator = RandomGenerator(seed: 2)
        let input = Tensor.randomNormal(shape: [2, 6, 6, 2], generator: &generator)
        #expect(try Model.load(from: file).predict(input) == model.predict(input))
    }

    // MARK: Label smoothing and summed losses

    @Test func labelSmoothingIsKerasFormulaWithCheckedGradients() throws {
        let oneHot = try Tensor(shape: [2, 4], scalars: [0, 1, 0, 0, 0, 0, 0, 1])
        let smoothed = try smoothedLabels(oneHot, smoothing: 0.2)
        #expect(allClose(smoothed.scalars, [0.05, 0.85, 0.05, 0.05, 0.05, 0.05, 0.05, 0.85]))
        let logits = GradientCheck.random([2, 4], seed: 14, low: -2, high: 2)
        try GradientCheck.check([logits]) { try softmaxCrossEntropy(logits: $0[0], oneHotLabels: smoothed) }
        let probabilities = GradientCheck.random([2, 4], seed: 15, low: 0.1, high: 0.9)
        try GradientCheck.check([probabilities], step: 1e-3) { try categoricalCrossEntropy(probabilities: $0[0], targets: smoothed) }
        // L = −(1/m) Σ t·log softmax(z), by hand in Double.
        var total = 0.0
        for row in 0..<2 {
            let z: [Double] = (0..<4).map { Double(logits.scalars[row * 4 + $0]) }
            let logSum: Double = Foundation.log(z.map { Foundation.exp($0) }.reduce(0, +))
            for j in 0..<4 { total -= Double(smoothed.scalars[row * 4 + j]) * (z[j] - logSum) }
        }
        let expected = total / 2
        #expect(abs(Double(try softmaxCrossEntropy(logits: logits, oneHotLabels: smoothed).scalars[0]) - expected) < 1e-5)
        #expect(throws: ConvNetError.self) { try Loss.sparseCategoricalCrossentropy().with(labelSmoothing: 0.1) }
        #expect(throws: ConvNetError.self) { try Loss.categoricalCrossentropy().with(labelSmoothing: 1.5) }
    }

    /// One SGD step with the summed, smoothed loss: the reported loss is the sum over the batch,
    /// and the update is `m` times the one of the mean.
    @Test func summedSmoothedLossTrainsWithTheSumOfTheBatch() throws {
        let batch = Batch(inputs: try Tensor(shape: [3, 2], scalars: [1, -2, 0.5, 3, -1, 0.25]), labels: [0, 2, 1])
        let loss = Loss.categoricalCrossentropy(fromLogits: true, labelSmoothing: 0.2)
        var deltas: [LossReduction: [Float]] = [:]
        for reduction in LossReduction.allCases {
            var model = try Model(inputShape: [2], seed: 5) { Dense(3) }
            model.compile(optimizer: SGD(learningRate: 0.01), loss: loss, metrics: [.accuracy], lossReduction: reduction)
            let before = model.trainableWeights[0].scalars
            let logits = try model.predict(batch.inputs)
            var trainer = try Trainer(model: model)
            let value = try trainer.step(batch).loss
            var sum = 0.0
            for row in 0..<3 {
                let z: [Double] = (0..<3).map { Double(logits.scalars[row * 3 + $0]) }
                let logSum: Double = Foundation.log(z.map { Foundation.exp($0) }.reduce(0, +))
                for j in 0..<3 {
                    let target: Double = j == batch.labels[row] ? 0.8 + 0.2 / 3 : 0.2 / 3
                    sum -= target * (z[j] - logSum)
                }
            }
            let expected = sum / (reduction == .mean ? 3 : 1)
            #expect(abs(Double(value) - expected) < 1e-5, "\(reduction)")
            deltas[reduction] = zip(trainer.model.trainableWeights[0].scalars, before).map { $0 - $1 }
        }
        #expect(allClose(deltas[.sum] ?? [], (deltas[.mean] ?? []).map { $0 * 3 }, absolute: 1e-6, relative: 1e-4))
    }

    // MARK: Identity initialisation

    @Test func diracConvolutionPassesItsFirstChannelsThrough() throws {
        let model = try Model(inputShape: [5, 5, 3], seed: 7) {
            Conv2D(6, kernelSize: 3, padding: .same, useBias: false, kernelInitializer: .dirac)
        }
        var generator = RandomGenerator(seed: 8)
        let input = Tensor.randomNormal(shape: [2, 5, 5, 3], generator: &generator)
        let output = try model.predict(input)
        for pixel in 0..<(2 * 25) {
            for channel in 0..<3 { #expect(output.scalars[pixel * 6 + channel] == input.scalars[pixel * 3 + channel]) }
        }
        // The other filters: PyTorch's default draw, |w| ≤ 1/√fan_in, not all zero.
        let kernel = model.trainableWeights[0].scalars
        let rest = stride(from: 0, to: kernel.count, by: 6).flatMap { base in (3..<6).map { kernel[base + $0] } }
        #expect(rest.allSatisfy { abs($0) <= 1 / Float(27).squareRoot() } && rest.contains { $0 != 0 })
        #expect(try Initializer(kerasConfig: Initializer.dirac.kerasConfig) == .dirac)
    }

    // MARK: Augmentations

    @Test func mirrorTranslationReflectsWithoutRepeatingTheEdge() throws {
        let image = try Tensor(shape: [3, 3, 1], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        // numpy.pad(image, 1, mode="reflect")[0:3, 0:3], written out by hand.
        #expect(try image.translated(down: 1, right: 1, fill: .mirror).scalars == [5, 4, 5, 2, 1, 2, 5, 4, 5])
        // numpy.pad(image, 2, mode="reflect")[4:7, 3:6]: rows 2, 1, 0 of the image's mirror, columns 1, 2, 1.
        #expect(try image.translated(down: -2, right: -1, fill: .mirror).scalars == [8, 9, 8, 5, 6, 5, 2, 3, 2])
        #expect(try image.translated(down: 1, right: 0).scalars == [0, 0, 0, 1, 2, 3, 4, 5, 6])
        #expect(try Augmentation.parseList("alternating-flip,translate:2:mirror") == [.alternatingFlip, .translation(maxShift: 2, fill: .mirror)])
        #expect(throws: ConvNetError.self) { try Augmentation.parseList("translate:2:wrap") }
    }

    @Test func mirrorTranslationAugmentationShiftsWithinTheRange() throws {
        let scalars = (0..<25).map(Float.init)
        let data = try TensorDataset(inputs: try Tensor(shape: [1, 5, 5, 1], scalars: scalars), labels: [0])
            .augmented(with: [.translation(maxShift: 2, fill: .mirror)])
        var seen = Set<[Float]>()
        for seed in 0..<200 as Range<UInt64> { seen.insert(try data.batch(at: [0], seed: seed).inputs.scalars) }
        let image = try Tensor(shape: [5, 5, 1], scalars: scalars)
        let allShifts = Set(try (-2...2).flatMap { down in try (-2...2).map { try image.translated(down: down, right: $0, fill: .mirror).scalars } })
        #expect(seen == allShifts)
    }

    @Test func alternatingFlipMirrorsTheOtherHalfInEvenEpochs() throws {
        let count = 64
        let inputs = try Tensor(shape: [count, 1, 2, 1], scalars: (0..<count).flatMap { [Float($0), Float($0) + 0.5] })
        let data = try TensorDataset(inputs: inputs, labels: Array(repeating: 0, count: count)).augmented(with: [.alternatingFlip])
        func flipped(epoch: Int, seed: UInt64) throws -> [Bool] {
            let batch = try data.forEpoch(epoch, seed: seed).batch(at: Array(0..<count), seed: UInt64(epoch) * 77)
            return (0..<count).map { batch.inputs.scalars[2 * $0] > batch.inputs.scalars[2 * $0 + 1] }
        }
        let first = try flipped(epoch: 1, seed: 3), second = try flipped(epoch: 2, seed: 3)
        #expect(zip(first, second).allSatisfy { $0 != $1 })
        #expect(try flipped(epoch: 3, seed: 3) == first)
        #expect((20...44).contains(first.filter { $0 }.count))
        #expect(try flipped(epoch: 1, seed: 4) != first)
    }

    // MARK: Test-time augmentation

    @Test func testTimeAugmentationViewsAreTheHandMadeCrops() throws {
        let image = try Tensor(shape: [1, 3, 3, 1], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let views = try TestTimeAugmentation.flipTranslate.views(of: image)
        // The image, its mirror; reflect-padded by 1 and cut at [0:3, 0:3] and [2:5, 2:5], and their mirrors.
        let expected: [([Float], Float)] = [
            ([1, 2, 3, 4, 5, 6, 7, 8, 9], 0.25), ([3, 2, 1, 6, 5, 4, 9, 8, 7], 0.25),
            ([5, 4, 5, 2, 1, 2, 5, 4, 5], 0.125), ([5, 4, 5, 2, 1, 2, 5, 4, 5].reversedRows(width: 3), 0.125),
            ([5, 6, 5, 8, 9, 8, 5, 6, 5], 0.125), ([5, 6, 5, 8, 9, 8, 5, 6, 5].reversedRows(width: 3), 0.125),
        ]
        #expect(views.count == 6)
        for (view, (pixels, weight)) in zip(views, expected) { #expect(view.inputs.scalars == pixels && view.weight == weight) }
        #expect(try TestTimeAugmentation.flip.views(of: image).map(\.weight) == [0.5, 0.5])
        #expect(throws: ConvNetError.self) { try TestTimeAugmentation(parsing: "rotate") }
    }

    @Test func predictAndEvaluateAverageTheViews() throws {
        var model = try Model(inputShape: [4, 4, 2], seed: 9) {
            Conv2D(3, kernelSize: 3, activation: .relu)
            Flatten()
            Dense(3)
        }
        model.compile(optimizer: SGD(), loss: .sparseCategoricalCrossentropy(fromLogits: true), metrics: [.accuracy])
        var generator = RandomGenerator(seed: 10)
        let inputs = Tensor.randomNormal(shape: [5, 4, 4, 2], generator: &generator)
        let averaged = try model.predict(inputs, testTimeAugmentation: .flipTranslate)
        var expected = [Float](repeating: 0, count: 15)
        for view in try TestTimeAugmentation.flipTranslate.views(of: inputs) {
            for (index, value) in try model.predict(view.inputs).scalars.enumerated() { expected[index] += view.weight * value }
        }
        #expect(allClose(averaged.scalars, expected))
        let labels = [0, 1, 2, 1, 0]
        let result = try model.evaluate(try TensorDataset(inputs: inputs, labels: labels), batchSize: 2, testTimeAugmentation: .flipTranslate)
        var correct = 0
        for row in 0..<5 {
            let scores = Array(expected[row * 3..<row * 3 + 3])
            if scores.firstIndex(of: scores.max() ?? 0) == labels[row] { correct += 1 }
        }
        #expect(result["accuracy"] == Double(correct) / 5)
    }

    // MARK: Lookahead

    /// Keeps the weights (all of them) as the optimizer left them, before Lookahead writes back.
    struct FastWeights: Callback {
        var afterStep: [[Tensor]] = []
        mutating func onTrainBatchEnd(_ step: Int, logs: [String: Double], state: inout TrainingState) throws {
            afterStep.append(state.model.namedWeights.map(\.value))
        }
    }

    @Test func lookaheadAveragesEveryWeightAndStatisticOnItsSchedule() throws {
        var model = try Model(inputShape: [3], seed: 4) {
            Dense(4)
            BatchNormalization(momentum: 0.5)
            Dense(2)
        }
        model.compile(optimizer: SGD(learningRate: 0.2), loss: .sparseCategoricalCrossentropy(fromLogits: true), metrics: [.accuracy])
        let initial = model.namedWeights.map(\.value)
        let lookahead = try Lookahead(period: 2, totalSteps: 5, baseDecay: 0.8, power: 1)
        var trainer = try Trainer(model: model, callbacks: [FastWeights(), lookahead], epochs: 1)
        try trainer.beginTraining()
        try trainer.beginEpoch(1)
        var generator = RandomGenerator(seed: 6)
        var afterStep: [[Tensor]] = []
        for _ in 0..<5 {
            let batch = Batch(inputs: .randomNormal(shape: [4, 3], generator: &generator), labels: [0, 1, 1, 0])
            _ = try trainer.step(batch)
            afterStep.append(trainer.state.model.namedWeights.map(\.value))
        }
        let fast = (trainer.callbacks[0] as? FastWeights)?.afterStep ?? []
        // Step 2: Ŵ = d·W₀ + (1 − d)·W₂ with d = 0.8·(2/5); the model continues from Ŵ.
        let d2: Float = 0.8 * 2 / 5
        let slow2 = zip(initial, fast[1]).map { zip($0.scalars, $1.scalars).map { d2 * $0 + (1 - d2) * $1 } }
        #expect(zip(afterStep[1], slow2).allSatisfy { allClose($0.scalars, $1) })
        #expect(afterStep[0] == fast[0] && afterStep[2] == fast[2])  // steps 1 and 3: no averaging
        let d4: Float = 0.8 * 4 / 5
        let slow4 = zip(slow2, fast[3]).map { zip($0, $1.scalars).map { d4 * $0 + (1 - d4) * $1 } }
        #expect(zip(afterStep[3], slow4).allSatisfy { allClose($0.scalars, $1) })
        // Step 5 = total: the model becomes the slow copy, step 5's update is dropped.
        #expect(zip(afterStep[4], slow4).allSatisfy { allClose($0.scalars, $1) })
        #expect(initial[2] != afterStep[4][2])  // the moving mean (non-trainable) was averaged too
    }

    // MARK: Whitening (the Jacobi eigensolver included: wrong eigenvectors would not whiten)

    @Test func whiteningFiltersMakeThePatchCovarianceTheIdentity() throws {
        // Correlated images: smoothed noise, with the channels mixed.
        var generator = RandomGenerator(seed: 17)
        let (m, size) = (16, 10)
        let noise = (0..<m * size * size * 3).map { _ in generator.nextNormal() }
        var images = [Float](repeating: 0, count: noise.count)
        for image in 0..<m {
            for y in 0..<size {
                for x in 0..<size {
                    let base = ((image * size + y) * size + x) * 3, right = ((image * size + y) * size + min(x + 1, size - 1)) * 3
                    images[base] = noise[base] + 0.8 * noise[right]
                    images[base + 1] = 0.5 * noise[base] + noise[base + 1] + 0.3
                    images[base + 2] = 0.2 * noise[base + 1] + 0.1 * noise[base + 2] - 0.6 * noise[right + 2]
                }
            }
        }
        let samples = try Tensor(shape: [m, size, size, 3], scalars: images)
        var model = try Model(inputShape: [size, size, 3], seed: 1) {
            Conv2D(24, kernelSize: 2, useBias: false, name: "whiten")
        }
        try model.initialize(layer: "whiten", with: PatchWhitening(epsilon: 1e-7), samples: samples)
        let output = try model.predict(samples)
        let pixels = output.count / 24
        for j in 0..<12 {
            for k in 0..<12 {
                let moment = (0..<pixels).reduce(0.0) { $0 + Double(output.scalars[$1 * 24 + j]) * Double(output.scalars[$1 * 24 + k]) } / Double(pixels)
                #expect(abs(moment - (j == k ? 1 : 0)) < 2e-3, "E[z\(j) z\(k)] = \(moment)")
            }
        }
        // The second twelve filters are the first twelve negated, exactly (HWIO: a row of 24 per
        // input position); their outputs then agree to float32's summation error, not bit for bit:
        // BLAS may compute the two halves of a row differently (under OpenBLAS's Zen kernel, on an
        // AVX2 EPYC, they differ in the last bits).
        let kernel = model.trainableWeights[0].scalars
        for row in 0..<12 { for k in 0..<12 { #expect(kernel[row * 24 + 12 + k] == -kernel[row * 24 + k]) } }
        for pixel in 0..<pixels {
            for k in 0..<12 {
                let (positive, negative) = (output.scalars[pixel * 24 + k], output.scalars[pixel * 24 + 12 + k])
                #expect(abs(positive + negative) <= 1e-5 * max(1, abs(positive)), "pixel \(pixel), filter \(k)")
            }
        }
        var tooWide = try Model(inputShape: [size, size, 3], seed: 1) { Conv2D(20, kernelSize: 2, name: "whiten") }
        #expect(throws: ConvNetError.self) { try tooWide.initialize(layer: "whiten", with: PatchWhitening(), samples: samples) }
    }

    // MARK: Schedule and recipe

    @Test func piecewiseLinearScheduleIsAirbenchsPerStepRate() throws {
        let recipe = AirbenchRecipe.airbench94
        let total = recipe.steps(trainingSamples: 50_000).total
        #expect(total == 476)
        let schedule = recipe.schedule(totalSteps: total)
        let warmup = Int(Double(total) * 0.23)
        for step in [0, 1, 50, 108, 109, 110, 300, 475] {
            // The reference's get_lr(step) for the step about to run (0-based).
            let factor = step < warmup ? 0.2 * (1 - Double(step) / Double(warmup)) + Double(step) / Double(warmup)
                : 1 - Double(step - warmup) / Double(total - warmup) * 0.93
            let rate = schedule.rate(at: step + 1, initial: recipe.baseLearningRate)
            #expect(abs(Double(rate) - factor * Double(recipe.baseLearningRate)) < 1e-9, "step \(step)")
        }
        #expect(try LearningRateSchedule(parsing: "piecewise-linear:0,10:1,0.5", epochs: 1) == .piecewiseLinear(knots: [0, 10], values: [1, 0.5]))
    }

    @Test func airbenchOptimizerDecaysBothGroupsAlike() throws {
        let recipe = AirbenchRecipe.airbench94
        let groups = recipe.optimizer().parameterGroups
        #expect(groups.count == 3 && groups[0].isFrozen)
        guard case let .coupled(biasDecay)? = groups[1].weightDecay, case let .coupled(decay)? = groups[2].weightDecay else {
            Issue.record("expected coupled decay in both groups")
            return
        }
        // α·λ, the absolute decay per step, is the same: 0.0153·1024 / (1024·(1 + 1/0.15)).
        let absolute = 0.0153 / (1 + 1 / 0.15)
        #expect(abs(Double(recipe.baseLearningRate * groups[1].learningRateMultiplier * biasDecay) - absolute) < 1e-8)
        #expect(abs(Double(recipe.baseLearningRate * decay) - absolute) < 1e-8)
        let model = try recipe.model()
        #expect(model.outputShape == [10] && model.parameterCounts.trainable > 1_900_000)
        #expect(model.namedWeights.filter { $0.layerKind == "BatchNormalization" }.map(\.weightName).contains("gamma") == false)
    }

    static func tinyData(count: Int, seed: UInt64) throws -> TensorDataset {
        var generator = RandomGenerator(seed: seed)
        let labels = (0..<count).map { $0 % 10 }
        // Class-dependent brightness, so that a few steps learn something.
        let scalars = (0..<count * 32 * 32 * 3).map { index in generator.nextNormal() + Float(labels[index / 3072]) * 0.3 - 1.3 }
        return try TensorDataset(inputs: try Tensor(shape: [count, 32, 32, 3], scalars: scalars), labels: labels)
    }

    @Test func airbenchTrainsDeterministicallyOnTinyData() throws {
        var recipe = AirbenchRecipe.airbench94
        (recipe.widths, recipe.batchSize, recipe.epochs, recipe.whiteningBiasEpochs) = ([4, 8, 8], 8, 2.5, 1)
        let train = try Self.tinyData(count: 36, seed: 1), test = try Self.tinyData(count: 12, seed: 2)
        func run() throws -> (Model, AirbenchResult) {
            var model = try recipe.model(seed: 5)
            let result = try recipe.train(&model, on: train, whiteningImages: train.inputs, test: test, seed: 5)
            return (model, result)
        }
        let (first, result) = try run(), (second, again) = try run()
        #expect(first.namedWeights == second.namedWeights)
        #expect(result.augmentedTestAccuracy == again.augmentedTestAccuracy && result.testAccuracy == again.testAccuracy)
        #expect(result.epochs.map(\.steps) == [4, 4, 2])  // ⌈4 · 2.5⌉ = 10 steps, the last epoch cut short
        // The whitening kernel is the one PatchWhitening computed, never updated; the bias froze after epoch 1.
        var whitened = try recipe.model(seed: 5)
        try whitened.initialize(layer: AirbenchRecipe.whiteningLayer, with: PatchWhitening(), samples: train.inputs)
        // (Lookahead's d·w + (1 − d)·w rounds in the last bit, as the reference's lerp does.)
        #expect(allClose(first.weight(at: "whiten/kernel")?.scalars ?? [], whitened.weight(at: "whiten/kernel")?.scalars ?? [1], absolute: 1e-6))
        #expect(first.training?.optimizer.parameterGroups.first == .frozen([.path("whiten/bias")]))
        #expect(result.epochs.allSatisfy { $0.testAccuracy.map { (0...1).contains($0) } ?? false })
    }
}

extension Array where Element == Float {
    /// The image `(rows, width)` mirrored left–right.
    fileprivate func reversedRows(width: Int) -> [Float] {
        stride(from: 0, to: count, by: width).flatMap { self[$0..<$0 + width].reversed() }
    }
}
