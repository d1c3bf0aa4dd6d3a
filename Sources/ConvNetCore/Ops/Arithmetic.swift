/// Element-wise arithmetic and reductions, differentiable, so a loss can be written as ordinary code.
///
/// Broadcasting is the trailing-axes rule restricted to what CNN code needs: the two shapes are
/// equal, or one is a suffix of the other (a scalar `[]`, a bias `[c]` against `(m, h, w, c)`, ...).
/// The gradient of the broadcast operand sums over the repeated leading axes.
extension Tensor {
    /// `self + other`, broadcasting as described above.
    public func adding(_ other: Tensor) throws -> Tensor {
        try elementwise(other, op: "add", { $0 + $1 },
                        lhsGradient: { g, _, _ in g }, rhsGradient: { g, _, _ in g })
    }

    /// `self - other`.
    public func subtracting(_ other: Tensor) throws -> Tensor {
        try elementwise(other, op: "subtract", { $0 - $1 },
                        lhsGradient: { g, _, _ in g }, rhsGradient: { g, _, _ in -g })
    }

    /// `self * other`, element by element.
    public func multiplying(_ other: Tensor) throws -> Tensor {
        try elementwise(other, op: "multiply", { $0 * $1 },
                        lhsGradient: { g, _, b in g * b }, rhsGradient: { g, a, _ in g * a })
    }

    /// `self / other`, element by element.
    public func dividing(by other: Tensor) throws -> Tensor {
        try elementwise(other, op: "divide", { $0 / $1 },
                        lhsGradient: { g, _, b in g / b }, rhsGradient: { g, a, b in -g * a / (b * b) })
    }

    /// Element-wise sum, broadcasting a shape that is a suffix of the other (a bias `[c]` against `(m, h, w, c)`); throws otherwise.
    public static func + (lhs: Tensor, rhs: Tensor) throws -> Tensor { try lhs.adding(rhs) }
    /// Element-wise difference, broadcasting a shape that is a suffix of the other (a bias `[c]` against `(m, h, w, c)`); throws otherwise.
    public static func - (lhs: Tensor, rhs: Tensor) throws -> Tensor { try lhs.subtracting(rhs) }
    /// Element-wise (Hadamard) product, broadcasting a shape that is a suffix of the other (a bias `[c]` against `(m, h, w, c)`); throws otherwise.
    public static func * (lhs: Tensor, rhs: Tensor) throws -> Tensor { try lhs.multiplying(rhs) }
    /// Element-wise quotient, broadcasting a shape that is a suffix of the other (a bias `[c]` against `(m, h, w, c)`); throws otherwise.
    public static func / (lhs: Tensor, rhs: Tensor) throws -> Tensor { try lhs.dividing(by: rhs) }
    /// `x + c` for every element.
    public static func + (lhs: Tensor, rhs: Float) -> Tensor { pointwise(lhs) { $0 + rhs } derivative: { _, _ in 1 } }
    /// `x − c` for every element.
    public static func - (lhs: Tensor, rhs: Float) -> Tensor { pointwise(lhs) { $0 - rhs } derivative: { _, _ in 1 } }
    /// `c·x` for every element.
    public static func * (lhs: Tensor, rhs: Float) -> Tensor { pointwise(lhs) { $0 * rhs } derivative: { _, _ in rhs } }
    /// `x / c` for every element.
    public static func / (lhs: Tensor, rhs: Float) -> Tensor { pointwise(lhs) { $0 / rhs } derivative: { _, _ in 1 / rhs } }
    /// `c·x` for every element.
    public static func * (lhs: Float, rhs: Tensor) -> Tensor { rhs * lhs }
    /// `−x` for every element.
    public static prefix func - (operand: Tensor) -> Tensor { operand * -1 }

