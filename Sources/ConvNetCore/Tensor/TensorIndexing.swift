extension Tensor {
    /// The samples in `range` along the first (batch) axis, as NumPy's `x[:100]`: `x[0..<100]`,
    /// `x[10...]`, `x[..<5]`. A tensor `(m, ...)` gives `(range.count, ...)`; gradients flow back to
    /// the selected rows.
    ///
    /// Traps, as an array index does, when the tensor has no axis or the range leaves `0..<m`.
    public subscript<R: RangeExpression>(range: R) -> Tensor where R.Bound == Int {
        precondition(rank >= 1, "Tensor slice: a scalar tensor has no batch axis to slice")
        let m = shape[0]
        let lower = range.relative(to: 0..<Int.max).lowerBound
        precondition((0...m).contains(lower), "Tensor slice: range starts at \(lower), outside 0...\(m) for shape \(describe(shape: shape))")
        let rows = range.relative(to: 0..<m)
        precondition(rows.upperBound <= m, "Tensor slice: range \(rows) ends past the \(m) samples of shape \(describe(shape: shape))")
        let sampleSize = shape.dropFirst().reduce(1, *)
        let span = rows.lowerBound * sampleSize..<rows.upperBound * sampleSize
        let slice = Tensor(validShape: [rows.count] + shape.dropFirst(), scalars: Array(scalars[span]))
        return record(slice, inputs: [self]) { [shape] upstream, _ in
            var gradient = [Float](repeating: 0, count: shape.reduce(1, *))
            gradient.replaceSubrange(span, with: upstream.scalars)
            return [Tensor(validShape: shape, scalars: gradient)]
        }
    }

    /// The index of the largest element of each row along the last axis, first on ties, as NumPy's
    /// `np.argmax(x, axis=-1)`: for scores `(m, classes)`, each sample's predicted class (`m` indices).
    /// A rank-1 tensor gives one index, a scalar `[0]`.
    public func argmax() -> [Int] {
        let width = max(shape.last ?? 1, 1)
        return stride(from: 0, to: count, by: width).map { start in
            var best = start
            for index in start..<start + width where scalars[index] > scalars[best] { best = index }
            return best - start
        }
    }
}
