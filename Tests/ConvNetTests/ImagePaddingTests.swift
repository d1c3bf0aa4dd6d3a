import ConvNet
import Foundation
import Testing

/// `--pad N` (LeNet-5's zero-padded 28x28 → 32x32 inputs): the library's padding puts every pixel
/// `p` to the right and down and zeros around it, in memory and batch by batch; the CLI pads
/// Fashion-MNIST for `lenet5-classic` instead of resizing it, and `predict --pad` feeds the model
/// the padded image.
@Suite(.serialized) struct ImagePaddingTests {
    typealias CLI = CommandLineTests

    /// A 2-image, 3x4, 2-channel batch of distinct positive values.
    static let images = Tensor(validShape: [2, 3, 4, 2], scalars: (0..<48).map { Float($0 + 1) })

    /// Every input pixel lands at `(y + p, x + p)`; everything else is 0.
    static func expectPadded(_ padded: Tensor, from images: Tensor, by p: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        let (m, h, w, c) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        #expect(padded.shape == [m, h + 2 * p, w + 2 * p, c], sourceLocation: sourceLocation)
        guard padded.shape == [m, h + 2 * p, w + 2 * p, c] else { return }
        for i in 0..<m {
            for y in 0..<(h + 2 * p) {
                for x in 0..<(w + 2 * p) {
                    for k in 0..<c {
                        let inside = (p..<(h + p)).contains(y) && (p..<(w + p)).contains(x)
                        let expected = inside ? images.scalars[((i * h + y - p) * w + x - p) * c + k] : 0
                        #expect(padded.scalars[((i * (h + 2 * p) + y) * (w + 2 * p) + x) * c + k] == expected,
                                "image \(i) (\(y), \(x), \(k))", sourceLocation: sourceLocation)
                    }
                }
            }
        }
    }

    @Test func paddingSurroundsEveryImageWithZeros() throws {
        let padding = try ImagePadding(pixels: 2)
        Self.expectPadded(try padding.apply(Self.images), from: Self.images, by: 2)
        // One image (h, w, c) is padded the same way.
        let one = try padding.apply(Tensor(validShape: [3, 4, 2], scalars: Array(Self.images.scalars[..<24])))
        #expect(one.shape == [7, 8, 2])
        Self.expectPadded(try one.reshaped(to: [1, 7, 8, 2]), from: Tensor(validShape: [1, 3, 4, 2], scalars: Array(Self.images.scalars[..<24])), by: 2)
        #expect(try ImagePadding(pixels: 0).apply(Self.images) == Self.images)
        #expect(padding.paddedShape(of: [28, 28, 1]) == [32, 32, 1])
        let inner = try padding.innerSize(of: (32, 32))
        #expect(inner.height == 28 && inner.width == 28)
        #expect(throws: ConvNetError.self) { try ImagePadding(pixels: -1) }
        #expect(throws: ConvNetError.self) { try ImagePadding(pixels: 16).innerSize(of: (32, 32)) }
    }

    /// Padding per batch (`ZeroPaddedDataset`, used for image folders read from disk) gives the
    /// batches of the images padded in memory, labels unchanged.
    @Test func paddedDatasetMatchesPaddedImages() throws {
        let data = try LabeledImages(images: Self.images, labels: [1, 0], classNames: ["a", "b"], source: "test")
        let padding = try ImagePadding(pixels: 1)
        let wrapped = try ZeroPaddedDataset(data, padding: padding)
        #expect(wrapped.sampleShape == [5, 6, 2] && wrapped.count == 2 && wrapped.classNames == ["a", "b"])
        let batch = try wrapped.batch(at: [1, 0], seed: 0)
        #expect(batch.labels == [0, 1])
        let padded = try data.padded(padding, source: "test")
        #expect(batch.inputs == (try padded.batch(at: [1, 0], seed: 0)).inputs)
        Self.expectPadded(padded.images, from: Self.images, by: 1)
    }

    /// `--pad 2` meets `lenet5-classic`'s 32x32 input with Fashion-MNIST's 28x28 images padded, not
    /// resized; bad values are refused.
    @Test func trainPadsFashionMNISTForLeNetClassic() throws {
        let run = try CLI.run(["train", "--model", "lenet5-classic", "--pad", "2", "--limit", "64", "--epochs", "1"])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.hasPrefix("Padding the 28x28x1 images with 2 zero pixels on each side: 32x32x1\n"), "\(run.output)")
        #expect(!run.output.contains("Resizing"), "\(run.output)")
        let cli = CLI()
        try cli.expectFailure(["train", "--pad=-1"], status: 2, mentions: ["--pad", "-1"])
        try cli.expectFailure(["train", "--model", "lenet5-classic", "--pad", "16", "--limit", "64", "--epochs", "1"], mentions: ["--pad 16", "32x32"])
    }

    /// An image folder trained with `--pad 3`, then `predict --pad 3 --json --with-input`: the input
    /// the model saw is the photo scaled to the model's size less the padding, with 3 zeros around.
    @Test func predictFeedsThePaddedImage() throws {
        let folder = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        var photos: [String] = []
        for (name, value) in [("dark", 40), ("light", 200)] {
            let directory = folder.appendingPathComponent("train/\(name)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for index in 0..<4 {
                let pixels = (0..<(22 * 22)).map { Float((value + ($0 * 7 + index * 13) % 50) % 256) }
                let path = directory.appendingPathComponent("\(index).png").path
                try ImageCodec.write(Tensor(validShape: [22, 22, 1], scalars: pixels), to: path)
                photos.append(path)
            }
        }
        let model = folder.appendingPathComponent("padded.h5").path
        // --channels 1: image folders load as RGB (as Keras's image_dataset_from_directory), and a
        // zoo model would take those 3 channels.
        let train = try CLI.run(["train", "--model", "lenet5", "--dataset", folder.appendingPathComponent("train").path,
                                 "--channels", "1", "--pad", "3", "--epochs", "1", "--save", model, "--stream-images"])
        #expect(train.status == 0, "\(train.error)")
        #expect(train.output.contains("Padding the 22x22x1 images with 3 zero pixels on each side: 28x28x1"), "\(train.output)")
        let predict = try CLI.run(["predict", "--model", model, "--pad", "3", "--json", "--with-input", photos[0]])
        #expect(predict.status == 0, "\(predict.error)")
        let results = try #require(try JSONSerialization.jsonObject(with: Data(predict.output.utf8)) as? [[String: Any]])
        let input = try #require(results.first?["input"] as? [Double])
        let photo = try ImageCodec.decode(path: photos[0])
        let expected = try ImagePadding(pixels: 3).apply(Preprocessing.unitRange.apply(photo))
        #expect(results.first?["inputShape"] as? [Int] == [1, 28, 28, 1])
        #expect(input.count == expected.count)
        #expect(zip(input, expected.scalars).allSatisfy { abs($0 - Double($1)) < 1e-6 })
        #expect(input.prefix(28 * 3).allSatisfy { $0 == 0 } && input.suffix(28 * 3).allSatisfy { $0 == 0 })
    }
}
