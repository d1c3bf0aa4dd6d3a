import ConvNetCore
/// Datasets distributed as MNIST is: four IDX files in one folder,
/// `{train,t10k}-images-idx3-ubyte` and `{train,t10k}-labels-idx1-ubyte`, each optionally gzipped
/// (`.gz`). This covers MNIST, Fashion-MNIST, Kuzushiji-MNIST and EMNIST's splits.
public enum MNISTStyle {
    /// Where Debian's `dataset-fashion-mnist` package installs Fashion-MNIST.
    public static let fashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"

    /// Fashion-MNIST's class names, by label.
    public static let fashionMNISTClassNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    /// MNIST's class names: the digits `"0"` ... `"9"`.
    public static let digitClassNames = (0...9).map(String.init)

    /// Loads one split.
    /// - Parameters:
    ///   - directory: the folder holding the four files (Fashion-MNIST's Debian location by default).
    ///   - split: `.train` reads the `train-…` files, `.test` the `t10k-…` files.
    ///   - classNames: names of labels `0..<classNames.count`; every label must be below the count.
    ///   - limit: keep only the first `limit` samples (for quick runs and tests).
    /// - Returns: images `(m, 28, 28, 1)` for the MNIST family, pixel values `0...255`.
    /// - Throws: `ConvNetError.file` when the files are missing (saying where it looked and how to
    ///   get Fashion-MNIST), malformed, or disagree on the number of samples, or a label is out of range.
    public static func load(directory: String = fashionMNISTDirectory, split: DatasetSplit,
                            classNames: [String] = fashionMNISTClassNames, limit: Int? = nil) throws -> LabeledImages {
        let prefix = split == .train ? "train" : "t10k"
        let imagesFile = try locate("\(prefix)-images-idx3-ubyte", in: directory)
        let labelsFile = try locate("\(prefix)-labels-idx1-ubyte", in: directory)
        let images = try IDXArray(path: imagesFile, magic: IDX.imagesMagic)
        let labels = try IDXArray(path: labelsFile, magic: IDX.labelsMagic)
        guard images.count == labels.count else {
            throw ConvNetError.file(path: directory, message: "\(imagesFile) has \(images.count) images "
                                    + "but \(labelsFile) has \(labels.count) labels")
        }
        return try LabeledImages(images: images.images(limit: limit), labels: labels.labels(limit: limit),
                                 classNames: classNames, source: labelsFile)
    }

    /// The path of `name` or `name.gz` in `directory`, preferring the uncompressed file.
    private static func locate(_ name: String, in directory: String) throws -> String {
        let candidates = [name, name + ".gz"].map { directory + "/" + $0 }
        if let found = candidates.first(where: { FileIO.isFile($0) }) { return found }
        throw ConvNetError.file(path: directory, message: "no MNIST-style dataset here: looked for \(name) and \(name).gz. "
                                + "For Fashion-MNIST run `apt-get install dataset-fashion-mnist` (it installs to "
                                + "\(fashionMNISTDirectory)), or pass --data-dir with a folder holding the four IDX files "
                                + "{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]")
    }
}
