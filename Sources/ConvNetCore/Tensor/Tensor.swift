/// An n-dimensional array of `Float`, stored row-major (the last axis varies fastest).
///
/// Image batches use NHWC, `(m, n_H, n_W, n_C)` in the lecture notes' notation, as Keras does; conv kernels
/// are `(k_h, k_w, c_in, c_out)` and dense kernels `(in, out)`, so Keras weights load unchanged.
///
/// `Tensor` is a value type: its scalars live in a Swift `Array`, which copies on write. A tensor
/// that is being watched by a `GradientTape` also carries its position on that tape, so ops on it
/// are recorded for reverse-mode differentiation; other tensors carry nothing and cost nothing.
public struct Tensor: Sendable, CustomStringConvertible {
    /// The extent of each axis. A scalar has shape `[]`.
    public let shape: [Int]
    /// The elements in row-major order; `scalars.count == shape.reduce(1, *)`.
    ///
    /// Read-only outside ConvNet's own modules: a tensor recorded on a `GradientTape` must not change
    /// behind the tape's back. To change elements, use `setScalars(_:)` or
    /// `withUnsafeMutableScalars(_:)`, which detach the tensor from any tape first.
    public package(set) var scalars: [Float]
    /// Set when the tensor was produced by, or watched on, a gradient tape.
    var tapeEntry: TapeEntry?

