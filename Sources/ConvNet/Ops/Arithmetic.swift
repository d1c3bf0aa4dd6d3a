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

    public static func + (lhs: Tensor, rhs: Tensor) throws -> Tensor { try lhs.adding(rhs) }
    public static func - (lhs: Tensor, rhs: Tensor) throws -> Tensor { try lhs.subtracting(rhs) }
    public static func * (lhs: Tensor, rhs: Tensor) throws -> Tensor { try lhs.multiplying(rhs) }
    public static func / (lhs: Tensor, rhs: Tensor) throws -> Tensor { try lhs.dividing(by: rhs) }
    public static func + (lhs: Tensor, rhs: Float) -> Tensor { pointwise(lhs) { $0 + rhs } derivative: { _, _ in 1 } }
    public static func - (lhs: Tensor, rhs: Float) -> Tensor { pointwise(lhs) { $0 - rhs } derivative: { _, _ in 1 } }
    public static func * (lhs: Tensor, rhs: Float) -> Tensor { pointwise(lhs) { $0 * rhs } derivative: { _, _ in rhs } }
    public static func / (lhs: Tensor, rhs: Float) -> Tensor { pointwise(lhs) { $0 / rhs } derivative: { _, _ in 1 / rhs } }
    public static func * (lhs: Float, rhs: Tensor) -> Tensor { rhs * lhs }
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
        let na = Swift.max(lhs.count, 1), nb = Swift.max(rhs.count, 1)
        var out = [Float](repeating: 0, count: n)
        if n > 0 {
            for i in 0..<n { out[i] = f(lhs.scalars[i % na], rhs.scalars[i % nb]) }
        }
        return record(Tensor(validShape: outShape, scalars: out), inputs: [lhs, rhs]) { upstream, needed in
            var da = [Float](repeating: 0, count: needed[0] ? lhs.count : 0)
            var db = [Float](repeating: 0, count: needed[1] ? rhs.count : 0)
            for i in 0..<n {
                let a = lhs.scalars[i % na], b = rhs.scalars[i % nb], g = upstream.scalars[i]
                if needed[0] { da[i % na] += lhsGradient(g, a, b) }
                if needed[1] { db[i % nb] += rhsGradient(g, a, b) }
            }
            return [needed[0] ? Tensor(validShape: lhs.shape, scalars: da) : nil,
                    needed[1] ? Tensor(validShape: rhs.shape, scalars: db) : nil]
        }
    }
}

import Foundation
