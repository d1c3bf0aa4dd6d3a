import ConvNetCore
import Foundation

/// A random transformation of training images, drawn afresh for every sample of every batch.
///
/// Augmentations act on one image `(height, width, channels)` at a time; a list of them is applied
/// in order by `AugmentedDataset`. Pixels that a crop or translation brings in from outside the
/// image are 0 (black, when augmenting raw pixels before preprocessing, as the pipeline does).
public enum Augmentation: Sendable, Equatable, CustomStringConvertible {
    /// Mirrors the image left–right with probability `probability` (Keras `RandomFlip("horizontal")`,
    /// torchvision `RandomHorizontalFlip`).
    case horizontalFlip(probability: Float = 0.5)
    /// Pads `padding` zero pixels on every side, then cuts out a `height × width` window at a
    /// uniformly random position (torchvision `RandomCrop(size, padding)`); `nil` sizes keep the
    /// input's. With the input's size this is a random shift by up to `padding` pixels, the
    /// augmentation of the CIFAR-10 ResNets (pad 4, crop 32×32).
    case randomCrop(padding: Int, height: Int? = nil, width: Int? = nil)
    /// Shifts the image by whole pixels, independently uniform in `-maxShift...maxShift` down and
    /// right, filling with zeros (Keras `RandomTranslation` with `fill_mode="constant"`).
    case translation(maxShift: Int)

    /// A one-line, human-readable form.
    public var description: String {
        switch self {
        case let .horizontalFlip(probability): return "flip:\(probability)"
        case let .randomCrop(padding, height, width):
            if let height, let width { return "crop:\(padding):\(height)x\(width)" }
            return "crop:\(padding)"
        case let .translation(maxShift): return "translate:\(maxShift)"
        }
    }

