import ArgumentParser
import ConvNet
import Foundation

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model on a dataset and report test accuracy.",
        discussion: """
        Examples:
          convnet train --model lenet5 --dataset fashion-mnist --epochs 5 --save lenet5.h5
          convnet train --model cifar --dataset /tmp/cifar10 --epochs 10 --batch-size 64
          convnet train --model lenet5.h5 --dataset fashion-mnist --epochs 1   # continue from a file
          convnet train --model cifar --dataset fashion-mnist --epochs 1   # images resized to 32x32x3

        Progress: on a terminal a live bar shows each epoch's ETA and images per
        second. When the output is not a terminal (a log file), a progress line (step
        k/n, ETA, images per second, loss, metrics) is printed every 30 seconds during
        an epoch, and a line at its end; the environment variable
        CONVNET_PROGRESS_INTERVAL sets those seconds.

        Ctrl-C stops training cleanly at the next batch: no file is left half-written,
        one line says what was kept (the newest --checkpoint and how to --resume from
        it), and the exit status is 130. A second Ctrl-C quits at once.
        """)

    @OptionGroup var training: TrainingOptions
    @Option(help: ArgumentHelp("Layers whose weights stay as they are (comma-separated names, as `convnet summary` lists them; Keras `trainable = False`, saved with the model); a resumed checkpoint keeps its own.", valueName: "LAYER,...")) var freeze: String?

    @Option(help: ArgumentHelp("Layers to train again that a model file saved frozen (comma-separated names, or `all`): the second phase of fine-tuning, usually with a lower --lr.", valueName: "LAYER,...|all")) var unfreeze: String?

    func validate() throws {
        if let freeze, let unfreeze, !Set(Self.names(freeze)).isDisjoint(with: unfreeze == "all" ? [] : Self.names(unfreeze)) {
            throw ValidationError("--freeze and --unfreeze name the same layer")
        }
    }

    func run() throws {
        let freeze = freeze, unfreeze = unfreeze
        try training.run { network, _ in
            if let unfreeze {
                let thawed = unfreeze == "all" ? nil : Self.names(unfreeze)
                try Self.requireWeights(thawed ?? [], in: network, flag: "--unfreeze")
                try network.setTrainable(true, layers: thawed)
            }
            let frozen = freeze.map(Self.names) ?? []
            try Self.requireWeights(frozen, in: network, flag: "--freeze")
            if !frozen.isEmpty { try network.setTrainable(false, layers: frozen) }  // saved with the model and its checkpoints
        }
    }

    private static func names(_ list: String) -> [String] { list.split(separator: ",").map(String.init) }

    /// Refuses a layer name that `network` does not have or whose layer has no weights to train.
    private static func requireWeights(_ layers: [String], in network: Model, flag: String) throws {
        for layer in layers where !network.layers.contains(where: { $0.name == layer && $0.parameterCount > 0 }) {
            throw ValidationError("\(flag): model '\(network.name)' has no layer '\(layer)' with weights")
        }
    }
}

