import ConvNetCore
import Foundation

/// A small 2-D kernel for filtering images, with the display scaling that suits its output.
///
/// Applied by `ImageFilters.apply` to each channel separately through the library's `conv2d`
/// (cross-correlation: the kernel is not flipped, as in the lecture notes and every CNN library).
public struct FilterKernel: Sendable, Equatable {
    /// The kernel's name, e.g. `"vertical-edge"`: what `convnet filter --kernel` accepts for the
    /// built-in ones, and what it prints beside the output's shape.
    public let name: String
    /// `rows[i][j]` is the weight at kernel row `i`, column `j`.
    public let rows: [[Float]]
    /// How `convnet filter` maps the output to pixels.
    public let displayScaling: DisplayScaling

    /// - Parameters:
    ///   - name: The kernel's name.
    ///   - rows: The weights, `rows[i][j]` at kernel row `i`, column `j`.
    ///   - displayScaling: How to map the filtered output to pixels.
    /// - Throws: `ConvNetError.argument` unless `rows` is a non-empty rectangle of finite numbers.
    public init(name: String, rows: [[Float]], displayScaling: DisplayScaling) throws {
        guard let width = rows.first?.count, width > 0 else {
            throw ConvNetError.argument("kernel '\(name)' is empty: expected rows of numbers such as [[1, 0, -1], [1, 0, -1], [1, 0, -1]]")
        }
        if let bad = rows.firstIndex(where: { $0.count != width }) {
            throw ConvNetError.argument("kernel '\(name)' is not rectangular: row 1 has \(width) numbers but row \(bad + 1) has \(rows[bad].count)")
        }
        guard rows.joined().allSatisfy(\.isFinite) else {
            throw ConvNetError.argument("kernel '\(name)' contains a value that is not finite")
        }
        self.name = name
        self.rows = rows
        self.displayScaling = displayScaling
    }

    /// A kernel from the fixed table below, which is valid by construction.
    private init(constant name: String, _ rows: [[Float]], _ scaling: DisplayScaling) {
        self.name = name
        self.rows = rows
        self.displayScaling = scaling
    }

    /// `f_h`, the number of kernel rows.
    public var height: Int { rows.count }
    /// `f_w`, the number of kernel columns.
    public var width: Int { rows.first?.count ?? 0 }

    /// The kernel as a `conv2d` kernel of shape `(height, width, 1, 1)`.
    public var tensor: Tensor {
        // The scalar count matches the shape: `rows` is a rectangle (checked in init).
        (try? Tensor(shape: [height, width, 1, 1], scalars: rows.flatMap { $0 })) ?? Tensor(shape: [1, 1, 1, 1])
    }

    /// the lecture notes' vertical edge detector `[[1, 0, −1]] × 3`: bright-to-dark from left to right is positive.
    public static let verticalEdge = FilterKernel(constant: "vertical-edge", [[1, 0, -1], [1, 0, -1], [1, 0, -1]], .absolute)
    /// the lecture notes' horizontal edge detector: bright-to-dark from top to bottom is positive.
    public static let horizontalEdge = FilterKernel(constant: "horizontal-edge", [[1, 1, 1], [0, 0, 0], [-1, -1, -1]], .absolute)
    /// The 8-centred edge (Laplacian-style outline) kernel: 0 on flat areas.
    public static let laplacianEdge = FilterKernel(constant: "laplacian-edge", [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], .absolute)
    /// The 5-centred sharpen kernel of the lecture notes: weights sum to 1, so flat areas keep their value.
    public static let sharpen = FilterKernel(constant: "sharpen", [[0, -1, 0], [-1, 5, -1], [0, -1, 0]], .clamp)
    /// The 3×3 mean, `1/9` everywhere.
    public static let boxBlur = FilterKernel(constant: "box-blur", [[Float]](repeating: [Float](repeating: 1.0 / 9, count: 3), count: 3), .clamp)
    /// The 3×3 binomial approximation of a Gaussian, `1/16 [[1, 2, 1], [2, 4, 2], [1, 2, 1]]`.
    public static let gaussianBlur = FilterKernel(constant: "gaussian-blur", [[1, 2, 1], [2, 4, 2], [1, 2, 1]].map { $0.map { $0 / 16 } }, .clamp)
    /// `tf.image.sobel_edges`'s horizontal-gradient kernel (its output's `[..., 1]`): dark-to-bright left to right is positive.
    public static let sobelX = FilterKernel(constant: "sobel-x", [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], .absolute)
    /// `tf.image.sobel_edges`'s vertical-gradient kernel (its output's `[..., 0]`): dark-to-bright top to bottom is positive.
    public static let sobelY = FilterKernel(constant: "sobel-y", [[-1, -2, -1], [0, 0, 0], [1, 2, 1]], .absolute)
    /// Leaves the image unchanged (with stride 1 and same padding).
    public static let identity = FilterKernel(constant: "identity", [[0, 0, 0], [0, 1, 0], [0, 0, 0]], .clamp)

