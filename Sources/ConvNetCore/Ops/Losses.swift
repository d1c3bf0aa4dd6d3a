import Foundation

/// Keras's `epsilon()`: probabilities are clipped to `[ε, 1 − ε]` before taking logarithms.
public let probabilityEpsilon: Float = 1e-7

/// Softmax cross-entropy from logits with integer labels (Keras `SparseCategoricalCrossentropy(from_logits=True)`):
///
///     L = −(1/m) Σ_i log softmax(z_i)[y_i],   dL/dz_i = (softmax(z_i) − onehot(y_i)) / m
///
/// - Parameters:
///   - logits: `(m, classes)`.
///   - labels: `m` class indices in `0..<classes`.
/// - Returns: a scalar tensor.
public func softmaxCrossEntropy(logits: Tensor, labels: [Int]) throws -> Tensor {
    let op = "softmaxCrossEntropy"
    try logits.expectRank(2, op: op, "logits")
    let (m, classes) = (logits.shape[0], logits.shape[1])
    guard labels.count == m else {
        throw ConvNetError.shape(op: op, message: "logits \(describe(shape: logits.shape)) need \(m) labels, got \(labels.count)")
    }
    if let bad = labels.first(where: { !(0..<classes).contains($0) }) {
        throw ConvNetError.argument("\(op): label \(bad) is out of range for \(classes) classes")
    }
    let oneHot = Tensor(validShape: logits.shape, scalars: oneHotScalars(labels, classes: classes))
    return try softmaxCrossEntropy(logits: logits, oneHotLabels: oneHot)
}

/// Softmax cross-entropy from logits with one-hot (or soft) targets `t` of shape `(m, classes)`:
///
///     L = −(1/m) Σ_i Σ_j t_ij · log softmax(z_i)_j,   dL/dz_i = (softmax(z_i) · Σ_j t_ij − t_i) / m
public func softmaxCrossEntropy(logits: Tensor, oneHotLabels targets: Tensor) throws -> Tensor {
    let op = "softmaxCrossEntropy"
    try logits.expectRank(2, op: op, "logits")
    guard targets.shape == logits.shape else {
        throw ConvNetError.shape(op: op, message: "targets \(describe(shape: targets.shape)) do not match logits \(describe(shape: logits.shape))")
    }
    let (m, classes) = (logits.shape[0], logits.shape[1])
    let logProbabilities = logSoftmax(logits.detached).scalars
    var total = 0.0
    for i in 0..<logProbabilities.count where targets.scalars[i] != 0 {
        total -= Double(targets.scalars[i]) * Double(logProbabilities[i])
    }
    let loss = Tensor(Float(total / Double(max(m, 1))))
    return record(loss, inputs: [logits]) { upstream, _ in
        let scale = upstream.scalars[0] / Float(max(m, 1))
        var dz = [Float](repeating: 0, count: logits.count)
        for row in 0..<m {
            let range = row * classes..<(row + 1) * classes
            let mass = targets.scalars[range].reduce(0, +)
            for j in range { dz[j] = scale * (Foundation.exp(logProbabilities[j]) * mass - targets.scalars[j]) }
        }
        return [Tensor(validShape: logits.shape, scalars: dz)]
    }
}

/// Cross-entropy of probabilities (e.g. a softmax output) against integer labels, as Keras computes
/// `sparse_categorical_crossentropy` without logits: `−(1/m) Σ log clip(p[y], ε, 1 − ε)`.
public func categoricalCrossEntropy(probabilities: Tensor, labels: [Int]) throws -> Tensor {
    let op = "categoricalCrossEntropy"
    try probabilities.expectRank(2, op: op, "probabilities")
    let (m, classes) = (probabilities.shape[0], probabilities.shape[1])
    guard labels.count == m else {
        throw ConvNetError.shape(op: op, message: "probabilities \(describe(shape: probabilities.shape)) need \(m) labels, got \(labels.count)")
    }
    if let bad = labels.first(where: { !(0..<classes).contains($0) }) {
        throw ConvNetError.argument("\(op): label \(bad) is out of range for \(classes) classes")
    }
    var total = 0.0
    for (row, label) in labels.enumerated() {
        total -= Foundation.log(Double(clipProbability(probabilities.scalars[row * classes + label])))
    }
    return record(Tensor(Float(total / Double(max(m, 1)))), inputs: [probabilities]) { upstream, _ in
        var dp = [Float](repeating: 0, count: probabilities.count)
        for (row, label) in labels.enumerated() {
            let p = probabilities.scalars[row * classes + label]
            // The clip has zero derivative outside [ε, 1 − ε].
            if p > probabilityEpsilon, p < 1 - probabilityEpsilon {
                dp[row * classes + label] = -upstream.scalars[0] / (p * Float(max(m, 1)))
            }
        }
        return [Tensor(validShape: probabilities.shape, scalars: dp)]
    }
}

