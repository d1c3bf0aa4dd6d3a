import Foundation

/// How a model trains: set by `compile`, as in Keras.
public struct TrainingConfiguration: Sendable {
    /// The update rule (SGD, Adam, ...) with its state, e.g. Adam's moment estimates.
    public var optimizer: any Optimizer
    /// What training minimises, e.g. sparse categorical cross-entropy.
    public var loss: Loss
    /// What `fit` and `evaluate` report beside the loss, e.g. `.accuracy`.
    public var metrics: [Metric]
    /// Decay of the optimizer's initial learning rate; `schedulePerStep` applies it every batch.
    public var schedule: LearningRateSchedule
    /// Whether the schedule counts steps (batches, numbered across epochs from 1) instead of
    /// epochs: true sets the rate before every batch, false at the start of every epoch.
    public var schedulePerStep: Bool
    /// `α₀`, the rate the schedule decays from.
    public let initialLearningRate: Float
    /// Whether training minimises the batch's mean loss (the default) or its sum.
    public var lossReduction: LossReduction = .mean

    /// `initialLearningRate` (the schedule's `α₀`) defaults to the optimizer's learning rate.
    ///
    /// - Parameters:
    ///   - optimizer: The update rule.
    ///   - loss: What training minimises.
    ///   - metrics: What is reported beside the loss.
    ///   - schedule: Decay of the initial learning rate (`.constant`: none).
    ///   - schedulePerStep: Whether the schedule counts batches instead of epochs.
    ///   - initialLearningRate: `α₀`, or nil for the optimizer's learning rate.
    public init(optimizer: any Optimizer, loss: Loss, metrics: [Metric], schedule: LearningRateSchedule = .constant,
                schedulePerStep: Bool = false, initialLearningRate: Float? = nil) {
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
        self.schedule = schedule
        self.schedulePerStep = schedulePerStep
        self.initialLearningRate = initialLearningRate ?? optimizer.learningRate
    }
}

extension Model {
    /// Configures training (Keras `model.compile`).
    /// `lossReduction` `.sum` minimises the batch's summed loss instead of its mean (Keras
    /// `reduction="sum"`).
    public mutating func compile(optimizer: any Optimizer = Adam(), loss: Loss = .sparseCategoricalCrossentropy(),
                                 metrics: [Metric] = [.accuracy], schedule: LearningRateSchedule = .constant,
                                 schedulePerStep: Bool = false, lossReduction: LossReduction = .mean) {
        training = TrainingConfiguration(optimizer: optimizer, loss: loss, metrics: metrics, schedule: schedule,
                                         schedulePerStep: schedulePerStep)
        training?.lossReduction = lossReduction
    }

    /// Trains on `x` `(m, ...)` with labels `y` (Keras `model.fit(x, y)`).
    @discardableResult
    public mutating func fit(x: Tensor, y: [Int], epochs: Int = 1, batchSize: Int = 32,
                             validationData: (any Dataset)? = nil, validationSplit: Float = 0, shuffle: Bool = true,
                             seed: UInt64 = 0, callbacks: [any Callback] = [], verbosity: Verbosity = .auto) throws -> History {
        let classes = (outputShape.last ?? nil).map { max($0, 2) }
        return try fit(TensorDataset(inputs: x, labels: y, classNames: classes.map { (0..<$0).map(String.init) }),
                epochs: epochs, batchSize: batchSize, validationData: validationData, validationSplit: validationSplit,
                shuffle: shuffle, seed: seed, callbacks: callbacks, verbosity: verbosity)
    }

