import ConvNetCore
import Foundation

/// A random transformation of training images, drawn afresh for every sample of every batch.
///
/// Augmentations act on one image `(height, width, channels)` at a time; a list of them is applied
/// in order by `AugmentedDataset`. Pixels that a crop or translation brings in from outside the
/// image are 0 (black, when augmenting raw pixels before preprocessing, as the pipeline does), or
/// the image mirrored about its edge for a translation with `FillMode.mirror`.
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
    /// right, filling with zeros (Keras `RandomTranslation` with `fill_mode="constant"`) or the
    /// mirrored image (`.mirror`: Keras `fill_mode="mirror"`, numpy/PyTorch `reflect` padding).
    case translation(maxShift: Int, fill: FillMode = .constant)
    /// The "alternating flip" of Jordan's airbench (arXiv 2404.00498): a random half of the images
    /// (fixed for the run by the training seed) is mirrored in odd epochs (1, 3, ...) and the other
    /// half in even epochs, so every image is seen both ways in every two epochs, unlike
    /// independent flips. Needs the epoch: `fit` passes it through `Dataset.forEpoch`.
    case alternatingFlip

    /// A one-line, human-readable form.
    public var description: String {
        switch self {
        case let .horizontalFlip(probability): return "flip:\(probability)"
        case let .randomCrop(padding, height, width):
            if let height, let width { return "crop:\(padding):\(height)x\(width)" }
            return "crop:\(padding)"
        case let .translation(maxShift, fill): return fill == .constant ? "translate:\(maxShift)" : "translate:\(maxShift):\(fill.rawValue)"
        case .alternatingFlip: return "alternating-flip"
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
        case .alternatingFlip:
            return input
        case let .translation(maxShift, _):
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
    ///   - sample: the epoch (from 1) and a seed fixed for this sample over the whole run.
    /// - Returns: the new pixels, of shape `outputShape(for: shape)`.
    func apply(to image: [Float], shape: [Int], generator: inout RandomGenerator, sample: SampleEpoch) -> [Float] {
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
        case let .translation(maxShift, fill):
            let down = generator.nextInt(through: 2 * maxShift) - maxShift
            let right = generator.nextInt(through: 2 * maxShift) - maxShift
            return ImageWindow.window(image, shape: shape, top: -down, left: -right, height: shape[0], width: shape[1], fill: fill)
        case .alternatingFlip:
            var fixed = RandomGenerator(seed: sample.runSeed)
            let flippedInOddEpochs = fixed.nextUniform() < 0.5
            return flippedInOddEpochs == (sample.epoch % 2 == 1) ? ImageWindow.flippedHorizontally(image, shape: shape) : image
        }
    }

    /// Parses a comma-separated list such as `flip,crop:4,translate:2`:
    /// `flip[:P]` (probability, default 0.5), `crop:PAD[:HxW]`, `translate:N[:constant|mirror]`,
    /// `alternating-flip`.
    /// - Throws: `ConvNetError.argument` quoting the item that is not understood.
    public static func parseList(_ text: String) throws -> [Augmentation] {
        try text.split(separator: ",").map { item in
            let parts = item.trimmingCharacters(in: .whitespaces).split(separator: ":").map(String.init)
            let bad = ConvNetError.argument("augmentation '\(item)': expected flip[:P], crop:PAD[:HxW], translate:N[:constant|mirror] or alternating-flip")
            switch (parts.first, parts.count) {
            case ("flip", 1): return .horizontalFlip()
            case ("flip", 2): return .horizontalFlip(probability: try Float(parts[1]).orThrow(bad))
            case ("crop", 2): return .randomCrop(padding: try Int(parts[1]).orThrow(bad))
            case ("crop", 3):
                let size = parts[2].lowercased().split(separator: "x").compactMap { Int($0) }
                guard size.count == 2 else { throw bad }
                return .randomCrop(padding: try Int(parts[1]).orThrow(bad), height: size[0], width: size[1])
            case ("translate", 2): return .translation(maxShift: try Int(parts[1]).orThrow(bad))
            case ("translate", 3): return .translation(maxShift: try Int(parts[1]).orThrow(bad), fill: try FillMode(rawValue: parts[2]).orThrow(bad))
            case ("alternating-flip", 1): return .alternatingFlip
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
    public private(set) var base: any Dataset
    /// The augmentations, applied to each sample in this order (each draws its own random numbers).
    public let augmentations: [Augmentation]
    /// The shape of every augmented sample (a crop may change the height and width).
    public let sampleShape: [Int]
    /// Each augmentation's input shape, in order.
    private let stageShapes: [[Int]]
    /// The epoch (from 1) whose batches this view makes, for epoch-dependent augmentations.
    public private(set) var epoch = 1
    /// The training run's seed, which fixes per-sample choices that last the whole run.
    public private(set) var runSeed: UInt64 = 0

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

    /// This dataset as epoch `epoch` of the run seeded `seed` sees it (the base's view likewise).
    public func forEpoch(_ epoch: Int, seed: UInt64) -> any Dataset {
        var view = self
        (view.epoch, view.runSeed) = (epoch, seed)
        view.base = base.forEpoch(epoch, seed: seed)
        return view
    }

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
            let key = UInt64(bitPattern: Int64(index))
            var generator = RandomGenerator(seed: mixSeed(seed, key))
            let sample = SampleEpoch(epoch: epoch, runSeed: mixSeed(runSeed ^ 0xA17E_F11B, key))
            var image = Array(batch.inputs.scalars[(row * inputSize)..<((row + 1) * inputSize)])
            for (augmentation, shape) in zip(augmentations, stageShapes) {
                image = augmentation.apply(to: image, shape: shape, generator: &generator, sample: sample)
            }
            output += image
        }
        return Batch(inputs: Tensor(validShape: [indices.count] + sampleShape, scalars: output), labels: batch.labels)
    }
}

/// What an augmentation knows about the sample beyond its pixels: the epoch (from 1) and a seed
/// fixed for this sample over the whole run.
struct SampleEpoch {
    let epoch: Int
    let runSeed: UInt64
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
