/// the lecture notes' "Classic feature extractors vs. CNN filters" on CIFAR-10: the same classifier (max
/// pool 2, flatten, dense 128 relu, dense 10 softmax) on fixed, hand-made features or on a learned
/// 4-filter convolution.
///
/// - `cifar-sobel`: the lecture notes' `tf.image.image_gradients` (dx, dy per channel) and
///   `tf.image.sobel_edges` (Sobel dy, dx per channel), concatenated as the lecture notes do
///   (`[dx, dy, edges]`, 12 channels), as one 3x3 `Conv2D` with hand-set kernels, no bias and
///   `trainable = false` (saved so). Two differences from TensorFlow, both at the image border
///   only: zero padding (`same`) where `sobel_edges` reflects, and the forward difference at the
///   last column/row is `−x` where `image_gradients` gives 0.
/// - `cifar-conv4`: the lecture notes' learned counterpart, `Conv2D(4, 3x3, relu)` (valid padding).
enum HandMadeFeatures {
    /// Appended to `ModelZoo.catalog`.
    static let catalog: [(name: String, description: String)] = [
        ("cifar-sobel", "the lecture notes' hand-made features: frozen 3x3 conv of image gradients dx, dy and Sobel dy, dx per channel (12 maps), max pool 2, dense 128, 10 (32x32x3)"),
        ("cifar-conv4", "the lecture notes' learned filters for comparison: conv 4@3x3 relu, max pool 2, dense 128, 10 (32x32x3)"),
    ]

    /// The 3x3 kernels of one input channel, in output order within their group, `[row][column]`.
    static let gradientX: [[Float]] = [[0, 0, 0], [0, -1, 1], [0, 0, 0]]     // x[i, j+1] − x[i, j]
    static let gradientY: [[Float]] = [[0, 0, 0], [0, -1, 0], [0, 1, 0]]     // x[i+1, j] − x[i, j]
    static let sobelY: [[Float]] = [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]
    static let sobelX: [[Float]] = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]

    /// The `(3, 3, channels, 4·channels)` kernel: outputs `[dx_0..dx_{c−1}, dy_0..dy_{c−1}, sobel_y_0,
    /// sobel_x_0, sobel_y_1, sobel_x_1, ...]`, each reading its own input channel only.
    static func kernel(channels: Int) -> Tensor {
        let outputs = 4 * channels
        var scalars = [Float](repeating: 0, count: 9 * channels * outputs)
        func set(_ taps: [[Float]], input: Int, output: Int) {
            for row in 0..<3 {
                for column in 0..<3 { scalars[((row * 3 + column) * channels + input) * outputs + output] = taps[row][column] }
            }
        }
        for c in 0..<channels {
            set(gradientX, input: c, output: c)
            set(gradientY, input: c, output: channels + c)
            set(sobelY, input: c, output: 2 * channels + 2 * c)
            set(sobelX, input: c, output: 2 * channels + 2 * c + 1)
        }
        return Tensor(validShape: [3, 3, channels, outputs], scalars: scalars)
    }

    /// Builds the named model, or returns nil when the name is not one of `catalog`'s.
    static func model(named name: String, inputShape: LayerShape?, classes: Int?, seed: UInt64) throws -> Model? {
        let shape = inputShape ?? [32, 32, 3]
        switch name {
        case "cifar-sobel":
            let channels = shape.count == 3 ? shape[2] ?? 3 : 3
            var model = try Model(name: name, inputShape: shape, seed: seed) {
                Conv2D(4 * channels, kernelSize: 3, padding: .same, useBias: false, name: "hand_made_features")
                MaxPooling2D(poolSize: 2)
                Flatten()
                Dense(128, activation: .relu)
                Dense(classes ?? 10, activation: .softmax)
            }
            model.layers[0].trainableWeights = [kernel(channels: channels)]
            try model.setTrainable(false, layers: ["hand_made_features"])
            return model
        case "cifar-conv4":
            return try Model(name: name, inputShape: shape, seed: seed) {
                Conv2D(4, kernelSize: 3, activation: .relu)
                MaxPooling2D(poolSize: 2)
                Flatten()
                Dense(128, activation: .relu)
                Dense(classes ?? 10, activation: .softmax)
            }
        default:
            return nil
        }
    }
}