/// Every option of `convnet train` but `--freeze`, and the training run itself: shared by `train`
/// and `finetune`, which differ only in how they prepare the model before it is compiled.
struct TrainingOptions: ParsableArguments {
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var datasetOptions: DatasetOptions
    @OptionGroup var limitOption: LimitOption
    @OptionGroup var batchSizeOption: BatchSizeOption
    @OptionGroup var computeOptions: ComputeOptions
    @OptionGroup var tuning: TuningOptions
    @OptionGroup(title: "TensorBoard") var tensorBoardOptions: TensorBoardOptions
    @Option(help: "Passes over the training data.") var epochs = 5
    @Option(help: OptimizerChoice.help) var optimizer = "adam"
    @Option(help: "Initial learning rate (default: the optimizer's own).") var lr: Float?
    @Option(help: OptimizerChoice.momentumHelp) var momentum: Float = 0.9
    @Option(help: ArgumentHelp("Decay: \(LearningRateScheduleRegistry.usages.joined(separator: ", ")).")) var schedule: String?
    @Option(help: "Dropout rate after Flatten, global average pooling and hidden dense layers, and of the model's own dropout layers (zoo models).") var dropout: Float?
    @Option(help: "L2 kernel penalty on every Conv2D and Dense layer (zoo models).") var l2: Float?
    @Option(help: "L1 kernel penalty on every Conv2D and Dense layer (zoo models).") var l1: Float?
    @Option(help: "Clip each weight's gradient to this L2 norm before the update (Keras clipnorm).") var clipnorm: Float?
    @Option(help: "Clip the L2 norm of all gradients together to this value (Keras global_clipnorm).") var globalClipnorm: Float?
    @Option(help: "Clip every gradient element to [-V, V] (Keras clipvalue).") var clipvalue: Float?
    @Option(help: ArgumentHelp("Keep an exponential moving average of the weights with this momentum, e.g. 0.99 (Keras use_ema, ema_momentum); the model ends training with the averaged weights, which --save and the final evaluation use.", valueName: "momentum")) var ema: Float?
    @Option(help: ArgumentHelp("With --ema, write the averages into the model every N steps (Keras ema_overwrite_frequency).", valueName: "N")) var emaOverwriteFrequency: Int?
    @Option(help: "Fraction of the training data held out for validation.") var validationSplit: Float = 0
    @Option(help: "Label smoothing ε (Keras label_smoothing): categorical cross-entropy against (1 - ε)·one-hot + ε/classes.") var labelSmoothing: Float = 0
    @Option(help: "How a batch's losses combine into the minimised value: mean (Keras's default) or sum.") var lossReduction = "mean"
    @Flag(help: "Evaluate on the test split after every epoch (Keras's validation_data=(x_test, y_test)); the epoch lines, log columns (test_loss, test_accuracy) and curves call it \"test\".") var validateOnTest = false
    @Flag(help: "Augment the training images: flip and random crop (padding height/8) for colour, shifts of up to 2 pixels for gray.") var augment = false
    @Option(help: "Augmentations to use instead of --augment's, e.g. flip,crop:4,translate:2 (flip[:P], crop:PAD[:HxW], translate:N[:constant|mirror], alternating-flip).") var augmentations: String?
    @Option(help: "Input scaling: unit (x/255), centered (x/255 - 0.5), standardize (per-channel mean/std of the training set) or none.") var preprocessing = "unit"
    @Option(help: ArgumentHelp("Resize the images to HxW (zoo models are built for that size). Without it, images of another size or colour than the model's input are resized and converted automatically.", valueName: "HxW")) var resize: String?
    @Option(help: "Random seed for weights, shuffling and dropout.") var seed: UInt64 = 0
    @Flag(help: "Keep the file order instead of shuffling each epoch.") var noShuffle = false
    @Option(help: "Save the trained model (Keras .keras or .h5 by the name, with the preprocessing and class names).") var save: String?
    @Option(help: "Write the training history as CSV.") var log: String?
    @Option(help: "Draw the training curves (loss and accuracy per epoch) as SVG, or PNG by the file's name.") var plot: String?
    @Option(help: "Save a checkpoint (model, optimizer state, epoch, generators) after every epoch; `{epoch}` is replaced.") var checkpoint: String?
    @Option(help: "Resume from a checkpoint written by --checkpoint (same dataset and flags), up to --epochs in total.") var resume: String?
    @Flag(help: "Decode image folders from disk batch by batch every epoch instead of loading them into memory (the default when the decoded images would take more than a quarter of the RAM).") var streamImages = false
    @Flag(help: "Print only the final results.") var quiet = false
    @OptionGroup(title: "Several processes (mpirun -np N convnet train ...)") var distributed: DistributedOptions

    var model: String { modelOptions.name(default: "lenet5") }
    var batchSize: Int { batchSizeOption.value(default: 32) }

