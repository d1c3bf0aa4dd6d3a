/// A raw pointer handed to the worker threads of `Parallel.forEachChunk`.
///
/// Unsafe pointers are not `Sendable`; kernels wrap them to state that the threads touch disjoint
/// ranges (each chunk writes its own rows), which is the invariant every parallel kernel keeps.
package struct SendableMutablePointer<Element>: @unchecked Sendable {
    package let pointer: UnsafeMutablePointer<Element>
    package init(_ pointer: UnsafeMutablePointer<Element>) { self.pointer = pointer }
}

/// Read-only counterpart of `SendableMutablePointer`.
package struct SendablePointer<Element>: @unchecked Sendable {
    package let pointer: UnsafePointer<Element>
    package init(_ pointer: UnsafePointer<Element>) { self.pointer = pointer }
}

/// Calls `body` with the base addresses of `arrays` (each non-empty), in order, ready to hand to
/// `Parallel`'s threads; they are valid during the call.
func withSendablePointers<Result>(_ arrays: [[Float]], _ body: ([SendablePointer<Float>]) -> Result) -> Result {
    func nest(_ index: Int, _ pointers: [SendablePointer<Float>]) -> Result {
        guard index < arrays.count else { return body(pointers) }
        return arrays[index].withUnsafeBufferPointer { nest(index + 1, pointers + [SendablePointer($0.baseAddress!)]) }
    }
    return nest(0, [])
}
