import ConvNetCore
import Foundation

/// Image-classification datasets stored as one folder per class, read as Keras's
/// `image_dataset_from_directory` and torchvision's `ImageFolder` read them:
///
///     root/cat/0001.jpg
///     root/cat/0002.png
///     root/dog/0001.jpg
///
/// Class names are the subfolder names in sorted order, and label `i` is the `i`-th name. Images
/// are `.png`, `.jpg` or `.jpeg` files (any case) anywhere below a class folder, taken class by
/// class, each class's files sorted by path. Hidden entries (names starting with `.`) and files
/// directly in `root` are skipped. Files are decoded by content, so a misnamed JPEG still loads.
///
/// A `limit` takes a class-balanced subset (round-robin over the classes, see
/// `balancedSubset(labels:classCount:limit:)`), not the first files, which would hold only the
/// first classes. `load` decodes everything into memory; `ImageFolderDataset` decodes per batch.
public enum ImageFolder {
    /// File name extensions read as images (compared case-insensitively).
    public static let fileExtensions: Set<String> = ["png", "jpg", "jpeg"]

    /// Loads every image below `root` into memory.
    /// - Parameters:
    ///   - root: The folder holding one subfolder per class.
    ///   - imageSize: resize every image to `(height, width)` with `resizedBilinear` (Keras's
    ///     default interpolation). `nil` keeps the stored size and requires all images to share it.
    ///   - channels: 1 (gray) or 3 (RGB); images are converted with `converted(toChannels:)`, so
    ///     colour becomes ITU-R 601-2 luma and alpha is dropped.
    ///   - limit: keep only `limit` files, a class-balanced and deterministic subset (see
    ///     `balancedSubset(labels:classCount:limit:)`): files are taken round-robin over the
    ///     classes, each class's in file order, and kept in the order above. The class names still
    ///     list every class.
    /// - Returns: images `(m, height, width, channels)`, pixel values `0...255`.
    /// - Throws: `ConvNetError.file` naming the folder or file for a missing root, no class
    ///   folders, a class folder without images, a file that is not a PNG/JPEG or cannot be decoded,
    ///   or (with no `imageSize`) an image whose size differs from the first one's.
    ///
    /// Files are decoded in parallel on `Parallel.threads` threads, each writing its own images'
    /// slots of the result. For folders too large for memory, use `ImageFolderDataset`, which
    /// decodes each batch's files when the batch is asked for.
    public static func load(root: String, imageSize: (height: Int, width: Int)? = nil, channels: Int = 3,
                            limit: Int? = nil) throws -> LabeledImages {
        try ImageFolderDataset(root: root, imageSize: imageSize, channels: channels, limit: limit).loadAll()
    }

    /// Positions of a class-balanced subset of `limit` samples, in increasing order.
    ///
    /// Samples are taken round-robin over the classes — each class's first sample, then each
    /// class's second, and so on, skipping classes that have run out — until `limit` are taken, so
    /// every class gets `⌊limit / classes⌋` or one more (or all it has). Within a class, samples are
    /// taken in their order in `labels`. The result is sorted, so the subset keeps the data's order.
    /// - Parameters:
    ///   - labels: each sample's class, in `0..<classCount`.
    ///   - classCount: The number of classes.
    ///   - limit: `nil` keeps every sample.
    /// - Throws: `ConvNetError.argument` for a negative limit or a label outside `0..<classCount`.
    public static func balancedSubset(labels: [Int], classCount: Int, limit: Int?) throws -> [Int] {
        let kept = try sampleCount(available: labels.count, limit: limit)
        if let bad = labels.first(where: { !(0..<classCount).contains($0) }) {
            throw ConvNetError.argument("balancedSubset: label \(bad) is out of range for \(classCount) classes")
        }
        guard kept < labels.count else { return Array(labels.indices) }
        var byClass = [[Int]](repeating: [], count: classCount)
        for (position, label) in labels.enumerated() { byClass[label].append(position) }
        var chosen: [Int] = []
        chosen.reserveCapacity(kept)
        var round = 0
        while chosen.count < kept {
            for members in byClass where round < members.count && chosen.count < kept {
                chosen.append(members[round])
            }
            round += 1
        }
        return chosen.sorted()
    }

