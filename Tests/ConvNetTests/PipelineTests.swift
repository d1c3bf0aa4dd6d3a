import ConvNet
import Dispatch
import Foundation
import Testing

/// `m` images `(height, width, channels)` whose pixel `(i, y, x, c)` is `1000 i + 100 c + 10 y + x`:
/// every value tells where it came from.
private func coordinateImages(_ m: Int, height: Int, width: Int, channels: Int) throws -> Tensor {
    var scalars: [Float] = []
    for i in 0..<m { for y in 0..<height { for x in 0..<width { for c in 0..<channels {
        scalars.append(Float(1000 * i + 100 * c + 10 * y + x))
    } } } }
    return try Tensor(shape: [m, height, width, channels], scalars: scalars)
}

/// One image `(1, size, size, 1)` that is 0 except for a 1 at `(y, x)`.
private func dotImage(size: Int, y: Int, x: Int) throws -> Tensor {
    var scalars = [Float](repeating: 0, count: size * size)
    scalars[y * size + x] = 1
    return try Tensor(shape: [1, size, size, 1], scalars: scalars)
}

/// The image at row `row` of a batch, as `(h, w, c)`.
private func row(_ batch: Tensor, _ row: Int) throws -> Tensor {
    let size = batch.count / batch.shape[0]
    return try Tensor(shape: Array(batch.shape.dropFirst()), scalars: Array(batch.scalars[(row * size)..<((row + 1) * size)]))
}

@Suite("Pipeline: LabeledImages as a dataset, preprocessing per batch")
struct PipelinePreprocessingTests {
    let data: LabeledImages

    init() throws {
        data = try LabeledImages(images: coordinateImages(4, height: 2, width: 3, channels: 2) / 10,
                                 labels: [1, 0, 2, 1], classNames: ["a", "b", "c"], source: "memory")
    }

    @Test("batches gather raw pixels and labels at the indices, in index order")
    func rawBatches() throws {
        let batch = try data.batch(at: [2, 0, 2], seed: 7)
        #expect(batch.inputs.shape == [3, 2, 3, 2])
        #expect(batch.labels == [2, 1, 2])
        #expect(try row(batch.inputs, 0).scalars == (try row(data.images, 2)).scalars)
        #expect(try row(batch.inputs, 1).scalars == (try row(data.images, 0)).scalars)
        #expect(data.sampleShape == [2, 3, 2])
        #expect(throws: ConvNetError.self) { try data.batch(at: [4], seed: 0) }
    }

    @Test("x/255 and x/255 - 0.5 are applied per batch; the loaded data stays raw")
    func scaling() throws {
        let unit = try data.dataset(preprocessing: .unitRange).batch(at: [1, 3], seed: 0)
        let raw = try data.batch(at: [1, 3], seed: 0)
        #expect(unit.inputs.scalars == raw.inputs.scalars.map { $0 / 255 })
        let centered = try data.preprocessed(.centeredUnitRange).batch(at: [1, 3], seed: 0)
        #expect(centered.inputs.scalars == raw.inputs.scalars.map { $0 / 255 - 0.5 })
        #expect(data.images.scalars.max() == 311.2)  // unchanged: (1000·3 + 100·1 + 10·1 + 2) / 10
    }

