import ConvNet
import Foundation
import Testing

/// A fresh folder under the system temporary directory, removed by `remove()`.
struct DataTestFolder {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("convnet-data-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func write(_ bytes: [UInt8], to name: String) throws {
        let target = file(name)
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
    }

    func read(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: file(name)))) }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// The message of a `ConvNetError.file` thrown by `body`, after checking that it names `path`.
func dataFileError(naming path: String, sourceLocation: SourceLocation = #_sourceLocation,
                      _ body: () throws -> Void) -> String {
    do {
        try body()
        Issue.record("expected a ConvNetError.file naming \(path), got no error", sourceLocation: sourceLocation)
    } catch let ConvNetError.file(errorPath, message) {
        #expect(errorPath == path, "error names \(errorPath): \(message)", sourceLocation: sourceLocation)
        return message
    } catch {
        Issue.record("expected a ConvNetError.file naming \(path), got \(error)", sourceLocation: sourceLocation)
    }
    return ""
}

/// Four 2×3 images; pixel values include halves (to check rounding) and differ between images.
private func sampleImages() throws -> Tensor {
    try Tensor(shape: [4, 2, 3, 1], scalars: (0..<24).map { Float($0 % 6 + 100 * ($0 / 6)) / 2 })
}

private let sampleLabels = [3, 0, 9, 1]

@Suite("Data: gzip and IDX")
struct IDXTests {
    @Test("IDX images and labels round-trip, raw and gzipped")
    func roundTrip() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        let original = try sampleImages()
        let rounded = try Tensor(shape: original.shape, scalars: original.scalars.map { $0.rounded() })
        for gzip in [false, true] {
            let images = folder.file("images-\(gzip)"), labels = folder.file("labels-\(gzip)")
            try IDX.writeImages(original, path: images, gzip: gzip)
            try IDX.writeLabels(sampleLabels, path: labels, gzip: gzip)
            #expect(Gzip.isGzip(try folder.read("images-\(gzip)")) == gzip)
            #expect(try IDX.readImages(path: images) == rounded)
            #expect(try IDX.readLabels(path: labels) == sampleLabels)
            #expect(try IDX.readImages(path: images, limit: 2).shape == [2, 2, 3, 1])
            #expect(try IDX.readLabels(path: labels, limit: 10) == sampleLabels)
        }
        // Header: magic 0x00000803, then (4, 2, 3) big-endian.
        #expect(Array(try folder.read("images-false").prefix(16)) == [0, 0, 8, 3, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 3])
    }

    @Test("gzip compress and decompress, including concatenated members")
    func gzipRoundTrip() throws {
        let text = Array("convolutional networks ".utf8)
        let once = try Gzip.compress(text)
        #expect(try Gzip.decompress(once, path: "x") == text)
        #expect(try Gzip.decompress(once + (try Gzip.compress(text, level: 9)), path: "x") == text + text)
        #expect(try Gzip.decompress(try Gzip.compress([]), path: "x") == [])
    }

    @Test("a truncated gzip file is an error naming the file")
    func truncatedGzip() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        try IDX.writeImages(try sampleImages(), path: folder.file("full.gz"), gzip: true)
        let full = try folder.read("full.gz")
        try folder.write(Array(full.prefix(full.count / 2)), to: "half.gz")
        let message = dataFileError(naming: folder.file("half.gz")) { _ = try IDX.readImages(path: folder.file("half.gz")) }
        #expect(message.contains("truncated gzip"))
        // Missing only the 8-byte trailer (CRC-32 and size) is also truncation.
        try folder.write(Array(full.dropLast(8)), to: "notrailer.gz")
        _ = dataFileError(naming: folder.file("notrailer.gz")) { _ = try IDX.readImages(path: folder.file("notrailer.gz")) }
    }

    @Test("corrupt gzip data is an error naming the file")
    func corruptGzip() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        try IDX.writeLabels(Array(repeating: 7, count: 1000), path: folder.file("labels.gz"), gzip: true)
        var bytes = try folder.read("labels.gz")
        bytes[bytes.count - 6] ^= 0xFF // inside the CRC-32 trailer
        try folder.write(bytes, to: "bad.gz")
        let message = dataFileError(naming: folder.file("bad.gz")) { _ = try IDX.readLabels(path: folder.file("bad.gz")) }
        #expect(message.contains("corrupt gzip"))
    }

    @Test("a truncated IDX file is an error giving expected and actual sizes")
    func truncatedIDX() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        try IDX.writeImages(try sampleImages(), path: folder.file("images"))
        let bytes = try folder.read("images")
        #expect(bytes.count == 16 + 24)
        try folder.write(Array(bytes.dropLast(5)), to: "short")
        let message = dataFileError(naming: folder.file("short")) { _ = try IDX.readImages(path: folder.file("short")) }
        #expect(message.contains("truncated IDX") && message.contains("40") && message.contains("35"))
        try folder.write(Array(bytes.prefix(10)), to: "header")
        let headerMessage = dataFileError(naming: folder.file("header")) { _ = try IDX.readImages(path: folder.file("header")) }
        #expect(headerMessage.contains("16"))
    }

    @Test("a wrong magic number is an error naming both numbers")
    func wrongMagic() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        try IDX.writeLabels(sampleLabels, path: folder.file("labels"))
        let message = dataFileError(naming: folder.file("labels")) { _ = try IDX.readImages(path: folder.file("labels")) }
        #expect(message.contains("0x00000801") && message.contains("0x00000803"))
    }

    @Test("a missing file is an error naming it")
    func missingFile() {
        _ = dataFileError(naming: "/nonexistent/images") { _ = try IDX.readImages(path: "/nonexistent/images") }
    }
}

