/// Batch normalization statistics over every axis but the last (channels):
/// for `(m, n_H, n_W, n_C)` the mean and (biased) variance of each channel over `m · n_H · n_W` values.
public struct BatchStatistics: Sendable {
    /// `μ_B`, one value per channel: `n_C` entries.
    public let mean: [Float]
    /// `σ²_B`, one value per channel, divided by `N = m · n_H · n_W` (not `N − 1`); Keras feeds the
    /// same biased value into its moving variance.
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
/// With `synchronizedOver` (synchronised batch normalization, PyTorch's `SyncBatchNorm`) the batch is
/// every process's batch together: `μ_B`, `σ²_B`, `N` and the two sums in `dx` are taken over all
/// ranks' rows (see ``BatchStatistics/combined(_:rows:over:)``; the backward pass all-reduces
/// `Σ dy` and `Σ dy · x̂`), while `dγ` and `dβ` stay this rank's sums, since the gradient
/// all-reduce averages them.
///
/// With `activation` (`.relu` or `.gelu`; see `ActivationFunction.isFusible`) the op returns
/// `z = g(y)` and applies `g` in the same loop that writes `y`, so `y` is never stored: the backward
/// pass recomputes it from `x` to take `dy = dz · g'(y)` inside the loop that sums `Σ dy` and
/// `Σ dy · x̂`. That is two passes over memory fewer each way than the two ops, and one activation
/// less kept for the backward pass, with the same values to the last bit. Other activations run
/// after the op.
///
/// With `residual` (a tensor of `x`'s shape: a residual block's shortcut) the op returns
/// `z = g(y + residual)`, the block's `BatchNormalization` → `Add` → `Activation` as one loop, and
/// the residual's gradient is `dz · g'(y + residual)`, the same `dy` batch normalization's own
/// backward pass starts from.
///
/// - Returns: the output and the batch statistics, for the caller's moving averages.
public func batchNormTraining(_ x: Tensor, gamma: Tensor, beta: Tensor, epsilon: Float = 1e-3,
                              activation: ActivationFunction = .linear, adding residual: Tensor? = nil,
                              implementation: Implementation = .fast,
                              synchronizedOver group: (any ProcessGroup)? = nil) throws -> (output: Tensor, statistics: BatchStatistics) {
    guard activation.isFusible else {
        let (output, statistics) = try batchNormTraining(x, gamma: gamma, beta: beta, epsilon: epsilon, adding: residual,
                                                         implementation: implementation, synchronizedOver: group)
        return (activate(output, activation), statistics)
    }
    let view = try BatchNormView(x, gamma: gamma, beta: beta, epsilon: epsilon, residual: residual)
    let kernels = implementation.batchNormKernels
    let local = kernels.statistics(x.scalars, view)
    let statistics = try group.map { try BatchStatistics.combined(local, rows: view.rows, over: $0) } ?? local
    let affine = view.affine(mean: statistics.mean, variance: statistics.variance)
    let output = kernels.affine(x.scalars, view, scale: affine.scale, shift: affine.shift, residual: residual?.scalars,
                                activation: activation)
    let result = record(Tensor(validShape: x.shape, scalars: output), inputs: [x, gamma, beta, residual]) { upstream, _ in
        let kernels = implementation.batchNormKernels
        let sums = kernels.gradientSums(x.scalars, upstream: upstream.scalars, view, mean: statistics.mean,
                                        variance: statistics.variance, scale: affine.scale, shift: affine.shift,
                                        residual: residual?.scalars, activation: activation)
        var (sumDy, sumDyXHat, count) = (sums.sumDy, sums.sumDyXHat, Float(view.rows))
        if let group, group.size > 1 {
            var totals = (sumDy + sumDyXHat).map(Double.init) + [Double(view.rows)]
            try group.allReduceSum(&totals)
            sumDy = totals[0..<view.channels].map { Float($0) }
            sumDyXHat = totals[view.channels..<2 * view.channels].map { Float($0) }
            count = Float(totals[2 * view.channels])
        }
        let dx = kernels.trainingInputGradient(x.scalars, upstream: sums.dy, view, mean: statistics.mean,
                                               variance: statistics.variance, sumDy: sumDy, sumDyXHat: sumDyXHat, count: count)
        return [Tensor(validShape: x.shape, scalars: dx), Tensor(validShape: [view.channels], scalars: sums.sumDyXHat),
                Tensor(validShape: [view.channels], scalars: sums.sumDy),
                residual.map { _ in Tensor(validShape: x.shape, scalars: sums.dy) }]
    }
    return (result, statistics)
}

extension BatchStatistics {
    /// The statistics of every rank's batch together, from each rank's own (`rows` values per
    /// channel): one all-reduce of `(n_r, n_r·μ_r, n_r·σ²_r, n_r·μ_r²)` per channel in double
    /// precision (count, sum and sum of squares), then
    ///
    ///     n = Σ n_r,  μ = Σ n_r μ_r / n,  σ² = (Σ n_r σ²_r + Σ n_r μ_r² − n μ²) / n
    ///
    /// (the within-rank and between-rank parts of the sum of squares; the local two-pass variances
    /// keep the cancellation to the spread of the ranks' means). Every rank gets the same values.
    public static func combined(_ local: BatchStatistics, rows: Int, over group: any ProcessGroup) throws -> BatchStatistics {
        guard group.size > 1 else { return local }
        let channels = local.mean.count, n = Double(rows)
        var sums = [n] + local.mean.map { n * Double($0) } + local.variance.map { n * Double($0) }
            + local.mean.map { n * Double($0) * Double($0) }
        try group.allReduceSum(&sums)
        let total = sums[0]
        let mean = (0..<channels).map { sums[1 + $0] / total }
        let variance = (0..<channels).map { c in
            max(0, (sums[1 + channels + c] + sums[1 + 2 * channels + c] - total * mean[c] * mean[c]) / total)
        }
        return BatchStatistics(mean: mean.map { Float($0) }, variance: variance.map { Float($0) })
    }
}

/// Batch normalization in inference mode, with fixed (moving) statistics:
/// `y = γ · (x − μ) / √(σ² + ε) + β`, an affine map per channel, whose backward pass is
/// `dx = γ / √(σ² + ε) · dy`, `dγ = Σ dy · x̂`, `dβ = Σ dy`. With `activation` and `residual`, as
/// `batchNormTraining`: `g(y + residual)` in the same loop.
public func batchNormInference(_ x: Tensor, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor,
                               epsilon: Float = 1e-3, activation: ActivationFunction = .linear, adding residual: Tensor? = nil,
                               implementation: Implementation = .fast) throws -> Tensor {
    guard activation.isFusible else {
        return activate(try batchNormInference(x, gamma: gamma, beta: beta, mean: mean, variance: variance, epsilon: epsilon,
                                               adding: residual, implementation: implementation), activation)
    }
    let view = try BatchNormView(x, gamma: gamma, beta: beta, epsilon: epsilon, residual: residual)
    guard mean.shape == [view.channels], variance.shape == [view.channels] else {
        throw ConvNetError.shape(op: "batchNormalization", message: "moving mean \(describe(shape: mean.shape)) and variance \(describe(shape: variance.shape)) must be (\(view.channels),)")
    }
    let kernels = implementation.batchNormKernels
    let affine = view.affine(mean: mean.scalars, variance: variance.scalars)
    let output = kernels.affine(x.scalars, view, scale: affine.scale, shift: affine.shift, residual: residual?.scalars,
                                activation: activation)
    return record(Tensor(validShape: x.shape, scalars: output), inputs: [x, gamma, beta, residual]) { upstream, _ in
        let kernels = implementation.batchNormKernels
        let sums = kernels.gradientSums(x.scalars, upstream: upstream.scalars, view, mean: mean.scalars, variance: variance.scalars,
                                        scale: affine.scale, shift: affine.shift, residual: residual?.scalars, activation: activation)
        let dx = kernels.affine(sums.dy, view, scale: affine.scale, shift: [Float](repeating: 0, count: view.channels),
                                residual: nil, activation: .linear)
        return [Tensor(validShape: x.shape, scalars: dx), Tensor(validShape: [view.channels], scalars: sums.sumDyXHat),
                Tensor(validShape: [view.channels], scalars: sums.sumDy),
                residual.map { _ in Tensor(validShape: x.shape, scalars: sums.dy) }]
    }
}

/// Batch normalization with fixed statistics as a per-channel affine map `y = scale · x + shift`:
/// `scale = γ / √(σ² + ε)`, `shift = β − μ · scale`.
func batchNormAffine(gamma: [Float], beta: [Float], mean: [Float], variance: [Float], epsilon: Float)
    -> (scale: [Float], shift: [Float]) {
    let scale = zip(gamma, variance).map { $0 * (1 / ($1 + epsilon).squareRoot()) }
    return (scale, beta.indices.map { beta[$0] - mean[$0] * scale[$0] })
}

/// `g(z + residual)` in one pass, `g` linear, ReLU or GELU (batch normalization's affine loop with
/// scale 1 and shift 0, exact): the end of a residual block whose normalization was folded into its
/// convolution (`LayerFusion`). Not recorded on a tape: only for tensors no tape watches.
func addingActivated(_ z: Tensor, _ residual: Tensor, activation: ActivationFunction) throws -> Tensor {
    precondition(z.tapeEntry == nil && residual.tapeEntry == nil && activation.isFusible, "addingActivated records no gradient")
    guard let channels = z.shape.last else { return try activate(z.adding(residual), activation) }
    let view = try BatchNormView(z, gamma: Tensor(shape: [channels], repeating: 1), beta: Tensor(shape: [channels], repeating: 0),
                                 epsilon: 0, residual: residual)
    let output = Implementation.fast.batchNormKernels.affine(z.scalars, view, scale: view.gamma, shift: view.beta,
                                                             residual: residual.scalars, activation: activation)
    return Tensor(validShape: z.shape, scalars: output)
}

/// An input of batch normalization seen as `rows × channels` (NHWC: every pixel of every image is
/// a row of `n_C` contiguous values), with the layer's `γ`, `β` and `ε`, and the shape of the
/// residual added after it, if any, checked.
struct BatchNormView: Sendable {
    let rows: Int
    let channels: Int
    let gamma: [Float]
    let beta: [Float]
    let epsilon: Float