    func validate() throws {
        guard epochs > 0 else { throw ValidationError("--epochs must be positive, got \(epochs)") }
        if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number, got \(lr)") }
        guard (0...1).contains(momentum) else { throw ValidationError("--momentum must be in [0, 1], got \(momentum)") }
        if let dropout, !(0..<1).contains(dropout) { throw ValidationError("--dropout must be in [0, 1), got \(dropout)") }
        guard (0..<1).contains(validationSplit) else { throw ValidationError("--validation-split must be in [0, 1), got \(validationSplit)") }
        if validateOnTest, validationSplit > 0 { throw ValidationError("--validate-on-test and --validation-split both choose the validation data; give one") }
        if let l2, !(l2 >= 0 && l2.isFinite) { throw ValidationError("--l2 must be a number of 0 or more, got \(l2)") }
        if let l1, !(l1 >= 0 && l1.isFinite) { throw ValidationError("--l1 must be a number of 0 or more, got \(l1)") }
        guard (0..<1).contains(labelSmoothing) else { throw ValidationError("--label-smoothing must be in [0, 1), got \(labelSmoothing)") }
        guard ["mean", "sum"].contains(lossReduction) else { throw ValidationError("--loss-reduction \(lossReduction): expected mean or sum") }
        if let save, ModelFileFormat(path: save)?.holdsWeights != true {
            throw ValidationError("--save \(save): the file must end in \(ModelFileFormat.trainedModelExtensions)")
        }
        for (flag, path) in [("--checkpoint", checkpoint), ("--resume", resume)] {
            if let path, !path.hasSuffix(".h5") { throw ValidationError("\(flag) \(path): the file must end in .h5") }
        }
        if ModelSource.isFile(model), dropout != nil || l1 != nil || l2 != nil || tuning.kernelInitializer != nil || tuning.channels != nil {
            throw ValidationError("--dropout, --l1, --l2, --kernel-initializer and --channels apply to zoo models, not to \(model)")
        }
        if tuning.reduceLrOnPlateau, schedule != nil {
            throw ValidationError("--reduce-lr-on-plateau and --schedule both set the learning rate; give one")
        }
        try validateChoices()
        try validatePaths()
        _ = try gradientCallbacks()
    }

    /// Gradient clipping and weight averaging, from --clipnorm, --global-clipnorm, --clipvalue,
    /// --ema and --ema-overwrite-frequency.
    private func gradientCallbacks() throws -> [any Callback] {
        let clipping: [(flag: String, mode: GradientClipping.Mode)] = [
            clipnorm.map { ("--clipnorm", .norm($0)) }, globalClipnorm.map { ("--global-clipnorm", .globalNorm($0)) },
            clipvalue.map { ("--clipvalue", .value($0)) },
        ].compactMap { $0 }
        guard clipping.count <= 1 else {
            throw ValidationError("\(clipping.map(\.flag).joined(separator: " and ")): give only one of --clipnorm, --global-clipnorm and --clipvalue")
        }
        var callbacks: [any Callback] = []
        if let (flag, mode) = clipping.first {
            callbacks.append(try usage(flag) { try GradientClipping(mode) })
        }
        if emaOverwriteFrequency != nil, ema == nil { throw ValidationError("--ema-overwrite-frequency needs --ema") }
        if let ema {
            let frequency = emaOverwriteFrequency
            callbacks.append(try usage("--ema") { try ExponentialMovingAverage(momentum: ema, overwriteFrequency: frequency) })
        }
        return callbacks
    }

    /// The loss matching the model's output, smoothed by `--label-smoothing` (which needs a softmax
    /// or logits output: categorical cross-entropy).
    private func trainingLoss(for network: Model) throws -> Loss {
        let loss = Loss.matching(network)
        guard labelSmoothing > 0 else { return loss }
        guard case let .sparseCategoricalCrossentropy(fromLogits) = loss else {
            throw ConvNetError.argument("--label-smoothing: model '\(network.name)' ends in \(loss.kerasName); smoothing needs a softmax or logits output")
        }
        return .categoricalCrossentropy(fromLogits: fromLogits, labelSmoothing: labelSmoothing)
    }