@Suite("Data: MNIST-style datasets")
struct MNISTStyleTests {
    /// Writes the four files of an MNIST-style dataset (gzipped) with the given test labels.
    private func writeDataset(in folder: DataTestFolder, testLabels: [Int]) throws {
        for prefix in ["train", "t10k"] {
            try IDX.writeImages(try sampleImages(), path: folder.file("\(prefix)-images-idx3-ubyte.gz"), gzip: true)
        }
        try IDX.writeLabels(sampleLabels, path: folder.file("train-labels-idx1-ubyte.gz"), gzip: true)
        try IDX.writeLabels(testLabels, path: folder.file("t10k-labels-idx1-ubyte.gz"), gzip: true)
    }

    @Test("loads a split from a folder of IDX files, with a limit")
    func loadsWrittenDataset() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        try writeDataset(in: folder, testLabels: [1, 2, 3, 4])
        let train = try MNISTStyle.load(directory: folder.path, split: .train, classNames: MNISTStyle.digitClassNames)
        #expect(train.images.shape == [4, 2, 3, 1])
        #expect(train.labels == sampleLabels)
        #expect(train.classNames == MNISTStyle.digitClassNames)
        let test = try MNISTStyle.load(directory: folder.path, split: .test, classNames: MNISTStyle.digitClassNames, limit: 3)
        #expect(test.labels == [1, 2, 3])
        #expect(test.imageShape == [2, 3, 1])
    }

    @Test("image and label counts must agree")
    func mismatchedCounts() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        try writeDataset(in: folder, testLabels: [1, 2, 3])
        let message = dataFileError(naming: folder.path) { _ = try MNISTStyle.load(directory: folder.path, split: .test) }
        #expect(message.contains("4 images") && message.contains("3 labels"))
    }

    @Test("a label outside the class names is an error naming the label file")
    func labelOutOfRange() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        try writeDataset(in: folder, testLabels: [1, 2, 3, 4])
        let message = dataFileError(naming: folder.file("train-labels-idx1-ubyte.gz")) {
            _ = try MNISTStyle.load(directory: folder.path, split: .train, classNames: ["a", "b", "c", "d"])
        }
        #expect(message.contains("label 9") && message.contains("4 classes"))
    }

    @Test("a missing dataset says where it looked and how to get Fashion-MNIST")
    func missingDataset() {
        let message = dataFileError(naming: "/nonexistent") { _ = try MNISTStyle.load(directory: "/nonexistent", split: .train) }
        #expect(message.contains("train-images-idx3-ubyte"))
        #expect(message.contains("apt-get install dataset-fashion-mnist") && message.contains("--data-dir"))
    }

    @Test("real Fashion-MNIST (Debian dataset-fashion-mnist): first 100 test samples")
    func fashionMNIST() throws {
        // Fails, with the loader's instructions, when the package is not installed.
        let data = try MNISTStyle.load(split: .test, limit: 100)
        #expect(data.images.shape == [100, 28, 28, 1])
        #expect(data.classNames.count == 10 && data.classNames[9] == "Ankle boot")
        #expect(data.labels.allSatisfy { (0..<10).contains($0) })
        #expect(Array(data.labels.prefix(10)) == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7])
        #expect(Set(data.labels).count == 10)
        #expect(data.images.scalars.allSatisfy { (0...255).contains($0) && $0 == $0.rounded() })
        #expect(data.images.scalars.prefix(784).reduce(0, +) == 33456) // first image's pixel sum
    }
}