    @Test("per-channel standardisation with training statistics gives mean 0 and deviation 1 per channel")
    func standardization() throws {
        let preprocessing = try Preprocessing.standardization(of: data.images)
        let all = try data.preprocessed(preprocessing).batch(at: Array(0..<4), seed: 0).inputs
        let statistics = try ChannelStatistics(of: all)
        for channel in 0..<2 {
            #expect(abs(statistics.mean[channel]) < 1e-5)
            #expect(abs(statistics.standardDeviation[channel] - 1) < 1e-5)
        }
        // The named one reads the dataset batch by batch: the same numbers, bit for bit.
        let named = try Preprocessing(named: "standardize", trainingSet: data)
        #expect(named == preprocessing)
        #expect(try Preprocessing(named: "unit", trainingSet: data) == .unitRange)
        #expect(throws: ConvNetError.self) { try Preprocessing(named: "zscore", trainingSet: data) }
        // Statistics for 3 channels do not fit 2-channel images.
        #expect(throws: ConvNetError.self) {
            try data.preprocessed(.standardize(mean: [0, 0, 0], standardDeviation: [1, 1, 1]))
        }
    }

    @Test("statistics read batch by batch equal those of the whole tensor, bit for bit")
    func batchedStatistics() throws {
        var generator = RandomGenerator(seed: 7)
        let images = try Tensor(shape: [37, 3, 2, 3], scalars: (0..<(37 * 18)).map { _ in Float.random(in: 0...255, using: &generator) })
        let whole = try ChannelStatistics(of: images)
        let dataset = try TensorDataset(inputs: images, labels: [Int](repeating: 0, count: 37))
        for batchSize in [1, 5, 36, 37, 100] {
            #expect(try ChannelStatistics(of: dataset, batchSize: batchSize) == whole)
        }
        #expect(throws: ConvNetError.self) { try ChannelStatistics(of: dataset, batchSize: 0) }
        let empty = try TensorDataset(inputs: Tensor(shape: [0, 2, 2, 3], scalars: []), labels: [])
        #expect(throws: ConvNetError.self) { try ChannelStatistics(of: empty) }
    }

    @Test("splitForValidation holds out the last fraction, as fit does")
    func split() throws {
        let (train, validation) = try data.splitForValidation(fraction: 0.25)
        #expect(train.indices == [0, 1, 2])
        #expect(validation.indices == [3])
        #expect(throws: ConvNetError.self) { try data.splitForValidation(fraction: 1) }
    }
}

@Suite("Pipeline: augmentation")
struct PipelineAugmentationTests {
    @Test("flipping mirrors every row exactly")
    func flip() throws {
        let images = try coordinateImages(2, height: 3, width: 4, channels: 2)
        let flipped = try images.flippedHorizontally()
        #expect(flipped.shape == images.shape)
        for i in 0..<2 { for y in 0..<3 { for x in 0..<4 { for c in 0..<2 {
            #expect(flipped.scalars[((i * 3 + y) * 4 + x) * 2 + c] == Float(1000 * i + 100 * c + 10 * y + (3 - x)))
        } } } }
        #expect(try flipped.flippedHorizontally() == images)
        // Inside a dataset: probability 1 always flips, 0 never does.
        let data = try TensorDataset(inputs: images, labels: [0, 1])
        #expect(try data.augmented(with: [.horizontalFlip(probability: 1)]).batch(at: [0, 1], seed: 3).inputs == flipped)
        #expect(try data.augmented(with: [.horizontalFlip(probability: 0)]).batch(at: [0, 1], seed: 3).inputs == images)
    }

    @Test("translation and cropping move a known pixel where expected, filling with zeros")
    func fixedWindows() throws {
        let image = try dotImage(size: 5, y: 1, x: 3)
        #expect(try image.translated(down: 2, right: -3) == dotImage(size: 5, y: 3, x: 0))
        #expect(try image.translated(down: 0, right: 2).scalars.allSatisfy { $0 == 0 })  // moved out of the image
        // Padding 2 on every side: the dot moves by the padding.
        let padded = try image.cropped(top: -2, left: -2, height: 9, width: 9)
        #expect(padded == (try dotImage(size: 9, y: 3, x: 5)))
        let inner = try image.cropped(top: 1, left: 2, height: 2, width: 2)
        #expect(inner.shape == [1, 2, 2, 1])
        #expect(inner.scalars == [0, 1, 0, 0])
    }

    @Test("random crop with padding: the image is shifted by up to the padding, and every shift occurs")
    func randomCrop() throws {
        let image = try dotImage(size: 8, y: 4, x: 3)
        let data = try TensorDataset(inputs: image, labels: [0]).augmented(with: [.randomCrop(padding: 2)])
        #expect(data.sampleShape == [8, 8, 1])
        var shifts = Set<[Int]>()
        for seed in 0..<400 {
            let output = try data.batch(at: [0], seed: UInt64(seed)).inputs
            guard let position = output.scalars.firstIndex(of: 1) else {
                Issue.record("seed \(seed): the dot left the image, but a shift of ≤ 2 keeps it inside")
                continue
            }
            let (down, right) = (position / 8 - 4, position % 8 - 3)
            #expect(abs(down) <= 2 && abs(right) <= 2)
            #expect(output == (try image.translated(down: down, right: right)))
            shifts.insert([down, right])
        }
        #expect(shifts.count == 25)
    }

