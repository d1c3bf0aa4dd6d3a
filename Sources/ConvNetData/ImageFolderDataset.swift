import ConvNetCore
/// An image folder (`root/<class>/*.{png,jpg,jpeg}`, see `ImageFolder`) read lazily: it keeps the
/// file paths and labels, and decodes the files of each batch when `batch(at:seed:)` asks for
/// them, in parallel across the batch. Memory use is one batch, so folders of any size train.
///
/// The training loop calls `batch(at:seed:)` on a background thread one step ahead
/// (`PrefetchedBatch`), so decoding overlaps the previous step's computation. For data that fits in
/// memory (CIFAR-10's 50,000 images are 600 MB as `Float`), `loadAll()` (`ImageFolder.load`)
/// decodes once instead of every epoch and is faster from the second epoch on.
public struct ImageFolderDataset: Dataset {
    /// The folder holding one subfolder per class.
    public let root: String
    /// The image files, in the order of `ImageFolder` (class by class, each class's sorted by
    /// path; with a limit, the class-balanced subset in that order).
    public let files: [String]
    /// `labels[i]` is the class of `files[i]`.
    public let labels: [Int]
    /// The subfolder names, sorted; label `i` is the `i`-th.
    public let classNames: [String]
    /// `(height, width, channels)` of every decoded image: the image size when one is given, else
    /// the first file's size.
    public let sampleShape: [Int]
    /// The size every image is resized to, or `nil` to require the first file's size.
    public let imageSize: (height: Int, width: Int)?
    /// 1 (gray) or 3 (RGB).
    public let channels: Int

    /// Lists the folder (no decoding, except the first file when no image size is given, to learn
    /// the sample shape).
    /// - Parameters:
    ///   - root: The folder holding one subfolder per class.
    ///   - imageSize: resize every image to `(height, width)` with `resizedBilinear`; `nil` keeps
    ///     the stored size and requires every image to have the first one's.
    ///   - channels: 1 (gray) or 3 (RGB), converted with `converted(toChannels:)`.
    ///   - limit: keep only `limit` files, a class-balanced subset (`ImageFolder.balancedSubset`).
    /// - Throws: `ConvNetError.argument` for bad channels or size; `ConvNetError.file` naming the
    ///   folder or file for a missing root, no class folders, an empty class folder, a non-image
    ///   file, or a first image that cannot be decoded.
    public init(root: String, imageSize: (height: Int, width: Int)? = nil, channels: Int = 3, limit: Int? = nil) throws {
        guard channels == 1 || channels == 3 else {
            throw ConvNetError.argument("ImageFolder: channels must be 1 (gray) or 3 (RGB), got \(channels)")
        }
        if let imageSize, imageSize.height < 1 || imageSize.width < 1 {
            throw ConvNetError.argument("ImageFolder: image size must be at least 1×1, got \(imageSize.height)×\(imageSize.width)")
        }
        let (classNames, listed) = try ImageFolder.listImages(root: root)
        let chosen = try ImageFolder.balancedSubset(labels: listed.map(\.label), classCount: classNames.count, limit: limit)
        self.root = root
        self.files = chosen.map { listed[$0].path }
        self.labels = chosen.map { listed[$0].label }
        self.classNames = classNames
        self.imageSize = imageSize
        self.channels = channels
        if let imageSize {
            sampleShape = [imageSize.height, imageSize.width, channels]
        } else if let first = files.first {
            sampleShape = try ImageFolder.loadImage(path: first, channels: channels, size: nil).shape
        } else {
            sampleShape = [0, 0, channels]
        }
    }

    /// A dataset of already listed files (for subsets of another dataset's files).
    init(root: String, files: [String], labels: [Int], classNames: [String], sampleShape: [Int],
         imageSize: (height: Int, width: Int)?, channels: Int) {
        self.root = root
        self.files = files
        self.labels = labels
        self.classNames = classNames
        self.sampleShape = sampleShape
        self.imageSize = imageSize
        self.channels = channels
    }

    /// The number of samples.
    public var count: Int { files.count }

    /// Decodes the files at `indices` (in parallel) into a batch of raw pixels.
    /// - Returns: inputs `(indices.count, height, width, channels)`, pixel values `0...255`.
    /// - Throws: `ConvNetError.argument` for an index out of range; `ConvNetError.file` naming the
    ///   first file (in `indices` order) that cannot be decoded or (with no image size) has another
    ///   size than the first file.
    public func batch(at indices: [Int], seed: UInt64) throws -> Batch {
        if let bad = indices.first(where: { !files.indices.contains($0) }) {
            throw ConvNetError.argument("ImageFolderDataset \(root): index \(bad) is out of range for \(count) images")
        }
        let pixels = try ImageFolder.decodeImages(indices.map { files[$0] }, shape: sampleShape, channels: channels,
                                                  size: imageSize, reference: files.first ?? root)
        return Batch(inputs: Tensor(validShape: [indices.count] + sampleShape, scalars: pixels), labels: indices.map { labels[$0] })
    }

    /// Decodes every file into memory.
    /// - Returns: images `(count, height, width, channels)`, pixel values `0...255`.
    public func loadAll() throws -> LabeledImages {
        let batch = try batch(at: Array(files.indices), seed: 0)
        return try LabeledImages(images: batch.inputs, labels: batch.labels, classNames: classNames, source: root)
    }
}