    /// Decodes `paths` into consecutive `(shape)` slots of one buffer, in parallel on
    /// `Parallel.threads` threads, each writing its own files' slots.
    /// - Parameters:
    ///   - shape: `(height, width, channels)` every image must have after conversion (and resizing,
    ///     when `size` is given).
    ///   - reference: the file that fixed `shape`, named when another image's size differs.
    /// - Returns: `paths.count · shape.reduce(1, *)` pixel values `0...255`.
    /// - Throws: the error of the earliest file (in `paths` order) that fails, so the error does
    ///   not depend on thread timing.
    static func decodeImages(_ paths: [String], shape: [Int], channels: Int, size: (height: Int, width: Int)?,
                             reference: String) throws -> [Float] {
        let imageCount = shape.reduce(1, *)
        var pixels = [Float](repeating: 0, count: paths.count * imageCount)
        let failure = Locked<(index: Int, error: any Error)?>(nil)
        pixels.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            let output = SendableMutablePointer(base)
            // Decoding a file costs far more than handing a chunk to a thread, hence the large cost per item.
            Parallel.forEachChunk(paths.count, costPerItem: 32_768) { range in
                for index in range {
                    // Past a file known to fail, nothing here can be the earliest failure.
                    if let failed = failure.withLock({ $0?.index }), failed < index { return }
                    do {
                        let image = try loadImage(path: paths[index], channels: channels, size: size)
                        guard image.shape == shape else {
                            throw ConvNetError.file(path: paths[index], message: "image is \(image.shape[0])×\(image.shape[1]) "
                                                    + "(height×width) but the first image, \(reference), is \(shape[0])×\(shape[1]); "
                                                    + "give an image size to resize all images to it")
                        }
                        _ = UnsafeMutableBufferPointer(start: output.pointer + index * imageCount, count: imageCount)
                            .update(fromContentsOf: image.scalars)
                    } catch {
                        failure.withLock { current in
                            if current.map({ index < $0.index }) ?? true { current = (index, error) }
                        }
                        return
                    }
                }
            }
        }
        if let failure = failure.withLock({ $0 }) { throw failure.error }
        return pixels
    }

    /// Decodes one file, converts it to `channels` and, given a size, resizes it to that size.
    /// - Returns: `(height, width, channels)`, pixel values `0...255`.
    static func loadImage(path: String, channels: Int, size: (height: Int, width: Int)?) throws -> Tensor {
        let image = try ImageCodec.decode(path: path).converted(toChannels: channels)
        guard let size else { return image }
        return try image.resizedBilinear(height: size.height, width: size.width)
    }

    /// The sorted class folder names and every image file with its label, in load order.
    static func listImages(root: String) throws -> (classNames: [String], files: [(path: String, label: Int)]) {
        guard FileIO.isDirectory(root) else {
            throw ConvNetError.file(path: root, message: "no such folder; expected one subfolder per class holding .png/.jpg images")
        }
        let manager = FileManager.default
        let entries: [String]
        do {
            entries = try manager.contentsOfDirectory(atPath: root)
        } catch {
            throw ConvNetError.file(path: root, message: "cannot list the folder: \(error.localizedDescription)")
        }
        let classNames = entries.filter { !$0.hasPrefix(".") && FileIO.isDirectory(root + "/" + $0) }.sorted()
        guard !classNames.isEmpty else {
            throw ConvNetError.file(path: root, message: "no class folders; expected one subfolder per class holding .png/.jpg images")
        }
        var files: [(path: String, label: Int)] = []
        for (label, name) in classNames.enumerated() {
            let folder = root + "/" + name
            let relativePaths: [String]
            do {
                relativePaths = try manager.subpathsOfDirectory(atPath: folder)
            } catch {
                throw ConvNetError.file(path: folder, message: "cannot list the folder: \(error.localizedDescription)")
            }
            let images = try relativePaths.sorted().compactMap { relativePath -> String? in
                let path = folder + "/" + relativePath
                guard !relativePath.split(separator: "/").contains(where: { $0.hasPrefix(".") }), FileIO.isFile(path) else {
                    return nil
                }
                guard fileExtensions.contains((relativePath as NSString).pathExtension.lowercased()) else {
                    throw ConvNetError.file(path: path, message: "not an image file: class folders may hold only .png, .jpg "
                                            + "and .jpeg files (hidden files are skipped)")
                }
                return path
            }
            guard !images.isEmpty else {
                throw ConvNetError.file(path: folder, message: "class folder '\(name)' has no images (.png, .jpg, .jpeg)")
            }
            files += images.map { ($0, label) }
        }
        return (classNames, files)
    }
}