    @Test("random crop to a smaller size takes a window inside the padded image")
    func smallerCrop() throws {
        let images = try coordinateImages(1, height: 6, width: 6, channels: 1)
        let data = try TensorDataset(inputs: images, labels: [0]).augmented(with: [.randomCrop(padding: 0, height: 4, width: 3)])
        #expect(data.sampleShape == [4, 3, 1])
        var corners = Set<Float>()
        for seed in 0..<200 {
            let output = try data.batch(at: [0], seed: UInt64(seed)).inputs
            #expect(output.shape == [1, 4, 3, 1])
            let corner = output.scalars[0]  // 10 top + left
            let (top, left) = (Int(corner) / 10, Int(corner) % 10)
            #expect(output == (try images.cropped(top: top, left: left, height: 4, width: 3)))
            corners.insert(corner)
        }
        #expect(corners.count == 3 * 4)  // top 0...2, left 0...3
    }

    @Test("random translation shifts by up to N pixels with zero fill")
    func randomTranslation() throws {
        let image = try dotImage(size: 7, y: 3, x: 3)
        let data = try TensorDataset(inputs: image, labels: [0]).augmented(with: [.translation(maxShift: 1)])
        var shifts = Set<[Int]>()
        for seed in 0..<200 {
            let output = try data.batch(at: [0], seed: UInt64(seed)).inputs
            let position = try #require(output.scalars.firstIndex(of: 1))
            let (down, right) = (position / 7 - 3, position % 7 - 3)
            #expect(output.scalars.reduce(0, +) == 1)
            shifts.insert([down, right])
        }
        #expect(shifts == Set((-1...1).flatMap { d in (-1...1).map { [d, $0] } }))
    }

    @Test("a fixed seed reproduces a batch; samples do not depend on the rest of the batch")
    func reproducible() throws {
        let images = try coordinateImages(6, height: 8, width: 8, channels: 3)
        let data = try TensorDataset(inputs: images, labels: [0, 1, 2, 0, 1, 2])
            .augmented(with: [.horizontalFlip(), .randomCrop(padding: 3), .translation(maxShift: 2)])
        let first = try data.batch(at: [5, 1, 3], seed: 42)
        #expect(try data.batch(at: [5, 1, 3], seed: 42).inputs == first.inputs)
        #expect(first.labels == [2, 1, 0])
        #expect(try data.batch(at: [5, 1, 3], seed: 43).inputs != first.inputs)
        let alone = try data.batch(at: [1], seed: 42).inputs
        #expect(try row(first.inputs, 1) == (try row(alone, 0)))
    }

