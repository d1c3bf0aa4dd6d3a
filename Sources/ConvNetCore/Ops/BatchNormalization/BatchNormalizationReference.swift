/// Batch normalization as the formulas read (see `batchNormTraining`): one element at a time,
/// channel `i mod n_C`, sums in `Double`. The oracle for `BatchNormalizationFast`.
enum BatchNormalizationReference: BatchNormKernels {
    static func statistics(_ x: [Float], _ v: BatchNormView) -> BatchStatistics {
        let (C, n) = (v.channels, Double(v.rows))
        var mean = [Double](repeating: 0, count: C), variance = mean
        for i in x.indices { mean[i % C] += Double(x[i]) }
        for c in 0..<C { mean[c] /= n }
        for i in x.indices {
            let d = Double(x[i]) - mean[i % C]
            variance[i % C] += d * d
        }
        return BatchStatistics(mean: mean.map { Float($0) }, variance: variance.map { Float($0 / n) })
    }

    static func affine(_ x: [Float], _ v: BatchNormView, scale: [Float], shift: [Float], residual: [Float]?,
                       activation: ActivationFunction) -> [Float] {
        let y = x.indices.map { i in
            let normalized = scale[i % v.channels] * x[i] + shift[i % v.channels]
            return residual.map { normalized + $0[i] } ?? normalized
        }
        switch activation {
        case .relu: return y.map { max($0, 0) }
        case .gelu:
            return [Float](unsafeUninitializedCapacity: y.count) { z, initialized in
                GELUReference.forward(y, into: z.baseAddress!, count: y.count)
                initialized = y.count
            }
        default: return y
        }
    }

    static func gradientSums(_ x: [Float], upstream dz: [Float], _ v: BatchNormView, mean: [Float], variance: [Float],
                             scale: [Float], shift: [Float], residual: [Float]?, activation: ActivationFunction)
        -> (dy: [Float], sumDy: [Float], sumDyXHat: [Float]) {
        let C = v.channels, inverseStd = v.inverseStandardDeviation(variance)
        let y = affine(x, v, scale: scale, shift: shift, residual: residual, activation: .linear)
        let dy: [Float]
        switch activation {
        case .relu: dy = x.indices.map { y[$0] > 0 ? dz[$0] : 0 }
        case .gelu:
            dy = [Float](unsafeUninitializedCapacity: y.count) { dy, initialized in
                GELUReference.backward(y, upstream: dz, into: dy.baseAddress!, count: y.count)
                initialized = y.count
            }
        default: dy = dz
        }
        var sumDy = [Double](repeating: 0, count: C), sumDyXHat = sumDy
        for i in x.indices {
            sumDy[i % C] += Double(dy[i])
            sumDyXHat[i % C] += Double(dy[i] * ((x[i] - mean[i % C]) * inverseStd[i % C]))
        }
        return (dy, sumDy.map { Float($0) }, sumDyXHat.map { Float($0) })
    }

    static func trainingInputGradient(_ x: [Float], upstream dy: [Float], _ v: BatchNormView, mean: [Float], variance: [Float],
                                      sumDy: [Float], sumDyXHat: [Float], count n: Float) -> [Float] {
        let C = v.channels, inverseStd = v.inverseStandardDeviation(variance)
        return x.indices.map { i in
            let c = i % C
            let xHat = (x[i] - mean[c]) * inverseStd[c]
            return v.gamma[c] * inverseStd[c] / n * (n * dy[i] - sumDy[c] - xHat * sumDyXHat[c])
        }
    }
}
