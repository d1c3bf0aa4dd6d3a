import ConvNetCore
import Foundation

/// CIFAR-10 in its official binary layout (`cifar-10-binary.tar.gz`), which extracts to
///
///     cifar-10-batches-bin/data_batch_1.bin ... data_batch_5.bin   10,000 training images each
///     cifar-10-batches-bin/test_batch.bin                           10,000 test images
///     cifar-10-batches-bin/batches.meta.txt                         the class names, one a line
///
/// Each batch file is a sequence of 3073-byte records: one label byte, then the 32×32 image as
/// three planes (channel-major, CHW), red then green then blue, each row-major. Loading transposes
/// the planes to NHWC.
public enum CIFAR10 {
    /// Height and width of every image.
    public static let imageSize = 32
    /// Bytes per record: the label plus 3 planes of 32×32.
    public static let recordSize = 1 + 3 * imageSize * imageSize

    /// CIFAR-10's class names, by label (as in `batches.meta.txt`).
    public static let classNames = [
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
    ]

    /// Where to get the dataset, for error messages.
    static let downloadHint = "download https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz and extract it "
        + "(tar xzf cifar-10-binary.tar.gz), then pass the cifar-10-batches-bin folder or its parent"

    /// Loads one split: the five training batches in order, or the test batch.
    /// - Parameters:
    ///   - directory: the `cifar-10-batches-bin` folder, or a folder that contains it.
    ///   - split: `.train` reads `data_batch_1.bin` ... `data_batch_5.bin` (50,000 images), `.test`
    ///     reads `test_batch.bin` (10,000).
    ///   - limit: keep only the first `limit` images (batches after the limit are not read).
    /// - Returns: images `(m, 32, 32, 3)` with pixel values `0...255`; the class names come from
    ///   `batches.meta.txt` when it is present, else `CIFAR10.classNames`.
    /// - Throws: `ConvNetError.file` when the folder or a batch is missing, a batch is truncated,
    ///   or a label is out of range, naming the file.
    public static func load(directory: String, split: DatasetSplit, limit: Int? = nil) throws -> LabeledImages {
        let folder = FileIO.isDirectory(directory + "/cifar-10-batches-bin") ? directory + "/cifar-10-batches-bin" : directory
        let names = split == .train ? (1...5).map { "data_batch_\($0).bin" } : ["test_batch.bin"]
        let paths = names.map { folder + "/" + $0 }
        if let missing = paths.first(where: { !FileIO.isFile($0) }) {
            throw ConvNetError.file(path: missing, message: "CIFAR-10 batch not found (looked in \(folder)); \(downloadHint)")
        }
        let classNames = try readClassNames(folder: folder)
        var remaining = try sampleCount(available: Int.max, limit: limit) // no limit: every record
        var pixels: [Float] = []
        var labels: [Int] = []
        for path in paths where remaining > 0 {
            let batch = try decodeRecords(path: path, classCount: classNames.count, limit: remaining)
            pixels += batch.pixels
            labels += batch.labels
            remaining -= batch.labels.count
        }
        let images = Tensor(validShape: [labels.count, imageSize, imageSize, 3], scalars: pixels)
        return try LabeledImages(images: images, labels: labels, classNames: classNames, source: folder)
    }

    /// Reads one batch file.
    /// - Returns: images `(m, 32, 32, 3)`, pixel values `0...255`, with `CIFAR10.classNames`.
    public static func readBatch(path: String, limit: Int? = nil) throws -> LabeledImages {
        let batch = try decodeRecords(path: path, classCount: classNames.count, limit: limit)
        let images = Tensor(validShape: [batch.labels.count, imageSize, imageSize, 3], scalars: batch.pixels)
        return try LabeledImages(images: images, labels: batch.labels, classNames: classNames, source: path)
    }

    /// The first `limit` records of a batch file, pixels in NHWC order.
    private static func decodeRecords(path: String, classCount: Int, limit: Int?) throws -> (pixels: [Float], labels: [Int]) {
        let bytes = try Gzip.readFile(atPath: path)
        guard !bytes.isEmpty else {
            throw ConvNetError.file(path: path, message: "empty CIFAR-10 batch file")
        }
        let (records, leftover) = bytes.count.quotientAndRemainder(dividingBy: recordSize)
        guard leftover == 0 else {
            throw ConvNetError.file(path: path, message: "truncated CIFAR-10 batch: records are \(recordSize) bytes "
                                    + "(1 label + 3×32×32 pixels), the file has \(bytes.count) bytes: \(records) whole records "
                                    + "and \(leftover) bytes of an incomplete one")
        }
        let kept = try sampleCount(available: records, limit: limit)
        let labels = (0..<kept).map { Int(bytes[$0 * recordSize]) }
        try LabeledImages.validate(labels: labels, classCount: classCount, source: path)

        let plane = imageSize * imageSize
        var pixels = [Float](repeating: 0, count: kept * 3 * plane)
        for record in 0..<kept {
            let input = record * recordSize + 1, output = record * 3 * plane
            for position in 0..<plane {
                for channel in 0..<3 {
                    // CHW byte (channel, position) -> HWC slot (position, channel).
                    pixels[output + position * 3 + channel] = Float(bytes[input + channel * plane + position])
                }
            }
        }
        return (pixels, labels)
    }

    /// The non-empty lines of `batches.meta.txt`, or `classNames` when the file is absent.
    private static func readClassNames(folder: String) throws -> [String] {
        let path = folder + "/batches.meta.txt"
        guard FileIO.isFile(path) else { return classNames }
        let text = String(decoding: try FileIO.readBytes(atPath: path), as: UTF8.self)
        let names = text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        guard !names.isEmpty else {
            throw ConvNetError.file(path: path, message: "no class names (expected one a line)")
        }
        return names
    }
}
