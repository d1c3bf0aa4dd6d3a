/// The training loop's parts, public so that a loop of your own can drive training one batch at a
/// time (PyTorch's style) while `fit` drives the same parts for you (Keras's style).
///
///     var trainer = try Trainer(model: model, callbacks: [GradientClipping(.globalNorm(1))], epochs: 1)
///     try trainer.beginTraining()
///     try trainer.beginEpoch(1)
///     for batch in batches { let result = try trainer.step(batch) }
///     try trainer.endEpoch(1, logs: [:])
///     try trainer.endTraining()
///     model = trainer.model
///
/// One step (`step(_:)`) is: the per-step learning rate from the schedule, the callbacks'
/// `onTrainBatchBegin`, forward with the weights on a gradient tape, loss plus weight penalties,
/// backward, the callbacks' `onGradients` (which may change the gradients: clipping, all-reduce,
/// loss scaling), the optimizer's update with `state.learningRate`, then `onTrainBatchEnd`.
///
/// The learning rate has one owner, `state.learningRate`: the schedule sets it at the start of each
/// epoch (or step, for per-step schedules), callbacks may read and change it, and the optimizer
/// receives it at every update.
public struct Trainer: Sendable {
    /// The model, learning rate, counters and history: what callbacks see and may change.
    public var state: TrainingState
    /// The optimizer (with its state), loss, metrics and schedule. Kept here, not in the model,
    /// while training, so that the optimizer's slots are uniquely owned and updated in place.
    public var configuration: TrainingConfiguration
    /// Called around every step and epoch, in order.
    public var callbacks: [any Callback]
    /// Training mode and the dropout generator.
    public var context: ForwardContext
    /// The paths (`conv2d/kernel`) of the trainable weights, in the gradients' order.
    public let parameterPaths: [String]
    /// The loss of this trainer's first step (at least 1), against which divergence is judged.
    private var referenceLoss: Float?
    /// How many times the first step's loss (or 1, if larger) the loss may grow before `step`
    /// stops the run as diverged: a loss that has grown a millionfold is not coming back, and a
    /// run that goes on ends with a model of astronomically large weights (Adam at a learning
    /// rate of 10⁶ reached 5.7·10³⁶ and was saved).
    public static let divergenceFactor: Float = 1e6

    /// A trainer for a compiled model. `stepsPerEpoch` numbers per-step schedules across epochs
    /// (`nil`: counted from the steps taken). `resumingFrom` continues a checkpoint's counters,
    /// history and dropout generator.
    /// - Throws: `ConvNetError.argument` when the model is not compiled.
    public init(model: Model, callbacks: [any Callback] = [], epochs: Int = 1, stepsPerEpoch: Int? = nil, seed: UInt64 = 0,
                resumingFrom checkpoint: TrainingCheckpoint? = nil) throws {
        guard let configuration = model.training else {
            throw ConvNetError.argument("Model '\(model.name)': call compile(optimizer:loss:metrics:) before training")
        }
        var model = model
        model.training = nil
        self.configuration = configuration
        self.callbacks = callbacks
        self.context = ForwardContext(training: true,
                                      generator: checkpoint?.dropoutGenerator ?? RandomGenerator(seed: seed ^ 0x5EED_D80F))
        self.parameterPaths = model.trainableParameters.map(\.path)
        state = TrainingState(model: model, learningRate: configuration.optimizer.learningRate, epochs: epochs,
                              history: checkpoint?.history ?? History())
        state.stepsPerEpoch = stepsPerEpoch
        if let checkpoint, let steps = stepsPerEpoch { state.globalStep = checkpoint.epoch * steps }
    }

    /// The trained model, compiled with the trainer's configuration (optimizer state included).
    public var model: Model {
        var model = state.model
        model.training = configuration
        return model
    }

    /// Runs the callbacks' `onTrainBegin`, with the model compiled meanwhile (as in `endEpoch`), so
    /// that a callback can read and set the optimizer's state (``GradientAllReduce`` broadcasts it).
    public mutating func beginTraining() throws {
        state.model.training = configuration
        for index in callbacks.indices { try callbacks[index].onTrainBegin(&state) }
        if let changed = state.model.training { configuration = changed }
        state.model.training = nil
    }

    /// Starts epoch `epoch` (from 1): the schedule's rate for the epoch, then `onEpochBegin`.
    public mutating func beginEpoch(_ epoch: Int) throws {
        state.epoch = epoch
        state.step = 0
        if !configuration.schedulePerStep, configuration.schedule != .constant {
            state.learningRate = configuration.schedule.rate(at: epoch, initial: configuration.initialLearningRate)
        }
        for index in callbacks.indices { try callbacks[index].onEpochBegin(epoch, state: &state) }
    }