    /// The shape `(height, width, channels)` this augmentation makes of an image of shape `input`.
    /// - Throws: `ConvNetError.argument` for a parameter out of range or a crop larger than the
    ///   padded image.
    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 3, input.allSatisfy({ $0 > 0 }) else {
            throw ConvNetError.argument("augmentation \(self): expects images (height, width, channels), got \(describe(shape: input))")
        }
        switch self {
        case let .horizontalFlip(probability):
            guard (0...1).contains(probability) else {
                throw ConvNetError.argument("augmentation \(self): the flip probability must be in [0, 1], got \(probability)")
            }
            return input
        case let .randomCrop(padding, height, width):
            let (outHeight, outWidth) = (height ?? input[0], width ?? input[1])
            guard padding >= 0, outHeight > 0, outWidth > 0,
                  outHeight <= input[0] + 2 * padding, outWidth <= input[1] + 2 * padding else {
                throw ConvNetError.argument("augmentation \(self): a \(outHeight)×\(outWidth) crop needs padding ≥ 0 and must fit the "
                                            + "\(input[0] + 2 * max(padding, 0))×\(input[1] + 2 * max(padding, 0)) padded image")
            }
            return [outHeight, outWidth, input[2]]
        case let .translation(maxShift):
            guard maxShift >= 0 else {
                throw ConvNetError.argument("augmentation \(self): the largest shift must not be negative, got \(maxShift)")
            }
            return input
        }
    }

    /// Applies the augmentation to one image with draws from `generator`.
    /// - Parameters:
    ///   - image: `shape.reduce(1, *)` pixels of an image `(height, width, channels)`.
    ///   - shape: the image's shape, already validated by `outputShape(for:)`.
    /// - Returns: the new pixels, of shape `outputShape(for: shape)`.
    func apply(to image: [Float], shape: [Int], generator: inout RandomGenerator) -> [Float] {
        switch self {
        case let .horizontalFlip(probability):
            // Always draw, so the draws that follow do not depend on the outcome.
            let flip = generator.nextUniform() < probability
            return flip ? ImageWindow.flippedHorizontally(image, shape: shape) : image
        case let .randomCrop(padding, height, width):
            let (outHeight, outWidth) = (height ?? shape[0], width ?? shape[1])
            let top = generator.nextInt(through: shape[0] + 2 * padding - outHeight) - padding
            let left = generator.nextInt(through: shape[1] + 2 * padding - outWidth) - padding
            return ImageWindow.window(image, shape: shape, top: top, left: left, height: outHeight, width: outWidth)
        case let .translation(maxShift):
            let down = generator.nextInt(through: 2 * maxShift) - maxShift
            let right = generator.nextInt(through: 2 * maxShift) - maxShift
            return ImageWindow.window(image, shape: shape, top: -down, left: -right, height: shape[0], width: shape[1])
        }
    }

    /// Parses a comma-separated list such as `flip,crop:4,translate:2`:
    /// `flip[:P]` (probability, default 0.5), `crop:PAD[:HxW]`, `translate:N`.
    /// - Throws: `ConvNetError.argument` quoting the item that is not understood.
    public static func parseList(_ text: String) throws -> [Augmentation] {
        try text.split(separator: ",").map { item in
            let parts = item.trimmingCharacters(in: .whitespaces).split(separator: ":").map(String.init)
            let bad = ConvNetError.argument("augmentation '\(item)': expected flip[:P], crop:PAD[:HxW] or translate:N")
            switch (parts.first, parts.count) {
            case ("flip", 1): return .horizontalFlip()
            case ("flip", 2): return .horizontalFlip(probability: try Float(parts[1]).orThrow(bad))
            case ("crop", 2): return .randomCrop(padding: try Int(parts[1]).orThrow(bad))
            case ("crop", 3):
                let size = parts[2].lowercased().split(separator: "x").compactMap { Int($0) }
                guard size.count == 2 else { throw bad }
                return .randomCrop(padding: try Int(parts[1]).orThrow(bad), height: size[0], width: size[1])
            case ("translate", 2): return .translation(maxShift: try Int(parts[1]).orThrow(bad))
            default: throw bad
            }
        }
    }

    /// The usual choice for images of shape `(height, width, channels)`: for colour images a
    /// horizontal flip and a random crop with `⌈height / 8⌉` pixels of padding (4 for 32×32, as for
    /// CIFAR-10); for gray images a translation by up to `⌈height / 14⌉` pixels (2 for 28×28) and no
    /// flip, since mirrored digits and letters are different symbols.
    public static func standard(forImageShape shape: [Int]) -> [Augmentation] {
        let height = shape.first ?? 0
        if shape.last == 3 {
            return [.horizontalFlip(), .randomCrop(padding: max(1, (height + 7) / 8))]
        }
        return [.translation(maxShift: max(1, (height + 13) / 14))]
    }
}

extension Optional {
    /// The wrapped value, or `error` thrown.
    fileprivate func orThrow(_ error: ConvNetError) throws -> Wrapped {
        guard let value = self else { throw error }
        return value
    }
}

/// A dataset whose batches are another dataset's with random augmentations applied, sample by
/// sample, inside `batch(at:seed:)`.
///
/// The draws for the sample at dataset index `i` come from a generator seeded with a hash of
/// `(seed, i)`, so a batch depends only on its indices and seed: it is the same whichever thread
/// prepares it and whenever, and the training loop's per-step seeds give every epoch new draws.
/// The struct holds no mutable state, so concurrent calls are safe.
public struct AugmentedDataset: Dataset {
    /// The dataset this one wraps.
    public let base: any Dataset
    /// The augmentations, applied to each sample in this order (each draws its own random numbers).
    public let augmentations: [Augmentation]
    /// The shape of every augmented sample (a crop may change the height and width).
    public let sampleShape: [Int]
    /// Each augmentation's input shape, in order.
    private let stageShapes: [[Int]]

