import ArgumentParser
import ConvNet
import Foundation

/// Applies the lecture notes' classic kernels to an image through the library's `conv2d`.
struct FilterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filter",
        abstract: "Apply a classic convolution kernel (edges, blur, sharpen, Sobel) or max/average pooling to a PNG or JPEG.",
        discussion: """
        Kernels (cross-correlation through conv2d, on each channel separately,
        or on the luma with --grayscale):
          vertical-edge    [[1,0,-1],[1,0,-1],[1,0,-1]]    (lecture notes)
          horizontal-edge  [[1,1,1],[0,0,0],[-1,-1,-1]]    (lecture notes)
          laplacian-edge   [[-1,-1,-1],[-1,8,-1],[-1,-1,-1]]
          sharpen          [[0,-1,0],[-1,5,-1],[0,-1,0]]   (lecture notes)
          box-blur         1/9 everywhere (3x3)
          gaussian-blur    1/16 [[1,2,1],[2,4,2],[1,2,1]]
          sobel-x          [[-1,0,1],[-2,0,2],[-1,0,1]]  (tf.image.sobel_edges)
          sobel-y          [[-1,-2,-1],[0,0,0],[1,2,1]]  (tf.image.sobel_edges)
          sobel            gradient magnitude sqrt(gx^2 + gy^2)
          dx, dy           tf.image.image_gradients: forward differences,
                           0 on the last column (dx) or row (dy)
          identity         [[0,0,0],[0,1,0],[0,0,0]]
          FILE.json        {"kernel": [[...], ...]}, optionally with
                           "scaling": "clamp", "absolute" or "minmax"

        Display scaling (filter outputs are not pixels; --scaling overrides):
          absolute  |v| mapped linearly so the largest |v| becomes 255:
                    edge kernels, sobel-x, sobel-y, sobel, dx, dy
          clamp     values clamped to 0..255:
                    sharpen, box-blur, gaussian-blur, identity
          minmax    min..max mapped linearly to 0..255:
                    custom kernels, unless the file says otherwise

        Padding keeps the size (at stride 1) by mirroring the border: reflect, the
        default, as tf.image.sobel_edges does, so edge kernels see no false edge at
        the image border; same pads with zeros, as a Conv2D layer with padding="same"
        does; valid does not pad (the output shrinks by 2 for 3x3 kernels). With
        several --kernel options the output shows the input and each result side by
        side, captioned.

        Pooling (--pool max or average, repeatable, with --size F and --stride
        S, default S = F as Keras's MaxPooling2D/AveragePooling2D) runs the
        library's maxPool2d/avgPool2d on each channel, no padding: the lecture notes'
        "max pooling vs. average pooling" feature maps, e.g. 220x220 -> 110x110.

        Examples:
          convnet filter --kernel vertical-edge photo.jpg -o edges.png
          convnet filter --pool max --pool average --size 2 --stride 2 photo.jpg -o pooled.png
          convnet filter --kernel sobel --grayscale photo.png -o sobel.png
          convnet filter --kernel sharpen --kernel sobel --resize 128x128 \\
            small.jpg -o compare.png
        """)

    @Option(help: ArgumentHelp("A kernel name or FILE.json (repeat to compare several).", valueName: "name"))
    var kernel: [String] = []
    @Option(help: ArgumentHelp("max or average pooling instead of a kernel (repeat to compare).", valueName: "max|average"))
    var pool: [String] = []
    @Option(help: "With --pool: the pooling window F (FxF).") var size = 2
    @Option(help: "Stride in both directions (default 1 for kernels, --size for --pool).") var stride: Int?
    @Option(help: "reflect (default), same (zeros) or valid (no padding).") var padding: String?
    @Option(help: "absolute, clamp or minmax: overrides the kernel's display scaling.") var scaling: String?
    @Flag(help: "Convert to gray (ITU-R 601 luma) before filtering.") var grayscale = false
    @Option(help: ArgumentHelp("Resize the input first (bilinear), e.g. 128x128.", valueName: "HxW")) var resize: String?
    @Option(help: "Enlarge the output this many times (nearest-neighbour).") var zoom = 1
    @Argument(help: "The PNG or JPEG image to filter.") var image: String
    @OptionGroup var outputOptions: OutputOptions
    var output: String { outputOptions.output }

    func validate() throws {
        guard !kernel.isEmpty || !pool.isEmpty else {
            throw ValidationError("give at least one --kernel (\(ClassicFilter.names.joined(separator: ", ")) or FILE.json) or --pool max|average")
        }
        guard kernel.isEmpty || pool.isEmpty else { throw ValidationError("give --kernel or --pool, not both") }
        if let bad = pool.first(where: { !["max", "average"].contains($0) }) {
            throw ValidationError("--pool \(bad): use max or average")
        }
        guard size > 0 else { throw ValidationError("--size must be positive, got \(size)") }
        // Built-in names now; a FILE.json is read (and its contents checked) when the command runs.
        for name in kernel where !name.lowercased().hasSuffix(".json") {
            _ = try usage("--kernel") { try ClassicFilter(named: name) }
        }
        if let stride, stride <= 0 { throw ValidationError("--stride must be positive, got \(stride)") }
        guard (1...32).contains(zoom) else { throw ValidationError("--zoom must be between 1 and 32, got \(zoom)") }
        if let padding, FilterPadding(rawValue: padding) == nil {
            throw ValidationError("--padding \(padding): use reflect, same or valid")
        }
        if let scaling, DisplayScaling(rawValue: scaling) == nil {
            throw ValidationError("--scaling \(scaling): use absolute, clamp or minmax")
        }
        _ = try resize.map { try ImageSize.parse($0) }
        guard ImageCodec.format(ofFileName: output) != nil else {
            throw ValidationError("--output \(output): use a .png, .jpg or .jpeg file name")
        }
    }

    func run() throws {
        let filters = try kernel.map(ClassicFilter.init(named:))
        var picture = try ImageCodec.decode(path: image)
        if let size = try resize.map({ try ImageSize.parse($0) }) {
            picture = try picture.resizedBilinear(height: size.height, width: size.width)
        }
        let channels = picture.shape[2]
        if grayscale || channels == 2 {
            picture = try picture.converted(toChannels: 1)
        } else if channels == 4 {
            picture = try picture.converted(toChannels: 3)
        }
        var results: [Tensor] = []
        let stride = stride ?? (pool.isEmpty ? 1 : size)
        for mode in pool {
            let batch = try picture.reshaped(to: [1] + picture.shape)
            let pooled = mode == "max" ? try maxPool2d(batch, size: (size, size), strides: (stride, stride))
                : try avgPool2d(batch, size: (size, size), strides: (stride, stride))
            let raw = try pooled.reshaped(to: Array(pooled.shape.dropFirst()))
            print("\(mode) pooling \(size)x\(size), stride \(stride): \(describe(shape: picture.shape)) -> \(describe(shape: raw.shape))")
            results.append(DisplayScaling.clamp.apply(to: raw))
        }
        for filter in filters {
            let raw = try filter.apply(to: picture, strides: (stride, stride), padding: padding.flatMap(FilterPadding.init(rawValue:)))
            let display = scaling.flatMap(DisplayScaling.init(rawValue:)) ?? filter.displayScaling
            print("\(filter.name): \(describe(shape: picture.shape)) -> \(describe(shape: raw.shape)); display: \(display.describe(for: raw.scalars))")
            results.append(display.apply(to: raw))
        }
        let picture255 = DisplayScaling.clamp.apply(to: picture)
        let composed: Tensor
        if results.count == 1 {
            composed = try ImageGrid.upscaledNearest(results[0], scaleX: zoom, scaleY: zoom)
        } else {
            let tiles = [picture255] + results
            let rows = (tiles.count + 4) / 5
            composed = try ImageGrid.make(tiles: tiles, columns: (tiles.count + rows - 1) / rows, scale: zoom,
                                          tileCaptions: ["input"] + pool.map { "\($0) \(size)x\(size)/\(stride)" } + kernel.map { ($0 as NSString).lastPathComponent },
                                          style: ImageGrid.Style(separator: 2, separatorColor: .white))
        }
        try VisualOutput.writeImage(composed, to: output)
        print("Wrote \(output) (\(composed.shape[1])x\(composed.shape[0]))")
    }
}
