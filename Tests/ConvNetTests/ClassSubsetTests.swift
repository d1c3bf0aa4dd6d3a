import ConvNet
import Foundation
import Testing

/// `--class-subset`: some classes of a dataset, relabelled in the order given.
@Suite("Class subsets")
struct ClassSubsetTests {
    /// Five 1x1 gray images whose pixel value is their index, labels cycling 0, 1, 2.
    static func images() throws -> LabeledImages {
        try LabeledImages(images: Tensor(shape: [6, 1, 1, 1], scalars: [0, 1, 2, 3, 4, 5]), labels: [0, 1, 2, 0, 1, 2],
                          classNames: ["a", "b", "c"], source: "memory")
    }

    @Test func parsesListsAndRanges() throws {
        #expect(try ClassSubset.parse("5,6,7,8,9") == [5, 6, 7, 8, 9])
        #expect(try ClassSubset.parse("5-9") == [5, 6, 7, 8, 9])
        #expect(try ClassSubset.parse("2,0-1") == [2, 0, 1])
        for bad in ["", "a", "3-1", "1,1", "1,", "-2", "1-2-3"] {
            #expect(throws: ConvNetError.self, "\(bad)") { _ = try ClassSubset.parse(bad) }
        }
    }

    @Test func restrictsAndRelabelsInMemory() throws {
        let subset = try Self.images().restricted(toClasses: [2, 0], source: "memory")
        #expect(subset.images.scalars == [0, 2, 3, 5])
        #expect(subset.labels == [1, 0, 1, 0])
        #expect(subset.classNames == ["c", "a"])
        #expect(try subset.prefix(3, source: "memory").labels == [1, 0, 1])
        #expect(try subset.prefix(99, source: "memory").count == 4)
        let missing = thrownMessage { _ = try Self.images().restricted(toClasses: [3], source: "memory") }
        #expect(missing?.contains("class 3") == true, "\(missing ?? "")")
    }

    @Test func restrictsImageFolders() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("class-subset-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        for (index, name) in ["cat", "dog", "fox"].enumerated() {
            let folder = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for file in 0..<3 {
                let pixel = Float(10 * index + file)
                try Data(ImageCodec.encodePNG(try Tensor(shape: [1, 1, 1], scalars: [pixel]))).write(to: folder.appendingPathComponent("\(file).png"))
            }
        }
        let folder = try ImageFolderDataset(root: root.path, channels: 1)
        let subset = try folder.restricted(toClasses: [2, 1], limit: 4)
        #expect(subset.classNames == ["fox", "dog"])
        #expect(subset.count == 4)
        let loaded = try subset.loadAll()
        #expect(loaded.labels.sorted() == [0, 0, 1, 1])
        // Every image is one of its class's files: fox 20...22 → 0, dog 10...12 → 1.
        for (pixel, label) in zip(loaded.images.scalars, loaded.labels) {
            #expect(label == (pixel >= 20 ? 0 : 1) && pixel >= 10, "\(pixel) \(label)")
        }
    }
}
