import ConvNet
import Foundation

/// Turns `--dataset` / `--data-dir` into loaded training and test sets.
struct DatasetResolver {
    let name: String
    let dataDirectory: String?
    var limit: Int?
    /// Whether missing MNIST / Fashion-MNIST / CIFAR-10 files may be downloaded (`--no-download` turns it off).
    var download = true
    /// `--class-subset`: keep only these classes (of both splits), relabelled `0..<count` in this
    /// order; `limit` then counts the images of these classes.
    var classSubset: [Int]? = nil
    /// `--pad N`: zeros added around every image after it is fitted to the model's input less the
    /// padding (so 28x28 Fashion-MNIST with `--pad 2` meets a 32x32 model unresized).
    var padding: ImagePadding? = nil
    /// The flag `name` came from, for error messages (`convnet speedrun` takes a folder as `--data`).
    var flag = "--dataset"

    struct Splits {
        var train: LabeledImages
        var test: LabeledImages?
        /// Where the data came from, for the log.
        var source: String
        /// A line to show the user about how the images were adapted to the model, if they were.
        var notice: String?
    }

    /// Training and test sets ready to batch: held in memory, or image folders read from disk.
    struct DatasetSplits {
        var train: any Dataset
        var test: (any Dataset)?
        var source: String
        var notice: String?
        /// Whether image folders are decoded from disk batch by batch rather than held in memory.
        var streamed: Bool
    }

    /// The names `--dataset` accepts besides folders and `.h5` files.
    static let knownNames = ["fashion-mnist", "mnist", "cifar10", "signs"]

    /// Loads the named dataset:
    /// - `fashion-mnist`, `mnist`, `cifar10` (official binary batches): looked for in `--data-dir`,
    ///   then (Fashion-MNIST) Debian's `/usr/share/datasets/fashion-mnist`, then the download cache
    ///   (`$CONVNET_DATA_DIR/<name>` or `~/.cache/convnet/<name>`), and downloaded there when missing;
    /// - `signs`, or an `.h5` file: SIGNS-style HDF5 files (`train_set_x`, ...) as in the lecture
    ///   notes, from `--data-dir` for `signs`;
    /// - a folder of class subfolders (with `train/` and `test/` inside, or used whole for
    ///   training), or a folder holding `train_signs.h5`.
    ///
    /// Images whose size or channel count differ from `imageSize` and `channels` are converted
    /// (gray ↔ RGB) and resized (bilinear), with a `notice` saying so.
    ///
    /// With `padding`, the images are fitted to `imageSize` less the padding and then padded.
    func load(imageSize: (height: Int, width: Int)?, channels: Int?) throws -> Splits {
        guard let padding, padding.pixels > 0 else { return try loadFitted(imageSize: imageSize, channels: channels) }
        var splits = try loadFitted(imageSize: try imageSize.map(padding.innerSize(of:)), channels: channels)
        let from = splits.train.imageShape
        splits.train = try splits.train.padded(padding, source: splits.source)
        splits.test = try splits.test?.padded(padding, source: splits.source)
        splits.notice = (splits.notice.map { $0 + "\n" } ?? "") + Self.paddingNotice(padding, from: from)
        return splits
    }

    /// The line saying how `--pad` changed the images of shape `from`.
    private static func paddingNotice(_ padding: ImagePadding, from: [Int]) -> String {
        let shape = { (shape: [Int]) in shape.map(String.init).joined(separator: "x") }
        return "Padding the \(shape(from)) images with \(padding.pixels) zero pixels on each side: \(shape(padding.paddedShape(of: from)))"
    }

    /// The images fitted to `imageSize` and `channels`, before any padding.
    private func loadFitted(imageSize: (height: Int, width: Int)?, channels: Int?) throws -> Splits {
        guard let classSubset else {
            return try loadAsStored(imageSize: imageSize, channels: channels).fitted(imageSize: imageSize, channels: channels, dataset: name)
        }
        var whole = self
        whole.classSubset = nil
        whole.limit = nil
        var splits = try whole.loadAsStored(imageSize: imageSize, channels: channels)
        let source = "--class-subset for \(name)"
        splits.train = try splits.train.restricted(toClasses: classSubset, source: source)
        if let limit { splits.train = try splits.train.prefix(limit, source: source) }
        splits.test = try splits.test?.restricted(toClasses: classSubset, source: source)
        return try splits.fitted(imageSize: imageSize, channels: channels, dataset: name)
    }

