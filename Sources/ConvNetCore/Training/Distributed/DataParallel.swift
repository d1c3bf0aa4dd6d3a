/// How `fit` trains one model on several processes (data parallelism, as PyTorch's
/// `DistributedDataParallel` and Horovod): pass it as `fit(..., dataParallel:)` on every rank.
///
/// What is identical to one process with batch `N·B` (up to the summation order of the all-reduce):
/// the samples of each step (``DistributedSampler``), the averaged gradient (``GradientAllReduce``),
/// hence the weights after every step, for models without batch normalization and without
/// dropout; with batch normalization also when `synchronizeBatchNormalization` is on. What is not:
/// dropout masks are drawn per rank (each rank's generator starts from the same seed, so they are
/// not those of one process), per-rank batch normalization (the default) normalises each rank's
/// `B` samples alone, and the last step of an epoch may repeat up to `N − 1` samples (padding).
public struct DataParallel: Sendable {
    /// The processes that train together.
    public let group: any ProcessGroup
    /// Whether batch normalization normalises with the statistics of all ranks' batches together
    /// (synchronised, PyTorch's `SyncBatchNorm`; the moving statistics then agree on every rank), or
    /// with each rank's own (the default, as DDP; the moving statistics are averaged over the ranks
    /// at the end of every epoch, so that every rank validates and saves the same model).
    public var synchronizeBatchNormalization: Bool
    /// The time the gradient all-reduces took during `fit` (read it afterwards).
    public let allReduceTimer = AllReduceTimer()

    /// Data-parallel training over `group`.
    public init(_ group: any ProcessGroup, synchronizeBatchNormalization: Bool = false) {
        self.group = group
        self.synchronizeBatchNormalization = synchronizeBatchNormalization
    }

    /// The callbacks `fit` puts before the user's: the gradient all-reduce.
    var callbacks: [any Callback] { [GradientAllReduce(group, timer: allReduceTimer)] }

    /// The group batch normalization synchronises over, if it does.
    var batchNormalizationGroup: (any ProcessGroup)? { synchronizeBatchNormalization ? group : nil }

    /// At the end of an epoch's steps: the ranks' moving statistics averaged (unless synchronised
    /// batch normalization already made them equal), the epoch's loss and metric sums added up.
    func endEpoch(_ model: inout Model, totals: inout EpochTotals) throws {
        if !synchronizeBatchNormalization { try GradientAllReduce.averageNonTrainableWeights(of: &model, over: group) }
        try totals.reduce(over: group)
    }
}

extension EpochTotals {
    /// The sums over every rank: samples, loss sum (each batch's mean loss times its size) and the
    /// metrics' correct counts, so that the means are over all ranks' samples.
    mutating func reduce(over group: any ProcessGroup) throws {
        guard group.size > 1 else { return }
        var values = [Double(samples), lossSum] + correct.map(Double.init)
        try group.allReduceSum(&values)
        samples = Int(values[0])
        lossSum = values[1]
        correct = values[2...].map { Int($0) }
    }
}
