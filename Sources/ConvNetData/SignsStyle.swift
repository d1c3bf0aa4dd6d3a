import ConvNetFiles
import ConvNetCore
import Foundation

/// Image datasets stored in HDF5 as the lecture notes' SIGNS set (`train_signs.h5`, `test_signs.h5`) and
/// cat/non-cat set (`train_catvnoncat.h5`, `test_catvnoncat.h5`) are:
///
///     train_set_x   (m, 64, 64, 3) uint8     images, NHWC, pixel values 0...255
///     train_set_y   (m,) int64               labels (also accepted: (1, m) or (m, 1))
///     list_classes  (n,) int64 or strings    the classes (optional; its length is the class count)
///     test_set_x, test_set_y                 the same for the test split
///
/// The splits may be in one file, or in two files named alike with `train` and `test`
/// (`train_signs.h5` / `test_signs.h5`). Labels index `list_classes`; class names are its values
/// written as text (SIGNS: `"0"` ... `"5"`, the number of raised fingers; cat/non-cat: `non-cat`,
/// `cat`). Without `list_classes` there are `max label + 1` classes. Gray images may be stored `(m, h, w)`.
public enum SignsStyle {
    /// The HDF5 datasets of one split: `<prefix>_set_x` and `<prefix>_set_y`.
    public static func datasetNames(split: DatasetSplit) -> (images: String, labels: String) {
        let prefix = split == .train ? "train" : "test"
        return ("\(prefix)_set_x", "\(prefix)_set_y")
    }

    /// Loads one split from `path`, which is a file holding that split's datasets, a training file
    /// whose test split is in a sibling file (see `file(for:besides:)`), or a folder holding
    /// `train_signs.h5` and `test_signs.h5`.
    /// - Parameters:
    ///   - path: A file holding the split, a training file beside its test file, or a folder.
    ///   - split: Which split to load: the `train_set_*` or `test_set_*` datasets.
    ///   - limit: keep only the first `limit` samples.
    /// - Returns: images `(m, height, width, channels)` with pixel values as stored (`0...255` for
    ///   SIGNS's uint8), labels, and class names.
    /// - Throws: `ConvNetError.file` naming the file and the dataset when a file or dataset is
    ///   missing, shapes disagree, a label is out of range, or the file is not HDF5.
    public static func load(path: String, split: DatasetSplit, limit: Int? = nil) throws -> LabeledImages {
        try load(file: try file(for: split, besides: path), split: split, limit: limit)
    }

    /// The file that holds `split` for a dataset named by `path`:
    /// - a folder: `train_signs.h5` / `test_signs.h5` inside it, or else the one `*.h5` file
    ///   whose name contains `train` / `test`;
    /// - a file holding `<split>_set_x`: that file;
    /// - otherwise the sibling file whose name has `train` and `test` swapped
    ///   (`train_signs.h5` ↔ `test_signs.h5`) when it exists.
    /// - Throws: `ConvNetError.file` naming `path` and the files looked for.
    public static func file(for split: DatasetSplit, besides path: String) throws -> String {
        let wanted = split == .train ? "train" : "test"
        let images = datasetNames(split: split).images
        if FileIO.isDirectory(path) {
            let standard = path + "/\(wanted)_signs.h5"
            if FileIO.isFile(standard) { return standard }
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            let matches = entries.filter { $0.hasSuffix(".h5") && $0.lowercased().contains(wanted) }.sorted()
            guard matches.count == 1 else {
                throw ConvNetError.file(path: path, message: matches.isEmpty
                    ? "no \(wanted)_signs.h5 (or other .h5 file with '\(wanted)' in its name) for the \(split.rawValue) split"
                    : "several .h5 files could hold the \(split.rawValue) split: \(matches.joined(separator: ", "))")
            }
            return path + "/" + matches[0]
        }
        if try HDF5File.read(path, { try $0.kind(of: images) }) != nil { return path }
        let folder = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let other = split == .train ? "test" : "train"
        if name.contains(other) {
            let sibling = (folder.isEmpty ? "" : folder + "/") + name.replacingOccurrences(of: other, with: wanted)
            if FileIO.isFile(sibling) { return sibling }
            throw ConvNetError.file(path: path, message: "no dataset \(images) here, and no sibling file \(sibling) for the \(split.rawValue) split")
        }
        throw ConvNetError.file(path: path, message: "no dataset \(images) for the \(split.rawValue) split "
                                + "(SIGNS-style files hold train_set_x/train_set_y and test_set_x/test_set_y)")
    }

