import Foundation

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

    /// The metric a log key names (`accuracy`, `top_5_accuracy`); any other name throws, listing the known forms.
    public init(name: String) throws {
        if name == Metric.accuracy.name {
            self = .accuracy
            return
        }
        let pattern = Metric.topKAccuracy(0).name.split(separator: "0", omittingEmptySubsequences: false)
        if pattern.count == 2, name.hasPrefix(pattern[0]), name.hasSuffix(pattern[1]),
           let k = Int(name.dropFirst(pattern[0].count).dropLast(pattern[1].count)), k > 0 {
            self = .topKAccuracy(k)
            return
        }
        throw ConvNetError.argument("unknown metric '\(name)'; known: \(Metric.accuracy.name), \(Metric.topKAccuracy(0).name.replacingOccurrences(of: "0", with: "K"))")
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
                // One sigmoid output: class 1 when the probability passes 0.5 (the training loop
                // hands probabilities here even when the loss reads logits: `metricScores`).
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

/// Predicted class of each row of `(m, classes)` scores: `scores.argmax()` (first on ties), or, for
/// one sigmoid column `(m, 1)`, class 1 when the score passes 0.5.
public func predictedClasses(_ scores: Tensor) -> [Int] {
    guard (scores.shape.last ?? 1) > 1 else { return scores.scalars.map { $0 > 0.5 ? 1 : 0 } }
    return scores.argmax()
}

/// What `Model.evaluate` returns: the loss, then the compiled metrics in order, as Keras's
/// `model.evaluate` lists them (`model.metrics_names`). Read a value by name (`result["accuracy"]`),
/// the loss as `result.loss`, or iterate `(name, value)` pairs in that order.
public struct EvaluationResult: Sendable, Equatable, Sequence, CustomStringConvertible {
    /// `loss`, then the metric names (`accuracy`, `top_5_accuracy`, ...).
    public let names: [String]
    /// The value of each name, averaged over the samples.
    public let values: [Double]

    /// A result from `(name, value)` pairs; `loss` is moved to the front, the others keep their order.
    public init(_ pairs: [(String, Double)]) {
        let ordered = pairs.filter { $0.0 == "loss" } + pairs.filter { $0.0 != "loss" }
        names = ordered.map(\.0)
        values = ordered.map(\.1)
    }

    /// The value named `name` (`"loss"`, `"accuracy"`, ...), or `nil` when it was not computed.
    public subscript(name: String) -> Double? { names.firstIndex(of: name).map { values[$0] } }

    /// The mean loss over the samples.
    public var loss: Double { self["loss"] ?? .nan }

    /// The `(name, value)` pairs, loss first.
    public func makeIterator() -> IndexingIterator<[(name: String, value: Double)]> {
        zip(names, values).map { (name: $0, value: $1) }.makeIterator()
    }

    /// Keras's progress-line format: `loss: 0.3713 - accuracy: 0.8665`.
    public var description: String {
        zip(names, values).map { "\($0): \(String(format: "%.4f", $1))" }.joined(separator: " - ")
    }
}

/// Counts of (true class, predicted class) pairs, with per-class precision and recall.
public struct ConfusionMatrix: Sendable, Equatable {
    /// `counts[actual][predicted]`.
    public let counts: [[Int]]

    /// Counts the pairs; labels or predictions outside `0..<classes` are skipped.
    public init(labels: [Int], predictions: [Int], classes: Int) {
        var counts = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        for (label, prediction) in zip(labels, predictions) where (0..<classes).contains(label) && (0..<classes).contains(prediction) {
            counts[label][prediction] += 1
        }
        self.counts = counts
    }

    /// The number of counted samples.
    public var total: Int { counts.joined().reduce(0, +) }
    /// The fraction on the diagonal (correct predictions).
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
