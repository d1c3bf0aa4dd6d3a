/// Batch normalization over the `rows × n_C` view of NHWC data with the channel loop innermost
/// (each row's channels are contiguous, so the loops vectorise) and the rows split over the cores.
/// Same results as `BatchNormalizationReference` up to rounding.
///
/// Per-channel sums are taken in `Float` over blocks of `blockRows` rows and added up in `Double`;
/// each thread's partial sums are then added in thread order, so results depend on the thread
/// count but never on timing. The backward pass recomputes `x̂` from `x` rather than keeping it.
enum BatchNormalizationFast: BatchNormKernels {
    /// Rows summed in `Float` before the block's sums go into the `Double` totals.
    static let blockRows = 64

    static func statistics(_ x: [Float], _ v: BatchNormView) -> BatchStatistics {
        let C = v.channels, n = Double(v.rows)
        // Two passes, as the reference: the mean, then the mean square deviation from it.
        let mean = withSendablePointers([x]) { p in
            channelSums(v, terms: 1) { rows, sums in
                for r in rows {
                    let row = p[0].pointer + r * C
                    for c in 0..<C { sums[c] += row[c] }
                }
            }
        }.map { Float($0 / n) }
        let variance = withSendablePointers([x, mean]) { p in
            channelSums(v, terms: 1) { rows, sums in
                for r in rows {
                    let row = p[0].pointer + r * C
                    for c in 0..<C {
                        let deviation = row[c] - p[1].pointer[c]
                        sums[c] += deviation * deviation
                    }
                }
            }
        }
        return BatchStatistics(mean: mean, variance: variance.map { Float($0 / n) })
    }

    static func affine(_ x: [Float], _ v: BatchNormView, scale: [Float], shift: [Float]) -> [Float] {
        let C = v.channels
        return [Float](unsafeUninitializedCapacity: x.count) { y, initialized in
            let y = SendableMutablePointer(y.baseAddress!)
            withSendablePointers([x, scale, shift]) { p in
                Parallel.forEachChunk(v.rows, costPerItem: C) { rows in
                    for r in rows {
                        let (row, out) = (p[0].pointer + r * C, y.pointer + r * C)
                        for c in 0..<C { out[c] = p[1].pointer[c] * row[c] + p[2].pointer[c] }
                    }
                }
            }
            initialized = x.count
        }
    }

    static func gradientSums(_ x: [Float], upstream dy: [Float], _ v: BatchNormView, mean: [Float], variance: [Float])
        -> (sumDy: [Float], sumDyXHat: [Float]) {
        gradientSums(x, dy, v, mean: mean, inverseStd: v.inverseStandardDeviation(variance))
    }

    /// `dx = γ σ⁻¹ / n · (n · dy − Σ dy − x̂ · Σ dy x̂)`, regrouped per channel as
    /// `dx = a · dy + b · (x − μ) + d` with `a = γ σ⁻¹`, `b = −a σ⁻¹ Σ dy x̂ / n`, `d = −a Σ dy / n`.
    static func trainingInputGradient(_ x: [Float], upstream dy: [Float], _ v: BatchNormView, mean: [Float], variance: [Float],
                                      sumDy: [Float], sumDyXHat: [Float], count n: Float) -> [Float] {
        let C = v.channels, inverseStd = v.inverseStandardDeviation(variance)
        let a = (0..<C).map { v.gamma[$0] * inverseStd[$0] }
        let b = (0..<C).map { -a[$0] * inverseStd[$0] * sumDyXHat[$0] / n }
        let d = (0..<C).map { -a[$0] * sumDy[$0] / n }
        return [Float](unsafeUninitializedCapacity: x.count) { dx, initialized in
            let dx = SendableMutablePointer(dx.baseAddress!)
            withSendablePointers([x, dy, mean, a, b, d]) { p in
                Parallel.forEachChunk(v.rows, costPerItem: 2 * C) { rows in
                    let (mu, a, b, d) = (p[2].pointer, p[3].pointer, p[4].pointer, p[5].pointer)
                    for r in rows {
                        let (xr, dyr, out) = (p[0].pointer + r * C, p[1].pointer + r * C, dx.pointer + r * C)
                        for c in 0..<C { out[c] = a[c] * dyr[c] + b[c] * (xr[c] - mu[c]) + d[c] }
                    }
                }
            }
            initialized = x.count
        }
    }

    static func inferenceBackward(_ x: [Float], upstream dy: [Float], _ v: BatchNormView, mean: [Float], variance: [Float],
                                  scale: [Float]) -> (input: [Float], gamma: [Float], beta: [Float]) {
        let (sumDy, sumDyXHat) = gradientSums(x, dy, v, mean: mean, inverseStd: v.inverseStandardDeviation(variance))
        return (affine(dy, v, scale: scale, shift: [Float](repeating: 0, count: v.channels)), sumDyXHat, sumDy)
    }

    /// `Σ dy` and `Σ dy · x̂` per channel, `x̂ = (x − μ) σ⁻¹`.
    private static func gradientSums(_ x: [Float], _ dy: [Float], _ v: BatchNormView, mean: [Float], inverseStd: [Float])
        -> (sumDy: [Float], sumDyXHat: [Float]) {
        let C = v.channels
        let sums = withSendablePointers([x, dy, mean, inverseStd]) { p in
            channelSums(v, terms: 2) { rows, sums in
                for r in rows {
                    let (xr, dyr) = (p[0].pointer + r * C, p[1].pointer + r * C)
                    for c in 0..<C {
                        sums[c] += dyr[c]
                        sums[C + c] += dyr[c] * ((xr[c] - p[2].pointer[c]) * p[3].pointer[c])
                    }
                }
            }
        }
        return (sums[0..<C].map { Float($0) }, sums[C...].map { Float($0) })
    }

    /// `terms` per-channel sums over all rows (`terms × n_C` values): `accumulate(rows, sums)` adds
    /// the terms of a block of rows into `sums`, which start at zero for each block.
    private static func channelSums(_ v: BatchNormView, terms: Int,
                                    _ accumulate: @Sendable (Range<Int>, UnsafeMutablePointer<Float>) -> Void) -> [Double] {
        let width = terms * v.channels
        let chunks = Parallel.chunks(v.rows, costPerItem: v.channels)
        var partials = [Double](repeating: 0, count: chunks.count * width)
        partials.withUnsafeMutableBufferPointer { buffer in
            let partials = SendableMutablePointer(buffer.baseAddress!)
            Parallel.run(tasks: chunks.count) { task in
                let total = partials.pointer + task * width
                withUnsafeTemporaryAllocation(of: Float.self, capacity: width) { block in
                    for start in stride(from: chunks[task].lowerBound, to: chunks[task].upperBound, by: blockRows) {
                        block.initialize(repeating: 0)
                        accumulate(start..<min(start + blockRows, chunks[task].upperBound), block.baseAddress!)
                        for j in 0..<width { total[j] += Double(block[j]) }
                    }
                }
            }
        }
        var sums = [Double](repeating: 0, count: width)
        for task in chunks.indices {
            for j in 0..<width { sums[j] += partials[task * width + j] }
        }
        return sums
    }
}