/// Cross-entropy of probabilities `p` `(m, classes)` against soft targets `t` of the same shape, as
/// Keras's `categorical_crossentropy` without logits: `L = −(1/m) Σ_i Σ_j t_ij · log clip(p_ij, ε, 1 − ε)`,
/// `dL/dp_ij = −t_ij / (m·p_ij)` inside the clip, else 0.
public func categoricalCrossEntropy(probabilities: Tensor, targets: Tensor) throws -> Tensor {
    let op = "categoricalCrossEntropy"
    try probabilities.expectRank(2, op: op, "probabilities")
    guard targets.shape == probabilities.shape else {
        throw ConvNetError.shape(op: op, message: "targets \(describe(shape: targets.shape)) do not match probabilities \(describe(shape: probabilities.shape))")
    }
    let m = Float(max(probabilities.shape[0], 1))
    var total = 0.0
    for (p, t) in zip(probabilities.scalars, targets.scalars) where t != 0 {
        total -= Double(t) * Foundation.log(Double(clipProbability(p)))
    }
    return record(Tensor(Float(total) / m), inputs: [probabilities]) { upstream, _ in
        let dp = zip(probabilities.scalars, targets.scalars).map { p, t -> Float in
            guard p > probabilityEpsilon, p < 1 - probabilityEpsilon else { return 0 }
            return -upstream.scalars[0] * t / (p * m)
        }
        return [Tensor(validShape: probabilities.shape, scalars: dp)]
    }
}

/// Keras's label smoothing of one-hot targets `(m, classes)`: `t = (1 − ε)·t + ε / classes`.
public func smoothedLabels(_ oneHot: Tensor, smoothing epsilon: Float) throws -> Tensor {
    try oneHot.expectRank(2, op: "smoothedLabels", "targets")
    let uniform = epsilon / Float(max(oneHot.shape[1], 1))
    return Tensor(validShape: oneHot.shape, scalars: oneHot.scalars.map { (1 - epsilon) * $0 + uniform })
}

/// Binary cross-entropy of probabilities `p` against targets `t` in `[0, 1]` (Keras, clipped):
/// `L = −mean(t·log p + (1 − t)·log(1 − p))`.
public func binaryCrossEntropy(probabilities p: Tensor, targets t: Tensor) throws -> Tensor {
    guard p.shape == t.shape else {
        throw ConvNetError.shape(op: "binaryCrossEntropy", message: "targets \(describe(shape: t.shape)) do not match probabilities \(describe(shape: p.shape))")
    }
    let n = Float(max(p.count, 1))
    var total = 0.0
    for (pi, ti) in zip(p.scalars, t.scalars) {
        let q = Double(clipProbability(pi))
        total -= Double(ti) * Foundation.log(q) + Double(1 - ti) * Foundation.log(1 - q)
    }
    return record(Tensor(Float(total) / n), inputs: [p]) { upstream, _ in
        let dp = zip(p.scalars, t.scalars).map { pi, ti -> Float in
            guard pi > probabilityEpsilon, pi < 1 - probabilityEpsilon else { return 0 }
            return upstream.scalars[0] * (pi - ti) / (pi * (1 - pi) * n)
        }
        return [Tensor(validShape: p.shape, scalars: dp)]
    }
}

/// Binary cross-entropy from logits `x` (stable form): `L = mean(max(x, 0) − x·t + log(1 + e^−|x|))`,
/// `dL/dx = (σ(x) − t) / n`.
public func binaryCrossEntropy(logits x: Tensor, targets t: Tensor) throws -> Tensor {
    guard x.shape == t.shape else {
        throw ConvNetError.shape(op: "binaryCrossEntropy", message: "targets \(describe(shape: t.shape)) do not match logits \(describe(shape: x.shape))")
    }
    let n = Float(max(x.count, 1))
    var total = 0.0
    for (xi, ti) in zip(x.scalars, t.scalars) {
        total += Double(max(xi, 0) - xi * ti) + Foundation.log1p(Foundation.exp(-Double(Swift.abs(xi))))
    }
    return record(Tensor(Float(total) / n), inputs: [x]) { upstream, _ in
        let probabilities = sigmoid(x.detached).scalars
        return [Tensor(validShape: x.shape, scalars: zip(probabilities, t.scalars).map { upstream.scalars[0] * ($0 - $1) / n })]
    }
}

/// Mean squared error `L = mean((ŷ − y)²)`, `dL/dŷ = 2(ŷ − y)/n`.
public func meanSquaredError(predictions: Tensor, targets: Tensor) throws -> Tensor {
    guard predictions.shape == targets.shape else {
        throw ConvNetError.shape(op: "meanSquaredError", message: "targets \(describe(shape: targets.shape)) do not match predictions \(describe(shape: predictions.shape))")
    }
    return try (predictions - targets.detached).squared().mean()
}

/// Row-major one-hot encoding of `labels` over `classes` columns.
package func oneHotScalars(_ labels: [Int], classes: Int) -> [Float] {
    var scalars = [Float](repeating: 0, count: labels.count * classes)
    for (row, label) in labels.enumerated() { scalars[row * classes + label] = 1 }
    return scalars
}

@inline(__always) func clipProbability(_ p: Float) -> Float {
    min(max(p, probabilityEpsilon), 1 - probabilityEpsilon)
}