    init(_ x: Tensor, gamma: Tensor, beta: Tensor, epsilon: Float, residual: Tensor? = nil) throws {
        guard let channels = x.shape.last, x.rank >= 2, !x.shape.contains(0) else {
            throw ConvNetError.shape(op: "batchNormalization", message: "expected a non-empty input of rank ≥ 2, got \(describe(shape: x.shape))")
        }
        guard gamma.shape == [channels], beta.shape == [channels] else {
            throw ConvNetError.shape(op: "batchNormalization", message: "gamma \(describe(shape: gamma.shape)) and beta \(describe(shape: beta.shape)) must be (\(channels),) for input \(describe(shape: x.shape))")
        }
        if let residual, residual.shape != x.shape {
            throw ConvNetError.shape(op: "batchNormalization", message: "the residual \(describe(shape: residual.shape)) must have the input's shape \(describe(shape: x.shape))")
        }
        (self.rows, self.channels) = (x.count / channels, channels)
        (self.gamma, self.beta, self.epsilon) = (gamma.scalars, beta.scalars, epsilon)
    }

    /// `1 / √(σ² + ε)` per channel.
    func inverseStandardDeviation(_ variance: [Float]) -> [Float] {
        variance.map { 1 / ($0 + epsilon).squareRoot() }
    }

