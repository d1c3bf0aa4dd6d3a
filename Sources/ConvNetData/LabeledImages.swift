import ConvNetCore
/// A labelled image dataset held in memory, as the loaders in this folder return it.
///
/// - `images`: shape `(m, height, width, channels)` (NHWC, as Keras), raw pixel values `0...255`
///   stored as `Float`; scale them with `scaledToUnitRange()` or a `ChannelStatistics`.
/// - `labels`: `m` class indices, each in `0..<classNames.count`; `labels[i]` belongs to image `i`.
/// - `classNames`: the name of each class index, e.g. `"Ankle boot"` for Fashion-MNIST's 9.
public struct LabeledImages: Sendable {
    /// `(m, height, width, channels)`, raw pixel values `0...255` as `Float`.
    public let images: Tensor
    /// `m` class indices, each in `0..<classNames.count`; `labels[i]` belongs to image `i`.
    public let labels: [Int]
    /// The name of each class index; their count is the number of classes.
    public let classNames: [String]

    /// Checks that the parts agree: `images` is rank 4, there is one label per image, and every
    /// label indexes `classNames`.
    /// - Parameters:
    ///   - images: `(m, height, width, channels)`, raw pixel values.
    ///   - labels: One class index per image.
    ///   - classNames: The name of each class index; must not be empty.
    ///   - source: the file or folder the data came from, named in errors.
    /// - Throws: `ConvNetError.file(path: source, ...)` describing the first disagreement.
    public init(images: Tensor, labels: [Int], classNames: [String], source: String) throws {
        guard images.rank == 4 else {
            throw ConvNetError.file(path: source, message: "images must have shape (m, height, width, channels), got \(describe(shape: images.shape))")
        }
        guard images.shape[0] == labels.count else {
            throw ConvNetError.file(path: source, message: "\(images.shape[0]) images but \(labels.count) labels")
        }
        guard !classNames.isEmpty else {
            throw ConvNetError.file(path: source, message: "no class names")
        }
        try Self.validate(labels: labels, classCount: classNames.count, source: source)
        self.images = images
        self.labels = labels
        self.classNames = classNames
    }

    /// The number of images, `m`.
    public var count: Int { labels.count }

    /// `(height, width, channels)` of every image.
    public var imageShape: [Int] { Array(images.shape.dropFirst()) }

    /// Throws `ConvNetError.file(path: source, ...)` naming the first label outside `0..<classCount`.
    static func validate(labels: some Collection<Int>, classCount: Int, source: String) throws {
        if let index = labels.firstIndex(where: { !(0..<classCount).contains($0) }) {
            throw ConvNetError.file(path: source, message: "label \(labels[index]) of sample "
                                    + "\(labels.distance(from: labels.startIndex, to: index)) is out of range "
                                    + "for \(classCount) classes (expected 0...\(classCount - 1))")
        }
    }
}

/// Which part of a dataset with a fixed train/test division to load.
public enum DatasetSplit: String, Sendable, CaseIterable {
    /// The samples to train on.
    case train
    /// The held-out samples to measure generalisation on.
    case test
}

/// The number of samples to keep out of `available`: all of them, or the first `limit`.
/// - Throws: `ConvNetError.argument` for a negative limit.
func sampleCount(available: Int, limit: Int?) throws -> Int {
    guard let limit else { return available }
    guard limit >= 0 else {
        throw ConvNetError.argument("limit must be 0 or more, got \(limit)")
    }
    return min(limit, available)
}

extension LabeledImages {
    /// The labels one-hot encoded: shape `(m, classNames.count)`, row `i` is 1 at column `labels[i]`
    /// and 0 elsewhere, the targets of `softmaxCrossEntropy(logits:oneHotLabels:)`.
    public func oneHotLabels() -> Tensor {
        Tensor(validShape: [count, classNames.count], scalars: oneHotScalars(labels, classes: classNames.count))
    }
}
