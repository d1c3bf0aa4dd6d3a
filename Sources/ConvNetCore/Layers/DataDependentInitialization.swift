/// Sets a layer's weights from data before training (whitening, LSUV): given the inputs the layer
/// receives on some samples, returns new values for some of its weights.
public protocol DataDependentInitializer: Sendable {
    /// New values for weights of `layer`, by weight name (`kernel`, `bias`, ...), computed from
    /// `inputs`, the batch `(m, ...)` the layer receives on the samples.
    /// - Throws: `ConvNetError` naming the layer when it is not a kind the initializer handles.
    func weights(for layer: any Layer, inputs: Tensor) throws -> [String: Tensor]
}

extension Model {
    /// Runs `initializer` on the layer named `layerName`: computes the layer's inputs on `samples`
    /// (a batch `(m, ...)` of model inputs, in inference mode) and replaces the weights it returns.
    /// - Throws: `ConvNetError.argument` for an unknown layer, a layer with several inputs, or
    ///   weights that do not fit; then nothing is changed.
    public mutating func initialize(layer layerName: String, with initializer: some DataDependentInitializer,
                                    samples: Tensor) throws {
        guard let index = layers.firstIndex(where: { $0.name == layerName }) else {
            throw ConvNetError.argument("Model '\(name)': no layer '\(layerName)' to initialise (layers: \(layers.map(\.name).joined(separator: ", ")))")
        }
        guard inbound[index].count == 1 else {
            throw ConvNetError.argument("Model '\(name)': layer '\(layerName)' has \(inbound[index].count) inputs; data-dependent initialisation needs one")
        }
        let source = inbound[index][0]
        var inputs = samples.detached
        if source != Self.inputNode {
            var copy = self
            var context = ForwardContext(training: false)
            guard let intermediate = try copy.forward(inputs, context: &context, outputs: [source]).intermediate[source] else {
                throw ConvNetError.argument("Model '\(name)': the input of layer '\(layerName)' was not computed")
            }
            inputs = intermediate
        }
        let values = try initializer.weights(for: layers[index], inputs: inputs)
        try setWeights(Dictionary(uniqueKeysWithValues: values.map { ("\(layerName)/\($0.key)", $0.value) }))
    }
}

/// The whitening initialisation of a convolution's kernel (Jordan's airbench, arXiv 2404.00498):
/// the filters decorrelate the input's patches.
///
/// Every `k_h × k_w` window (stride 1, no padding) of the inputs, flattened in the kernel's order
/// `(k_h, k_w, c)` to a vector `p` of `d = k_h·k_w·c` values, contributes to the uncentred
/// covariance `C = (1/n) Σ p·pᵀ`. With `C = Σ_k λ_k·v_k·v_kᵀ` (eigenvalues descending), filter `k`
/// is `v_k / √(λ_k + ε)`, so the outputs `z_k = ⟨w_k, p⟩` have `E[z_j·z_k] = δ_jk · λ_k / (λ_k + ε)`,
/// the identity wherever `λ_k ≫ ε`. A layer with `2d` filters gets the `d` filters followed by their
/// negatives (so a following GELU or ReLU keeps both signs). The bias is left alone.
public struct PatchWhitening: DataDependentInitializer {
    /// `ε`, added to each eigenvalue before the square root, bounding the gain of the weakest
    /// directions (airbench: 5e-4).
    public let epsilon: Double

    /// - Parameter epsilon: added to each eigenvalue before the square root.
    public init(epsilon: Double = 5e-4) { self.epsilon = epsilon }

    /// The whitening kernel for a `Conv2D` with `d` or `2d` filters, from its inputs `(m, h, w, c)`.
    public func weights(for layer: any Layer, inputs: Tensor) throws -> [String: Tensor] {
        guard let conv = layer as? Conv2D, let kernel = conv.kernel, kernel.rank == 4 else {
            throw ConvNetError.argument("PatchWhitening: layer '\(layer.name)' is not a built Conv2D")
        }
        let (kh, kw, channels, filters) = (kernel.shape[0], kernel.shape[1], kernel.shape[2], kernel.shape[3])
        let d = kh * kw * channels
        guard filters == d || filters == 2 * d else {
            throw ConvNetError.argument("PatchWhitening: Conv2D '\(conv.name)' has \(filters) filters; whitening \(kh)×\(kw)×\(channels) patches needs \(d) or \(2 * d)")
        }
        let covariance = try Self.patchCovariance(inputs, height: kh, width: kw)
        let (values, vectors) = SymmetricEigen.decompose(covariance, size: d)
        var scalars = [Float](repeating: 0, count: kernel.count)
        for k in 0..<d {
            let gain = 1 / (max(values[k], 0) + epsilon).squareRoot()
            for position in 0..<d {
                let value = Float(vectors[k][position] * gain)
                scalars[position * filters + k] = value
                if filters == 2 * d { scalars[position * filters + d + k] = -value }
            }
        }
        return ["kernel": Tensor(validShape: kernel.shape, scalars: scalars)]
    }

    /// `C = (1/n) Σ p·pᵀ` over every `height × width` window `p` of `inputs` `(m, h, w, c)`, flattened
    /// as `(height, width, c)`; `d × d` row-major with `d = height·width·c`, summed in `Double`.
    /// - Throws: `ConvNetError.shape` unless `inputs` are images at least as large as the window.
    public static func patchCovariance(_ inputs: Tensor, height kh: Int, width kw: Int) throws -> [Double] {
        guard inputs.rank == 4, inputs.shape[1] >= kh, inputs.shape[2] >= kw, inputs.shape[0] > 0 else {
            throw ConvNetError.shape(op: "PatchWhitening", message: "expected images (m, h, w, c) of at least \(kh)×\(kw), got \(describe(shape: inputs.shape))")
        }
        let (m, h, w, c) = (inputs.shape[0], inputs.shape[1], inputs.shape[2], inputs.shape[3])
        let d = kh * kw * c
        let chunks = Parallel.chunks(m, costPerItem: (h - kh + 1) * (w - kw + 1) * d * d)
        let partials = Locked([[Double]](repeating: [], count: chunks.count))
        inputs.scalars.withUnsafeBufferPointer { buffer in
            let x = SendablePointer(buffer.baseAddress!)
            Parallel.run(tasks: chunks.count) { task in
                var sum = [Double](repeating: 0, count: d * d)
                var patch = [Double](repeating: 0, count: d)
                for image in chunks[task] {
                    for y in 0...(h - kh) {
                        for column in 0...(w - kw) {
                            for i in 0..<kh {
                                for j in 0..<kw {
                                    let from = ((image * h + y + i) * w + column + j) * c
                                    for channel in 0..<c { patch[(i * kw + j) * c + channel] = Double(x.pointer[from + channel]) }
                                }
                            }
                            for row in 0..<d {
                                let value = patch[row]
                                for col in row..<d { sum[row * d + col] += value * patch[col] }
                            }
                        }
                    }
                }
                partials.withLock { $0[task] = sum }
            }
        }
        let count = Double(m * (h - kh + 1) * (w - kw + 1))
        var covariance = [Double](repeating: 0, count: d * d)
        for partial in partials.withLock({ $0 }) { for index in partial.indices { covariance[index] += partial[index] } }
        for row in 0..<d {
            for col in row..<d {
                covariance[row * d + col] /= count
                covariance[col * d + row] = covariance[row * d + col]
            }
        }
        return covariance
    }
}
