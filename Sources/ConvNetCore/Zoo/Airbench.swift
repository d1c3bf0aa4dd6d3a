import Foundation

/// Keller Jordan's airbench recipes for CIFAR-10 ("94% on CIFAR-10 in 3.29 seconds on a single
/// GPU", arXiv 2404.00498; github.com/KellerJordan/cifar10-airbench, `legacy/airbench94.py` and
/// `airbench95.py`), written from their description with ConvNet's parts: the network, the
/// optimizer with its parameter groups and schedule, the callbacks and the training loop.
///
/// The network: a 2×2 whitening convolution (`d = 12` patch dimensions, `2d = 24` filters, bias,
/// no padding, GELU; kernel set by `PatchWhitening` and frozen, bias trained for
/// `whiteningBiasEpochs`), three blocks of [3×3 same convolution without bias → 2×2 max pool →
/// batch norm → GELU → 3×3 convolution → batch norm → GELU] of `widths`, a 3×3 max pool (global on
/// the 3×3 map), flatten, dense to the classes without bias, and the logits times `outputScale`.
/// Batch norm: `ε = 1e-12`, Keras momentum 0.6 (PyTorch's 0.4), no scale, trained offset.
/// Convolutions start as identities in their first filters (`Initializer.dirac`).
///
/// Training: cross-entropy with label smoothing 0.2 summed over the batch; SGD with Nesterov
/// momentum 0.85 and PyTorch-style coupled weight decay, the batch-norm offsets at 64 times the
/// learning rate with the same absolute decay; batches of 1024, the last partial batch dropped;
/// the learning rate per step linear from 0.2 to 1 (times the base) over the first 23% of steps,
/// then linear to 0.07; `Lookahead` every 5 steps with decay `0.95⁵·(t/T)³`; 9.9 epochs.
/// The data (the caller builds it): per-channel standardisation with CIFAR-10's statistics, the
/// alternating flip and translations by up to 2 pixels with mirror padding.
///
/// The hyperparameters are the reference's "decoupled" ones, converted as it does: with
/// `s = 1024·(1 + 1/(1 − momentum))`, the SGD rate is `learningRate / s` and the decay per step
/// `weightDecay · batchSize / s` (absolute, the same in both groups).
public struct AirbenchRecipe: Sendable, Equatable {
    /// The recipe's name (`airbench94`).
    public var name: String
    /// The widths of the three blocks.
    public var widths: [Int]
    /// Training length in epochs; the last one is cut short (9.9: 476 steps of 1024 on 50,000 images).
    public var epochs: Double
    /// Samples per step; an epoch is `⌊n / batchSize⌋` steps (the last partial batch is dropped).
    public var batchSize: Int
    /// The learning rate per 1024 examples, in the reference's decoupled form (11.5).
    public var learningRate: Float
    /// Nesterov momentum `β`.
    public var momentum: Float
    /// The weight decay per 1024 examples, decoupled from the learning rate (0.0153).
    public var weightDecay: Float
    /// The batch-norm offsets' learning-rate multiplier (64).
    public var biasScaler: Float
    /// Keras's `label_smoothing` of the cross-entropy (0.2).
    public var labelSmoothing: Float
    /// Epochs in which the whitening layer's bias trains (3).
    public var whiteningBiasEpochs: Int
    /// Keras batch-norm momentum, the weight of the old moving average (0.6).
    public var batchNormMomentum: Float
    /// Batch-norm `ε` (1e-12).
    public var batchNormEpsilon: Float
    /// The factor on the logits (1/9).
    public var outputScale: Float
    /// Training images whose 2×2 patches set the whitening filters (5,000).
    public var whiteningSamples: Int
    /// `PatchWhitening`'s `ε` (5e-4).
    public var whiteningEpsilon: Double
    /// The largest random translation, in pixels, with mirror padding (2).
    public var translation: Int
    /// The fraction of steps over which the rate warms up (0.23), and the rate's factor at the start
    /// (0.2), at the peak (1) and at the end (0.07).
    public var warmupFraction: Double, startFactor: Float, endFactor: Float
    /// The test-time augmentation of the final evaluation (airbench's level 2: six views).
    public var testTimeAugmentation: TestTimeAugmentation

