import ConvNetCore

/// Zero padding of every image by the same number of pixels on each side, as LeCun et al. (1998)
/// padded MNIST's 28x28 digits to 32x32 for LeNet-5 (`--pad 2`): `(h, w, c) → (h + 2p, w + 2p, c)`.
///
/// The padding is added to the raw pixels (`0...255`, before preprocessing), so it is the value 0,
/// the background of MNIST-style images; the preprocessing then scales it like any other pixel.
public struct ImagePadding: Sendable, Equatable {
    /// Pixels added on each of the four sides, `p ≥ 0`.
    public let pixels: Int

    /// - Throws: `ConvNetError.argument` for a negative `pixels`.
    public init(pixels: Int) throws {
        guard pixels >= 0 else { throw ConvNetError.argument("--pad \(pixels): expected a number of pixels ≥ 0") }
        self.pixels = pixels
    }

    /// The size `(h − 2p, w − 2p)` an image must have to come out at `size` once padded.
    /// - Throws: `ConvNetError.argument` when `size` leaves no pixel for the image.
    public func innerSize(of size: (height: Int, width: Int)) throws -> (height: Int, width: Int) {
        let inner = (height: size.height - 2 * pixels, width: size.width - 2 * pixels)
        guard inner.height > 0, inner.width > 0 else {
            throw ConvNetError.argument("--pad \(pixels): the model's input \(size.height)x\(size.width) leaves no room for the image "
                                        + "(expected at most \((min(size.height, size.width) - 1) / 2))")
        }
        return inner
    }

    /// `images` padded: `(m, h, w, c) → (m, h + 2p, w + 2p, c)`, or one image `(h, w, c) → (h + 2p, w + 2p, c)`.
    /// - Throws: `ConvNetError.shape` for a tensor of another rank.
    public func apply(_ images: Tensor) throws -> Tensor {
        guard pixels > 0 else { return images }
        switch images.rank {
        case 4: return try zeroPad2d(images, top: pixels, bottom: pixels, left: pixels, right: pixels)
        case 3:
            let padded = try apply(images.reshaped(to: [1] + images.shape))
            return try padded.reshaped(to: Array(padded.shape.dropFirst()))
        default:
            throw ConvNetError.shape(op: "ImagePadding", message: "expected images (m, height, width, channels) or one image (height, width, channels), got \(describe(shape: images.shape))")
        }
    }

    /// The shape of a sample `(h, w, c)` once padded, `(h + 2p, w + 2p, c)`.
    public func paddedShape(of sampleShape: [Int]) -> [Int] {
        guard sampleShape.count == 3 else { return sampleShape }
        return [sampleShape[0] + 2 * pixels, sampleShape[1] + 2 * pixels, sampleShape[2]]
    }
}

/// Another dataset's images with `ImagePadding` applied to every batch, on raw pixels (wrap it
/// before `preprocessed(_:)`). Image folders read from disk batch by batch are padded this way too.
public struct ZeroPaddedDataset: Dataset {
    /// The dataset whose images are padded.
    public private(set) var base: any Dataset
    /// The padding added to every image.
    public let padding: ImagePadding

    /// - Throws: `ConvNetError.shape` unless the base's samples are images `(height, width, channels)`.
    public init(_ base: any Dataset, padding: ImagePadding) throws {
        guard base.sampleShape.count == 3 else {
            throw ConvNetError.shape(op: "--pad", message: "pads images (height, width, channels), but the samples have shape \(describe(shape: base.sampleShape))")
        }
        self.base = base
        self.padding = padding
    }

    /// The number of samples, the base's.
    public var count: Int { base.count }
    /// `(h + 2p, w + 2p, c)`.
    public var sampleShape: [Int] { padding.paddedShape(of: base.sampleShape) }
    /// The base's class names.
    public var classNames: [String] { base.classNames }

    /// The base's view for epoch `epoch`, padded the same way.
    public func forEpoch(_ epoch: Int, seed: UInt64) -> any Dataset {
        var view = self
        view.base = base.forEpoch(epoch, seed: seed)
        return view
    }

    /// The base's batch with every image padded: inputs `(indices.count, h + 2p, w + 2p, c)`.
    public func batch(at indices: [Int], seed: UInt64) throws -> Batch {
        var batch = try base.batch(at: indices, seed: seed)
        batch.inputs = try padding.apply(batch.inputs)
        return batch
    }
}

extension LabeledImages {
    /// These images padded by `padding` (`(m, h + 2p, w + 2p, c)`), with the same labels.
    /// - Parameter source: the file or folder the data came from, named in errors.
    public func padded(_ padding: ImagePadding, source: String) throws -> LabeledImages {
        guard padding.pixels > 0 else { return self }
        return try LabeledImages(images: padding.apply(images), labels: labels, classNames: classNames, source: source)
    }
}
