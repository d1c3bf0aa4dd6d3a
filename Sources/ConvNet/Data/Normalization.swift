import Foundation

extension Tensor {
    /// Pixel values `0...255` mapped to `[0, 1]`: `x / 255`, the usual Keras preprocessing.
    public func scaledToUnitRange() -> Tensor {
        self / 255
    }

    /// Pixel values `0...255` mapped to `[-0.5, 0.5]`: `x / 255 - 0.5`, deck 001's preprocessing,
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
    public init(of images: Tensor) throws {
        guard let channels = images.shape.last, channels > 0, images.count > 0 else {
            throw ConvNetError.shape(op: "ChannelStatistics", message: "need a non-empty tensor with a channel axis, got \(describe(shape: images.shape))")
        }
        let pixels = images.count / channels
        var sum = [Double](repeating: 0, count: channels)
        var sumOfSquares = [Double](repeating: 0, count: channels)
        images.scalars.withUnsafeBufferPointer { x in
            for pixel in 0..<pixels {
                for c in 0..<channels { sum[c] += Double(x[pixel * channels + c]) }
            }
        }
        let mean = sum.map { $0 / Double(pixels) }
        // Two passes (mean first, then squared deviations) avoid the cancellation of E[x²] − E[x]².
        images.scalars.withUnsafeBufferPointer { x in
            for pixel in 0..<pixels {
                for c in 0..<channels {
                    let deviation = Double(x[pixel * channels + c]) - mean[c]
                    sumOfSquares[c] += deviation * deviation
                }
            }
        }
        self.mean = mean.map { Float($0) }
        self.standardDeviation = sumOfSquares.map { Swift.max(Float(($0 / Double(pixels)).squareRoot()), 1e-7) }
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

extension LabeledImages {
    /// The labels one-hot encoded: shape `(m, classNames.count)`, row `i` is 1 at column `labels[i]`
    /// and 0 elsewhere, the targets of `softmaxCrossEntropy(logits:oneHotLabels:)`.
    public func oneHotLabels() -> Tensor {
        Tensor(validShape: [count, classNames.count], scalars: oneHotScalars(labels, classes: classNames.count))
    }
}
