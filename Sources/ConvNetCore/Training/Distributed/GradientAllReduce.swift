/// Data-parallel training's gradient hook: averages every step's gradients over the processes of a
/// ``ProcessGroup`` before the optimizer uses them (PyTorch `DistributedDataParallel`, Horovod's
/// `DistributedOptimizer`), and makes every process start from rank 0's weights and optimizer state.
///
///     var trainer = try Trainer(model: model, callbacks: [GradientAllReduce(group)] + myCallbacks)
///
/// Put it first, so that clipping and other gradient hooks see the averaged gradients. `fit` adds it
/// itself when given `dataParallel:`.
///
/// - `onTrainBegin` (start and resume): every weight (trainable or not), the optimizer's step count
///   and its slots (moments, by parameter path) are broadcast from rank 0, after checking that
///   every rank has the same layout (the same number of values and slots) as rank 0.
/// - `onGradients`: the gradients are copied into one contiguous buffer (Horovod's *tensor fusion*:
///   one collective of `Σ|W|` floats instead of one per weight, so the per-message latency is paid
///   once), summed in place with one all-reduce, multiplied by `1/N` and copied back:
///   `g ← (1/N) Σ_r g_r`. Each rank's loss is the mean over its own batch, so with equal batch sizes
///   on every rank (``DistributedSampler`` sees to it) this is the gradient of the mean loss over
///   all `N·B` samples of the step. The buffer is kept between steps.
public struct GradientAllReduce: Callback {
    /// The processes that train together.
    public let group: any ProcessGroup
    private var fusionBuffer: [Float] = []
    /// Time spent in the gradient all-reduces (copies included, and any wait for slower ranks):
    /// what data parallelism costs on top of the computation. Shared, so that the caller's reference
    /// sees the copies inside a ``Trainer``.
    public let timer: AllReduceTimer

    /// The hook for `group`'s processes, timing its all-reduces into `timer`.
    public init(_ group: any ProcessGroup, timer: AllReduceTimer = AllReduceTimer()) {
        self.group = group
        self.timer = timer
    }

    /// Makes every rank's weights and optimizer state rank 0's (``Trainer/beginTraining()`` lends the
    /// compiled optimizer to the model meanwhile).
    public mutating func onTrainBegin(_ state: inout TrainingState) throws {
        try GradientAllReduce.broadcastState(of: &state.model, over: group)
    }

    /// `g ← (1/N) Σ_r g_r` for every gradient, through one fused in-place all-reduce.
    public mutating func onGradients(_ gradients: inout Gradients, state: inout TrainingState) throws {
        let start = ContinuousClock.now
        try GradientAllReduce.averageInPlace(&gradients.values, over: group, buffer: &fusionBuffer)
        timer.add(ContinuousClock.now - start)
    }

    /// `tensors[i] ← (1/N) Σ_r tensors[i]` through one all-reduce over `buffer` (resized to
    /// `Σ|tensors[i]|` floats when it differs).
    public static func averageInPlace(_ tensors: inout [Tensor], over group: any ProcessGroup, buffer: inout [Float]) throws {
        guard group.size > 1 else { return }
        let total = tensors.reduce(0) { $0 + $1.count }
        if buffer.count != total { buffer = [Float](repeating: 0, count: total) }
        FusionBuffer.pack(tensors, into: &buffer)
        try group.allReduceSum(&buffer)
        let scale = 1 / Float(group.size)
        FusionBuffer.unpack(buffer, into: &tensors, scale: scale)
    }

