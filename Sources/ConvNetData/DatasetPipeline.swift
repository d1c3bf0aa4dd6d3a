import ConvNetCore
/// The input pipeline: raw images → (augmentation) → preprocessing → batches, produced on demand.
///
/// Loaders return raw pixels `0...255` (`LabeledImages`, `ImageFolderDataset`); nothing is scaled
/// when loading, so one copy of the data serves every preprocessing. The training loop asks for a
/// batch with `batch(at:seed:)` on a background thread (`PrefetchedBatch`) one step ahead, and the
/// wrappers below do their work there, per batch:
///
///     let train = try data.train
///         .augmented(with: [.horizontalFlip(), .randomCrop(padding: 4)])   // raw pixels, zero fill = black
///         .preprocessed(.unitRange)                                          // x / 255
///
/// Augment before preprocessing, so the zeros that crops and translations fill in are black
/// pixels, as torchvision's `RandomCrop(padding:)` on images does, rather than the mean.

extension LabeledImages: Dataset {
    /// `(height, width, channels)`, the same as `imageShape`.
    public var sampleShape: [Int] { imageShape }

    /// The images at `indices` with their labels, raw pixel values `0...255` as loaded.
    /// - Returns: inputs `(indices.count, height, width, channels)`.
    /// - Throws: `ConvNetError.argument` for an index outside `0..<count`.
    public func batch(at indices: [Int], seed: UInt64) throws -> Batch {
        Batch(inputs: try gatherRows(of: images, at: indices, op: "LabeledImages.batch"), labels: indices.map { labels[$0] })
    }

    /// These images as a dataset whose batches are scaled by `preprocessing` (raw pixels stay as
    /// loaded; each batch is scaled when it is produced).
    public func dataset(preprocessing: Preprocessing) throws -> PreprocessedDataset {
        try PreprocessedDataset(self, preprocessing: preprocessing)
    }
}

/// Rows `indices` of `tensor` `(m, ...)`, as a new tensor `(indices.count, ...)`.
/// - Throws: `ConvNetError.argument` naming `op` for an index outside `0..<m`.
func gatherRows(of tensor: Tensor, at indices: [Int], op: String) throws -> Tensor {
    let rows = tensor.shape[0]
    if let bad = indices.first(where: { !(0..<rows).contains($0) }) {
        throw ConvNetError.argument("\(op): index \(bad) is out of range for \(rows) samples")
    }
    let size = rows == 0 ? 0 : tensor.count / rows
    var scalars = [Float](repeating: 0, count: indices.count * size)
    tensor.scalars.withUnsafeBufferPointer { source in
        scalars.withUnsafeMutableBufferPointer { target in
            guard let from = source.baseAddress, let to = target.baseAddress else { return }
            for (row, index) in indices.enumerated() {
                (to + row * size).update(from: from + index * size, count: size)
            }
        }
    }
    return Tensor(validShape: [indices.count] + tensor.shape.dropFirst(), scalars: scalars)
}

/// Another dataset's batches with a `Preprocessing` applied to their inputs: `x/255`,
/// `x/255 − 0.5`, or per-channel standardisation.
public struct PreprocessedDataset: Dataset {
    /// The dataset this one wraps.
    public private(set) var base: any Dataset
    /// The scaling applied to every batch's inputs, e.g. `.unitRange` (`x / 255`).
    public let preprocessing: Preprocessing
    /// `preprocessing`, for `fit`'s record of it.
    public var inputPreprocessing: Preprocessing? { preprocessing }

    /// - Throws: `ConvNetError.argument` when a standardisation's channel count differs from the
    ///   base's samples' last axis, or its deviations are not positive.
    public init(_ base: any Dataset, preprocessing: Preprocessing) throws {
        if case let .standardize(mean, deviation) = preprocessing {
            _ = try ChannelStatistics(mean: mean, standardDeviation: deviation)
            guard base.sampleShape.last == mean.count else {
                throw ConvNetError.argument("PreprocessedDataset: the standardisation has \(mean.count) channels, "
                                            + "samples have shape \(describe(shape: base.sampleShape))")
            }
        }
        self.base = base
        self.preprocessing = preprocessing
    }

