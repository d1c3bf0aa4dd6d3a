/// Max pooling: `A[i, h, w, c] = max` over the `f_h × f_w` window at stride `s`.
///
/// - Parameters:
///   - input: `(m, n_H_prev, n_W_prev, n_C)`.
///   - size: window `(f_h, f_w)`.
///   - strides: defaults to the window size, as in Keras.
///   - padding: `.valid`, `.same` (TensorFlow's rule) or explicit per side; padded positions never
///     win the maximum, and each pad must be smaller than the window.
///   - implementation: `.fast` (vectorised, over the cores) or `.reference` (the lecture notes' loops, for checking).
/// - Returns: `(m, n_H, n_W, n_C)`.
public func maxPool2d(_ input: Tensor, size: (Int, Int) = (2, 2), strides: (Int, Int)? = nil, padding: Padding = .valid,
                      implementation: Implementation = .fast) throws -> Tensor {
    try pool2d(input, mode: .max, size: size, strides: strides ?? size, padding: padding, implementation: implementation)
}

/// Average pooling: `A[i, h, w, c] = mean` over the window (padded positions excluded from the mean).
public func avgPool2d(_ input: Tensor, size: (Int, Int) = (2, 2), strides: (Int, Int)? = nil, padding: Padding = .valid,
                      implementation: Implementation = .fast) throws -> Tensor {
    try pool2d(input, mode: .average, size: size, strides: strides ?? size, padding: padding, implementation: implementation)
}

/// Global average pooling: `(m, n_H, n_W, n_C) → (m, n_C)`, the mean of each feature map.
public func globalAvgPool2d(_ input: Tensor, implementation: Implementation = .fast) throws -> Tensor {
    try globalPool2d(input, mode: .average, implementation: implementation)
}

/// Global max pooling: `(m, n_H, n_W, n_C) → (m, n_C)`, the maximum of each feature map.
public func globalMaxPool2d(_ input: Tensor, implementation: Implementation = .fast) throws -> Tensor {
    try globalPool2d(input, mode: .max, implementation: implementation)
}

/// Global pooling is pooling with one window covering the whole plane.
func globalPool2d(_ input: Tensor, mode: PoolingMode, implementation: Implementation) throws -> Tensor {
    let op = mode == .max ? "globalMaxPool2d" : "globalAvgPool2d"
    try input.expectRank(4, op: op)
    let size = (input.shape[1], input.shape[2])
    let pooled = try pool2d(input, mode: mode, size: size, strides: size, padding: .valid, implementation: implementation, op: op)
    return try pooled.reshaped(to: [input.shape[0], input.shape[3]])
}

func pool2d(_ input: Tensor, mode: PoolingMode, size: (Int, Int), strides: (Int, Int), padding: Padding,
            implementation: Implementation, op: String? = nil) throws -> Tensor {
    let shape = try PoolingShape(op: op ?? (mode == .max ? "maxPool2d" : "avgPool2d"), input: input.shape, size: size,
                                 strides: strides, padding: padding)
    let output = implementation.poolingKernels.forward(input: input.scalars, mode: mode, shape: shape)
    return record(Tensor(validShape: shape.outputShape, scalars: output), inputs: [input]) { upstream, _ in
        let gradient = implementation.poolingKernels.backward(input: input.scalars, upstream: upstream.scalars, mode: mode, shape: shape, output: output)
        return [Tensor(validShape: shape.inputShape, scalars: gradient)]
    }
}

/// The loops behind the pooling ops, as `PoolingReference` (the textbook loops, the oracle) and
/// `PoolingFast` (separable, vectorised over channels, over the cores) write them.
protocol PoolingKernels {
    /// The pooled output.
    static func forward(input: [Float], mode: PoolingMode, shape: PoolingShape) -> [Float]
    /// The gradient with respect to the input; `output` is the forward pass's result.
    static func backward(input: [Float], upstream: [Float], mode: PoolingMode, shape: PoolingShape, output: [Float]?) -> [Float]
}

extension PoolingFast: PoolingKernels {}

extension PoolingReference: PoolingKernels {
    /// The reference loops find each window's maximum again; `output` is not needed.
    static func backward(input: [Float], upstream: [Float], mode: PoolingMode, shape: PoolingShape, output: [Float]?) -> [Float] {
        backward(input: input, upstream: upstream, mode: mode, shape: shape)
    }
}
