import Foundation
import Synchronization

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
public enum ImageFolder {
    /// File name extensions read as images (compared case-insensitively).
    public static let fileExtensions: Set<String> = ["png", "jpg", "jpeg"]

    /// Loads every image below `root`.
    /// - Parameters:
    ///   - imageSize: resize every image to `(height, width)` with `resizedBilinear` (Keras's
    ///     default interpolation). `nil` keeps the stored size and requires all images to share it.
    ///   - channels: 1 (gray) or 3 (RGB); images are converted with `converted(toChannels:)`, so
    ///     colour becomes ITU-R 601-2 luma and alpha is dropped.
    ///   - limit: keep only the first `limit` files in the order above (so a small limit may hold
    ///     only the first classes); the class names still list every class.
    /// - Returns: images `(m, height, width, channels)`, pixel values `0...255`.
    /// - Throws: `ConvNetError.file` naming the folder or file for a missing root, no class
    ///   folders, a class folder without images, a file that is not a PNG/JPEG or cannot be decoded,
    ///   or (with no `imageSize`) an image whose size differs from the first one's.
    ///
    /// Files are decoded in parallel on `Parallel.threads` threads, each writing its own images'
    /// slots of the result.
    public static func load(root: String, imageSize: (height: Int, width: Int)? = nil, channels: Int = 3,
                            limit: Int? = nil) throws -> LabeledImages {
        guard channels == 1 || channels == 3 else {
            throw ConvNetError.argument("ImageFolder: channels must be 1 (gray) or 3 (RGB), got \(channels)")
        }
        if let imageSize, imageSize.height < 1 || imageSize.width < 1 {
            throw ConvNetError.argument("ImageFolder: image size must be at least 1×1, got \(imageSize.height)×\(imageSize.width)")
        }
        let (classNames, allFiles) = try listImages(root: root)
        let files = Array(allFiles.prefix(try sampleCount(available: allFiles.count, limit: limit)))
        let labels = files.map(\.label)
        guard let first = files.first else {
            let size = imageSize.map { [$0.height, $0.width] } ?? [0, 0]
            return try LabeledImages(images: Tensor(shape: [0] + size + [channels]), labels: [],
                                     classNames: classNames, source: root)
        }

        // The first image fixes the size when none is given; the rest are decoded in parallel.
        let firstImage = try loadImage(path: first.path, channels: channels, size: imageSize)
        let shape = firstImage.shape
        let imageCount = firstImage.count
        var pixels = [Float](repeating: 0, count: files.count * imageCount)
        pixels.replaceSubrange(0..<imageCount, with: firstImage.scalars)
        let failure = Mutex<(index: Int, error: any Error)?>(nil)
        pixels.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            let output = SendableMutablePointer(base)
            // Chunks of files 1..<count (shifted by one: file 0 is done). Decoding a file costs far
            // more than handing a chunk to a thread, hence the large cost per item.
            Parallel.forEachChunk(files.count - 1, costPerItem: 32_768) { range in
                for index in (range.lowerBound + 1)..<(range.upperBound + 1) {
                    // Past a file known to fail, nothing here can be the earliest failure.
                    if let failed = failure.withLock({ $0?.index }), failed < index { return }
                    do {
                        let image = try loadImage(path: files[index].path, channels: channels, size: imageSize)
                        guard image.shape == shape else {
                            throw ConvNetError.file(path: files[index].path, message: "image is \(image.shape[0])×\(image.shape[1]) "
                                                    + "(height×width) but the first image, \(first.path), is \(shape[0])×\(shape[1]); "
                                                    + "give an image size to resize all images to it")
                        }
                        _ = UnsafeMutableBufferPointer(start: output.pointer + index * imageCount, count: imageCount)
                            .update(fromContentsOf: image.scalars)
                    } catch {
                        // Report the earliest failing file, so the error does not depend on thread timing.
                        failure.withLock { current in
                            if current.map({ index < $0.index }) ?? true { current = (index, error) }
                        }
                        return
                    }
                }
            }
        }
        if let failure = failure.withLock({ $0 }) { throw failure.error }
        return try LabeledImages(images: Tensor(validShape: [files.count] + shape, scalars: pixels),
                                 labels: labels, classNames: classNames, source: root)
    }

    /// Decodes one file, converts it to `channels` and, given a size, resizes it to that size.
    private static func loadImage(path: String, channels: Int, size: (height: Int, width: Int)?) throws -> Tensor {
        let image = try ImageCodec.decode(path: path).converted(toChannels: channels)
        guard let size else { return image }
        return try image.resizedBilinear(height: size.height, width: size.width)
    }

    /// The sorted class folder names and every image file with its label, in load order.
    private static func listImages(root: String) throws -> (classNames: [String], files: [(path: String, label: Int)]) {
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
