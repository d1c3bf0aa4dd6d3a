import Foundation

extension Tensor {
    /// Pixel values `0...255` mapped to `[0, 1]`: `x / 255`, the usual Keras preprocessing.
    public func scaledToUnitRange() -> Tensor {
        self / 255
    }

    /// Pixel values `0...255` mapped to `[-0.5, 0.5]`: `x / 255 - 0.5`, the lecture notes' preprocessing,
    /// which centres the inputs without computing statistics.
    public func scaledToCenteredUnitRange() -> Tensor {
        self / 255 - 0.5
    }
}

/// Per-channel mean and standard deviation of a set of images, for the standardisation
/// `(x - mean_c) / std_c` (torchvision's `Normalize`, Keras's `Normalization(axis=-1)`).
///
/// Compute the statistics once from the training images and apply the same ones to every split, so
/// the validation and test data see exactly the transformation the model was trained with.
public struct ChannelStatistics: Sendable, Equatable {
    /// Mean of each channel (the last axis).
    public let mean: [Float]
    /// Population standard deviation (divisor n, as NumPy's default) of each channel.
    public let standardDeviation: [Float]

    /// Statistics given directly, e.g. published ones for a dataset.
    /// - Throws: `ConvNetError.argument` when the counts differ or a deviation is not positive.
    public init(mean: [Float], standardDeviation: [Float]) throws {
        guard mean.count == standardDeviation.count, !mean.isEmpty else {
            throw ConvNetError.argument("ChannelStatistics: \(mean.count) means but \(standardDeviation.count) standard deviations")
        }
        guard standardDeviation.allSatisfy({ $0 > 0 }) else {
            throw ConvNetError.argument("ChannelStatistics: standard deviations must be positive, got \(standardDeviation)")
        }
        self.mean = mean
        self.standardDeviation = standardDeviation
    }

    /// Measures `images`, any shape whose last axis is the channel axis, e.g. `(m, h, w, c)`.
    /// Sums are accumulated in `Double`, since a dataset has tens of millions of values per channel.
    /// A constant channel gets deviation `1e-7` (Keras's epsilon) instead of 0, so normalising
    /// does not divide by zero.
    /// - Throws: `ConvNetError.shape` for an empty tensor or one without a channel axis.
    public init(of images: Tensor) throws {
        try self.init(channels: images.shape.last ?? 0) { visit in try visit(images) }
    }

    /// Measures a dataset's inputs batch by batch, e.g. an `ImageFolderDataset` too large for
    /// memory (Keras's `Normalization.adapt(dataset)`). The dataset is read twice, once for the
    /// means and once for the deviations. The numbers equal `init(of:)` on all inputs at once: the
    /// `Double` sums run over the same values in the same order.
    /// - Throws: `ConvNetError.argument` for a batch size below 1; `ConvNetError.shape` for an
    ///   empty dataset; the dataset's own errors (e.g. a file that cannot be decoded).
    public init(of dataset: any Dataset, batchSize: Int = 256) throws {
        guard batchSize > 0 else { throw ConvNetError.argument("ChannelStatistics: batch size must be positive, got \(batchSize)") }
        try self.init(channels: dataset.sampleShape.last ?? 0) { visit in
            for start in stride(from: 0, to: dataset.count, by: batchSize) {
                try visit(dataset.batch(at: Array(start..<min(start + batchSize, dataset.count)), seed: 0).inputs)
            }
        }
    }

    /// The two passes shared by both measurements: `forEachChunk` hands every chunk of the data
    /// `(..., channels)` to its argument, in order, and is called twice.
    ///
    ///     mean_c = Σ x_c / n,   std_c = √(Σ (x_c − mean_c)² / n)
    ///
    /// Two passes (means first, then squared deviations) avoid the cancellation of E[x²] − E[x]².
    private init(channels: Int, measuring forEachChunk: ((Tensor) throws -> Void) throws -> Void) throws {
        var pixels = 0
        var sum = [Double](repeating: 0, count: max(channels, 0))
        try forEachChunk { chunk in
            try Self.checkChannels(of: chunk, channels: channels)
            pixels += chunk.count / channels
            chunk.scalars.withUnsafeBufferPointer { x in
                for pixel in 0..<(x.count / channels) {
                    for c in 0..<channels { sum[c] += Double(x[pixel * channels + c]) }
                }
            }
        }
        guard channels > 0, pixels > 0 else {
            throw ConvNetError.shape(op: "ChannelStatistics", message: "need at least one value per channel; the data is empty")
        }
        let mean = sum.map { $0 / Double(pixels) }
        var sumOfSquares = [Double](repeating: 0, count: channels)
        try forEachChunk { chunk in
            try Self.checkChannels(of: chunk, channels: channels)
            chunk.scalars.withUnsafeBufferPointer { x in
                for pixel in 0..<(x.count / channels) {
                    for c in 0..<channels {
                        let deviation = Double(x[pixel * channels + c]) - mean[c]
                        sumOfSquares[c] += deviation * deviation
                    }
                }
            }
        }
        self.mean = mean.map { Float($0) }
        self.standardDeviation = sumOfSquares.map { Swift.max(Float(($0 / Double(pixels)).squareRoot()), 1e-7) }
    }

    private static func checkChannels(of chunk: Tensor, channels: Int) throws {
        guard channels > 0, chunk.shape.last == channels else {
            throw ConvNetError.shape(op: "ChannelStatistics",
                                     message: "need data with a channel axis of \(channels), got \(describe(shape: chunk.shape))")
        }
    }

    /// `(x - mean_c) / std_c` for every element of channel `c` (the last axis). Preprocessing: the
    /// result is not recorded on a gradient tape.
    /// - Throws: `ConvNetError.shape` when the channel count differs from the statistics'.
    public func normalize(_ images: Tensor) throws -> Tensor {
        let channels = mean.count
        guard images.shape.last == channels else {
            throw ConvNetError.shape(op: "ChannelStatistics.normalize",
                                     message: "statistics are for \(channels) channels, images have shape \(describe(shape: images.shape))")
        }
        var scalars = images.scalars
        scalars.withUnsafeMutableBufferPointer { x in
            for pixel in 0..<(x.count / channels) {
                for c in 0..<channels {
                    x[pixel * channels + c] = (x[pixel * channels + c] - mean[c]) / standardDeviation[c]
                }
            }
        }
        return Tensor(validShape: images.shape, scalars: scalars)
    }
}
