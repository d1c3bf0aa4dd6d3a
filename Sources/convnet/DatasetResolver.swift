import ConvNet
import Foundation

/// Turns `--dataset` / `--data-dir` into loaded training and test sets.
struct DatasetResolver {
    let name: String
    let dataDirectory: String?
    let limit: Int?

    struct Splits {
        var train: LabeledImages
        var test: LabeledImages?
        /// Where the data came from, for the log.
        var source: String
    }

    /// Loads the named dataset: `fashion-mnist`, `mnist`, `cifar10` (official binary batches), or a
    /// folder of class subfolders (with `train/` and `test/` inside, or used whole for training).
    func load(imageSize: (height: Int, width: Int)?, channels: Int?) throws -> Splits {
        switch name {
        case "fashion-mnist":
            let directory = dataDirectory ?? MNISTStyle.fashionMNISTDirectory
            return Splits(train: try MNISTStyle.load(directory: directory, split: .train, limit: limit),
                          test: try MNISTStyle.load(directory: directory, split: .test), source: directory)
        case "mnist":
            guard let directory = dataDirectory else {
                throw ConvNetError.argument("--dataset mnist needs --data-dir DIR with the four MNIST IDX files ({train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz])")
            }
            return Splits(train: try MNISTStyle.load(directory: directory, split: .train, classNames: MNISTStyle.digitClassNames, limit: limit),
                          test: try MNISTStyle.load(directory: directory, split: .test, classNames: MNISTStyle.digitClassNames),
                          source: directory)
        case "cifar10":
            guard let directory = dataDirectory else {
                throw ConvNetError.argument("--dataset cifar10 needs --data-dir DIR holding cifar-10-batches-bin (data_batch_1.bin ... test_batch.bin), or pass an image folder as --dataset")
            }
            return Splits(train: try CIFAR10.load(directory: directory, split: .train, limit: limit),
                          test: try CIFAR10.load(directory: directory, split: .test), source: directory)
        default:
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: name, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ConvNetError.argument("--dataset \(name): not a known dataset (fashion-mnist, mnist, cifar10) nor a folder of class subfolders")
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
}
