/// A raw pointer handed to the worker threads of `Parallel.forEachChunk`.
///
/// Unsafe pointers are not `Sendable`; kernels wrap them to state that the threads touch disjoint
/// ranges (each chunk writes its own rows), which is the invariant every parallel kernel keeps.
struct SendableMutablePointer<Element>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Element>
    init(_ pointer: UnsafeMutablePointer<Element>) { self.pointer = pointer }
}

/// Read-only counterpart of `SendableMutablePointer`.
struct SendablePointer<Element>: @unchecked Sendable {
    let pointer: UnsafePointer<Element>
    init(_ pointer: UnsafePointer<Element>) { self.pointer = pointer }
}