    /// - Throws: `ConvNetError.argument` when the base's samples are not images
    ///   `(height, width, channels)` or an augmentation does not fit them.
    public init(_ base: any Dataset, augmentations: [Augmentation]) throws {
        var shape = base.sampleShape
        var stages: [[Int]] = []
        for augmentation in augmentations {
            stages.append(shape)
            shape = try augmentation.outputShape(for: shape)
        }
        self.base = base
        self.augmentations = augmentations
        self.sampleShape = shape
        self.stageShapes = stages
    }

    /// The number of samples.
    public var count: Int { base.count }
    /// The base dataset's class names.
    public var classNames: [String] { base.classNames }
    /// The base dataset's preprocessing.
    public var inputPreprocessing: Preprocessing? { base.inputPreprocessing }

    /// The base's batch with every sample augmented.
    /// - Returns: inputs `(indices.count) + sampleShape`.
    public func batch(at indices: [Int], seed: UInt64) throws -> Batch {
        // The base gets a seed of its own, so its randomness (if any) is not ours.
        let batch = try base.batch(at: indices, seed: mixSeed(seed, 0xBA5E))
        if augmentations.isEmpty { return batch }
        let inputSize = base.sampleShape.reduce(1, *), outputSize = sampleShape.reduce(1, *)
        guard batch.inputs.shape == [indices.count] + base.sampleShape else {
            throw ConvNetError.shape(op: "AugmentedDataset", message: "the base dataset returned inputs \(describe(shape: batch.inputs.shape)) "
                                     + "for \(indices.count) samples of shape \(describe(shape: base.sampleShape))")
        }
        var output = [Float]()
        output.reserveCapacity(indices.count * outputSize)
        for (row, index) in indices.enumerated() {
            var generator = RandomGenerator(seed: mixSeed(seed, UInt64(bitPattern: Int64(index))))
            var image = Array(batch.inputs.scalars[(row * inputSize)..<((row + 1) * inputSize)])
            for (augmentation, shape) in zip(augmentations, stageShapes) {
                image = augmentation.apply(to: image, shape: shape, generator: &generator)
            }
            output += image
        }
        return Batch(inputs: Tensor(validShape: [indices.count] + sampleShape, scalars: output), labels: batch.labels)
    }
}

/// A 64-bit hash of two values (SplitMix64's finaliser over a combination), for deriving
/// independent generator seeds: seeds that differ by one give unrelated streams.
func mixSeed(_ a: UInt64, _ b: UInt64) -> UInt64 {
    func finalize(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    return finalize(a &+ 0x9E37_79B9_7F4A_7C15 &* (finalize(b &+ 0x632B_E59B_D9B4_E019) | 1))
}

extension RandomGenerator {
    /// Uniform in `0...upperBound` (`upperBound ≥ 0`). The modulo bias is below 2⁻⁵⁰ for the
    /// small bounds augmentations use, and the result is the same on every platform.
    mutating func nextInt(through upperBound: Int) -> Int {
        Int(next() % UInt64(upperBound + 1))
    }
}

/// Geometric copies of images `(height, width, channels)` stored row-major.
enum ImageWindow {
    /// The image mirrored left–right: column `x` becomes column `width − 1 − x`.
    static func flippedHorizontally(_ image: [Float], shape: [Int]) -> [Float] {
        let (height, width, channels) = (shape[0], shape[1], shape[2])
        var output = [Float](repeating: 0, count: image.count)
        for y in 0..<height {
            for x in 0..<width {
                let from = (y * width + x) * channels, to = (y * width + width - 1 - x) * channels
                for c in 0..<channels { output[to + c] = image[from + c] }
            }
        }
        return output
    }

    /// The `height × width` window whose top-left corner is input pixel `(top, left)` (which may be
    /// outside the image): output pixel `(y, x)` is input pixel `(top + y, left + x)`, or 0 where
    /// that is outside.
    static func window(_ image: [Float], shape: [Int], top: Int, left: Int, height: Int, width: Int) -> [Float] {
        let (inHeight, inWidth, channels) = (shape[0], shape[1], shape[2])
        var output = [Float](repeating: 0, count: height * width * channels)
        // Output columns whose source column is inside the image: a contiguous run per row.
        let firstX = max(0, -left), endX = min(width, inWidth - left)
        guard firstX < endX else { return output }
        let run = (endX - firstX) * channels
        image.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                guard let from = source.baseAddress, let to = target.baseAddress else { return }
                for y in max(0, -top)..<max(max(0, -top), min(height, inHeight - top)) {
                    (to + (y * width + firstX) * channels)
                        .update(from: from + ((top + y) * inWidth + left + firstX) * channels, count: run)
                }
            }
        }
        return output
    }
}