    @Test("concurrent batch production gives the same batches as sequential production")
    func threadSafe() throws {
        let images = try coordinateImages(16, height: 8, width: 8, channels: 3)
        let data = try TensorDataset(inputs: images, labels: Array(repeating: 0, count: 16))
            .augmented(with: [.horizontalFlip(), .randomCrop(padding: 2)])
            .preprocessed(.unitRange)
        let sequential = try (0..<8).map { try data.batch(at: Array(0..<16), seed: UInt64($0)).inputs }
        let concurrent = Locked<[Int: Tensor]>([:])
        DispatchQueue.concurrentPerform(iterations: 8) { seed in
            let batch = try? data.batch(at: Array(0..<16), seed: UInt64(seed)).inputs
            concurrent.withLock { $0[seed] = batch }
        }
        let results = concurrent.withLock { $0 }
        for seed in 0..<8 { #expect(results[seed] == sequential[seed]) }
    }

    @Test("about half of the samples are flipped")
    func flipRate() throws {
        let image = try dotImage(size: 4, y: 0, x: 0)
        let samples = 4000
        let data = try TensorDataset(inputs: Tensor(shape: [samples, 4, 4, 1], scalars: Array((0..<samples).map { _ in image.scalars }.joined())),
                                     labels: Array(repeating: 0, count: samples)).augmented(with: [.horizontalFlip()])
        var flipped = 0
        for start in stride(from: 0, to: samples, by: 500) {
            let batch = try data.batch(at: Array(start..<(start + 500)), seed: 9).inputs
            for index in 0..<500 where batch.scalars[index * 16 + 3] == 1 { flipped += 1 }
        }
        // Binomial(4000, 0.5): the standard deviation is about 32, so ±160 is five of them.
        #expect(abs(flipped - samples / 2) < 160, "flipped \(flipped) of \(samples)")
    }

    @Test("augmentation lists parse, describe themselves and are checked against the image shape")
    func parsingAndChecks() throws {
        #expect(try Augmentation.parseList("flip,crop:4,translate:2") == [.horizontalFlip(), .randomCrop(padding: 4), .translation(maxShift: 2)])
        #expect(try Augmentation.parseList("flip:0.25, crop:0:24x20") == [.horizontalFlip(probability: 0.25), .randomCrop(padding: 0, height: 24, width: 20)])
        #expect(Augmentation.randomCrop(padding: 0, height: 24, width: 20).description == "crop:0:24x20")
        #expect(throws: ConvNetError.self) { try Augmentation.parseList("rotate:10") }
        #expect(throws: ConvNetError.self) { try Augmentation.parseList("crop:x") }
        #expect(Augmentation.standard(forImageShape: [32, 32, 3]) == [.horizontalFlip(), .randomCrop(padding: 4)])
        #expect(Augmentation.standard(forImageShape: [28, 28, 1]) == [.translation(maxShift: 2)])

        let data = try TensorDataset(inputs: Tensor(shape: [1, 4, 4, 1]), labels: [0])
        #expect(throws: ConvNetError.self) { try data.augmented(with: [.randomCrop(padding: 1, height: 7, width: 4)]) }
        #expect(throws: ConvNetError.self) { try data.augmented(with: [.translation(maxShift: -1)]) }
        #expect(throws: ConvNetError.self) { try data.augmented(with: [.horizontalFlip(probability: 1.5)]) }
        let flat = try TensorDataset(inputs: Tensor(shape: [1, 16]), labels: [0])
        #expect(throws: ConvNetError.self) { try flat.augmented(with: [.horizontalFlip()]) }
    }
}

/// Writes `counts[c]` PNG images for class `names[c]` under `root`, image `j` of class `c` filled
/// with the value `10 c + j`.
private func writeClassFolders(_ folder: DataTestFolder, root: String, names: [String], counts: [Int], size: Int = 4) throws {
    for (c, name) in names.enumerated() {
        for j in 0..<counts[c] {
            let image = try Tensor(shape: [size, size, 3], scalars: Array(repeating: Float(10 * c + j), count: size * size * 3))
            try folder.write(ImageCodec.encodePNG(image), to: "\(root)/\(name)/\(String(format: "%03d", j)).png")
        }
    }
}

@Suite("Pipeline: image folders decoded on demand, class-balanced limits")
struct PipelineImageFolderTests {
    @Test("balancedSubset takes classes round-robin and keeps the data's order")
    func balancedSubset() throws {
        let labels = [0, 0, 0, 0, 1, 2, 2, 2]
        #expect(try ImageFolder.balancedSubset(labels: labels, classCount: 3, limit: 5) == [0, 1, 4, 5, 6])
        #expect(try ImageFolder.balancedSubset(labels: labels, classCount: 3, limit: 3) == [0, 4, 5])
        #expect(try ImageFolder.balancedSubset(labels: labels, classCount: 3, limit: 7) == [0, 1, 2, 4, 5, 6, 7])
        #expect(try ImageFolder.balancedSubset(labels: labels, classCount: 3, limit: nil) == Array(0..<8))
        #expect(try ImageFolder.balancedSubset(labels: labels, classCount: 3, limit: 0) == [])
        #expect(throws: ConvNetError.self) { try ImageFolder.balancedSubset(labels: labels, classCount: 3, limit: -1) }
        #expect(throws: ConvNetError.self) { try ImageFolder.balancedSubset(labels: labels, classCount: 2, limit: 1) }
    }

    @Test("a small limit holds every class, not just the first ones")
    func limitIsBalanced() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        try writeClassFolders(folder, root: "root", names: ["a", "b", "c"], counts: [4, 1, 3])
        let limited = try ImageFolder.load(root: folder.file("root"), limit: 5)
        #expect(limited.labels == [0, 0, 1, 2, 2])
        #expect(limited.classNames == ["a", "b", "c"])
        // Each image's value is 10·class + its index in the class: the first ones of each class.
        #expect((0..<5).map { limited.images.scalars[$0 * 48] } == [0, 1, 10, 20, 21])
    }

