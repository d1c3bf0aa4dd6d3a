import ConvNetCore
import Foundation

/// One file of a downloadable dataset: where to get it and how to check it.
public struct RemoteFile: Sendable, Equatable {
    /// The file name in the dataset's folder, e.g. `train-images-idx3-ubyte.gz`.
    public let name: String
    /// Addresses to try in order (mirrors); the first that delivers a file with the right checksum wins.
    public let urls: [URL]
    /// The published digest a download must match before it is accepted.
    public let checksum: Checksum
    /// The size in bytes, when known: information for callers; downloading neither needs nor checks it.
    public let size: Int?

    /// - Parameters:
    ///   - name: The file name in the dataset's folder.
    ///   - urls: Addresses to try in order.
    ///   - checksum: The digest a download must match.
    ///   - size: The size in bytes, when known.
    public init(name: String, urls: [URL], checksum: Checksum, size: Int? = nil) {
        self.name = name
        self.urls = urls
        self.checksum = checksum
        self.size = size
    }
}

/// A dataset that ConvNet can download when it is not found locally: MNIST, Fashion-MNIST and
/// CIFAR-10 (binary version), from their usual public addresses, checked against the published
/// MD5 checksums, into a cache folder.
///
/// The cache is `$CONVNET_DATA_DIR/<name>` when that variable is set, else
/// `$XDG_CACHE_HOME/convnet/<name>`, else `~/.cache/convnet/<name>`. Files are written to a
/// temporary file in the cache folder, verified, then renamed, so the cache never holds a
/// half-written or unverified file under a dataset file's name.
public struct RemoteDataset: Sendable, Equatable {
    /// How the files are laid out once downloaded, which decides when a folder holds the dataset.
    public enum Layout: Sendable, Equatable {
        /// The files themselves (IDX, optionally gzipped), directly in the folder.
        case files
        /// One `.tar.gz` archive, unpacked into the folder; it holds the dataset when every path
        /// in `contents` exists (directly, or under `folder`).
        case archive(folder: String, contents: [String])
    }

    /// The short name used for the cache folder and the `--dataset` flag, e.g. `fashion-mnist`.
    public let name: String
    /// The name people know it by, for messages.
    public let title: String
    /// The files to download, each with its addresses and checksum.
    public let files: [RemoteFile]
    /// Whether the files are used as they are or unpacked from an archive.
    public let layout: Layout

    /// - Parameters:
    ///   - name: The short name for the cache folder and the `--dataset` flag.
    ///   - title: The name people know it by.
    ///   - files: The files to download.
    ///   - layout: How the files are laid out once downloaded.
    public init(name: String, title: String, files: [RemoteFile], layout: Layout) {
        self.name = name
        self.title = title
        self.files = files
        self.layout = layout
    }

    /// The four MNIST-style IDX files at `bases` (each ending in `/`), with their MD5s in the order
    /// train images, train labels, test images, test labels.
    private static func idxFiles(bases: [String], md5: [String], sizes: [Int]) -> [RemoteFile] {
        let names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
        return names.indices.map { index in
            RemoteFile(name: names[index], urls: bases.compactMap { URL(string: $0 + names[index]) },
                       checksum: .md5(md5[index]), size: sizes[index])
        }
    }

    /// MNIST, from PyTorch's and TensorFlow's mirrors (yann.lecun.com refuses most downloads);
    /// MD5s as published with torchvision.
    public static let mnist = RemoteDataset(
        name: "mnist", title: "MNIST",
        files: idxFiles(bases: ["https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"],
                        md5: ["f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
                              "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"],
                        sizes: [9_912_422, 28_881, 1_648_877, 4_542]),
        layout: .files)

    /// Fashion-MNIST, from Keras's mirror and Zalando's own bucket; MD5s from Zalando's README.
    public static let fashionMNIST = RemoteDataset(
        name: "fashion-mnist", title: "Fashion-MNIST",
        files: idxFiles(bases: ["https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
                                "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
                        md5: ["8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
                              "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"],
                        sizes: [26_421_880, 29_515, 4_422_102, 5_148]),
        layout: .files)

    /// CIFAR-10's binary version from its authors' page; MD5 as published there.
    public static let cifar10 = RemoteDataset(
        name: "cifar10", title: "CIFAR-10",
        files: [RemoteFile(name: "cifar-10-binary.tar.gz",
                           urls: [URL(string: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz")].compactMap { $0 },
                           checksum: .md5("c32a1d4ab5d03f1284b67883e8d87530"), size: 170_052_171)],
        layout: .archive(folder: "cifar-10-batches-bin",
                         contents: (1...5).map { "data_batch_\($0).bin" } + ["test_batch.bin", "batches.meta.txt"]))

    /// The built-in datasets by `name`: `mnist`, `fashion-mnist`, `cifar10`.
    public static func named(_ name: String) -> RemoteDataset? {
        [mnist, fashionMNIST, cifar10].first { $0.name == name }
    }
}
