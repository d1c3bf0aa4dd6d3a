import Foundation

/// The activation functions of the lecture notes and Keras (`keras.activations`), selectable on layers
/// (`Dense(10, activation: .softmax)`); the `Activation` layer applies one on its own.
public enum ActivationFunction: Sendable, Equatable, Hashable {
    /// `g(z) = z`.
    case linear
    /// `g(z) = max(0, z)`.
    case relu
    /// `g(z) = z` for `z > 0`, else `α·z` (Keras's default α is 0.3).
    case leakyRelu(alpha: Float)
    /// `g(z) = z` for `z > 0`, else `α·(eᶻ − 1)`.
    case elu(alpha: Float)
    /// `σ(z) = 1 / (1 + e^−z)`.
    case sigmoid
    /// `tanh(z)`.
    case tanh
    /// `softmax(z)_j = e^{z_j} / Σ_k e^{z_k}` over the last axis.
    case softmax
    /// The exact Gaussian error linear unit `z · Φ(z) = ½·z·(1 + erf(z/√2))` (Keras `gelu`,
    /// `approximate=False`); see `gelu(_:implementation:)`.
    case gelu
}

/// Applies `activation` to `x`.
public func activate(_ x: Tensor, _ activation: ActivationFunction) -> Tensor {
    switch activation {
    case .linear: return x
    case .relu: return relu(x)
    case let .leakyRelu(alpha): return leakyRelu(x, alpha: alpha)
    case let .elu(alpha): return elu(x, alpha: alpha)
    case .sigmoid: return sigmoid(x)
    case .tanh: return tanh(x)
    case .softmax: return softmax(x)
    case .gelu: return gelu(x)
    }
}

/// `max(0, x)`; derivative 1 where `x > 0`, else 0, so `dx = y > 0 ? dy : 0` (only `y` is kept).
public func relu(_ x: Tensor) -> Tensor {
    guard x.count > 0 else { return x }
    let y = [Float](unsafeUninitializedCapacity: x.count) { y, initialized in
        x.scalars.withUnsafeBufferPointer { VectorKernels.relu($0.baseAddress!, into: y.baseAddress!, count: $0.count) }
        initialized = x.count
    }
    return record(Tensor(validShape: x.shape, scalars: y), inputs: [x]) { upstream, _ in
        let dx = [Float](unsafeUninitializedCapacity: y.count) { dx, initialized in
            withSendablePointers([upstream.scalars, y]) { p in
                VectorKernels.reluGradient(p[0].pointer, output: p[1].pointer, into: dx.baseAddress!, count: y.count)
            }
            initialized = y.count
        }
        return [Tensor(validShape: x.shape, scalars: dx)]
    }
}

/// `x` for `x > 0`, else `α·x`; derivative 1 or α.
public func leakyRelu(_ x: Tensor, alpha: Float = 0.3) -> Tensor {
    pointwise(x) { $0 > 0 ? $0 : alpha * $0 } derivative: { x, _ in x > 0 ? 1 : alpha }
}

/// `x` for `x > 0`, else `α·(eˣ − 1)`; derivative 1, or `y + α` for `x ≤ 0`.
public func elu(_ x: Tensor, alpha: Float = 1) -> Tensor {
    pointwise(x) { $0 > 0 ? $0 : alpha * (Foundation.exp($0) - 1) } derivative: { x, y in x > 0 ? 1 : y + alpha }
}

/// `1 / (1 + e^−x)`; derivative `y·(1 − y)`. Written to avoid overflow for large `|x|`.
public func sigmoid(_ x: Tensor) -> Tensor {
    pointwise(x) { x in
        x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x))
    } derivative: { _, y in y * (1 - y) }
}

/// `tanh(x)`; derivative `1 − y²`.
public func tanh(_ x: Tensor) -> Tensor {
    pointwise(x) { Foundation.tanh($0) } derivative: { _, y in 1 - y * y }
}

