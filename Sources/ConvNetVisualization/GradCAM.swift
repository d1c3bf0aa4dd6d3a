import ConvNetCore
import ConvNetData
import Foundation

/// Grad-CAM (Selvaraju et al. 2017): where in the image a convolutional layer's features support a
/// class. For the layer's feature maps `A` `(h', w', K)` and the class score `S_c` (before a final
/// softmax or sigmoid):
///
///     α_k = (1 / (h'·w')) Σ_ij ∂S_c / ∂A_ijk,    L = ReLU(Σ_k α_k · A_k)
///
/// `L` is `(h', w')`, coarser than the image, and is resized (bilinear) to the input size. Unlike
/// raw input gradients (`Saliency`), it is smooth and class-discriminative.
public enum GradCAM {
    /// The result for one image.
    public struct Result: Sendable {
        /// `L` at the layer's resolution, `(h', w')`, non-negative.
        public let coarseMap: Tensor
        /// `L` resized to the input, `(h, w)`, non-negative.
        public let map: Tensor
        /// The class `c` explained.
        public let classIndex: Int
        /// The layer whose feature maps were weighted.
        public let layerName: String
        /// The model's outputs for the image.
        public let scores: [Float]
    }

    /// The last layer whose output still has a spatial extent larger than 1x1 (the usual Grad-CAM
    /// layer: the last convolution or pooling before the classifier), or nil when there is none.
    public static func defaultLayer(of model: Model) -> String? {
        let index = model.outputShapes.indices.last { index in
            let shape = model.outputShapes[index]
            return shape.count == 3 && (shape[0] ?? 2) * (shape[1] ?? 2) > 1
        }
        return index.map { model.layers[$0].name }
    }

    /// Grad-CAM of `image` for one class.
    /// - Parameters:
    ///   - model: a model with one image input.
    ///   - image: `(h, w, c)` or `(1, h, w, c)`, preprocessed as the model expects.
    ///   - layer: the layer whose feature maps are used; by default `defaultLayer(of:)`.
    ///   - classIndex: the class to explain; by default the predicted one.
    /// - Throws: `ConvNetError.argument` for an unknown layer, a layer without feature maps or a
    ///   class out of range; `.shape` when the image does not fit the model.
    public static func compute(model: Model, image: Tensor, layer: String? = nil, classIndex: Int? = nil) throws -> Result {
        let input = image.rank == 3 ? try image.detached.reshaped(to: [1] + image.shape) : image.detached
        guard input.rank == 4, input.shape[0] == 1 else {
            throw ConvNetError.shape(op: "GradCAM", message: "expected one image (h, w, c) or (1, h, w, c), got \(describe(shape: image.shape))")
        }
        guard let layerName = layer ?? defaultLayer(of: model) else {
            throw ConvNetError.argument("GradCAM: model '\(model.name)' has no layer with spatial feature maps")
        }
        guard let layerIndex = model.layers.firstIndex(where: { $0.name == layerName }) else {
            throw ConvNetError.argument("GradCAM: model '\(model.name)' has no layer '\(layerName)' (layers: \(model.layers.map(\.name).joined(separator: ", ")))")
        }
        var logitsModel = model.withoutFinalActivation()
        let tape = GradientTape()
        var context = ForwardContext(training: false)
        let (logits, intermediate) = try logitsModel.forward(tape.watch(input), context: &context, outputs: [layerIndex])
        guard let features = intermediate[layerIndex], features.rank == 4 else {
            throw ConvNetError.argument("GradCAM: layer '\(layerName)' has no feature maps (h, w, channels)")
        }
        let scores = try model.predict(input).scalars
        let target = try classIndex ?? predictedClasses(Tensor(shape: [1, scores.count], scalars: scores))[0]
        guard (0..<logits.count).contains(target) else {
            throw ConvNetError.argument("GradCAM: class \(target) is out of range for \(logits.count) outputs")
        }
        var mask = [Float](repeating: 0, count: logits.count)
        mask[target] = 1
        let score = try (logits * Tensor(shape: logits.shape, scalars: mask)).sum()
        let gradient = try tape.gradient(of: score, withRespectTo: [features])[0]
        let (h, w, k) = (features.shape[1], features.shape[2], features.shape[3])
        var alpha = [Float](repeating: 0, count: k)
        for position in 0..<(h * w) {
            for channel in 0..<k { alpha[channel] += gradient.scalars[position * k + channel] }
        }
        alpha = alpha.map { $0 / Float(h * w) }
        let coarse = (0..<(h * w)).map { position in
            max(0, (0..<k).reduce(Float(0)) { $0 + alpha[$1] * features.scalars[position * k + $1] })
        }
        let coarseMap = try Tensor(shape: [h, w], scalars: coarse)
        let resized = try Tensor(shape: [h, w, 1], scalars: coarse).resizedBilinear(height: input.shape[1], width: input.shape[2])
        return Result(coarseMap: coarseMap, map: try resized.reshaped(to: [input.shape[1], input.shape[2]]).detached,
                      classIndex: target, layerName: layerName, scores: scores)
    }
}

extension Saliency {
    /// SmoothGrad (Smilkov et al. 2017): the saliency map averaged over `samples` copies of the
    /// image with Gaussian noise of standard deviation `noise · (max(x) − min(x))` added, which
    /// removes most of the speckle of a single gradient. `samples` 1 with `noise` 0 is `compute`.
    /// - Parameters:
    ///   - samples: the noisy copies, at least 1 (the paper uses about 50).
    ///   - noise: the noise level as a fraction of the image's value range (the paper: 0.1–0.2).
    ///   - seed: the noise's random seed.
    public static func smoothGrad(model: Model, image: Tensor, classIndex: Int? = nil, samples: Int = 25,
                                  noise: Float = 0.15, seed: UInt64 = 0) throws -> Result {
        guard samples >= 1, noise >= 0 else {
            throw ConvNetError.argument("Saliency.smoothGrad: needs samples ≥ 1 and noise ≥ 0, got \(samples) and \(noise)")
        }
        let clean = try compute(model: model, image: image, classIndex: classIndex)
        let sigma = noise * ((image.scalars.max() ?? 0) - (image.scalars.min() ?? 0))
        var generator = RandomGenerator(seed: seed)
        var gradient = [Float](repeating: 0, count: clean.gradient.count)
        var map = [Float](repeating: 0, count: clean.map.count)
        for _ in 0..<samples {
            let noisy = try image + Tensor.randomNormal(shape: image.shape, standardDeviation: sigma, generator: &generator)
            let result = try compute(model: model, image: noisy, classIndex: clean.classIndex)
            for index in gradient.indices { gradient[index] += result.gradient.scalars[index] / Float(samples) }
            for index in map.indices { map[index] += result.map.scalars[index] / Float(samples) }
        }
        return Result(gradient: try Tensor(shape: clean.gradient.shape, scalars: gradient), map: try Tensor(shape: clean.map.shape, scalars: map),
                      classIndex: clean.classIndex, scores: clean.scores)
    }
}
