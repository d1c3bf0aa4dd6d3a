/// What `fit` and `evaluate` report besides the loss.
public enum Metric: Sendable, Equatable, Hashable {
    /// The fraction of samples whose highest-scoring class is the label.
    case accuracy
    /// The fraction of samples whose label is among the `k` highest-scoring classes.
    case topKAccuracy(Int)

    /// The key in logs and history (`accuracy`, `top_5_accuracy`).
    public var name: String {
        switch self {
        case .accuracy: return "accuracy"
        case let .topKAccuracy(k): return "top_\(k)_accuracy"
        }
    }

    /// The number of correct samples in a batch of scores `(m, classes)`.
    func correctCount(scores: Tensor, labels: [Int]) -> Int {
        let classes = scores.shape.last ?? 1
        let k: Int
        switch self {
        case .accuracy: k = 1
        case let .topKAccuracy(value): k = value
        }
        var correct = 0
        for (row, label) in labels.enumerated() {
            let start = row * classes
            if classes == 1 {
                // One sigmoid output: class 1 when the score passes 0.5 (or 0 for logits, same sign).
                correct += (scores.scalars[start] > 0.5 ? 1 : 0) == label ? 1 : 0
                continue
            }
            let target = scores.scalars[start + label]
            var higher = 0
            for j in 0..<classes where scores.scalars[start + j] > target || (scores.scalars[start + j] == target && j < label) {
                higher += 1
            }
            if higher < k { correct += 1 }
        }
        return correct
    }
}

/// Predicted class (arg max, first on ties) of each row of `(m, classes)` scores.
public func predictedClasses(_ scores: Tensor) -> [Int] {
    let classes = scores.shape.last ?? 1
    guard classes > 1 else { return scores.scalars.map { $0 > 0.5 ? 1 : 0 } }
    return (0..<(scores.count / classes)).map { row in
        let slice = scores.scalars[row * classes..<(row + 1) * classes]
        return (slice.indices.max { slice[$0] < slice[$1] || (slice[$0] == slice[$1] && $0 > $1) } ?? row * classes) - row * classes
    }
}

/// Counts of (true class, predicted class) pairs, with per-class precision and recall.
public struct ConfusionMatrix: Sendable, Equatable {
    /// `counts[actual][predicted]`.
    public let counts: [[Int]]

    public init(labels: [Int], predictions: [Int], classes: Int) {
        var counts = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        for (label, prediction) in zip(labels, predictions) where (0..<classes).contains(label) && (0..<classes).contains(prediction) {
            counts[label][prediction] += 1
        }
        self.counts = counts
    }

    public var total: Int { counts.joined().reduce(0, +) }
    public var accuracy: Double { Double(counts.indices.reduce(0) { $0 + counts[$1][$1] }) / Double(max(total, 1)) }
    /// Of the samples of class `c`, the fraction predicted as `c` (also the per-class accuracy).
    public var recall: [Double] { counts.indices.map { Double(counts[$0][$0]) / Double(max(counts[$0].reduce(0, +), 1)) } }
    /// Of the samples predicted as `c`, the fraction that are `c`.
    public var precision: [Double] {
        counts.indices.map { c in Double(counts[c][c]) / Double(max(counts.indices.reduce(0) { $0 + counts[$1][c] }, 1)) }
    }

    /// A text table: rows are true classes, columns predictions.
    public func table(classNames: [String]) -> String {
        let names = counts.indices.map { $0 < classNames.count ? classNames[$0] : "\($0)" }
        let labelWidth = max(names.map(\.count).max() ?? 0, 4)
        let cellWidth = max(String(counts.joined().max() ?? 0).count, 3) + 1
        func pad(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        var lines = [pad("", labelWidth) + " " + counts.indices.map { pad("\($0)", cellWidth) }.joined()]
        for (c, row) in counts.enumerated() {
            lines.append(pad(names[c], labelWidth) + " " + row.map { pad("\($0)", cellWidth) }.joined())
        }
        return lines.joined(separator: "\n")
    }
}
