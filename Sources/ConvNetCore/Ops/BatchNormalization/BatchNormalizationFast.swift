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

    static func affine(_ x: [Float], _ v: BatchNormView, scale: [Float], shift: [Float], residual: [Float]?,
                       activation: ActivationFunction) -> [Float] {
        switch activation {
        case .relu: affine(x, v, scale: scale, shift: shift, residual: residual, ReLUActivation.self)
        case .gelu: affine(x, v, scale: scale, shift: shift, residual: residual, GELUFast.self)
        default: affine(x, v, scale: scale, shift: shift, residual: residual, LinearActivation.self)
        }
    }

    static func gradientSums(_ x: [Float], upstream dz: [Float], _ v: BatchNormView, mean: [Float], variance: [Float],
                             scale: [Float], shift: [Float], residual: [Float]?, activation: ActivationFunction)
        -> (dy: [Float], sumDy: [Float], sumDyXHat: [Float]) {
        let inverseStd = v.inverseStandardDeviation(variance)
        switch activation {
        case .relu:
            return gradientSums(x, dz, v, mean: mean, inverseStd: inverseStd, scale: scale, shift: shift, residual: residual, ReLUActivation.self)
        case .gelu:
            return gradientSums(x, dz, v, mean: mean, inverseStd: inverseStd, scale: scale, shift: shift, residual: residual, GELUFast.self)
        default:
            return gradientSums(x, dz, v, mean: mean, inverseStd: inverseStd, scale: scale, shift: shift, residual: residual,
                                LinearActivation.self)
        }
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

    /// `z = G(scale · x + shift + residual)`, eight channels of a row at a time.
    @inline(__always) private static func affine<G: FusedActivation>(_ x: [Float], _ v: BatchNormView, scale: [Float], shift: [Float],
                                                   residual: [Float]?, _: G.Type) -> [Float] {
        let C = v.channels, adding = residual != nil
        return [Float](unsafeUninitializedCapacity: x.count) { z, initialized in
            let z = SendableMutablePointer(z.baseAddress!)
            withSendablePointers([x, scale, shift, residual ?? x]) { p in  // (`x` stands in for no residual: not read)
                Parallel.forEachChunk(v.rows, costPerItem: 4 * C) { rows in
                    for r in rows {
                        let (row, out) = (p[0].pointer + r * C, z.pointer + r * C)
                        forEachChannelGroup(C) { c, n in
                            var y = lanes(p[1].pointer + c, n) * lanes(row + c, n) + lanes(p[2].pointer + c, n)
                            if adding { y += lanes(p[3].pointer + r * C + c, n) }
                            store(G.apply(y), to: out + c, n)
                        }
                    }
                }
            }
            initialized = x.count
        }
    }

    /// `dy = dz · G'(scale · x + shift + residual)` (kept unless `G` is linear, when `dy` is `dz`),
    /// `Σ dy` and `Σ dy · x̂` per channel, `x̂ = (x − μ) σ⁻¹`, in one pass over `x` and `dz`.
    @inline(__always) private static func gradientSums<G: FusedActivation>(_ x: [Float], _ dz: [Float], _ v: BatchNormView, mean: [Float],
                                                         inverseStd: [Float], scale: [Float], shift: [Float], residual: [Float]?,
                                                         _: G.Type)
        -> (dy: [Float], sumDy: [Float], sumDyXHat: [Float]) {
        let C = v.channels, keepsDy = G.self != LinearActivation.self, adding = residual != nil
        var dy = keepsDy ? [Float](unsafeUninitializedCapacity: x.count) { $1 = x.count } : []  // every value written below
        let sums = dy.withUnsafeMutableBufferPointer { buffer in
            let out = keepsDy ? buffer.baseAddress.map { SendableMutablePointer($0) } : nil
            return withSendablePointers([x, dz, mean, inverseStd, scale, shift, residual ?? x]) { p in
                channelSums(v, terms: 2) { rows, sums in
                    let (mu, inverseStd, scale, shift) = (p[2].pointer, p[3].pointer, p[4].pointer, p[5].pointer)
                    for r in rows {
                        let (xr, dzr) = (p[0].pointer + r * C, p[1].pointer + r * C)
                        forEachChannelGroup(C) { c, n in
                            let xv = lanes(xr + c, n)
                            var y = lanes(scale + c, n) * xv + lanes(shift + c, n)
                            if adding { y += lanes(p[6].pointer + r * C + c, n) }
                            let g = G.gradient(lanes(dzr + c, n), at: y)
                            if let out { store(g, to: out.pointer + r * C + c, n) }
                            store(lanes(sums + c, n) + g, to: sums + c, n)
                            store(lanes(sums + C + c, n) + g * ((xv - lanes(mu + c, n)) * lanes(inverseStd + c, n)), to: sums + C + c, n)
                        }
                    }
                }
            }
        }
        return (keepsDy ? dy : dz, sums[0..<C].map { Float($0) }, sums[C...].map { Float($0) })
    }

    /// `body(c, n)` for each group of `n` channels from `c`: eight at a time, then the last `C % 8`
    /// (a separate call, so that the eight-lane loop has no partial loads in it).
    @inline(__always) private static func forEachChannelGroup(_ C: Int, _ body: (Int, Int) -> Void) {
        let vectorEnd = C / 8 * 8
        for c in stride(from: 0, to: vectorEnd, by: 8) { body(c, 8) }
        if vectorEnd < C { body(vectorEnd, C - vectorEnd) }
    }

    /// The `n ≤ 8` values at `p` in the first lanes (zeros after them).
    @inline(__always) private static func lanes(_ p: UnsafePointer<Float>, _ n: Int) -> SIMD8<Float> {
        if n == 8 { return UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
        var vector = SIMD8<Float>()
        for i in 0..<n { vector[i] = p[i] }
        return vector
    }

    @inline(__always) private static func lanes(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> SIMD8<Float> {
        lanes(UnsafePointer(p), n)
    }

    /// Writes the first `n ≤ 8` lanes of `vector` to `p`.
    @inline(__always) private static func store(_ vector: SIMD8<Float>, to p: UnsafeMutablePointer<Float>, _ n: Int) {
        if n == 8 { return UnsafeMutableRawPointer(p).storeBytes(of: vector, as: SIMD8<Float>.self) }
        for i in 0..<n { p[i] = vector[i] }
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
