import Dispatch

/// A batch of samples: inputs `(m, n_H, n_W, n_C)` and their class labels.
public struct Batch: Sendable {
    /// The inputs `(m, ...)`.
    public var inputs: Tensor
    /// One class index per input.
    public var labels: [Int]

    /// A batch of `inputs` with their `labels`.
    public init(inputs: Tensor, labels: [Int]) {
        self.inputs = inputs
        self.labels = labels
    }
}

/// Labelled samples the training loop draws batches from.
///
/// `batch(at:seed:)` gathers the samples at the given indices; `seed` drives any random
/// augmentation, so a batch is the same whichever thread prepares it and whenever.
public protocol Dataset: Sendable {
    /// The number of samples, `m`; valid indices are `0..<count`.
    var count: Int { get }
    /// One sample's shape, e.g. `[28, 28, 1]`.
    var sampleShape: [Int] { get }
    /// Class names by label; their count is the number of classes.
    var classNames: [String] { get }
    /// How the batches' inputs were scaled from pixels, when the dataset applies a `Preprocessing`
    /// (`fit` records it with the class names in the model's metadata); `nil` by default.
    var inputPreprocessing: Preprocessing? { get }
    /// The samples at `indices`, in that order, stacked into one batch `(indices.count, ...)`;
    /// `seed` drives any random augmentation.
    func batch(at indices: [Int], seed: UInt64) throws -> Batch
    /// The dataset as epoch `epoch` (from 1) of a run seeded `seed` sees it: `fit` draws each epoch's
    /// batches from it, so augmentations that depend on the epoch (the alternating flip) can. Wrappers
    /// pass the call to their base; the default is the dataset itself.
    func forEpoch(_ epoch: Int, seed: UInt64) -> any Dataset
}

extension Dataset {
    /// `nil`: the dataset does not say how its inputs were scaled.
    public var inputPreprocessing: Preprocessing? { nil }
    /// The dataset itself: its batches do not depend on the epoch.
    public func forEpoch(_ epoch: Int, seed: UInt64) -> any Dataset { self }
}

/// Samples held in one tensor `(m, ...)` with their labels.
public struct TensorDataset: Dataset {
    /// All samples, `(m, ...)`.
    public let inputs: Tensor
    /// One class index per sample.
    public let labels: [Int]
    /// The class names given, else `"0"`, `"1"`, ... for the labels seen.
    public let classNames: [String]

    /// - Throws: when the counts disagree or a label is outside `0..<classNames.count`.
    public init(inputs: Tensor, labels: [Int], classNames: [String]? = nil) throws {
        guard inputs.rank >= 2, inputs.shape[0] == labels.count else {
            throw ConvNetError.shape(op: "TensorDataset", message: "\(labels.count) labels for inputs \(describe(shape: inputs.shape))")
        }
        let classes = classNames?.count ?? ((labels.max() ?? 0) + 1)
        if let bad = labels.first(where: { !(0..<classes).contains($0) }) {
            throw ConvNetError.argument("TensorDataset: label \(bad) is out of range for \(classes) classes")
        }
        self.inputs = inputs
        self.labels = labels
        self.classNames = classNames ?? (0..<classes).map(String.init)
    }

    /// The number of samples.
    public var count: Int { labels.count }
    /// One sample's shape, without the batch axis.
    public var sampleShape: [Int] { Array(inputs.shape.dropFirst()) }

    /// The samples at the given positions as one batch; `seed` drives any random augmentation.
    public func batch(at indices: [Int], seed: UInt64) throws -> Batch {
        let size = sampleShape.reduce(1, *)
        var scalars = [Float](repeating: 0, count: indices.count * size)
        for (row, index) in indices.enumerated() {
            guard (0..<count).contains(index) else {
                throw ConvNetError.argument("TensorDataset: index \(index) is out of range for \(count) samples")
            }
            scalars.replaceSubrange(row * size..<(row + 1) * size, with: inputs.scalars[index * size..<(index + 1) * size])
        }
        return Batch(inputs: Tensor(validShape: [indices.count] + sampleShape, scalars: scalars), labels: indices.map { labels[$0] })
    }
}

/// A view of some samples of another dataset (validation splits, `--limit`).
public struct DatasetSubset: Dataset {
    /// The dataset this one wraps.
    public let base: any Dataset
    /// The positions in `base` this view shows, in order.
    public let indices: [Int]

    /// The samples of `base` at `indices`.
    public init(_ base: any Dataset, indices: [Int]) {
        self.base = base
        self.indices = indices
    }

    /// The number of samples.
    public var count: Int { indices.count }
    /// One sample's shape, without the batch axis.
    public var sampleShape: [Int] { base.sampleShape }
    /// The base dataset's class names.
    public var classNames: [String] { base.classNames }
    /// The base dataset's preprocessing.
    public var inputPreprocessing: Preprocessing? { base.inputPreprocessing }

    /// The same samples of the base's view for epoch `epoch`.
    public func forEpoch(_ epoch: Int, seed: UInt64) -> any Dataset {
        DatasetSubset(base.forEpoch(epoch, seed: seed), indices: indices)
    }

    /// The samples at the given positions as one batch; `seed` drives any random augmentation.
    public func batch(at positions: [Int], seed: UInt64) throws -> Batch {
        try base.batch(at: positions.map { indices[$0] }, seed: seed)
    }
}

/// Prepares a batch on a background thread while the current step computes.
final class PrefetchedBatch: Sendable {
    private let result = Locked<Result<Batch, any Error>?>(nil)
    private let ready = DispatchSemaphore(value: 0)

    init(_ dataset: any Dataset, indices: [Int], seed: UInt64) {
        DispatchQueue.global().async { [self] in
            let batch = Result { try dataset.batch(at: indices, seed: seed) }
            result.withLock { $0 = batch }
            ready.signal()
        }
    }

    /// Waits for the batch (or its error).
    func get() throws -> Batch {
        ready.wait()
        ready.signal()  // later calls return at once
        guard let outcome = result.withLock({ $0 }) else {
            throw ConvNetError.argument("prefetch finished without a result")
        }
        return try outcome.get()
    }
}
