import ConvNet
import Foundation

/// Turns `--dataset` / `--data-dir` into loaded training and test sets.
struct DatasetResolver {
    let name: String
    let dataDirectory: String?
    let limit: Int?
    /// Whether missing MNIST / Fashion-MNIST / CIFAR-10 files may be downloaded (`--no-download` turns it off).
    var download = true

    struct Splits {
        var train: LabeledImages
        var test: LabeledImages?
        /// Where the data came from, for the log.
        var source: String
    }

    /// The names `--dataset` accepts besides folders and `.h5` files.
    static let knownNames = ["fashion-mnist", "mnist", "cifar10", "signs"]

    /// Loads the named dataset:
    /// - `fashion-mnist`, `mnist`, `cifar10` (official binary batches): looked for in `--data-dir`,
    ///   then (Fashion-MNIST) Debian's `/usr/share/datasets/fashion-mnist`, then the download cache
    ///   (`$CONVNET_DATA_DIR/<name>` or `~/.cache/convnet/<name>`), and downloaded there when missing;
    /// - `signs`, or an `.h5` file: deck 000's SIGNS-style HDF5 files (`train_set_x`, ...), from
    ///   `--data-dir` for `signs`;
    /// - a folder of class subfolders (with `train/` and `test/` inside, or used whole for
    ///   training), or a folder holding `train_signs.h5`.
    func load(imageSize: (height: Int, width: Int)?, channels: Int?) throws -> Splits {
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
                throw ConvNetError.argument("--dataset signs needs --data-dir DIR holding train_signs.h5 and test_signs.h5 (deck 000), or pass the .h5 file as --dataset")
            }
            return try signs(dataDirectory)
        default:
            if ["h5", "hdf5"].contains((name as NSString).pathExtension.lowercased()) {
                return try signs(name)
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: name, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ConvNetError.argument("--dataset \(name): not a known dataset (\(Self.knownNames.joined(separator: ", "))), "
                                            + "an .h5 file, nor a folder of class subfolders")
            }
            if FileManager.default.fileExists(atPath: (name as NSString).appendingPathComponent("train_signs.h5")) {
                return try signs(name)
            }
            let trainRoot = (name as NSString).appendingPathComponent("train")
            let testRoot = (name as NSString).appendingPathComponent("test")
            if FileManager.default.fileExists(atPath: trainRoot) {
                return Splits(train: try ImageFolder.load(root: trainRoot, imageSize: imageSize, channels: channels ?? 3, limit: limit),
                              test: FileManager.default.fileExists(atPath: testRoot)
                                ? try ImageFolder.load(root: testRoot, imageSize: imageSize, channels: channels ?? 3) : nil,
                              source: name)
            }
            return Splits(train: try ImageFolder.load(root: name, imageSize: imageSize, channels: channels ?? 3, limit: limit),
                          test: nil, source: name)
        }
    }

    /// A SIGNS-style HDF5 dataset from a file or folder; the test split is optional (the same file,
    /// or the sibling `test_*.h5`).
    private func signs(_ path: String) throws -> Splits {
        let train = try SignsStyle.load(path: path, split: .train, limit: limit)
        let testFile = try? SignsStyle.file(for: .test, besides: path)
        return Splits(train: train, test: try testFile.map { try SignsStyle.load(file: $0, split: .test) }, source: path)
    }
}
