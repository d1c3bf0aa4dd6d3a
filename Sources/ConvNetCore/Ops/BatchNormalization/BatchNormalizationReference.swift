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

    static func affine(_ x: [Float], _ v: BatchNormView, scale: [Float], shift: [Float]) -> [Float] {
        x.indices.map { i in scale[i % v.channels] * x[i] + shift[i % v.channels] }
    }

    static func gradientSums(_ x: [Float], upstream dy: [Float], _ v: BatchNormView, mean: [Float], variance: [Float])
        -> (sumDy: [Float], sumDyXHat: [Float]) {
        let C = v.channels, inverseStd = v.inverseStandardDeviation(variance)
        var sumDy = [Double](repeating: 0, count: C), sumDyXHat = sumDy
        for i in x.indices {
            sumDy[i % C] += Double(dy[i])
            sumDyXHat[i % C] += Double(dy[i] * ((x[i] - mean[i % C]) * inverseStd[i % C]))
        }
        return (sumDy.map { Float($0) }, sumDyXHat.map { Float($0) })
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

    static func inferenceBackward(_ x: [Float], upstream dy: [Float], _ v: BatchNormView, mean: [Float], variance: [Float],
                                  scale: [Float]) -> (input: [Float], gamma: [Float], beta: [Float]) {
        let C = v.channels, inverseStd = v.inverseStandardDeviation(variance)
        var dGamma = [Double](repeating: 0, count: C), dBeta = dGamma
        for i in x.indices {
            dGamma[i % C] += Double(dy[i] * (x[i] - mean[i % C]) * inverseStd[i % C])
            dBeta[i % C] += Double(dy[i])
        }
        return (x.indices.map { dy[$0] * scale[$0 % C] }, dGamma.map { Float($0) }, dBeta.map { Float($0) })
    }
}
