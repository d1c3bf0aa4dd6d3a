import ConvNet
import Foundation
import Testing

/// SIGNS-style content for one split: `m` images `(m, 64, 64, 3)` whose bytes encode their
/// position, and labels cycling through `0..<6`.
private struct SignsSplit {
    let images: HDF5Array<UInt8>
    let labels: [Int64]

    init(m: Int, offset: Int, size: Int = 64) throws {
        let count = m * size * size * 3
        images = try HDF5Array(shape: [m, size, size, 3], values: (0..<count).map { UInt8(truncatingIfNeeded: $0 * 7 + offset) })
        labels = (0..<m).map { Int64(($0 + offset) % 6) }
    }

    var pixels: [Float] { images.values.map(Float.init) }
}

/// Writes a SIGNS-style file holding the given splits (`train`, `test`) and `list_classes`.
private func writeSignsFile(_ path: String, train: SignsSplit? = nil, test: SignsSplit? = nil,
                            labelShape: (Int) -> [Int] = { [$0] }, classes: [Int64]? = Array(0..<6)) throws {
    try HDF5File.write(to: path) { file in
        for (prefix, split) in [("train", train), ("test", test)] {
            guard let split else { continue }
            try file.write(split.images, to: "\(prefix)_set_x")
            try file.write(HDF5Array(shape: labelShape(split.labels.count), values: split.labels), to: "\(prefix)_set_y")
        }
        if let classes { try file.write(HDF5Array(shape: [classes.count], values: classes), to: "list_classes") }
    }
}

@Suite("SIGNS-style HDF5 datasets")
struct SignsTests {
    @Test("two files (train_signs.h5, test_signs.h5) load from the folder or from either file")
    func twoFiles() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        let train = try SignsSplit(m: 5, offset: 0), test = try SignsSplit(m: 3, offset: 1)
        try writeSignsFile(folder.file("train_signs.h5"), train: train)
        try writeSignsFile(folder.file("test_signs.h5"), test: test)

        let loaded = try SignsStyle.load(path: folder.path, split: .train)
        #expect(loaded.images.shape == [5, 64, 64, 3])
        #expect(loaded.images.scalars == train.pixels)
        #expect(loaded.labels == [0, 1, 2, 3, 4])
        #expect(loaded.classNames == ["0", "1", "2", "3", "4", "5"])