    /// The most classes a set may have without `list_classes`, where a label `k` makes `k + 1`
    /// classes: it bounds what one damaged label can make the loader allocate.
    public static let maximumClassCount = 1 << 20

    /// Loads one split from one file.
    public static func load(file path: String, split: DatasetSplit, limit: Int? = nil) throws -> LabeledImages {
        let (imagesName, labelsName) = datasetNames(split: split)
        return try HDF5File.read(path) { file in
            let imageShape = try file.shape(ofDataset: imagesName)
            guard imageShape.count == 4 || imageShape.count == 3 else {
                throw ConvNetError.file(path: path, message: "dataset \(imagesName) has shape \(describe(shape: imageShape)), "
                                        + "expected images (m, height, width, channels) or (m, height, width)")
            }
            let labelShape = try file.shape(ofDataset: labelsName)
            let labelCount = labelShape.reduce(1, *)
            guard labelShape.count == 1 || (labelShape.count == 2 && labelShape.contains(1)) else {
                throw ConvNetError.file(path: path, message: "dataset \(labelsName) has shape \(describe(shape: labelShape)), "
                                        + "expected labels (m,), (1, m) or (m, 1)")
            }
            guard labelCount == imageShape[0] else {
                throw ConvNetError.file(path: path, message: "dataset \(imagesName) has \(imageShape[0]) images "
                                        + "but \(labelsName) has \(labelCount) labels")
            }
            let kept = try sampleCount(available: labelCount, limit: limit)
            // Read as floating point so that fractional labels are refused rather than truncated.
            let storedLabels = try file.readTensor(labelsName).scalars.prefix(kept)
            if let index = storedLabels.firstIndex(where: { $0 != $0.rounded() || !(0..<Float(maximumClassCount)).contains($0) }) {
                throw ConvNetError.file(path: path, message: "dataset \(labelsName): label \(storedLabels[index]) of sample \(index) "
                                        + "is not an integer class in 0..<\(maximumClassCount)")
            }
            let labels = storedLabels.map { Int($0) }
            let classNames = try readClassNames(file, labels: labels)
            do {
                try LabeledImages.validate(labels: labels, classCount: classNames.count, source: path)
            } catch let ConvNetError.file(_, message) {
                throw ConvNetError.file(path: path, message: "dataset \(labelsName): \(message)")
            }
            let stored = try file.readTensor(imagesName)
            let sampleShape = Array(imageShape.dropFirst()) + (imageShape.count == 3 ? [1] : [])
            let pixels = Array(stored.scalars.prefix(kept * sampleShape.reduce(1, *)))
            return try LabeledImages(images: Tensor(validShape: [kept] + sampleShape, scalars: pixels), labels: labels,
                                     classNames: classNames, source: path)
        }
    }

    /// The values of `list_classes` as text (numbers, or strings as in the cat/non-cat set's
    /// `[b'non-cat', b'cat']`), or `0 ..< max label + 1` without it.
    private static func readClassNames(_ file: HDF5File, labels: [Int]) throws -> [String] {
        let name = "list_classes"
        guard try file.kind(of: name) == .dataset else {
            return (0...max(labels.max() ?? 0, 0)).map(String.init)
        }
        if let strings = try? file.readStrings(name) { return strings }
        return try file.readInt64(name).values.map(String.init)
    }
}