    /// Trains for `epochs` passes over `data` in mini-batches (Keras `model.fit`): a loop of
    /// `Trainer.step` calls, with shuffling, prefetching, progress, validation and the callbacks.
    ///
    /// Each epoch shuffles (when `shuffle`) with a generator seeded from `seed`, so the same seed
    /// gives bit-identical weights and metrics. `validationSplit` holds out the last fraction of
    /// `data` before shuffling, as Keras does. Returns the per-epoch history.
    ///
    /// `resumingFrom` continues a run saved by `TrainingCheckpoint` at the epoch after the saved one,
    /// with its generators, so the result equals an uninterrupted run (the model itself should be the
    /// checkpoint's model).
    ///
    /// `validationPrefix` names the validation logs (`val_loss`, ...; `test_` when the validation
    /// data is the test split). `shouldStop` is asked before every batch; when it answers true,
    /// `fit` throws `TrainingInterrupted` at once (the callbacks have seen every finished epoch).
    ///
    /// `dataParallel` trains one model on several processes (see ``DataParallel``): each takes its
    /// ``DistributedSampler`` shard of every epoch's order, gradients are averaged by
    /// ``GradientAllReduce`` (put before `callbacks`), losses, metrics and validation are reduced
    /// over the ranks, and only rank 0 prints progress. Every rank must call `fit` alike.
    @discardableResult
    public mutating func fit(_ data: any Dataset, epochs: Int, batchSize: Int = 32, validationData: (any Dataset)? = nil,
                             validationSplit: Float = 0, shuffle: Bool = true, seed: UInt64 = 0,
                             callbacks: [any Callback] = [], verbosity: Verbosity = .auto,
                             resumingFrom checkpoint: TrainingCheckpoint? = nil, validationPrefix: String = "val_",
                             shouldStop: (@Sendable () -> Bool)? = nil, dataParallel: DataParallel? = nil) throws -> History {
        guard training != nil else {
            throw ConvNetError.argument("Model '\(name)': call compile(optimizer:loss:metrics:) before fit")
        }
        guard epochs > 0 else { throw ConvNetError.argument("fit: epochs must be positive, got \(epochs)") }
        guard batchSize > 0 else { throw ConvNetError.argument("fit: batch size must be positive, got \(batchSize)") }
        guard validationSplit >= 0, validationSplit < 1 else {
            throw ConvNetError.argument("fit: validation split must be in [0, 1), got \(validationSplit)")
        }
        var trainingData = data, validation = validationData
        if validationSplit > 0 {
            let held = Int((Float(data.count) * validationSplit).rounded(.down))
            trainingData = DatasetSubset(data, indices: Array(0..<(data.count - held)))
            validation = DatasetSubset(data, indices: Array((data.count - held)..<data.count))
        }
        guard trainingData.count > 0 else { throw ConvNetError.argument("fit: no training samples") }
        adoptClassNames(of: data)

        let sampler = try dataParallel.map { try DistributedSampler(count: trainingData.count, replicas: $0.group.size, rank: $0.group.rank) }
        let verbosity = dataParallel?.group.isRoot == false ? .silent : verbosity
        let steps = ((sampler?.samplesPerReplica ?? trainingData.count) + batchSize - 1) / batchSize
        var trainer = try Trainer(model: self, callbacks: (dataParallel?.callbacks ?? []) + callbacks, epochs: epochs,
                                  stepsPerEpoch: steps, seed: seed, resumingFrom: checkpoint)
        trainer.context.batchNormalizationGroup = dataParallel?.batchNormalizationGroup
        let firstEpoch = (checkpoint?.epoch ?? 0) + 1
        guard firstEpoch <= epochs else {
            throw ConvNetError.argument("fit: the checkpoint has already completed \(firstEpoch - 1) of \(epochs) epochs")
        }
        var shuffler = checkpoint?.shuffler ?? RandomGenerator(seed: seed)
        try trainer.beginTraining()
        for epoch in firstEpoch...epochs {
            try trainer.beginEpoch(epoch)
            if verbosity != .silent { ProgressReporter.write("Epoch \(epoch)/\(epochs)\n") }

            var order = Array(0..<trainingData.count)
            if shuffle { order.shuffle(using: &shuffler) }
            if let sampler { order = sampler.shard(of: order) }
            let batches = stride(from: 0, to: order.count, by: batchSize).map { Array(order[$0..<min($0 + batchSize, order.count)]) }
            var progress = ProgressReporter(steps: steps, verbosity: verbosity)
            var totals = EpochTotals(metrics: trainer.configuration.metrics)
            let epochData = trainingData.forEpoch(epoch, seed: seed)
            var next = PrefetchedBatch(epochData, indices: batches[0], seed: seed &+ UInt64(epoch) &* 1_000_003)
            for step in batches.indices {
                if let shouldStop, shouldStop() {
                    progress.abandon()
                    throw TrainingInterrupted(epoch: epoch, step: step, steps: steps)
                }
                let batch = try next.get()
                if step + 1 < batches.count {
                    next = PrefetchedBatch(epochData, indices: batches[step + 1],
                                           seed: seed &+ UInt64(epoch) &* 1_000_003 &+ UInt64(step + 1))
                }
                let result = try trainer.step(batch)
                totals.add(loss: result.loss, scores: result.scores, labels: batch.labels)
                progress.update(step: step + 1, samples: totals.samples * (sampler?.replicas ?? 1), logs: totals.logs)
            }
            if let dataParallel { try dataParallel.endEpoch(&trainer.state.model, totals: &totals) }
            var logs = Dictionary(uniqueKeysWithValues: totals.logs)
            if let validation {
                for (key, value) in try trainer.state.model.evaluate(validation, batchSize: batchSize,
                                                                      configuration: trainer.configuration,
                                                                      group: dataParallel?.group) {
                    logs[validationPrefix + key] = value
                }
            }
            logs["learning_rate"] = Double(trainer.state.learningRate)
            progress.finish(samples: totals.samples,
                            logs: totals.logs + logs.filter { $0.key.hasPrefix(validationPrefix) }.sorted { $0.key < $1.key })
            trainer.state.shuffler = shuffler
            try trainer.endEpoch(epoch, logs: logs)
            if trainer.state.stopTraining { break }
        }
        try trainer.endTraining()
        self = trainer.model
        return trainer.state.history
    }