    /// The named kernels above.
    public static let catalog: [FilterKernel] = [verticalEdge, horizontalEdge, laplacianEdge, sharpen, boxBlur, gaussianBlur,
                                                 sobelX, sobelY, identity]

    /// Reads a custom kernel from a JSON file: `{"kernel": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]}`,
    /// optionally with `"scaling": "clamp" | "absolute" | "minmax"` (default `minmax`) and `"name"`.
    /// - Throws: `ConvNetError.file` naming `path` for a missing file, invalid JSON, a missing or
    ///   non-numeric `kernel`, a ragged or empty kernel, or an unknown scaling.
    public static func load(jsonPath path: String) throws -> FilterKernel {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConvNetError.file(path: path, message: "no such file or not readable")
        }
        return try parse(json: data, source: path)
    }

    /// Parses the JSON form described in `load(jsonPath:)`; `source` names it in errors.
    public static func parse(json data: Data, source: String) throws -> FilterKernel {
        struct KernelFile: Decodable {
            let kernel: [[Float]]
            let scaling: String?
            let name: String?
        }
        let file: KernelFile
        do {
            file = try JSONDecoder().decode(KernelFile.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw ConvNetError.file(path: source, message: "missing \"\(key.stringValue)\": expected {\"kernel\": [[1, 0, -1], [1, 0, -1], [1, 0, -1]]}")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let location = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined()
            throw ConvNetError.file(path: source, message: "\(location.isEmpty ? "the file" : location) is not what was expected: "
                                    + "the kernel must be a list of rows of numbers, e.g. {\"kernel\": [[1, 0, -1], [1, 0, -1], [1, 0, -1]]}")
        } catch {
            throw ConvNetError.file(path: source, message: "not valid JSON: expected {\"kernel\": [[1, 0, -1], [1, 0, -1], [1, 0, -1]]}")
        }
        var scaling = DisplayScaling.minMax
        if let name = file.scaling {
            guard let chosen = DisplayScaling(rawValue: name.lowercased()) else {
                throw ConvNetError.file(path: source, message: "unknown scaling '\(name)': use clamp, absolute or minmax")
            }
            scaling = chosen
        }
        do {
            return try FilterKernel(name: file.name ?? ((source as NSString).lastPathComponent as NSString).deletingPathExtension,
                                    rows: file.kernel, displayScaling: scaling)
        } catch let error as ConvNetError {
            throw ConvNetError.file(path: source, message: error.description)
        }
    }
}

/// How `ImageFilters` treats the border.
public enum FilterPadding: String, Sendable, CaseIterable {
    /// No padding: the output shrinks by `kernel − 1` (at stride 1).
    case valid
    /// Zero padding, TensorFlow's `SAME` rule (`n_out = ⌈n / s⌉`): as a `Conv2D` layer sees the border.
    case same
    /// Mirror padding without repeating the edge (TensorFlow's `REFLECT`), the same amounts as
    /// `same`; what `tf.image.sobel_edges` uses, and free of the bright frame zeros give edge kernels.
    case reflect
}