    @Test("ImageFolderDataset decodes batches on demand, matching ImageFolder.load")
    func lazyMatchesEager() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        try writeClassFolders(folder, root: "root", names: ["x", "y"], counts: [3, 2])
        let lazy = try ImageFolderDataset(root: folder.file("root"), imageSize: (height: 6, width: 5), channels: 1)
        let eager = try ImageFolder.load(root: folder.file("root"), imageSize: (height: 6, width: 5), channels: 1)
        #expect(lazy.count == 5)
        #expect(lazy.sampleShape == [6, 5, 1])
        #expect(lazy.classNames == ["x", "y"])
        let batch = try lazy.batch(at: [4, 0, 2], seed: 0)
        #expect(batch.labels == [1, 0, 0])
        #expect(batch.inputs == (try eager.batch(at: [4, 0, 2], seed: 0)).inputs)
        #expect(try lazy.loadAll().images == eager.images)
        #expect(throws: ConvNetError.self) { try lazy.batch(at: [5], seed: 0) }
        // Without a size, the first file fixes the shape.
        #expect(try ImageFolderDataset(root: folder.file("root")).sampleShape == [4, 4, 3])
        // The whole pipeline on top of it.
        let pipeline = try lazy.augmented(with: [.horizontalFlip()]).preprocessed(.unitRange)
        #expect(try pipeline.batch(at: [1], seed: 0).inputs.scalars.allSatisfy { abs($0 - 1 / 255) < 1e-6 })
        // Standardisation measured on the files batch by batch equals the loaded images'.
        #expect(try ChannelStatistics(of: lazy, batchSize: 2) == ChannelStatistics(of: eager.images))
    }

    @Test("a corrupt file is reported, naming it, by the batch that holds it")
    func corruptFileInBatch() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        try writeClassFolders(folder, root: "root", names: ["x", "y"], counts: [2, 2])
        try folder.write(Array("not a png".utf8), to: "root/y/001.png")
        let lazy = try ImageFolderDataset(root: folder.file("root"))
        #expect(try lazy.batch(at: [0, 1, 2], seed: 0).inputs.shape == [3, 4, 4, 3])
        let message = dataFileError(naming: folder.file("root/y/001.png")) { _ = try lazy.batch(at: [0, 3], seed: 0) }
        #expect(message.contains("PNG or JPEG"))
    }
}

/// Throughput of the two image-folder paths, when `CONVNET_PIPELINE_BENCH` names a folder with
/// `train/<class>/*.jpg` (e.g. the CIFAR-10 JPEG folders).
@Suite("Pipeline: throughput (set CONVNET_PIPELINE_BENCH=DIR)")
struct PipelineThroughputTests {
    static let root = ProcessInfo.processInfo.environment["CONVNET_PIPELINE_BENCH"]

    @Test("images per second: eager load, in-memory batches with augmentation, on-demand decoding",
          .enabled(if: root != nil))
    func throughput() throws {
        let root = try #require(Self.root) + "/train"
        let augmentations: [Augmentation] = [.horizontalFlip(), .randomCrop(padding: 4)]
        func rate(_ images: Int, _ body: () throws -> Void) rethrows -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            return Double(images) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        var loaded: LabeledImages?
        let folder = try ImageFolderDataset(root: root, imageSize: (height: 32, width: 32))
        let eager = try rate(folder.count) { loaded = try folder.loadAll() }
        let data = try #require(loaded)
        var generator = RandomGenerator(seed: 1)
        let order = Array(0..<data.count).shuffled(using: &generator)
        let batches = stride(from: 0, to: order.count, by: 128).map { Array(order[$0..<min($0 + 128, order.count)]) }
        let memory = try data.augmented(with: augmentations).preprocessed(.unitRange)
        let inMemory = try rate(data.count) { for (step, batch) in batches.enumerated() { _ = try memory.batch(at: batch, seed: UInt64(step)) } }
        let plain = try data.preprocessed(.unitRange)
        let inMemoryPlain = try rate(data.count) { for (step, batch) in batches.enumerated() { _ = try plain.batch(at: batch, seed: UInt64(step)) } }
        let lazy = try folder.augmented(with: augmentations).preprocessed(.unitRange)
        let lazyBatches = Array(batches.prefix(80))
        let onDemand = try rate(lazyBatches.count * 128) {
            for (step, batch) in lazyBatches.enumerated() { _ = try lazy.batch(at: batch, seed: UInt64(step)) }
        }
        print(String(format: "pipeline throughput on %d images (%d threads): load all %.0f img/s; in-memory batches %.0f img/s "
                     + "(%.0f img/s without augmentation); on-demand decoding + augmentation %.0f img/s",
                     folder.count, Parallel.threads, eager, inMemory, inMemoryPlain, onDemand))
    }
}