    /// The named choices (optimizer, schedule, augmentations, preprocessing, size), parsed as `run` will.
    private func validateChoices() throws {
        _ = try OptimizerChoice.make(optimizer, learningRate: lr, momentum: momentum, tuning: tuning.hyperparameters(for: optimizer))
        let epochs = epochs
        if let schedule = schedule {
            _ = try usage(nil) { try LearningRateSchedule(parsing: schedule, epochs: epochs) }
        }
        if let augmentations = augmentations {
            _ = try usage("--augmentations \(augmentations)") { try Augmentation.parseList(augmentations) }
        }
        let preprocessing = preprocessing
        try usage("--preprocessing \(preprocessing)") { try PreprocessingChoice.check(preprocessing) }
        if let resize = resize { _ = try ImageSize.parse(resize) }
    }

    /// Every file written has an existing folder; the file resumed from exists.
    private func validatePaths() throws {
        try OutputPath.check(save, flag: "--save")
        try OutputPath.check(log, flag: "--log")
        try OutputPath.check(plot, flag: "--plot")
        try OutputPath.check(checkpoint, flag: "--checkpoint")
        if let plot = plot, !["svg", "png"].contains((plot as NSString).pathExtension.lowercased()) {
            throw ValidationError("--plot \(plot): use a .svg or .png file name")
        }
        try OutputPath.checkInput(resume, flag: "--resume")
    }