/// Classic image filtering through the library's own `conv2d`, and the gradient images of the lecture notes.
///
/// Every function takes one image `(h, w, c)` or a batch `(m, h, w, c)` and returns the same rank.
/// Channels are filtered separately: the image is viewed as `m · c` one-channel planes
/// `(m · c, h, w, 1)`, convolved with a `(k_h, k_w, 1, 1)` kernel, and reassembled. Values are
/// not rescaled (see `DisplayScaling` for display).
public enum ImageFilters {
    /// `kernel` correlated with each channel: `out[h, w, c] = Σ_{p,q} in[h·s_h + p − pad_top, w·s_w + q − pad_left, c] · K[p, q]`.
    /// - Returns: `(n_H, n_W, c)` (or with the batch axis) with `n_H` from `WindowGeometry`.
    /// - Throws: `ConvNetError.shape` for a bad image rank, a kernel larger than the (padded) image,
    ///   or reflect padding wider than the image.
    public static func apply(_ kernel: FilterKernel, to image: Tensor, strides: (Int, Int) = (1, 1),
                             padding: FilterPadding = .same) throws -> Tensor {
        try perChannel(image, op: "ImageFilters.apply") { planes in
            switch padding {
            case .valid: return try conv2d(planes, kernel: kernel.tensor, strides: strides, padding: .valid)
            case .same: return try conv2d(planes, kernel: kernel.tensor, strides: strides, padding: .same)
            case .reflect:
                let op = "ImageFilters.apply(\(kernel.name), reflect)"
                let rows = try WindowGeometry.axis(op: op, length: planes.shape[1], kernel: kernel.height, stride: strides.0,
                                                   dilation: 1, padding: .same, vertical: true)
                let columns = try WindowGeometry.axis(op: op, length: planes.shape[2], kernel: kernel.width, stride: strides.1,
                                                      dilation: 1, padding: .same, vertical: false)
                let padded = try reflectPadded(planes, top: rows.before, bottom: rows.after, left: columns.before, right: columns.after)
                return try conv2d(padded, kernel: kernel.tensor, strides: strides, padding: .valid)
            }
        }
    }

    /// `tf.image.sobel_edges`: the Sobel kernels on reflect-padded channels, stride 1.
    /// - Returns: `dy` (kernel `sobelY`, TensorFlow's `[..., 0]`) and `dx` (kernel `sobelX`,
    ///   `[..., 1]`), each the input's shape.
    public static func sobelEdges(_ image: Tensor) throws -> (dy: Tensor, dx: Tensor) {
        (try apply(.sobelY, to: image, padding: .reflect), try apply(.sobelX, to: image, padding: .reflect))
    }

    /// The Sobel gradient magnitude `√(g_x² + g_y²)` per channel, with the given stride and padding
    /// (reflect padding, the default, gives `tf.image.sobel_edges`'s `g_x`, `g_y`).
    public static func sobelMagnitude(_ image: Tensor, strides: (Int, Int) = (1, 1), padding: FilterPadding = .reflect) throws -> Tensor {
        let gx = try apply(.sobelX, to: image, strides: strides, padding: padding)
        let gy = try apply(.sobelY, to: image, strides: strides, padding: padding)
        return try Tensor(shape: gx.shape, scalars: zip(gx.scalars, gy.scalars).map { ($0 * $0 + $1 * $1).squareRoot() })
    }