    /// airbench94: widths 64/256/256, 9.9 epochs, learning rate 11.5 (94.0% on the lossless images).
    public static let airbench94 = AirbenchRecipe(
        name: "airbench94", widths: [64, 256, 256], epochs: 9.9, batchSize: 1024, learningRate: 11.5, momentum: 0.85,
        weightDecay: 0.0153, biasScaler: 64, labelSmoothing: 0.2, whiteningBiasEpochs: 3, batchNormMomentum: 0.6,
        batchNormEpsilon: 1e-12, outputScale: 1.0 / 9, whiteningSamples: 5000, whiteningEpsilon: 5e-4, translation: 2,
        warmupFraction: 0.23, startFactor: 0.2, endFactor: 0.07, testTimeAugmentation: .flipTranslate)

    /// airbench95: widths 128/384/384, 15 epochs, learning rate 10 (95.0% on the lossless images).
    public static let airbench95: AirbenchRecipe = {
        var recipe = airbench94
        (recipe.name, recipe.widths, recipe.epochs, recipe.learningRate) = ("airbench95", [128, 384, 384], 15, 10)
        return recipe
    }()

    /// The recipes by name.
    public static let all: [AirbenchRecipe] = [airbench94, airbench95]

    /// The name of the whitening layer, whose kernel `PatchWhitening` sets.
    public static let whiteningLayer = "whiten"

    /// The network for `inputShape` images (CIFAR-10's `32×32×3` by default; the spatial size must
    /// survive the whitening convolution, three halvings and the final 3×3 pool).
    public func model(inputShape: LayerShape = [32, 32, 3], classes: Int = 10, seed: UInt64 = 0) throws -> Model {
        guard widths.count == 3, widths.allSatisfy({ $0 > 0 }), classes > 0 else {
            throw ConvNetError.argument("\(name): needs three positive widths and at least one class, got \(widths) and \(classes)")
        }
        let channels = (inputShape.last ?? nil) ?? 3
        let whiteningWidth = 2 * channels * 2 * 2
        return try Model(name: name, inputShape: inputShape, seed: seed) {
            Conv2D(whiteningWidth, kernelSize: 2, activation: .gelu, kernelInitializer: .dirac, name: Self.whiteningLayer)
            for (block, width) in widths.enumerated() {
                let prefix = "block\(block + 1)"
                Conv2D(width, kernelSize: 3, padding: .same, useBias: false, kernelInitializer: .dirac, name: "\(prefix)_conv1")
                MaxPooling2D(poolSize: 2, name: "\(prefix)_pool")
                BatchNormalization(momentum: batchNormMomentum, epsilon: batchNormEpsilon, scale: false, name: "\(prefix)_norm1")
                Activation(.gelu, name: "\(prefix)_gelu1")
                Conv2D(width, kernelSize: 3, padding: .same, useBias: false, kernelInitializer: .dirac, name: "\(prefix)_conv2")
                BatchNormalization(momentum: batchNormMomentum, epsilon: batchNormEpsilon, scale: false, name: "\(prefix)_norm2")
                Activation(.gelu, name: "\(prefix)_gelu2")
            }
            MaxPooling2D(poolSize: 3, name: "pool")
            Flatten(name: "flatten")
            // PyTorch's default for Linear: U(−1/√fan_in, 1/√fan_in).
            let limit = 1 / Float(widths[2]).squareRoot()
            Dense(classes, useBias: false, kernelInitializer: .randomUniform(low: -limit, high: limit), name: "logits")
            Rescaling(scale: outputScale, name: "logit_scale")
        }
    }

    /// Steps per epoch (`⌊n / batchSize⌋`) and in the whole run (`⌈perEpoch · epochs⌉`) for `n` training samples.
    public func steps(trainingSamples n: Int) -> (perEpoch: Int, total: Int) {
        let perEpoch = n / max(batchSize, 1)
        return (perEpoch, Int((Double(perEpoch) * epochs).rounded(.up)))
    }

    /// `s = 1024·(1 + 1/(1 − β))`: the reference divides its decoupled rate and decay by this.
    var kilostepScale: Float { 1024 * (1 + 1 / (1 - momentum)) }
    /// The SGD learning rate before the schedule's factor.
    public var baseLearningRate: Float { learningRate / kilostepScale }
    /// The absolute weight decay per step before the schedule's factor, `λ·α`.
    public var decayPerStep: Float { weightDecay * Float(batchSize) / kilostepScale }