    /// Loss and metrics over `data` in inference mode (Keras `model.evaluate`). A model that was not
    /// compiled is scored with the loss that fits its output layer (`Loss.matching`) and accuracy.
    /// With a `testTimeAugmentation`, of the outputs (logits, when the loss removes a final
    /// softmax) averaged over its views.
    public func evaluate(_ data: any Dataset, batchSize: Int = 32,
                         testTimeAugmentation: TestTimeAugmentation = .none) throws -> EvaluationResult {
        try evaluate(data, batchSize: batchSize, configuration: training ?? TrainingConfiguration(
            optimizer: SGD(), loss: .matching(self), metrics: [.accuracy]),
            testTimeAugmentation: testTimeAugmentation)
    }

    /// With `group`, each rank evaluates every `N`-th sample from its rank on, and the sums are
    /// added over the ranks: every rank gets the result over all of `data`.
    func evaluate(_ data: any Dataset, batchSize: Int, configuration: TrainingConfiguration,
                  testTimeAugmentation: TestTimeAugmentation = .none, group: (any ProcessGroup)? = nil) throws -> EvaluationResult {
        guard batchSize > 0 else { throw ConvNetError.argument("evaluate: batch size must be positive, got \(batchSize)") }
        if let group, group.size > 1 {
            var totals = try DatasetSubset(data, indices: Array(stride(from: group.rank, to: data.count, by: group.size)))
                .evaluationTotals(of: self, batchSize: batchSize, configuration: configuration, testTimeAugmentation: testTimeAugmentation)
            try totals.reduce(over: group)
            return EvaluationResult(totals.logs)
        }
        return EvaluationResult(try data.evaluationTotals(of: self, batchSize: batchSize, configuration: configuration,
                                                          testTimeAugmentation: testTimeAugmentation).logs)
    }
}

extension Dataset {
    /// Loss and metric sums of `model` over every sample, in inference mode (of the outputs
    /// averaged over `testTimeAugmentation`'s views).
    func evaluationTotals(of model: Model, batchSize: Int, configuration: TrainingConfiguration,
                          testTimeAugmentation: TestTimeAugmentation = .none) throws -> EpochTotals {
        let data = self
        var model = model
        let isLogits = model.removeFinalActivation(for: configuration.loss)
        var totals = EpochTotals(metrics: configuration.metrics)
        var context = ForwardContext(training: false)
        for start in stride(from: 0, to: data.count, by: batchSize) {
            let batch = try data.batch(at: Array(start..<min(start + batchSize, data.count)), seed: 0)
            let output = try testTimeAugmentation.averagedOutput(of: &model, batch.inputs, context: &context)
            let loss = try configuration.loss.value(output, labels: batch.labels, outputIsLogits: isLogits)
            totals.add(loss: loss.scalars[0], scores: model.metricScores(output, isLogits: isLogits), labels: batch.labels)
        }
        return totals
    }
}

extension Model {
    /// One optimisation step on one batch (Keras `model.train_on_batch`) with the compiled
    /// optimizer and loss: forward, loss, backward, update. Returns the batch loss.
    public mutating func trainOnBatch(_ batch: Batch, context: inout ForwardContext) throws -> Float {
        guard var configuration = training else {
            throw ConvNetError.argument("Model '\(name)': call compile(optimizer:loss:metrics:) before trainOnBatch")
        }
        training = nil  // the optimizer's state is then uniquely owned and updated in place
        defer { training = configuration }
        let (loss, _, gradients) = try lossAndGradients(batch, loss: configuration.loss, reduction: configuration.lossReduction,
                                                        context: &context, skippingFrozenBy: configuration.optimizer)
        try applyGradients(gradients, optimizer: &configuration.optimizer)
        return loss
    }

    /// `W ← optimizer(W, dW)` for the trainable weights, in place.
    ///
    /// The tape, whose backward closures held the weights, must be gone. The weights are lent, with
    /// their paths, to the optimizer with the layers holding empty placeholders meanwhile, so that
    /// it updates uniquely referenced storage in place instead of copying every weight.
    mutating func applyGradients(_ gradients: [Tensor], optimizer: inout any Optimizer) throws {
        var parameters = trainableParameters
        trainableWeights = parameters.map { _ in Tensor(shape: [0]) }
        defer { trainableWeights = parameters.map(\.value) }
        try optimizer.update(&parameters, gradients: gradients)
    }