        let fromTrainFile = try SignsStyle.load(path: folder.file("train_signs.h5"), split: .test)
        #expect(fromTrainFile.images.scalars == test.pixels)
        #expect(fromTrainFile.labels == [1, 2, 3])
        #expect(try SignsStyle.file(for: .train, besides: folder.file("test_signs.h5")) == folder.file("train_signs.h5"))
        #expect(try SignsStyle.load(path: folder.path, split: .train, limit: 2).labels == [0, 1])
    }

    @Test("one file with both splits, labels stored (1, m) as the deck reshapes them, gray (m, h, w) images")
    func oneFile() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        let path = folder.file("signs.h5")
        let train = try SignsSplit(m: 4, offset: 2), test = try SignsSplit(m: 2, offset: 3)
        try writeSignsFile(path, train: train, test: test, labelShape: { [1, $0] })
        #expect(try SignsStyle.load(path: path, split: .train).labels == [2, 3, 4, 5])
        #expect(try SignsStyle.load(path: path, split: .test).images.scalars == test.pixels)

        let grayPath = folder.file("gray.h5")
        try HDF5File.write(to: grayPath) { file in
            try file.write(HDF5Array<UInt8>(shape: [2, 3, 4], values: Array(0..<24)), to: "train_set_x")
            try file.write(HDF5Array<Int64>(shape: [2], values: [1, 0]), to: "train_set_y")
        }
        let gray = try SignsStyle.load(path: grayPath, split: .train)
        #expect(gray.images.shape == [2, 3, 4, 1])
        #expect(gray.classNames == ["0", "1"])  // no list_classes: max label + 1 classes

        // The cat/non-cat set stores its class names as byte strings (numpy `S7`).
        let catPath = folder.file("train_catvnoncat.h5")
        try HDF5File.write(to: catPath) { file in
            try file.write(HDF5Array<UInt8>(shape: [2, 3, 4], values: Array(0..<24)), to: "train_set_x")
            try file.write(HDF5Array<Int64>(shape: [2], values: [1, 0]), to: "train_set_y")
            try file.write(["non-cat", "cat"], to: "list_classes")
        }
        #expect(try SignsStyle.load(path: catPath, split: .train).classNames == ["non-cat", "cat"])
        let file = try HDF5File.open(catPath)
        defer { file.close() }
        #expect(try file.readStrings("list_classes") == ["non-cat", "cat"])
        #expect(throws: ConvNetError.self) { try file.readStrings("train_set_y") }  // numbers, not strings
    }

    @Test("missing files and datasets are errors naming the file and the dataset")
    func missing() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        let path = folder.file("train_only.h5")
        try writeSignsFile(path, train: try SignsSplit(m: 2, offset: 0))
        var message = dataFileError(naming: path) { _ = try SignsStyle.load(path: path, split: .test) }
        #expect(message.contains("test_set_x"))

        let noLabels = folder.file("no_labels.h5")
        try HDF5File.write(to: noLabels) { file in try file.write(try SignsSplit(m: 2, offset: 0).images, to: "train_set_x") }
        message = dataFileError(naming: noLabels) { _ = try SignsStyle.load(path: noLabels, split: .train) }
        #expect(message.contains("train_set_y") && message.contains("not found"))

        let empty = folder.file("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        message = dataFileError(naming: empty) { _ = try SignsStyle.load(path: empty, split: .train) }
        #expect(message.contains("train_signs.h5"))
        message = dataFileError(naming: folder.file("absent.h5")) { _ = try SignsStyle.load(path: folder.file("absent.h5"), split: .train) }
        #expect(message.contains("no such file"))
    }

    @Test("bad content: label out of range, count mismatch, wrong rank, not HDF5, truncated")
    func badContent() throws {
        let folder = try DataTestFolder()
        defer { folder.remove() }
        let split = try SignsSplit(m: 3, offset: 0)

        let outOfRange = folder.file("range.h5")
        try writeSignsFile(outOfRange, train: split, classes: [0, 1])
        var message = dataFileError(naming: outOfRange) { _ = try SignsStyle.load(path: outOfRange, split: .train) }
        #expect(message.contains("train_set_y") && message.contains("label 2"))

        let mismatch = folder.file("mismatch.h5")
        try HDF5File.write(to: mismatch) { file in
            try file.write(split.images, to: "train_set_x")
            try file.write(HDF5Array<Int64>(shape: [2], values: [0, 1]), to: "train_set_y")
        }
        message = dataFileError(naming: mismatch) { _ = try SignsStyle.load(path: mismatch, split: .train) }
        #expect(message.contains("3 images") && message.contains("2 labels"))

        let badLabels = folder.file("labels2d.h5")
        try HDF5File.write(to: badLabels) { file in
            try file.write(split.images, to: "train_set_x")
            try file.write(HDF5Array<Int64>(shape: [3, 2], values: [0, 1, 0, 1, 0, 1]), to: "train_set_y")
        }
        message = dataFileError(naming: badLabels) { _ = try SignsStyle.load(path: badLabels, split: .train) }
        #expect(message.contains("train_set_y") && message.contains("(3, 2)"))

        let notHDF5 = folder.file("text.h5")
        try folder.write(Array("just text".utf8), to: "text.h5")
        message = dataFileError(naming: notHDF5) { _ = try SignsStyle.load(path: notHDF5, split: .train) }
        #expect(message.contains("HDF5"))

        let good = folder.file("good.h5")
        try writeSignsFile(good, train: split)
        let bytes = try folder.read("good.h5")
        try folder.write(Array(bytes.prefix(bytes.count / 2)), to: "truncated.h5")
        let truncated = folder.file("truncated.h5")
        #expect(throws: ConvNetError.self) { _ = try SignsStyle.load(path: truncated, split: .train) }
        do {
            _ = try SignsStyle.load(path: truncated, split: .train)
        } catch let ConvNetError.file(path, _) {
            #expect(path == truncated)
        }
    }
}