    /// Loads the data and the model (`--model`, or its checkpoint with `--resume`), lets `prepare`
    /// change a model that is not resumed (freeze layers, replace the head; it gets the dataset's
    /// class names), compiles and trains it, then evaluates, plots and saves as the options ask.
    func run(prepare: (inout Model, _ classNames: [String]) throws -> Void) throws {
        computeOptions.apply()
        // Under mpirun: every rank trains, rank 0 alone prints and writes files (see DistributedRun).
        let group = try DistributedRun.start(threads: computeOptions.threads)
        let isRoot = group?.isRoot ?? true
        let quiet = self.quiet || !isRoot
        let regularizer = (l1 ?? 0) > 0 || (l2 ?? 0) > 0 ? Regularizer(l1: l1 ?? 0, l2: l2 ?? 0) : nil
        let resumed = try resume.map(TrainingCheckpoint.load(from:))
        if let resume, let resumed {
            guard resumed.epoch < epochs else {
                throw ValidationError("--resume \(resume): the checkpoint has already completed \(resumed.epoch) of --epochs \(epochs)")
            }
            if !quiet { print("Resuming from \(resume) at epoch \(resumed.epoch + 1) of \(epochs)") }
        }
        let probe = try resumed.map { ModelSource.Loaded(model: $0.model, metadata: $0.metadata) } ?? ModelSource.load(model, seed: seed)
        let size = try resize.map { try ImageSize.parse($0) }
        var inputShape = probe.model.inputShape
        if let size, inputShape.count == 3 { inputShape = [size.height, size.width, inputShape[2]] }
        if let channels = tuning.channels, inputShape.count == 3, !ModelSource.isFile(model), resumed == nil { inputShape[2] = channels }
        // A zoo model is built for the data's channel count (LeNet-5 on CIFAR-10 in colour), as a
        // Keras model is built for its data; --channels chooses instead, a model file keeps its own.
        let followsDataChannels = inputShape.count == 3 && !ModelSource.isFile(model) && resumed == nil && tuning.channels == nil
        var dataShape = inputShape
        if followsDataChannels { dataShape[2] = nil }
        let data = try PreparedData(datasetOptions.resolver(limit: limitOption.limit), inputShape: dataShape,
                                    preprocessing: probe.metadata?.preprocessing, named: preprocessing,
                                    memoryBudget: streamImages ? 0 : PreparedData.defaultMemoryBudget)
        if followsDataChannels, data.sampleShape.count == 3 { inputShape[2] = data.sampleShape[2] }
        let augmentationList = try augmentations.map(Augmentation.parseList)
            ?? (augment ? Augmentation.standard(forImageShape: data.sampleShape) : [])
        let (train, heldOut) = try data.training(augmentations: augmentationList, validationSplit: validationSplit)
        if validateOnTest, !data.hasTestSplit { throw ConvNetError.argument("--validate-on-test: \(data.source) has no test split") }
        let validation = validateOnTest ? try data.evaluation : heldOut
        // Zoo models get as many outputs as the dataset has classes.
        var network = ModelSource.isFile(model) || resumed != nil ? probe.model
            : try ModelSource.load(model, inputShape: inputShape, classes: data.classNames.count, seed: seed,
                                   dropout: dropout, regularizer: regularizer).model
        if !ModelSource.isFile(model), resumed == nil { network = try tuning.applyingKernelInitializer(to: network, seed: seed) }
        if resumed == nil { try prepare(&network, data.classNames) }
        try data.check(against: network)
        try data.checkForTraining()
        if resumed == nil {
            network.compile(optimizer: try OptimizerChoice.make(optimizer, learningRate: lr, momentum: momentum,
                                                                tuning: tuning.hyperparameters(for: optimizer)),
                            loss: try trainingLoss(for: network), metrics: [.accuracy],
                            schedule: try schedule.map { try LearningRateSchedule(parsing: $0, epochs: epochs) } ?? .constant,
                            lossReduction: lossReduction == "sum" ? .sum : .mean)
        }
        let metadata = ModelMetadata(preprocessing: data.preprocessing, classNames: data.classNames)
        if !quiet {
            if let notice = data.notice { print(notice) }
            print("Training \(network.name) (\(network.parameterCounts.trainable) parameters) on \(train.count) images from \(data.source); GEMM: \(GEMM.backendDescription)")
            if data.splits.streamed {
                print("Decoding the images from disk batch by batch" + (streamImages ? " (--stream-images)" : ": all at once they would take more than a quarter of the memory"))
            }
            if !augmentationList.isEmpty { print("Augmentation: \(augmentationList.map(\.description).joined(separator: ", "))") }
        }
        var callbacks = try gradientCallbacks()
        callbacks += tuning.callbacks(monitor: validation == nil ? "loss" : validateOnTest ? "test_loss" : "val_loss")
        let scaling = distributed.learningRateScaling(group, batchSize: batchSize, stepsPerEpoch: (train.count / (group?.size ?? 1) + batchSize - 1) / batchSize,
                                                      learningRate: network.training?.optimizer.learningRate ?? 0)
        if let notice = scaling.notice, !quiet { print(notice) }
        if let callback = scaling.callback { callbacks.insert(callback, at: 0) }
        if let log, isRoot { callbacks.append(CSVLogger(path: log)) }
        if isRoot, let tensorBoard = tensorBoardOptions.callback { callbacks.append(tensorBoard) }
        if let checkpoint, isRoot { callbacks.append(CheckpointWriter(path: checkpoint, metadata: metadata)) }
        let start = Date()
        if group == nil { Interruption.install() }  // under mpirun, Ctrl-C ends the job (mpirun forwards it)
        let stopOnInterrupt: @Sendable () -> Bool = { Interruption.requested }
        let shouldStop = group == nil ? stopOnInterrupt : nil
        let dataParallel = distributed.dataParallel(group)
        let history: History
        do {
            history = try network.fit(train, epochs: epochs, batchSize: batchSize, validationData: validation, shuffle: !noShuffle,
                                      seed: seed, callbacks: callbacks, verbosity: quiet ? .silent : .auto, resumingFrom: resumed,
                                      validationPrefix: validateOnTest ? "test_" : "val_",
                                      shouldStop: shouldStop, dataParallel: dataParallel)
        } catch let stop as TrainingInterrupted {
            FileHandle.standardError.write(Data((interruptionReport(stop, resumedEpoch: resumed?.epoch ?? 0) + "\n").utf8))
            throw ExitCode(Interruption.exitStatus)
        }
        let seconds = Date().timeIntervalSince(start)
        guard isRoot else { return try DistributedRun.finish() }
        if let timer = dataParallel?.allReduceTimer, timer.count > 0, !self.quiet {
            print(String(format: "Gradient all-reduce: %.2f ms per step on average over %d steps (%.1f%% of the training time, waits for slower ranks included)",
                         timer.seconds / Double(timer.count) * 1e3, timer.count, timer.seconds / seconds * 100))
        }
        if data.hasTestSplit {
            let test = try data.evaluation
            let result = try network.evaluate(test, batchSize: 256)
            print(String(format: "Test accuracy: %.4f, test loss: %.4f (%d images); training took %.1f s",
                         result["accuracy"] ?? .nan, result["loss"] ?? .nan, test.count, seconds))
        } else {
            print(String(format: "Training took %.1f s (no test split found)", seconds))
        }
        if let plot {
            try TrainingCurves.write(history: history, to: plot, title: "\(network.name) on \(datasetOptions.dataset)")
            print("Wrote \(plot)")
        }
        if let save {
            try network.save(to: save, metadata: metadata)
            print("Saved \(save)")
        }
        try DistributedRun.finish()
    }