    /// Nesterov SGD with the recipe's groups: the whitening kernel frozen, batch-norm offsets at
    /// `biasScaler` times the rate with coupled decay `λ/biasScaler`, the rest with coupled decay
    /// `λ = decayPerStep / baseLearningRate` (so `α·λ` is the same absolute decay everywhere).
    public func optimizer() -> Momentum {
        let lambda = decayPerStep / baseLearningRate
        return Momentum(learningRate: baseLearningRate, beta: momentum, form: .nesterov).withParameterGroups([
            .frozen([.path("\(Self.whiteningLayer)/kernel")]),
            ParameterGroup([.layerKind(BatchNormalization.kerasClassName, weight: "beta")], learningRateMultiplier: biasScaler,
                           weightDecay: .coupled(lambda / biasScaler)),
            ParameterGroup([.all], weightDecay: .coupled(lambda)),
        ])
    }

    /// The per-step schedule over `totalSteps`: `startFactor → 1` over the first `warmupFraction`
    /// of the steps, then `1 → endFactor`, times `baseLearningRate`.
    public func schedule(totalSteps: Int) -> LearningRateSchedule {
        let warmup = Int(Double(totalSteps) * warmupFraction)
        let base = baseLearningRate
        return .piecewiseLinear(knots: [0, warmup, totalSteps], values: [startFactor * base, base, endFactor * base])
    }

    /// Compiles `model` with the recipe's optimizer, loss (summed, smoothed categorical
    /// cross-entropy of the logits), accuracy and per-step schedule.
    public func compile(_ model: inout Model, totalSteps: Int) throws {
        model.compile(optimizer: optimizer(), loss: .categoricalCrossentropy(fromLogits: true, labelSmoothing: labelSmoothing),
                      metrics: [.accuracy], schedule: schedule(totalSteps: totalSteps), schedulePerStep: true, lossReduction: .sum)
    }

    /// `Lookahead` (period 5, decay `0.95⁵·(t/T)³`) and the whitening bias's freezing.
    public func callbacks(totalSteps: Int) throws -> [any Callback] {
        [try Lookahead(period: 5, totalSteps: totalSteps),
         FreezeParameters([.path("\(Self.whiteningLayer)/bias")], afterEpoch: whiteningBiasEpochs)]
    }
}

/// One epoch of an airbench run, as `AirbenchRecipe.train` reports it.
public struct AirbenchEpoch: Sendable {
    /// The epoch, from 1.
    public let epoch: Int
    /// Steps taken in it.
    public let steps: Int
    /// Wall-clock seconds of its training steps (evaluation excluded).
    public let seconds: Double
    /// CPU seconds of the process (all threads) over the same steps: on a busy machine, closer to
    /// the work done than the wall clock.
    public let cpuSeconds: Double
    /// The last step's summed loss divided by its batch size, and its accuracy (as the reference logs them).
    public let trainLoss: Double, trainAccuracy: Double
    /// Accuracy on the test set without test-time augmentation, if one was given.
    public let testAccuracy: Double?
}

/// The outcome of `AirbenchRecipe.train`.
public struct AirbenchResult: Sendable {
    /// Every epoch's report.
    public let epochs: [AirbenchEpoch]
    /// Seconds of training: the whitening initialisation and every epoch's steps.
    public let trainingSeconds: Double
    /// Test accuracy of the final model without, and with the recipe's test-time augmentation.
    public let testAccuracy: Double?, augmentedTestAccuracy: Double?
    /// Seconds of the test-time-augmented evaluation.
    public let augmentedEvaluationSeconds: Double
}

