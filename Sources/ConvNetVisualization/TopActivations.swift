import ConvNetCore
import ConvNetData
import Foundation

/// Zeiler & Fergus (2014, the lecture notes): what one feature map of a layer responds to, shown as the
/// image patches that activate it most. Each image contributes its strongest position of the
/// channel; the `count` images with the largest such activations are kept, and for each the
/// patch is the part of the image that position depends on: the bounding box of the input pixels
/// whose gradient `∂A_ijk / ∂x` is non-zero (the effective receptive field of that unit, which
/// ReLUs that are off can make smaller than the theoretical one).
public enum TopActivations {
    /// One of the strongest activations.
    public struct Patch: Sendable, Equatable {
        /// Which image (index into the images given).
        public let imageIndex: Int
        /// The activation `A_ijk`.
        public let activation: Float
        /// Its position `(i, j)` in the layer's feature map.
        public let position: (row: Int, column: Int)
        /// The patch in image coordinates: top row, left column, height and width.
        public let box: (top: Int, left: Int, height: Int, width: Int)

        /// Equal when every field is.
        public static func == (a: Patch, b: Patch) -> Bool {
            a.imageIndex == b.imageIndex && a.activation == b.activation && a.position == b.position && a.box == b.box
        }
    }

    /// The `count` strongest activations of `channel` of `layer` over `inputs`, strongest first.
    /// - Parameters:
    ///   - inputs: `(m, h, w, c)`, preprocessed as the model expects.
    ///   - layer: a layer whose output is a feature map `(h', w', K)`.
    ///   - channel: `k` in `0..<K`.
    /// - Throws: `ConvNetError.argument` for an unknown layer, a layer without feature maps or a
    ///   channel out of range.
    public static func find(model: Model, inputs: Tensor, layer: String, channel: Int, count: Int = 9,
                            batchSize: Int = 64) throws -> [Patch] {
        guard let layerIndex = model.layers.firstIndex(where: { $0.name == layer }) else {
            throw ConvNetError.argument("TopActivations: model '\(model.name)' has no layer '\(layer)' (layers: \(model.layers.map(\.name).joined(separator: ", ")))")
        }
        let shape = model.outputShapes[layerIndex]
        guard shape.count == 3, let channels = shape[2] else {
            throw ConvNetError.argument("TopActivations: layer '\(layer)' has no feature maps (its output is \(describe(layerShape: shape)))")
        }
        guard (0..<channels).contains(channel) else {
            throw ConvNetError.argument("TopActivations: channel \(channel) is out of range for layer '\(layer)' with \(channels) channels")
        }
        guard inputs.rank == 4, count > 0, batchSize > 0 else {
            throw ConvNetError.argument("TopActivations: expected images (m, h, w, c), count ≥ 1 and batch size ≥ 1")
        }
        // Each image's strongest position of the channel.
        var strongest: [(image: Int, value: Float, position: Int, width: Int)] = []
        var model = model
        for start in stride(from: 0, to: inputs.shape[0], by: batchSize) {
            let end = min(start + batchSize, inputs.shape[0])
            let batch = inputs[start..<end]
            var context = ForwardContext(training: false)
            guard let maps = try model.forward(batch, context: &context, outputs: [layerIndex]).intermediate[layerIndex] else { continue }
            let (h, w, k) = (maps.shape[1], maps.shape[2], maps.shape[3])
            for image in 0..<(end - start) {
                var best = (value: -Float.infinity, position: 0)
                for position in 0..<(h * w) {
                    let value = maps.scalars[(image * h * w + position) * k + channel]
                    if value > best.value { best = (value, position) }
                }
                strongest.append((start + image, best.value, best.position, w))
            }
        }
        let top = strongest.sorted { $0.value > $1.value }.prefix(count)
        return try top.map { entry in
            let box = try receptiveBox(model: model, image: inputs[entry.image..<entry.image + 1], layerIndex: layerIndex,
                                       channel: channel, position: entry.position)
            return Patch(imageIndex: entry.image, activation: entry.value,
                         position: (entry.position / entry.width, entry.position % entry.width), box: box)
        }
    }

    /// The bounding box of the pixels of `image` `(1, h, w, c)` with a non-zero gradient of one
    /// unit; the whole image when the unit does not depend on any pixel (a dead unit).
    static func receptiveBox(model: Model, image: Tensor, layerIndex: Int, channel: Int, position: Int) throws
        -> (top: Int, left: Int, height: Int, width: Int) {
        let tape = GradientTape()
        let watched = tape.watch(image.detached)
        var context = ForwardContext(training: false)
        var model = model
        guard let maps = try model.forward(watched, context: &context, outputs: [layerIndex]).intermediate[layerIndex] else {
            return (0, 0, image.shape[1], image.shape[2])
        }
        var mask = [Float](repeating: 0, count: maps.count)
        mask[position * maps.shape[3] + channel] = 1
        let unit = try (maps * Tensor(shape: maps.shape, scalars: mask)).sum()
        let gradient = try tape.gradient(of: unit, withRespectTo: [watched])[0]
        let (h, w, c) = (image.shape[1], image.shape[2], image.shape[3])
        var rows = (h, -1), columns = (w, -1)
        for y in 0..<h {
            for x in 0..<w where (0..<c).contains(where: { gradient.scalars[(y * w + x) * c + $0] != 0 }) {
                rows = (min(rows.0, y), max(rows.1, y))
                columns = (min(columns.0, x), max(columns.1, x))
            }
        }
        guard rows.1 >= 0 else { return (0, 0, h, w) }
        return (rows.0, columns.0, rows.1 - rows.0 + 1, columns.1 - columns.0 + 1)
    }

    /// The patch of `image` `(h, w, c)` inside `box`.
    public static func crop(_ image: Tensor, box: (top: Int, left: Int, height: Int, width: Int)) throws -> Tensor {
        guard image.rank == 3, box.top >= 0, box.left >= 0, box.height > 0, box.width > 0,
              box.top + box.height <= image.shape[0], box.left + box.width <= image.shape[1] else {
            throw ConvNetError.shape(op: "TopActivations.crop", message: "box \(box) does not fit image \(describe(shape: image.shape))")
        }
        let (w, c) = (image.shape[1], image.shape[2])
        var scalars: [Float] = []
        scalars.reserveCapacity(box.height * box.width * c)
        for y in box.top..<box.top + box.height {
            scalars += image.scalars[((y * w) + box.left) * c..<((y * w) + box.left + box.width) * c]
        }
        return try Tensor(shape: [box.height, box.width, c], scalars: scalars)
    }
}