    /// What an interrupted run kept, in one line: the newest checkpoint and how to resume from it.
    func interruptionReport(_ stop: TrainingInterrupted, resumedEpoch: Int) -> String {
        let kept: String
        let completed = stop.epoch - 1
        if let checkpoint, completed > resumedEpoch {
            let path = checkpoint.replacingOccurrences(of: "{epoch}", with: String(completed))
            kept = "checkpoint at epoch \(completed) in \(path); resume with --resume \(path)"
        } else if let resume, completed > 0 {
            kept = "checkpoint at epoch \(completed) in \(resume) (no newer one); resume with --resume \(resume)"
        } else if checkpoint != nil {
            kept = "nothing was saved (the first checkpoint is written at the end of epoch \(completed + 1))"
        } else {
            kept = "nothing was saved (pass --checkpoint FILE to keep progress)"
        }
        return "Interrupted at epoch \(stop.epoch), step \(stop.step)/\(stop.steps): \(kept)"
    }
}

/// Runs `body`, turning the library's argument errors into usage errors (exit 2), prefixed with
/// `flag` when the library's message does not name it.
func usage<T>(_ flag: String? = nil, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ConvNetError {
        throw ValidationError((flag.map { $0 + ": " } ?? "") + error.description)
    }
}

/// The names `--preprocessing` takes, checked before any data is read.
enum PreprocessingChoice {
    /// Throws the library's error for a name `Preprocessing(named:trainingSet:)` does not know.
    static func check(_ name: String) throws {
        // Two one-pixel images: enough for `standardize` to compute its statistics.
        let probe = try TensorDataset(inputs: Tensor(shape: [2, 1, 1, 1], scalars: [0, 255]), labels: [0, 0], classNames: ["probe"])
        _ = try Preprocessing(named: name, trainingSet: probe)
    }
}

/// Builds an optimizer from the command line's name through `OptimizerRegistry`.
enum OptimizerChoice {
    /// `--optimizer`'s help: the registered names.
    static var help: ArgumentHelp { ArgumentHelp("One of \(OptimizerRegistry.registeredNames.joined(separator: ", ")).") }

    /// `--momentum`'s help: the registered optimizers that have a momentum `beta`.
    static var momentumHelp: ArgumentHelp {
        let names = OptimizerRegistry.registeredNames.filter { (try? OptimizerRegistry.optimizer(named: $0))?.hyperparameters[momentumKey] != nil }
        return ArgumentHelp("Momentum β for \(names.joined(separator: " and ")).")
    }

    /// The hyperparameter `--momentum` sets.
    static let momentumKey = "beta"

    /// The optimizer registered as `name`, with `learningRate` (else its own default), when it has
    /// a momentum `beta`, `momentum`, and the hyper-parameters `tuning` names (`beta_1`, `rho`, ...);
    /// an unknown name is a usage error listing the known ones.
    static func make(_ name: String, learningRate: Float?, momentum: Float, tuning: [String: Float] = [:]) throws -> any Optimizer {
        try usage("--optimizer \(name)") {
            let defaults = try OptimizerRegistry.optimizer(named: name)
            var hyperparameters = tuning
            if let learningRate { hyperparameters["learning_rate"] = learningRate }
            if defaults.hyperparameters[momentumKey] != nil { hyperparameters[momentumKey] = momentum }
            return try OptimizerRegistry.optimizer(named: name, hyperparameters: hyperparameters)
        }
    }
}