    /// `x²`, element-wise.
    public func squared() -> Tensor { pointwise(self) { $0 * $0 } derivative: { x, _ in 2 * x } }
    /// `eˣ`, element-wise.
    public func exp() -> Tensor { pointwise(self) { Foundation.exp($0) } derivative: { _, y in y } }
    /// Natural logarithm, element-wise.
    public func log() -> Tensor { pointwise(self) { Foundation.log($0) } derivative: { x, _ in 1 / x } }
    /// `|x|`, element-wise (gradient `sign(x)`, 0 at 0).
    public func abs() -> Tensor {
        pointwise(self) { Swift.abs($0) } derivative: { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) }
    }

    /// The sum of all elements, as a scalar tensor.
    public func sum() -> Tensor {
        let total = scalars.reduce(into: Double(0)) { $0 += Double($1) }
        return record(Tensor(Float(total)), inputs: [self]) { [shape] upstream, _ in
            [Tensor(shape: shape, repeating: upstream.scalars[0])]
        }
    }

    /// The mean of all elements, as a scalar tensor.
    public func mean() -> Tensor {
        sum() / Float(Swift.max(count, 1))
    }

    /// The shared body of the binary ops: broadcasting, forward, and per-operand gradients
    /// `∂L/∂a = Σ g · ∂f/∂a` (summed over broadcast copies), likewise for `b`.
    ///
    /// The smaller operand (by element count) repeats over the larger one: with `block` its length,
    /// output element `start + j` combines `a[start + j]` or `a[j]` with `b[start + j]` or `b[j]`.
    @inline(__always)
    private func elementwise(_ other: Tensor, op: String, _ f: (Float, Float) -> Float,
                             lhsGradient: @escaping @Sendable (Float, Float, Float) -> Float,
                             rhsGradient: @escaping @Sendable (Float, Float, Float) -> Float) throws -> Tensor {
        let lhs = self, rhs = other
        let outShape: [Int]
        if lhs.shape == rhs.shape || lhs.shape.count >= rhs.shape.count && Array(lhs.shape.suffix(rhs.rank)) == rhs.shape {
            outShape = lhs.shape
        } else if Array(rhs.shape.suffix(lhs.rank)) == lhs.shape {
            outShape = rhs.shape
        } else {
            throw ConvNetError.shape(op: op, message: "cannot broadcast \(describe(shape: lhs.shape)) with \(describe(shape: rhs.shape))")
        }
        let n = outShape.reduce(1, *)
        let (na, nb) = (lhs.count, rhs.count)
        let block = Swift.max(Swift.min(na, nb), 1)
        /// Calls `body(output index, index into a, index into b)` for every output element.
        @Sendable @inline(__always) func forEachElement(_ body: (Int, Int, Int) -> Void) {
            for start in stride(from: 0, to: n, by: block) {
                let (aStart, bStart) = (na == n ? start : 0, nb == n ? start : 0)
                for j in 0..<block { body(start + j, aStart + j, bStart + j) }
            }
        }
        let out = [Float](unsafeUninitializedCapacity: n) { out, initialized in
            withScalarBuffers(lhs, rhs) { a, b in
                forEachElement { i, ia, ib in out[i] = f(a[ia], b[ib]) }
            }
            initialized = n
        }
        return record(Tensor(validShape: outShape, scalars: out), inputs: [lhs, rhs]) { upstream, needed in
            var da = [Float](repeating: 0, count: needed[0] ? na : 0)
            var db = [Float](repeating: 0, count: needed[1] ? nb : 0)
            withScalarBuffers(lhs, rhs, upstream) { a, b, g in
                if needed[0] {
                    da.withUnsafeMutableBufferPointer { da in
                        forEachElement { i, ia, ib in da[ia] += lhsGradient(g[i], a[ia], b[ib]) }
                    }
                }
                if needed[1] {
                    db.withUnsafeMutableBufferPointer { db in
                        forEachElement { i, ia, ib in db[ib] += rhsGradient(g[i], a[ia], b[ib]) }
                    }
                }
            }
            return [needed[0] ? Tensor(validShape: lhs.shape, scalars: da) : nil,
                    needed[1] ? Tensor(validShape: rhs.shape, scalars: db) : nil]
        }
    }
}

import Foundation