extension AirbenchRecipe {
    /// Trains `model` (from `model(...)`) on `data` — standardised, augmented training images
    /// whose `forEpoch` views apply the epoch's flips — after whitening its first layer on
    /// `whiteningImages` (standardised, not augmented), evaluating on `test` after every epoch and,
    /// with test-time augmentation, at the end. `report` sees each epoch as it finishes.
    ///
    /// Deterministic for a `seed`: shuffling, augmentation draws and the model's own randomness all
    /// derive from it (the model's initial weights from the seed given to `model(...)`).
    public func train(_ model: inout Model, on data: any Dataset, whiteningImages: Tensor, test: (any Dataset)? = nil,
                      seed: UInt64 = 0, evaluationBatchSize: Int = 1000,
                      report: (AirbenchEpoch) -> Void = { _ in }) throws -> AirbenchResult {
        let (perEpoch, total) = steps(trainingSamples: data.count)
        guard perEpoch > 0, total > 0 else {
            throw ConvNetError.argument("\(name): \(data.count) training samples make no batch of \(batchSize)")
        }
        var clock = ContinuousClock.now
        try model.initialize(layer: Self.whiteningLayer, with: PatchWhitening(epsilon: whiteningEpsilon), samples: whiteningImages)
        var trainingSeconds = Self.seconds(since: clock)
        try compile(&model, totalSteps: total)
        let epochCount = Int(epochs.rounded(.up))
        var trainer = try Trainer(model: model, callbacks: try callbacks(totalSteps: total), epochs: epochCount,
                                  stepsPerEpoch: perEpoch, seed: seed)
        var shuffler = RandomGenerator(seed: seed)
        var reports: [AirbenchEpoch] = []
        clock = .now
        try trainer.beginTraining()
        trainingSeconds += Self.seconds(since: clock)
        for epoch in 1...epochCount where trainer.state.globalStep < total {
            clock = .now
            let cpuStart = Self.processCPUSeconds()
            try trainer.beginEpoch(epoch)
            var order = Array(0..<data.count)
            order.shuffle(using: &shuffler)
            let steps = min(perEpoch, total - trainer.state.globalStep)
            let epochData = data.forEpoch(epoch, seed: seed)
            let batchSeed = seed &+ UInt64(epoch) &* 1_000_003
            func prefetch(_ step: Int) -> PrefetchedBatch {
                PrefetchedBatch(epochData, indices: Array(order[step * batchSize..<(step + 1) * batchSize]), seed: batchSeed &+ UInt64(step))
            }
            var next = prefetch(0)
            var last: (loss: Float, scores: Tensor, labels: [Int])?
            for step in 0..<steps {
                let batch = try next.get()
                if step + 1 < steps { next = prefetch(step + 1) }
                let result = try trainer.step(batch)
                last = (result.loss, result.scores, batch.labels)
            }
            let seconds = Self.seconds(since: clock)
            let cpuSeconds = Self.processCPUSeconds() - cpuStart
            trainingSeconds += seconds
            let testAccuracy = try test.map { try trainer.state.model.evaluate($0, batchSize: evaluationBatchSize)["accuracy"] ?? .nan }
            let trainAccuracy = last.map { Double(Metric.accuracy.correctCount(scores: $0.scores, labels: $0.labels)) / Double($0.labels.count) }
            let trainLoss = last.map { Double($0.loss) / Double($0.labels.count) }
            let entry = AirbenchEpoch(epoch: epoch, steps: steps, seconds: seconds, cpuSeconds: cpuSeconds, trainLoss: trainLoss ?? .nan,
                                      trainAccuracy: trainAccuracy ?? .nan, testAccuracy: testAccuracy)
            reports.append(entry)
            report(entry)
            var logs = ["loss": trainLoss ?? .nan, "accuracy": trainAccuracy ?? .nan]
            if let testAccuracy { logs["test_accuracy"] = testAccuracy }
            try trainer.endEpoch(epoch, logs: logs)
        }
        try trainer.endTraining()
        model = trainer.model
        clock = .now
        let augmented = try test.map { try model.evaluate($0, batchSize: evaluationBatchSize, testTimeAugmentation: testTimeAugmentation)["accuracy"] ?? .nan }
        let augmentedSeconds = Self.seconds(since: clock)
        let plain = try test.map { try model.evaluate($0, batchSize: evaluationBatchSize)["accuracy"] ?? .nan }
        return AirbenchResult(epochs: reports, trainingSeconds: trainingSeconds, testAccuracy: plain, augmentedTestAccuracy: augmented,
                              augmentedEvaluationSeconds: augmentedSeconds)
    }

    /// CPU time of the process, all threads, user and system (`CLOCK_PROCESS_CPUTIME_ID`).
    static func processCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
}