    /// `y = scale · x + shift` with `scale = γ / √(σ² + ε)`, `shift = β − μ · scale`.
    func affine(mean: [Float], variance: [Float]) -> (scale: [Float], shift: [Float]) {
        batchNormAffine(gamma: gamma, beta: beta, mean: mean, variance: variance, epsilon: epsilon)
    }
}

/// The loops behind the batch-normalization ops, as `BatchNormalizationReference` (plain loops, the
/// oracle) and `BatchNormalizationFast` (vectorised over channels, spread over the cores) write them.
/// `activation` is the fused epilogue `g` (linear, ReLU or GELU; see `ActivationFunction.isFusible`),
/// `residual` a tensor added before it (a residual block's shortcut), or `nil`.
protocol BatchNormKernels {
    /// The batch's mean and biased variance per channel.
    static func statistics(_ x: [Float], _ v: BatchNormView) -> BatchStatistics
    /// `z = g(scale[c] · x + shift[c] + residual)`.
    static func affine(_ x: [Float], _ v: BatchNormView, scale: [Float], shift: [Float], residual: [Float]?,
                       activation: ActivationFunction) -> [Float]
    /// Back through the activation, `dy = dz · g'(scale · x + shift + residual)` (`dz` itself when
    /// `g` is linear), and the per-channel sums `Σ dy` (= `dβ`) and `Σ dy · x̂` (= `dγ`), `x̂ = (x − μ) / √(σ² + ε)`.
    static func gradientSums(_ x: [Float], upstream dz: [Float], _ v: BatchNormView, mean: [Float], variance: [Float],
                             scale: [Float], shift: [Float], residual: [Float]?, activation: ActivationFunction)
        -> (dy: [Float], sumDy: [Float], sumDyXHat: [Float])
    /// Training mode's `dx = γ σ⁻¹ / n · (n · dy − Σ dy − x̂ · Σ dy x̂)` (the batch statistics depend
    /// on `x`), with the sums and the count `n` of the rows they were taken over given: this
    /// process's rows, or every process's for synchronised batch normalization.
    static func trainingInputGradient(_ x: [Float], upstream dy: [Float], _ v: BatchNormView, mean: [Float], variance: [Float],
                                      sumDy: [Float], sumDyXHat: [Float], count: Float) -> [Float]
}