    /// Broadcasts rank 0's weights (all of them), and its optimizer's step and slots
    /// (`model.training`'s, when compiled), to every rank.
    /// - Throws: `ConvNetError.argument` on a rank whose weights or optimizer slots are laid out
    ///   differently from rank 0's (another model, or a checkpoint from another run).
    public static func broadcastState(of model: inout Model, over group: any ProcessGroup) throws {
        guard group.size > 1 else { return }
        let paths = model.namedWeights.map(\.path)
        let weights = model.namedWeights.map(\.value)
        let slotsByPath = model.training?.optimizer.slots ?? [:]
        let slotKeys = slotsByPath.keys.sorted()
        let slots = slotKeys.flatMap { slotsByPath[$0] ?? [] }
        // The layout first: rank 0's counts against this rank's, so that a mismatch is an error, not a hang.
        let layout = [Double(weights.count), Double(weights.reduce(0) { $0 + $1.count }), Double(slots.count),
                      Double(slots.reduce(0) { $0 + $1.count })]
        var rootLayout = layout
        try group.broadcast(&rootLayout)
        guard rootLayout == layout else {
            throw ConvNetError.argument("rank \(group.rank): the model and optimizer state (\(Int(layout[1])) weights, \(Int(layout[3])) optimizer values) differ from rank 0's (\(Int(rootLayout[1])), \(Int(rootLayout[3]))); every rank must start from the same model and checkpoint")
        }
        var received = weights + slots
        var buffer = [Float](repeating: 0, count: Int(layout[1] + layout[3]))
        FusionBuffer.pack(received, into: &buffer)
        try group.broadcast(&buffer)
        var step = [Double(model.training?.optimizer.step ?? 0)]
        try group.broadcast(&step)
        FusionBuffer.unpack(buffer, into: &received, scale: 1)
        try model.setWeights(Dictionary(uniqueKeysWithValues: zip(paths, received[..<weights.count])))
        guard model.training != nil else { return }
        var offset = weights.count
        for key in slotKeys {
            let count = slotsByPath[key]?.count ?? 0
            model.training?.optimizer.slots[key] = Array(received[offset..<offset + count])
            offset += count
        }
        model.training?.optimizer.step = Int(step[0])
    }

    /// Averages the non-trainable weights (batch normalization's moving mean and variance) over the
    /// ranks: without synchronised batch normalization each rank's moving statistics follow its own
    /// batches, and this makes every rank hold the same model (the mean of the ranks' estimates)
    /// before validation and saving.
    public static func averageNonTrainableWeights(of model: inout Model, over group: any ProcessGroup) throws {
        guard group.size > 1 else { return }
        let parameters = model.nonTrainableParameters
        guard !parameters.isEmpty else { return }
        var values = parameters.map(\.value)
        var buffer: [Float] = []
        try averageInPlace(&values, over: group, buffer: &buffer)
        try model.setWeights(Dictionary(uniqueKeysWithValues: zip(parameters.map(\.path), values)))
    }
}

/// Copies tensors into one contiguous buffer and back (Horovod's fusion buffer).
enum FusionBuffer {
    /// `buffer = tensors[0].scalars + tensors[1].scalars + ...` (buffer already of the total length).
    static func pack(_ tensors: [Tensor], into buffer: inout [Float]) {
        var offset = 0
        buffer.withUnsafeMutableBufferPointer { destination in
            for tensor in tensors {
                tensor.withScalarBuffer { source in
                    guard let base = source.baseAddress, source.count > 0 else { return }
                    (destination.baseAddress! + offset).update(from: base, count: source.count)
                }
                offset += tensor.count
            }
        }
    }

    /// `tensors[i] = scale · buffer[offset_i ..< offset_i + |tensors[i]|]`, in each tensor's storage.
    static func unpack(_ buffer: [Float], into tensors: inout [Tensor], scale: Float) {
        var offset = 0
        buffer.withUnsafeBufferPointer { source in
            for index in tensors.indices {
                let count = tensors[index].count
                tensors[index].withUnsafeMutableScalars { destination in
                    for i in 0..<count { destination[i] = scale * source[offset + i] }
                }
                offset += count
            }
        }
    }
}

/// Seconds spent in gradient all-reduces and how many there were (thread-safe; shared by copies).
public final class AllReduceTimer: Sendable {
    private let totals = Locked<(seconds: Double, count: Int)>((0, 0))

    /// A timer at zero.
    public init() {}

    /// Total seconds in all-reduces so far.
    public var seconds: Double { totals.withLock { $0.seconds } }
    /// All-reduces so far.
    public var count: Int { totals.withLock { $0.count } }

    /// Adds one all-reduce of `duration`.
    func add(_ duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
        totals.withLock { $0 = ($0.seconds + seconds, $0.count + 1) }
    }
}