    /// The forward and backward passes of a training step: the batch loss (with the layers' weight
    /// penalties), the output scores and the gradients of the trainable weights, in
    /// `trainableWeights` order. Batch normalization's updated statistics are kept. `reduction`
    /// turns the loss's batch mean into the minimised value (the penalties are added after it).
    ///
    /// The weights that `optimizer` freezes (a frozen `ParameterGroup`) are not watched, as
    /// PyTorch skips tensors with `requires_grad = False`: their gradients are zeros, and the
    /// backward pass does none of their work (a layer whose weights and input are all frozen is
    /// skipped whole, and the layer after it computes no input gradient).
    mutating func lossAndGradients(_ batch: Batch, loss lossFunction: Loss, reduction: LossReduction = .mean,
                                   context: inout ForwardContext, skippingFrozenBy optimizer: (any Optimizer)? = nil)
        throws -> (loss: Float, scores: Tensor, gradients: [Tensor]) {
        let tape = GradientTape()
        var working = self
        let isLogits = working.removeFinalActivation(for: lossFunction)
        let frozen = optimizer.map { optimizer in working.trainableParameters.map(optimizer.isFrozen) }
        let watched = working.trainableWeights.enumerated().map { index, weight in
            frozen?[index] == true ? weight : tape.watch(weight)
        }
        working.trainableWeights = watched
        let output = try working.forward(batch.inputs.detached, context: &context).output
        var loss = reduction.reduce(try lossFunction.value(output, labels: batch.labels, outputIsLogits: isLogits),
                                        batchSize: batch.labels.count)
        for layer in working.layers {
            if let penalty = try layer.regularizationLoss() { loss = try loss + penalty }
        }
        let gradients = try tape.gradient(of: loss, withRespectTo: watched)
        for index in layers.indices where !layers[index].nonTrainableWeights.isEmpty {
            layers[index].nonTrainableWeights = working.layers[index].nonTrainableWeights.map(\.detached)
        }
        return (loss.scalars[0], metricScores(output.detached, isLogits: isLogits), gradients)
    }

    /// The scores the metrics read: one sigmoid column whose sigmoid the loss took over (`isLogits`)
    /// is turned back into probabilities, since `Metric` thresholds a single column at 0.5; softmax
    /// logits rank the classes as the probabilities do and are returned as they are.
    func metricScores(_ output: Tensor, isLogits: Bool) -> Tensor {
        isLogits && output.shape.last == 1 ? sigmoid(output) : output
    }

    /// When the loss has a stable logits form and the output layer ends in the matching softmax
    /// or sigmoid, switches that activation off (the loss applies it); returns whether it did.
    mutating func removeFinalActivation(for loss: Loss) -> Bool {
        let last = layers.count - 1
        guard var layer = layers[last] as? any ActivatedLayer else { return false }
        guard (layer.activation == .softmax && loss.fusesWithSoftmax) || (layer.activation == .sigmoid && loss.fusesWithSigmoid)
        else { return false }
        layer.activation = .linear
        layers[last] = layer
        return true
    }
}

/// Thrown by `fit` when its `shouldStop` asked it to stop: before step `step + 1` of `steps` in
/// `epoch`, so epochs `1..<epoch` are complete (and were shown to the callbacks).
public struct TrainingInterrupted: Error, Sendable, CustomStringConvertible {
    /// The epoch that was cut short, from 1; the epochs before it are complete.
    public let epoch: Int
    /// Steps of `epoch` completed.
    public let step: Int
    /// Steps in a full epoch (batches per epoch).
    public let steps: Int

    /// `training interrupted at epoch 3, step 120/469`, for logs and error output.
    public var description: String { "training interrupted at epoch \(epoch), step \(step)/\(steps)" }
}

/// Running sums of loss and metrics over an epoch, weighted by batch size (as Keras reports them).
struct EpochTotals {
    let metrics: [Metric]
    var samples = 0
    var lossSum = 0.0
    var correct: [Int]

    init(metrics: [Metric]) {
        self.metrics = metrics
        correct = metrics.map { _ in 0 }
    }

    mutating func add(loss: Float, scores: Tensor, labels: [Int]) {
        samples += labels.count
        lossSum += Double(loss) * Double(labels.count)
        for (index, metric) in metrics.enumerated() { correct[index] += metric.correctCount(scores: scores, labels: labels) }
    }

    /// `(name, value)` pairs in Keras's order: metrics, then loss.
    var logs: [(String, Double)] {
        let count = Double(max(samples, 1))
        return zip(metrics, correct).map { ($0.name, Double($1) / count) } + [("loss", lossSum / count)]
    }
}
