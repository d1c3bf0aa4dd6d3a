/// Batch normalization statistics over every axis but the last (channels):
/// for `(m, n_H, n_W, n_C)` the mean and (biased) variance of each channel over `m · n_H · n_W` values.
public struct BatchStatistics: Sendable {
    public let mean: [Float]
    public let variance: [Float]
}

/// Batch normalization in training mode: normalise with the batch's own statistics,
///
///     x̂ = (x − μ_B) / √(σ²_B + ε),   y = γ · x̂ + β
///
/// and backward (per channel, over its `N` values):
///
///     dγ = Σ dy · x̂,  dβ = Σ dy,  dx = γ / (N · √(σ²_B + ε)) · (N · dy − Σ dy − x̂ · Σ dy · x̂)
///
/// - Returns: the output and the batch statistics, for the caller's moving averages.
public func batchNormTraining(_ x: Tensor, gamma: Tensor, beta: Tensor, epsilon: Float = 1e-3) throws
    -> (output: Tensor, statistics: BatchStatistics) {
    let channels = try checkBatchNormShapes(x, gamma: gamma, beta: beta)
    let n = x.count / channels
    var mean = [Double](repeating: 0, count: channels), variance = [Double](repeating: 0, count: channels)
    for i in 0..<x.count { mean[i % channels] += Double(x.scalars[i]) }
    for c in 0..<channels { mean[c] /= Double(n) }
    for i in 0..<x.count {
        let d = Double(x.scalars[i]) - mean[i % channels]
        variance[i % channels] += d * d
    }
    for c in 0..<channels { variance[c] /= Double(n) }
    let inverseStd = variance.map { Float(1 / (($0 + Double(epsilon)).squareRoot())) }
    let meanF = mean.map { Float($0) }
    let normalized = x.scalars.indices.map { i in (x.scalars[i] - meanF[i % channels]) * inverseStd[i % channels] }
    let output = normalized.indices.map { i in gamma.scalars[i % channels] * normalized[i] + beta.scalars[i % channels] }
    let result = record(Tensor(validShape: x.shape, scalars: output), inputs: [x, gamma, beta]) { upstream, _ in
        var sumDy = [Float](repeating: 0, count: channels), sumDyXhat = sumDy
        for i in 0..<x.count {
            sumDy[i % channels] += upstream.scalars[i]
            sumDyXhat[i % channels] += upstream.scalars[i] * normalized[i]
        }
        var dx = [Float](repeating: 0, count: x.count)
        let count = Float(n)
        for i in 0..<x.count {
            let c = i % channels
            dx[i] = gamma.scalars[c] * inverseStd[c] / count
                * (count * upstream.scalars[i] - sumDy[c] - normalized[i] * sumDyXhat[c])
        }
        return [Tensor(validShape: x.shape, scalars: dx),
                Tensor(validShape: [channels], scalars: sumDyXhat),
                Tensor(validShape: [channels], scalars: sumDy)]
    }
    return (result, BatchStatistics(mean: meanF, variance: variance.map { Float($0) }))
}

/// Batch normalization in inference mode, with fixed (moving) statistics:
/// `y = γ · (x − μ) / √(σ² + ε) + β`, an affine map per channel.
public func batchNormInference(_ x: Tensor, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor,
                               epsilon: Float = 1e-3) throws -> Tensor {
    let channels = try checkBatchNormShapes(x, gamma: gamma, beta: beta)
    guard mean.shape == [channels], variance.shape == [channels] else {
        throw ConvNetError.shape(op: "batchNormalization", message: "moving mean \(describe(shape: mean.shape)) and variance \(describe(shape: variance.shape)) must be (\(channels),)")
    }
    let scale = (0..<channels).map { gamma.scalars[$0] / (variance.scalars[$0] + epsilon).squareRoot() }
    let normalized = Tensor(validShape: x.shape, scalars: x.scalars.indices.map { i in
        (x.scalars[i] - mean.scalars[i % channels]) / (variance.scalars[i % channels] + epsilon).squareRoot()
    })
    let output = x.scalars.indices.map { i in
        let c = i % channels
        return scale[c] * (x.scalars[i] - mean.scalars[c]) + beta.scalars[c]
    }
    return record(Tensor(validShape: x.shape, scalars: output), inputs: [x, gamma, beta]) { upstream, _ in
        var dGamma = [Float](repeating: 0, count: channels), dBeta = dGamma
        var dx = [Float](repeating: 0, count: x.count)
        for i in 0..<x.count {
            let c = i % channels
            dx[i] = upstream.scalars[i] * scale[c]
            dGamma[c] += upstream.scalars[i] * normalized.scalars[i]
            dBeta[c] += upstream.scalars[i]
        }
        return [Tensor(validShape: x.shape, scalars: dx), Tensor(validShape: [channels], scalars: dGamma),
                Tensor(validShape: [channels], scalars: dBeta)]
    }
}

private func checkBatchNormShapes(_ x: Tensor, gamma: Tensor, beta: Tensor) throws -> Int {
    guard let channels = x.shape.last, x.rank >= 2, !x.shape.contains(0) else {
        throw ConvNetError.shape(op: "batchNormalization", message: "expected a non-empty input of rank ≥ 2, got \(describe(shape: x.shape))")
    }
    guard gamma.shape == [channels], beta.shape == [channels] else {
        throw ConvNetError.shape(op: "batchNormalization", message: "gamma \(describe(shape: gamma.shape)) and beta \(describe(shape: beta.shape)) must be (\(channels),) for input \(describe(shape: x.shape))")
    }
    return channels
}