    /// `tf.image.image_gradients`: forward differences per channel,
    ///
    ///     dy[h, w, c] = x[h + 1, w, c] − x[h, w, c],   0 on the last row
    ///     dx[h, w, c] = x[h, w + 1, c] − x[h, w, c],   0 on the last column
    ///
    /// computed as `conv2d` with the kernels `[[−1], [1]]` and `[[−1, 1]]` (valid) followed by
    /// `zeroPad2d` on the bottom or right. Both outputs have the input's shape.
    public static func imageGradients(_ image: Tensor) throws -> (dy: Tensor, dx: Tensor) {
        let down = try Tensor(shape: [2, 1, 1, 1], scalars: [-1, 1])
        let across = try Tensor(shape: [1, 2, 1, 1], scalars: [-1, 1])
        let dy = try perChannel(image, op: "ImageFilters.imageGradients") { planes in
            guard planes.shape[1] > 1 else { return Tensor(shape: planes.shape) }
            return try zeroPad2d(conv2d(planes, kernel: down), top: 0, bottom: 1, left: 0, right: 0)
        }
        let dx = try perChannel(image, op: "ImageFilters.imageGradients") { planes in
            guard planes.shape[2] > 1 else { return Tensor(shape: planes.shape) }
            return try zeroPad2d(conv2d(planes, kernel: across), top: 0, bottom: 0, left: 0, right: 1)
        }
        return (dy, dx)
    }

    /// Mirror padding of the spatial axes without repeating the edge (TensorFlow's `REFLECT`):
    /// `[a b c d]` padded by 2 on the left is `[c b a b c d]`.
    /// - Parameters:
    ///   - images: `(m, h, w, c)`.
    ///   - top: Rows to add above; less than `h`.
    ///   - bottom: Rows to add below; less than `h`.
    ///   - left: Columns to add on the left; less than `w`.
    ///   - right: Columns to add on the right; less than `w`.
    /// - Returns: `(m, h + top + bottom, w + left + right, c)`.
    /// - Throws: `ConvNetError.shape` unless every pad is smaller than the axis it mirrors.
    public static func reflectPadded(_ images: Tensor, top: Int, bottom: Int, left: Int, right: Int) throws -> Tensor {
        guard images.rank == 4 else {
            throw ConvNetError.shape(op: "reflectPadded", message: "expected (m, h, w, c), got \(describe(shape: images.shape))")
        }
        let (m, h, w, c) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        guard min(top, bottom, left, right) >= 0, max(top, bottom) < h, max(left, right) < w else {
            throw ConvNetError.shape(op: "reflectPadded", message: "reflect padding (\(top), \(bottom), \(left), \(right)) "
                                     + "must be smaller than the image \(h)x\(w) on each side")
        }
        /// The source index of padded position `i` along an axis of length `n` padded by `before`.
        func mirror(_ i: Int, _ before: Int, _ n: Int) -> Int {
            let j = i - before
            return j < 0 ? -j : (j >= n ? 2 * (n - 1) - j : j)
        }
        let (ph, pw) = (h + top + bottom, w + left + right)
        var scalars = [Float](repeating: 0, count: m * ph * pw * c)
        for i in 0..<m {
            for y in 0..<ph {
                let sy = mirror(y, top, h)
                for x in 0..<pw {
                    let source = ((i * h + sy) * w + mirror(x, left, w)) * c, target = ((i * ph + y) * pw + x) * c
                    for k in 0..<c { scalars[target + k] = images.scalars[source + k] }
                }
            }
        }
        return try Tensor(shape: [m, ph, pw, c], scalars: scalars)
    }