    /// The dataset's images as stored (image folders: at `imageSize` and `channels`).
    private func loadAsStored(imageSize: (height: Int, width: Int)?, channels: Int?) throws -> Splits {
        switch name {
        case "fashion-mnist":
            let directory = try RemoteDataset.fashionMNIST.locate(
                candidates: [dataDirectory, MNISTStyle.fashionMNISTDirectory].compactMap { $0 }, download: download)
            return Splits(train: try MNISTStyle.load(directory: directory, split: .train, limit: limit),
                          test: try MNISTStyle.load(directory: directory, split: .test), source: directory)
        case "mnist":
            let directory = try RemoteDataset.mnist.locate(candidates: [dataDirectory].compactMap { $0 }, download: download)
            return Splits(train: try MNISTStyle.load(directory: directory, split: .train, classNames: MNISTStyle.digitClassNames, limit: limit),
                          test: try MNISTStyle.load(directory: directory, split: .test, classNames: MNISTStyle.digitClassNames),
                          source: directory)
        case "cifar10":
            let directory = try RemoteDataset.cifar10.locate(candidates: [dataDirectory].compactMap { $0 }, download: download)
            return Splits(train: try CIFAR10.load(directory: directory, split: .train, limit: limit),
                          test: try CIFAR10.load(directory: directory, split: .test), source: directory)
        case "signs":
            guard let dataDirectory else {
                throw ConvNetError.argument("--dataset signs needs --data-dir DIR holding train_signs.h5 and test_signs.h5, or pass the .h5 file as --dataset")
            }
            return try signs(dataDirectory)
        default:
            if isSignsStyle { return try signs(name) }
            let roots = try folderRoots()
            return Splits(train: try ImageFolder.load(root: roots.train, imageSize: imageSize, channels: channels ?? 3, limit: limit),
                          test: try roots.test.map { try ImageFolder.load(root: $0, imageSize: imageSize, channels: channels ?? 3) },
                          source: name)
        }
    }

    /// The training and test sets as datasets to train and evaluate on. Image folders whose decoded
    /// images (as `Float`) would take more than `memoryBudget` bytes stay on disk and are decoded
    /// batch by batch (`ImageFolderDataset`), as Keras's `image_dataset_from_directory` does; the
    /// rest is loaded into memory once, which is faster from the second epoch on.
    func open(imageSize: (height: Int, width: Int)?, channels: Int?, memoryBudget: Int) throws -> DatasetSplits {
        guard !Self.knownNames.contains(name), !isSignsStyle else {
            let loaded = try load(imageSize: imageSize, channels: channels)
            return DatasetSplits(train: loaded.train, test: loaded.test, source: loaded.source, notice: loaded.notice, streamed: false)
        }
        let unpadded = try openFolders(imageSize: try imageSize.map { try padding?.innerSize(of: $0) ?? $0 }, channels: channels, memoryBudget: memoryBudget)
        guard let padding, padding.pixels > 0 else { return unpadded }
        var splits = unpadded
        splits.train = try ZeroPaddedDataset(unpadded.train, padding: padding)
        splits.test = try unpadded.test.map { try ZeroPaddedDataset($0, padding: padding) }
        splits.notice = Self.paddingNotice(padding, from: unpadded.train.sampleShape)
        return splits
    }

    /// An image folder's splits at `imageSize` (unpadded): in memory, or read from disk batch by batch.
    private func openFolders(imageSize: (height: Int, width: Int)?, channels: Int?, memoryBudget: Int) throws -> DatasetSplits {
        let roots = try folderRoots()
        var train = try ImageFolderDataset(root: roots.train, imageSize: imageSize, channels: channels ?? 3,
                                           limit: classSubset == nil ? limit : nil)
        var test = try roots.test.map { try ImageFolderDataset(root: $0, imageSize: imageSize, channels: channels ?? 3) }
        if let classSubset {
            train = try train.restricted(toClasses: classSubset, limit: limit)
            test = try test?.restricted(toClasses: classSubset)
        }
        let decodedBytes = (train.count + (test?.count ?? 0)) * train.sampleShape.reduce(1, *) * MemoryLayout<Float>.size
        guard decodedBytes > memoryBudget else {
            return DatasetSplits(train: try train.loadAll(), test: try test?.loadAll(), source: name, notice: nil, streamed: false)
        }
        return DatasetSplits(train: train, test: test, source: name, notice: nil, streamed: true)
    }