extension Tensor {
    /// Every image of `(h, w, c)` or `(m, h, w, c)` mirrored left–right (column `x` becomes
    /// `w − 1 − x`). Preprocessing: not recorded on a gradient tape.
    /// - Throws: `ConvNetError.shape` for another rank.
    public func flippedHorizontally() throws -> Tensor {
        try mapImages(op: "flippedHorizontally", outputSize: nil) { image, shape in
            ImageWindow.flippedHorizontally(image, shape: shape)
        }
    }

    /// Every image of `(h, w, c)` or `(m, h, w, c)` shifted `down` rows and `right` columns (negative
    /// values shift up and left), with zeros filling the uncovered pixels: output pixel `(y, x)` is
    /// input pixel `(y − down, x − right)`. The shape is unchanged.
    /// - Throws: `ConvNetError.shape` for another rank.
    public func translated(down: Int, right: Int) throws -> Tensor {
        try mapImages(op: "translated", outputSize: nil) { image, shape in
            ImageWindow.window(image, shape: shape, top: -down, left: -right, height: shape[0], width: shape[1])
        }
    }

    /// Every image of `(h, w, c)` or `(m, h, w, c)` cut to the `height × width` window whose
    /// top-left corner is pixel `(top, left)`; the window may reach outside the image, where it
    /// reads zeros (so `top = left = −p` and size `h + 2p` pads by `p`).
    /// - Returns: `(height, width, c)` or `(m, height, width, c)`.
    /// - Throws: `ConvNetError.shape` for another rank or a size below 1×1.
    public func cropped(top: Int, left: Int, height: Int, width: Int) throws -> Tensor {
        guard height > 0, width > 0 else {
            throw ConvNetError.shape(op: "cropped", message: "the window must be at least 1×1, got \(height)×\(width)")
        }
        return try mapImages(op: "cropped", outputSize: (height, width)) { image, shape in
            ImageWindow.window(image, shape: shape, top: top, left: left, height: height, width: width)
        }
    }

    /// Applies `transform` to each image `(h, w, c)` of this image or batch; the results are
    /// `outputSize` (height, width), or the input's size when `nil`.
    private func mapImages(op: String, outputSize: (height: Int, width: Int)?,
                           _ transform: ([Float], [Int]) -> [Float]) throws -> Tensor {
        guard rank == 3 || rank == 4 else {
            throw ConvNetError.shape(op: op, message: "expected (h, w, c) or (m, h, w, c), got \(describe(shape: shape))")
        }
        let imageShape = Array(shape.suffix(3)), images = rank == 4 ? shape[0] : 1
        let size = imageShape.reduce(1, *)
        let outputShape = [outputSize?.height ?? imageShape[0], outputSize?.width ?? imageShape[1], imageShape[2]]
        var output: [Float] = []
        output.reserveCapacity(images * outputShape.reduce(1, *))
        for index in 0..<images {
            output += transform(Array(scalars[(index * size)..<((index + 1) * size)]), imageShape)
        }
        return Tensor(validShape: (rank == 4 ? [images] : []) + outputShape, scalars: output)
    }
}