/// Softmax over the last axis, shifted by the row maximum so `softmax([1000, 1001, 1002])` is finite.
/// Backward: `dx = y ⊙ (dy − Σ_j dy_j·y_j)` per row.
public func softmax(_ x: Tensor) -> Tensor {
    let y = softmaxScalars(x)
    let width = x.shape.last ?? 1
    return record(Tensor(validShape: x.shape, scalars: y), inputs: [x]) { upstream, _ in
        var dx = [Float](repeating: 0, count: y.count)
        for row in stride(from: 0, to: y.count, by: max(width, 1)) {
            var dot: Float = 0
            for j in row..<row + width { dot += upstream.scalars[j] * y[j] }
            for j in row..<row + width { dx[j] = y[j] * (upstream.scalars[j] - dot) }
        }
        return [Tensor(validShape: x.shape, scalars: dx)]
    }
}

/// `log(softmax(x))` over the last axis, computed as `x − max − log Σ e^{x − max}`.
/// Backward: `dx = dy − softmax(x) · Σ_j dy_j` per row.
public func logSoftmax(_ x: Tensor) -> Tensor {
    let width = x.shape.last ?? 1
    var out = [Float](repeating: 0, count: x.count)
    for row in stride(from: 0, to: x.count, by: max(width, 1)) {
        let slice = x.scalars[row..<row + width]
        let maximum = slice.max() ?? 0
        let logSum = Foundation.log(slice.reduce(Float(0)) { $0 + Foundation.exp($1 - maximum) })
        for j in row..<row + width { out[j] = x.scalars[j] - maximum - logSum }
    }
    let logProbabilities = out
    return record(Tensor(validShape: x.shape, scalars: logProbabilities), inputs: [x]) { upstream, _ in
        var dx = [Float](repeating: 0, count: logProbabilities.count)
        for row in stride(from: 0, to: logProbabilities.count, by: max(width, 1)) {
            let total = upstream.scalars[row..<row + width].reduce(0, +)
            for j in row..<row + width { dx[j] = upstream.scalars[j] - Foundation.exp(logProbabilities[j]) * total }
        }
        return [Tensor(validShape: x.shape, scalars: dx)]
    }
}

/// Row-wise stable softmax of the scalars, shared by `softmax` and the cross-entropy losses.
func softmaxScalars(_ x: Tensor) -> [Float] {
    let width = x.shape.last ?? 1
    var y = [Float](repeating: 0, count: x.count)
    guard width > 0 else { return y }
    for row in stride(from: 0, to: x.count, by: width) {
        var maximum = -Float.infinity
        for j in row..<row + width { maximum = max(maximum, x.scalars[j]) }
        var total: Float = 0
        for j in row..<row + width {
            y[j] = Foundation.exp(x.scalars[j] - maximum)
            total += y[j]
        }
        for j in row..<row + width { y[j] /= total }
    }
    return y
}

/// An element-wise function with its derivative `f'(x, y)` given the input `x` and output `y`.
/// Inlined into each caller so that `f` and `f'` are inlined into their loops.
@inline(__always)
func pointwise(_ x: Tensor, _ f: (Float) -> Float, derivative: @escaping @Sendable (Float, Float) -> Float) -> Tensor {
    let output = Tensor(validShape: x.shape, scalars: mapScalars(x.scalars, f))
    return record(output, inputs: [x]) { upstream, _ in
        let dx = [Float](unsafeUninitializedCapacity: output.count) { dx, initialized in
            withScalarBuffers(upstream, x, output) { dy, x, y in
                for i in dx.indices { dx[i] = dy[i] * derivative(x[i], y[i]) }
            }
            initialized = output.count
        }
        return [Tensor(validShape: x.shape, scalars: dx)]
    }
}

/// `[f(x_i)]`, through unsafe buffers so that the loop vectorises.
@inline(__always)
func mapScalars(_ x: [Float], _ f: (Float) -> Float) -> [Float] {
    [Float](unsafeUninitializedCapacity: x.count) { y, initialized in
        x.withUnsafeBufferPointer { x in
            for i in x.indices { y[i] = f(x[i]) }
        }
        initialized = x.count
    }
}

/// `[f(a_i, b_i)]` for arrays of equal length, through unsafe buffers.
@inline(__always)
func mapScalars(_ a: [Float], _ b: [Float], _ f: (Float, Float) -> Float) -> [Float] {
    precondition(a.count == b.count, "mapScalars: \(a.count) and \(b.count) elements")
    return [Float](unsafeUninitializedCapacity: a.count) { y, initialized in
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                for i in a.indices { y[i] = f(a[i], b[i]) }
            }
        }
        initialized = a.count
    }
}