    /// Whether `name` is a SIGNS-style `.h5` file or a folder holding `train_signs.h5`.
    private var isSignsStyle: Bool {
        ["h5", "hdf5"].contains((name as NSString).pathExtension.lowercased())
            || FileManager.default.fileExists(atPath: (name as NSString).appendingPathComponent("train_signs.h5"))
    }

    /// For a folder of class subfolders: its `train/` and `test/` folders when it has `train/`
    /// (`test/` when present), or else the folder itself as the training set.
    /// - Throws: `ConvNetError.argument` when `name` is not a folder.
    private func folderRoots() throws -> (train: String, test: String?) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: name, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ConvNetError.argument("\(flag) \(name): not a known dataset (\(Self.knownNames.joined(separator: ", "))), "
                                        + "an .h5 file, nor a folder of class subfolders")
        }
        let trainRoot = (name as NSString).appendingPathComponent("train")
        let testRoot = (name as NSString).appendingPathComponent("test")
        guard FileManager.default.fileExists(atPath: trainRoot) else { return (name, nil) }
        return (trainRoot, FileManager.default.fileExists(atPath: testRoot) ? testRoot : nil)
    }

    /// A SIGNS-style HDF5 dataset from a file or folder; the test split is optional (the same file,
    /// or the sibling `test_*.h5`).
    private func signs(_ path: String) throws -> Splits {
        // A file with only the test split (the course's test_signs.h5 on its own) is a test set:
        // `convnet evaluate --dataset test_signs.h5` evaluates on it (it stands in for both splits).
        if (try? SignsStyle.file(for: .train, besides: path)) == nil, let testFile = try? SignsStyle.file(for: .test, besides: path) {
            let test = try SignsStyle.load(file: testFile, split: .test, limit: limit)
            return Splits(train: test, test: test, source: testFile,
                          notice: "\(testFile) holds only a test split (\(SignsStyle.datasetNames(split: .test).images)); it stands in for both splits")
        }
        let train = try SignsStyle.load(path: path, split: .train, limit: limit)
        let testFile = try? SignsStyle.file(for: .test, besides: path)
        return Splits(train: train, test: try testFile.map { try SignsStyle.load(file: $0, split: .test) }, source: path)
    }
}

extension DatasetResolver.Splits {
    /// Both splits converted to `channels` and resized to `imageSize` where they differ (the
    /// library's colour conversion and bilinear resize), with a notice naming the change.
    func fitted(imageSize: (height: Int, width: Int)?, channels: Int?, dataset: String) throws -> Self {
        let from = train.imageShape
        guard from.count == 3 else { return self }
        let to = [imageSize?.height ?? from[0], imageSize?.width ?? from[1], channels ?? from[2]]
        guard to != from else { return self }
        func fit(_ images: LabeledImages) throws -> LabeledImages {
            var pixels = images.images
            if to[2] != from[2] { pixels = try pixels.converted(toChannels: to[2]) }
            if to[0] != from[0] || to[1] != from[1] { pixels = try pixels.resizedBilinear(height: to[0], width: to[1]) }
            return try LabeledImages(images: pixels, labels: images.labels, classNames: images.classNames, source: source)
        }
        var fitted = Self(train: try fit(train), test: try test.map(fit), source: source)
        let shape = { (shape: [Int]) in shape.map(String.init).joined(separator: "x") }
        fitted.notice = "Resizing \(dataset)'s \(shape(from)) images to \(shape(to)) for the model"
            + (to[2] != from[2] ? " (\(to[2] == 1 ? "RGB to gray" : "gray to RGB"))" : "")
        return fitted
    }
}