    /// One optimisation step on `batch`; returns its loss (penalties included) and output scores.
    /// - Throws: `ConvNetError.numeric` when the loss is not finite or has diverged (grown
    ///   `divergenceFactor` times the first step's), naming the epoch and step.
    public mutating func step(_ batch: Batch) throws -> (loss: Float, scores: Tensor) {
        state.step += 1
        if configuration.schedulePerStep {
            let number = state.stepsPerEpoch.map { (state.epoch - 1) * $0 + state.step } ?? state.globalStep + 1
            state.learningRate = configuration.schedule.rate(at: number, initial: configuration.initialLearningRate)
        }
        for index in callbacks.indices { try callbacks[index].onTrainBatchBegin(state.step, state: &state) }
        let (loss, scores, values) = try state.model.lossAndGradients(batch, loss: configuration.loss,
                                                                      reduction: configuration.lossReduction, context: &context,
                                                                      skippingFrozenBy: configuration.optimizer)
        guard loss.isFinite else {
            throw ConvNetError.numeric("fit: the loss became \(loss) at epoch \(state.epoch), step \(state.step); lower the learning rate or check the inputs for NaN")
        }
        let reference = referenceLoss ?? max(abs(loss), 1)
        referenceLoss = reference
        guard abs(loss) <= reference * Self.divergenceFactor else {
            throw ConvNetError.numeric("fit: the loss grew from \(reference) to \(loss) at epoch \(state.epoch), step \(state.step): "
                                       + "training diverged; lower the learning rate")
        }
        var gradients = Gradients(paths: parameterPaths, values: values)
        for index in callbacks.indices { try callbacks[index].onGradients(&gradients, state: &state) }
        configuration.optimizer.learningRate = state.learningRate
        try state.model.applyGradients(gradients.values, optimizer: &configuration.optimizer)
        state.globalStep += 1
        for index in callbacks.indices {
            try callbacks[index].onTrainBatchEnd(state.step, logs: ["loss": Double(loss)], state: &state)
        }
        return (loss, scores)
    }

    /// Ends epoch `epoch` with its logs: `onEpochEnd` (the model is compiled meanwhile, so a
    /// checkpoint callback can save the optimizer's state), then the logs join the history.
    public mutating func endEpoch(_ epoch: Int, logs: [String: Double]) throws {
        state.dropoutGenerator = context.generator
        state.model.training = configuration
        for index in callbacks.indices { try callbacks[index].onEpochEnd(epoch, logs: logs, state: &state) }
        if let changed = state.model.training { configuration = changed }
        state.model.training = nil
        state.history.epochs.append(logs)
    }

    /// Runs the callbacks' `onTrainEnd`.
    public mutating func endTraining() throws {
        for index in callbacks.indices { try callbacks[index].onTrainEnd(&state) }
        configuration.optimizer.learningRate = state.learningRate
    }
}

/// One step's gradients by parameter path, between the backward pass and the update: callbacks'
/// `onGradients` may read and change them (clipping, averaging across processes, loss scaling).
public struct Gradients: Sendable {
    /// The trainable weights' paths (`conv2d/kernel`), in the order of `values`.
    public let paths: [String]
    /// `∂loss/∂W` for each path, shaped like its weight.
    public var values: [Tensor]

    /// Gradients by path; `values[i]` belongs to `paths[i]` (the counts are not checked).
    ///
    /// - Parameters:
    ///   - paths: The trainable weights' paths, e.g. ``Trainer/parameterPaths``.
    ///   - values: `∂loss/∂W` for each path, in the same order.
    public init(paths: [String], values: [Tensor]) {
        self.paths = paths
        self.values = values
    }

    /// The gradient of the weight at `path`, if it is trainable.
    public subscript(path: String) -> Tensor? {
        paths.firstIndex(of: path).map { values[$0] }
    }

    /// `‖g‖₂ = √(Σ_w Σ_i g_{w,i}²)` over every gradient, accumulated in `Double`.
    public var globalNorm: Float {
        Float(values.reduce(0.0) { $0 + $1.sumOfSquares }.squareRoot())
    }
}

extension Tensor {
    /// `Σ x²` in double precision.
    var sumOfSquares: Double { scalars.reduce(0.0) { $0 + Double($1) * Double($1) } }
}