    /// The number of samples.
    public var count: Int { base.count }
    /// One sample's shape, without the batch axis.
    public var sampleShape: [Int] { base.sampleShape }
    /// The base dataset's class names.
    public var classNames: [String] { base.classNames }

    /// The base's view for epoch `epoch`, preprocessed the same way.
    public func forEpoch(_ epoch: Int, seed: UInt64) -> any Dataset {
        var view = self
        view.base = base.forEpoch(epoch, seed: seed)
        return view
    }

    /// The samples at the given positions as one batch; `seed` drives any random augmentation.
    public func batch(at indices: [Int], seed: UInt64) throws -> Batch {
        var batch = try base.batch(at: indices, seed: seed)
        batch.inputs = try preprocessing.apply(batch.inputs)
        return batch
    }
}

extension Preprocessing {
    /// Per-channel standardisation with the statistics of `images` `(m, h, w, c)` (use the
    /// training images, and the result for every split).
    public static func standardization(of images: Tensor) throws -> Preprocessing {
        let statistics = try ChannelStatistics(of: images)
        return .standardize(mean: statistics.mean, standardDeviation: statistics.standardDeviation)
    }

    /// Per-channel standardisation with the statistics of `trainingSet`'s inputs, read batch by
    /// batch (see `ChannelStatistics.init(of:batchSize:)`), for datasets not held in one tensor.
    public static func standardization(of trainingSet: any Dataset) throws -> Preprocessing {
        let statistics = try ChannelStatistics(of: trainingSet)
        return .standardize(mean: statistics.mean, standardDeviation: statistics.standardDeviation)
    }

    /// The scaling named on a command line: `unit` (`x/255`), `centered` (`x/255 − 0.5`),
    /// `standardize` (per-channel statistics of `trainingSet`, which is read only for this one)
    /// or `none`.
    /// - Throws: `ConvNetError.argument` for another name.
    public init(named name: String, trainingSet: any Dataset) throws {
        switch name {
        case "unit", "unit-range", "x/255": self = .unitRange
        case "centered", "centered-unit-range", "x/255-0.5": self = .centeredUnitRange
        case "standardize", "standardise", "per-channel": self = try .standardization(of: trainingSet)
        case "none": self = .none
        default:
            throw ConvNetError.argument("preprocessing '\(name)': expected unit (x/255), centered (x/255 - 0.5), standardize (per-channel mean/std) or none")
        }
    }
}

extension Dataset {
    /// This dataset with `augmentations` applied to every batch (see `AugmentedDataset`).
    public func augmented(with augmentations: [Augmentation]) throws -> AugmentedDataset {
        try AugmentedDataset(self, augmentations: augmentations)
    }

    /// This dataset with `preprocessing` applied to every batch (see `PreprocessedDataset`).
    public func preprocessed(_ preprocessing: Preprocessing) throws -> PreprocessedDataset {
        try PreprocessedDataset(self, preprocessing: preprocessing)
    }
}

extension Dataset {
    /// Holds out the last `fraction` of the samples for validation, as `fit(validationSplit:)` and
    /// Keras do (before any shuffling): `⌊count · fraction⌋` samples.
    ///
    /// Use it to augment only the training part:
    ///
    ///     let (train, validation) = try raw.splitForValidation(fraction: 0.1)
    ///     try model.fit(train.augmented(with: augmentations).preprocessed(p),
    ///                   validationData: validation.preprocessed(p), ...)
    ///
    /// since `fit(validationSplit:)` on an augmented dataset would validate on augmented images too.
    /// - Throws: `ConvNetError.argument` unless `0 ≤ fraction < 1`.
    public func splitForValidation(fraction: Float) throws -> (train: DatasetSubset, validation: DatasetSubset) {
        guard fraction >= 0, fraction < 1 else {
            throw ConvNetError.argument("validation split must be in [0, 1), got \(fraction)")
        }
        let held = Int((Float(count) * fraction).rounded(.down))
        return (DatasetSubset(self, indices: Array(0..<(count - held))), DatasetSubset(self, indices: Array((count - held)..<count)))
    }
}