    /// Runs `body` on the image's channels as a batch of one-channel planes `(m · c, h, w, 1)` and
    /// reassembles its `(m · c, h', w', 1)` result as `(m, h', w', c)` (or `(h', w', c)`).
    static func perChannel(_ image: Tensor, op: String, _ body: (Tensor) throws -> Tensor) throws -> Tensor {
        guard image.rank == 3 || image.rank == 4, !image.shape.contains(0) else {
            throw ConvNetError.shape(op: op, message: "expected an image (h, w, c) or a batch (m, h, w, c), got \(describe(shape: image.shape))")
        }
        let shape = image.rank == 3 ? [1] + image.shape : image.shape
        let (m, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        var planes = [Float](repeating: 0, count: image.count)
        for i in 0..<m {
            for pixel in 0..<(h * w) {
                for k in 0..<c { planes[((i * c + k) * h * w) + pixel] = image.scalars[(i * h * w + pixel) * c + k] }
            }
        }
        let output = try body(Tensor(shape: [m * c, h, w, 1], scalars: planes))
        let (oh, ow) = (output.shape[1], output.shape[2])
        var scalars = [Float](repeating: 0, count: m * oh * ow * c)
        for i in 0..<m {
            for pixel in 0..<(oh * ow) {
                for k in 0..<c { scalars[(i * oh * ow + pixel) * c + k] = output.scalars[((i * c + k) * oh * ow) + pixel] }
            }
        }
        return try Tensor(shape: (image.rank == 3 ? [] : [m]) + [oh, ow, c], scalars: scalars)
    }
}

/// A filter `convnet filter --kernel` can apply: a kernel, the Sobel magnitude, or an image gradient.
public enum ClassicFilter: Sendable, Equatable {
    /// Cross-correlation with a built-in or custom kernel.
    case kernel(FilterKernel)
    /// `√(g_x² + g_y²)` of the Sobel kernels (`ImageFilters.sobelMagnitude`).
    case sobelMagnitude
    /// `tf.image.image_gradients`'s `dx`: each pixel's right neighbour minus itself (0 on the last column).
    case gradientX
    /// `tf.image.image_gradients`'s `dy`: each pixel's lower neighbour minus itself (0 on the last row).
    case gradientY

    /// Every built-in name, in the order `--help` lists them.
    public static let names: [String] = FilterKernel.catalog.map(\.name) + ["sobel", "dx", "dy"]

    /// A built-in filter by name, or a custom kernel from a `.json` file (`FilterKernel.load`).
    /// - Throws: `ConvNetError.argument` for an unknown name; the JSON loader's errors for files.
    public init(named name: String) throws {
        if let kernel = FilterKernel.catalog.first(where: { $0.name == name }) {
            self = .kernel(kernel)
            return
        }
        switch name {
        case "sobel": self = .sobelMagnitude
        case "dx": self = .gradientX
        case "dy": self = .gradientY
        default:
            guard name.lowercased().hasSuffix(".json") else {
                throw ConvNetError.argument("unknown kernel '\(name)': use one of \(Self.names.joined(separator: ", ")) or a FILE.json")
            }
            self = .kernel(try FilterKernel.load(jsonPath: name))
        }
    }

    /// The name `convnet filter --kernel` knows it by: the kernel's own name, or `sobel`, `dx`, `dy`.
    public var name: String {
        switch self {
        case let .kernel(kernel): return kernel.name
        case .sobelMagnitude: return "sobel"
        case .gradientX: return "dx"
        case .gradientY: return "dy"
        }
    }

    /// `.absolute` for edges and gradients, `.clamp` for blur, sharpen and identity, the file's
    /// choice (default `.minMax`) for custom kernels.
    public var displayScaling: DisplayScaling {
        if case let .kernel(kernel) = self { return kernel.displayScaling }
        return .absolute
    }

    /// Filters `image` `(h, w, c)` or `(m, h, w, c)`. `padding` defaults to `.reflect`, which
    /// keeps the size at stride 1 without the bright frame zero padding gives edge kernels (and is
    /// what `tf.image.sobel_edges` uses); `.same` shows the border as a `Conv2D` layer sees it.
    /// - Throws: `ConvNetError.argument` when a stride or padding is given for `dx`/`dy`, which
    ///   are defined at stride 1 with the input's size.
    public func apply(to image: Tensor, strides: (Int, Int) = (1, 1), padding: FilterPadding? = nil) throws -> Tensor {
        switch self {
        case let .kernel(kernel):
            return try ImageFilters.apply(kernel, to: image, strides: strides, padding: padding ?? .reflect)
        case .sobelMagnitude:
            return try ImageFilters.sobelMagnitude(image, strides: strides, padding: padding ?? .reflect)
        case .gradientX, .gradientY:
            guard strides == (1, 1), padding == nil else {
                throw ConvNetError.argument("\(name) is tf.image.image_gradients: stride 1 and the input's size; --stride and --padding do not apply")
            }
            let gradients = try ImageFilters.imageGradients(image)
            return self == .gradientX ? gradients.dx : gradients.dy
        }
    }
}