@Suite("Data: CIFAR-10 binary batches")
struct CIFAR10Tests {
    /// A record whose pixel (channel c, row y, column x) is `(label + 3c + 5y + 7x) % 256`.
    private func record(label: UInt8) -> [UInt8] {
        var bytes = [label]
        for c in 0..<3 {
            for y in 0..<32 {
                for x in 0..<32 { bytes.append(UInt8((Int(label) + 3 * c + 5 * y + 7 * x) % 256)) }
            }
        }
        return bytes
    }

    private func writeBatches(in folder: DataTestFolder, labels: [[UInt8]]) throws {
        let names = (1...5).map { "cifar-10-batches-bin/data_batch_\($0).bin" } + ["cifar-10-batches-bin/test_batch.bin"]
        for (name, batchLabels) in zip(names, labels) {
            try folder.write(batchLabels.flatMap(record), to: name)
        }
    }

    @Test("batches load as NHWC with labels in order, across batch files, with a limit")
    func loadsBatches() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        try writeBatches(in: folder, labels: [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [3, 5, 7]])
        try folder.write(Array("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n".utf8),
                         to: "cifar-10-batches-bin/batches.meta.txt")
        let train = try CIFAR10.load(directory: folder.path, split: .train)
        #expect(train.images.shape == [10, 32, 32, 3])
        #expect(train.labels == Array(0..<10))
        #expect(train.classNames == CIFAR10.classNames)
        // NHWC element (n, y, x, c) = (label + 3c + 5y + 7x) % 256.
        for (n, y, x, c) in [(0, 0, 0, 0), (3, 2, 5, 1), (9, 31, 30, 2)] {
            let value = train.images.scalars[((n * 32 + y) * 32 + x) * 3 + c]
            #expect(value == Float((train.labels[n] + 3 * c + 5 * y + 7 * x) % 256))
        }
        let limited = try CIFAR10.load(directory: folder.path + "/cifar-10-batches-bin", split: .train, limit: 3)
        #expect(limited.labels == [0, 1, 2])
        let test = try CIFAR10.load(directory: folder.path, split: .test)
        #expect(test.labels == [3, 5, 7])
    }

    @Test("a truncated record is an error naming the batch file")
    func truncatedRecord() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        try folder.write(record(label: 1) + Array(record(label: 2).prefix(100)), to: "test_batch.bin")
        let message = dataFileError(naming: folder.file("test_batch.bin")) { _ = try CIFAR10.load(directory: folder.path, split: .test) }
        #expect(message.contains("truncated") && message.contains("3173") && message.contains("100 bytes"))
    }

    @Test("a label above 9 is an error naming the batch file")
    func labelOutOfRange() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        try folder.write(record(label: 4) + record(label: 10), to: "test_batch.bin")
        let message = dataFileError(naming: folder.file("test_batch.bin")) { _ = try CIFAR10.readBatch(path: folder.file("test_batch.bin")) }
        #expect(message.contains("label 10 of sample 1"))
    }

    @Test("a missing batch says where to download CIFAR-10")
    func missingBatch() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        let message = dataFileError(naming: folder.file("data_batch_1.bin")) { _ = try CIFAR10.load(directory: folder.path, split: .train) }
        #expect(message.contains("cifar-10-binary.tar.gz"))
    }
}

@Suite("Data: labelled images and normalisation")
struct NormalizationTests {
    @Test("LabeledImages checks its parts")
    func validation() throws {
        let images = Tensor(shape: [2, 1, 1, 1])
        _ = try LabeledImages(images: images, labels: [0, 1], classNames: ["a", "b"], source: "s")
        let countMessage = dataFileError(naming: "s") { _ = try LabeledImages(images: images, labels: [0], classNames: ["a"], source: "s") }
        #expect(countMessage.contains("2 images but 1 labels"))
        let rangeMessage = dataFileError(naming: "s") { _ = try LabeledImages(images: images, labels: [0, -1], classNames: ["a"], source: "s") }
        #expect(rangeMessage.contains("label -1"))
        _ = dataFileError(naming: "s") { _ = try LabeledImages(images: Tensor(shape: [2, 1]), labels: [0, 0], classNames: ["a"], source: "s") }
    }

    @Test("x/255 and deck 001's x/255 - 0.5")
    func scaling() throws {
        let pixels = Tensor([0, 51, 255])
        #expect(pixels.scaledToUnitRange().scalars == [0, 0.2, 1])
        #expect(pixels.scaledToCenteredUnitRange().scalars == [-0.5, 51 / 255 - 0.5, 0.5])
    }