    /// Creates a tensor from its shape and row-major scalars.
    /// - Throws: `ConvNetError.shape` when the scalar count does not match the shape.
    public init(shape: [Int], scalars: [Float]) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw ConvNetError.shape(op: "Tensor", message: "negative dimension in shape \(describe(shape: shape))")
        }
        let count = shape.reduce(1, *)
        guard count == scalars.count else {
            throw ConvNetError.shape(op: "Tensor",
                                     message: "shape \(describe(shape: shape)) needs \(count) scalars, got \(scalars.count)")
        }
        self.shape = shape
        self.scalars = scalars
    }

    /// Internal initialiser for kernels that construct scalars of the right count by design.
    package init(validShape shape: [Int], scalars: [Float]) {
        assert(shape.reduce(1, *) == scalars.count)
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of the given shape with every element equal to `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        self.shape = shape
        self.scalars = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// A rank-0 tensor holding one value.
    public init(_ value: Float) {
        self.init(validShape: [], scalars: [value])
    }

    /// A rank-1 tensor.
    public init(_ values: [Float]) {
        self.init(validShape: [values.count], scalars: values)
    }

    /// A rank-2 tensor from rows of equal length.
    public init(_ rows: [[Float]]) throws {
        let width = rows.first?.count ?? 0
        guard rows.allSatisfy({ $0.count == width }) else {
            throw ConvNetError.shape(op: "Tensor", message: "rows have different lengths")
        }
        self.init(validShape: [rows.count, width], scalars: rows.flatMap { $0 })
    }

    /// The number of axes (4 for an NHWC image batch).
    public var rank: Int { shape.count }
    /// The number of elements, `shape.reduce(1, *)`.
    public var count: Int { scalars.count }

    /// The single value of a tensor with one element.
    public var scalar: Float? { scalars.count == 1 ? scalars[0] : nil }

    /// The same scalars under a new shape. One dimension may be `-1` and is then inferred.
    public func reshaped(to newShape: [Int]) throws -> Tensor {
        let resolved = try resolve(shape: newShape)
        return record(Tensor(validShape: resolved, scalars: scalars), inputs: [self]) { [shape] upstream, _ in
            [Tensor(validShape: shape, scalars: upstream.scalars)]
        }
    }

    func resolve(shape newShape: [Int]) throws -> [Int] {
        let unknown = newShape.filter { $0 == -1 }.count
        let known = newShape.filter { $0 != -1 }.reduce(1, *)
        guard unknown <= 1, newShape.allSatisfy({ $0 >= -1 }) else {
            throw ConvNetError.shape(op: "reshape", message: "invalid target shape \(describe(shape: newShape))")
        }
        var resolved = newShape
        if unknown == 1, let index = newShape.firstIndex(of: -1) {
            guard known > 0, count % known == 0 else {
                throw ConvNetError.shape(op: "reshape",
                                         message: "cannot reshape \(describe(shape: shape)) to \(describe(shape: newShape))")
            }
            resolved[index] = count / known
        }
        guard resolved.reduce(1, *) == count else {
            throw ConvNetError.shape(op: "reshape",
                                     message: "cannot reshape \(describe(shape: shape)) (\(count) elements) to \(describe(shape: newShape))")
        }
        return resolved
    }

    /// Replaces the elements, keeping the shape; the tensor becomes a new constant, detached from
    /// any gradient tape (ops recorded before keep the old values).
    /// - Throws: `ConvNetError.shape` when `values` does not have `count` elements.
    public mutating func setScalars(_ values: [Float]) throws {
        guard values.count == count else {
            throw ConvNetError.shape(op: "Tensor.setScalars", message: "shape \(describe(shape: shape)) needs \(count) scalars, got \(values.count)")
        }
        tapeEntry = nil
        scalars = values
    }

    /// Changes the elements in place through a buffer of exactly `count` elements; the tensor is
    /// first detached from any gradient tape (ops recorded before see the old values, and the tape
    /// does not differentiate through the change).
    public mutating func withUnsafeMutableScalars<Result>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> Result) rethrows -> Result {
        tapeEntry = nil
        return try scalars.withUnsafeMutableBufferPointer { try body($0) }
    }

    /// The tensor without its tape entry: a constant as far as differentiation is concerned.
    public var detached: Tensor {
        var copy = self
        copy.tapeEntry = nil
        return copy
    }

    /// A one-line, human-readable form.
    public var description: String {
        "Tensor\(describe(shape: shape)) " + (count <= 16 ? "\(scalars)" : "[\(scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")), ...]")
    }
}

extension Tensor: Equatable {
    /// Equal shapes and equal scalars; tape membership is ignored.
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        lhs.shape == rhs.shape && lhs.scalars == rhs.scalars
    }
}

extension Tensor {
    /// Throws unless the tensor has the given rank; `op` and `what` name the offender in the message.
    package func expectRank(_ expected: Int, op: String, _ what: String = "input") throws {
        guard rank == expected else {
            throw ConvNetError.shape(op: op, message: "expected a rank-\(expected) \(what), got shape \(describe(shape: shape))")
        }
    }

    /// Throws when any dimension is zero.
    package func expectNonEmpty(op: String, _ what: String = "input") throws {
        guard !shape.contains(0) else {
            throw ConvNetError.shape(op: op, message: "\(what) has a zero-sized dimension: \(describe(shape: shape))")
        }
    }
}

/// Typed read access to tensors' elements for kernels: one closure for up to three tensors, in
/// place of one nested closure per tensor. The buffers are valid only during `body`.
extension Tensor {
    /// The elements, row-major, as one buffer.
    package func withScalarBuffer<Result>(_ body: (UnsafeBufferPointer<Float>) throws -> Result) rethrows -> Result {
        try scalars.withUnsafeBufferPointer(body)
    }
}

/// The elements of `a` and `b` at once.
package func withScalarBuffers<Result>(_ a: Tensor, _ b: Tensor,
                                       _ body: (UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>) throws -> Result) rethrows -> Result {
    try a.withScalarBuffer { a in try b.withScalarBuffer { b in try body(a, b) } }
}

/// The elements of `a`, `b` and `c` at once.
package func withScalarBuffers<Result>(_ a: Tensor, _ b: Tensor, _ c: Tensor,
                                       _ body: (UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>) throws -> Result)
    rethrows -> Result {
    try withScalarBuffers(a, b) { a, b in try c.withScalarBuffer { c in try body(a, b, c) } }
}
