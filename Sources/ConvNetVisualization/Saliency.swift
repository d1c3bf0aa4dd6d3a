import ConvNetCore
import ConvNetData
import Foundation

/// Saliency maps (Simonyan, Vedaldi & Zisserman 2014): which input pixels the class score is most
/// sensitive to, from one backward pass through the `GradientTape`.
public enum Saliency {
    /// The result for one image.
    public struct Result: Sendable {
        /// `∂S_c / ∂x`, the input's shape `(h, w, c)`.
        public let gradient: Tensor
        /// `max_channels |∂S_c / ∂x|`, shape `(h, w)`.
        public let map: Tensor
        /// The class `c` whose score `S_c` was differentiated.
        public let classIndex: Int
        /// The model's outputs for the image (probabilities when it ends in softmax).
        public let scores: [Float]
    }

    /// The saliency of `image` for one class.
    ///
    /// The score `S_c` is the class's value *before* a final softmax or sigmoid (the unnormalised
    /// score, as in the paper: the softmax would mix in the other classes). The image is watched on
    /// a tape, the model run in inference mode, and `S_c` differentiated with respect to it.
    /// - Parameters:
    ///   - model: any model with one image input.
    ///   - image: `(h, w, c)` or `(1, h, w, c)`, preprocessed as the model expects.
    ///   - classIndex: the class to explain; by default the predicted one (highest score).
    /// - Throws: `ConvNetError.shape` when the image does not fit the model, `.argument` for a class
    ///   index out of range.
    public static func compute(model: Model, image: Tensor, classIndex: Int? = nil) throws -> Result {
        let input = image.rank == 3 ? try image.detached.reshaped(to: [1] + image.shape) : image.detached
        guard input.rank == 4, input.shape[0] == 1 else {
            throw ConvNetError.shape(op: "Saliency", message: "expected one image (h, w, c) or (1, h, w, c), got \(describe(shape: image.shape))")
        }
        var logitsModel = model.withoutFinalActivation()
        let tape = GradientTape()
        let watched = tape.watch(input.detached)
        var context = ForwardContext(training: false)
        let logits = try logitsModel.forward(watched, context: &context).output
        let classes = logits.count
        let scores = try model.predict(input).scalars
        let target = try classIndex ?? predictedClasses(Tensor(shape: [1, scores.count], scalars: scores))[0]
        guard (0..<classes).contains(target) else {
            throw ConvNetError.argument("Saliency: class \(target) is out of range for \(classes) outputs")
        }
        var mask = [Float](repeating: 0, count: classes)
        mask[target] = 1
        let score = try (logits * Tensor(shape: logits.shape, scalars: mask)).sum()
        let gradient = try tape.gradient(of: score, withRespectTo: [watched])[0]
        let (h, w, c) = (input.shape[1], input.shape[2], input.shape[3])
        let map = (0..<(h * w)).map { pixel in (0..<c).map { abs(gradient.scalars[pixel * c + $0]) }.max() ?? 0 }
        return Result(gradient: try gradient.reshaped(to: [h, w, c]).detached, map: try Tensor(shape: [h, w], scalars: map),
                      classIndex: target, scores: scores)
    }

    /// The saliency map as a heat map over the image.
    ///
    /// The map is divided by its maximum (so its largest value is 1), coloured with `colorMap`, and
    /// blended over a grayscale copy of the image: `out = (1 − α·s) · gray + α·s · colour(s)` with
    /// `α = opacity`, so pixels the score ignores show the image and salient pixels glow.
    /// - Parameters:
    ///   - image: `(h, w, 1 or 3)` (2 or 4 channels lose alpha), values `0...255`.
    ///   - map: `(h, w)`, non-negative.
    ///   - opacity: `α`, how strongly the most salient pixels take the map's colour (1: fully).
    ///   - colorMap: The colours of normalised saliency `0...1`; default black through red and
    ///     yellow to white.
    /// - Returns: `(h, w, 3)`, values `0...255`.
    public static func overlay(image: Tensor, map: Tensor, opacity: Float = 0.8, colorMap: ColorMap = .heat) throws -> Tensor {
        guard image.rank == 3, map.shape == Array(image.shape.prefix(2)) else {
            throw ConvNetError.shape(op: "Saliency.overlay", message: "image \(describe(shape: image.shape)) and map \(describe(shape: map.shape)) "
                                     + "must be (h, w, c) and (h, w)")
        }
        let gray = try image.converted(toChannels: 1).scalars
        let largest = map.scalars.filter(\.isFinite).max() ?? 0
        var scalars = [Float](repeating: 0, count: gray.count * 3)
        for (pixel, value) in map.scalars.enumerated() {
            let s = largest > 0 && value.isFinite ? value / largest : 0
            let color = colorMap.color(Double(s))
            let weight = opacity * s
            for (channel, component) in [color.red, color.green, color.blue].enumerated() {
                scalars[pixel * 3 + channel] = (1 - weight) * gray[pixel] + weight * Float(component)
            }
        }
        return try Tensor(shape: Array(image.shape.prefix(2)) + [3], scalars: scalars)
    }

    /// The map alone in `colorMap`, scaled by its maximum: `(h, w, 3)`, values `0...255`.
    public static func heatMap(_ map: Tensor, colorMap: ColorMap = .heat) throws -> Tensor {
        guard map.rank == 2 else {
            throw ConvNetError.shape(op: "Saliency.heatMap", message: "expected a map (h, w), got \(describe(shape: map.shape))")
        }
        let largest = map.scalars.filter(\.isFinite).max() ?? 0
        let scalars = map.scalars.flatMap { value -> [Float] in
            let color = colorMap.color(largest > 0 && value.isFinite ? Double(value / largest) : 0)
            return [Float(color.red), Float(color.green), Float(color.blue)]
        }
        return try Tensor(shape: map.shape + [3], scalars: scalars)
    }
}