    @Test("per-channel mean and standard deviation, measured on one set and applied to another")
    func channelStatistics() throws {
        // Channel 0 holds 1, 3, 5, 7 (mean 4, population std √5); channel 1 is constant 2.
        let train = try Tensor(shape: [2, 1, 2, 2], scalars: [1, 2, 3, 2, 5, 2, 7, 2])
        let statistics = try ChannelStatistics(of: train)
        #expect(statistics.mean == [4, 2])
        #expect(abs(statistics.standardDeviation[0] - Float(5).squareRoot()) < 1e-6)
        #expect(statistics.standardDeviation[1] == 1e-7)
        let test = try Tensor(shape: [1, 1, 1, 2], scalars: [4 + Float(5).squareRoot(), 2])
        let normalized = try statistics.normalize(test)
        #expect(abs(normalized.scalars[0] - 1) < 1e-6 && normalized.scalars[1] == 0)
        #expect(throws: ConvNetError.self) { _ = try statistics.normalize(Tensor(shape: [1, 1, 1, 3])) }
        let published = try ChannelStatistics(mean: [0.5], standardDeviation: [0.25])
        #expect(try published.normalize(Tensor(shape: [1, 1], repeating: 1)).scalars == [2])
    }

    @Test("one-hot labels")
    func oneHot() throws {
        let data = try LabeledImages(images: Tensor(shape: [3, 1, 1, 1]), labels: [2, 0, 1], classNames: ["a", "b", "c"], source: "s")
        let oneHot = data.oneHotLabels()
        #expect(oneHot.shape == [3, 3])
        #expect(oneHot.scalars == [0, 0, 1, 1, 0, 0, 0, 1, 0])
    }
}

@Suite("Data: resizing and colour conversion")
struct ImageTransformTests {
    @Test("bilinear 2×2 → 4×4 gives TensorFlow's half-pixel values")
    func upscale() throws {
        let image = try Tensor(shape: [2, 2, 1], scalars: [0, 4, 8, 12])
        // Output index i samples s = (i + 0.5)/2 − 0.5 = −0.25, 0.25, 0.75, 1.25: clamped to 0, then
        // weights 0.25 and 0.75 between the two pixels, then clamped to 1. Along x: 0, 1, 3, 4.
        let expected: [Float] = [0, 1, 3, 4,
                                 2, 3, 5, 6,
                                 6, 7, 9, 10,
                                 8, 9, 11, 12]
        let resized = try image.resizedBilinear(height: 4, width: 4)
        #expect(resized.shape == [4, 4, 1])
        #expect(resized.scalars == expected)
    }

    @Test("bilinear downscaling samples between pixels, per channel and per batch image")
    func downscale() throws {
        // 1×4 → 1×2: s = (i + 0.5)·2 − 0.5 = 0.5, 2.5, the midpoints of pixel pairs (no antialiasing).
        let batch = try Tensor(shape: [2, 1, 4, 2], scalars: [0, 10, 2, 20, 4, 30, 6, 40,
                                                             1, 1, 1, 1, 3, 3, 3, 3])
        let resized = try batch.resizedBilinear(height: 1, width: 2)
        #expect(resized.shape == [2, 1, 2, 2])
        #expect(resized.scalars == [1, 15, 5, 35, 1, 1, 3, 3])
        #expect(try batch.resizedBilinear(height: 1, width: 4) == batch)
        // 3 → 2: s = 0.25, 1.75.
        let row = try Tensor(shape: [1, 3, 1], scalars: [0, 4, 8])
        #expect(try row.resizedBilinear(height: 1, width: 2).scalars == [1, 7])
        #expect(throws: ConvNetError.self) { _ = try row.resizedBilinear(height: 0, width: 2) }
    }

    @Test("colour conversions: ITU-R 601-2 luma, alpha dropped, gray replicated")
    func colorConversion() throws {
        let rgb = try Tensor(shape: [1, 3, 3], scalars: [255, 0, 0, 10, 20, 30, 255, 255, 255])
        let gray = try rgb.converted(toChannels: 1)
        #expect(gray.shape == [1, 3, 1])
        let expected: [Float] = [0.299 * 255, 0.299 * 10 + 0.587 * 20 + 0.114 * 30, 255]
        for (value, reference) in zip(gray.scalars, expected) { #expect(abs(value - reference) < 1e-3) }
        let rgba = try Tensor(shape: [1, 1, 4], scalars: [1, 2, 3, 128])
        #expect(try rgba.converted(toChannels: 3).scalars == [1, 2, 3])
        let grayAlpha = try Tensor(shape: [1, 1, 2], scalars: [7, 0])
        #expect(try grayAlpha.converted(toChannels: 1).scalars == [7])
        #expect(try grayAlpha.converted(toChannels: 3).scalars == [7, 7, 7])
        #expect(try rgb.converted(toChannels: 3) == rgb)
        #expect(throws: ConvNetError.self) { _ = try rgb.converted(toChannels: 2) }
    }
}
