/// Reusable memory for kernels' temporary buffers (im2col columns, per-task partial sums).
///
/// A fresh multi-megabyte allocation is mapped from the operating system, which zeroes every page
/// on first touch: allocating the im2col buffer anew for each layer and step made the kernel's
/// page clearing the single largest cost of training LeNet-5. Buffers handed out here are kept
/// for reuse instead (the pool holds at most as many as were ever in use at once, typically two
/// per thread). Their contents are undefined: callers write before they read.
enum ScratchBuffers {
    private struct Buffer: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<Float>
        let capacity: Int
    }

    private static let free = Locked<[Buffer]>([])

    /// Calls `body` with a buffer of at least `count` floats, valid only during the call.
    static func withBuffer<Result>(count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> Result) rethrows -> Result {
        let buffer = take(count: count)
        defer { free.withLock { $0.append(buffer) } }
        return try body(buffer.pointer)
    }

    /// The smallest free buffer that is large enough; else the largest one grown to `count`.
    private static func take(count: Int) -> Buffer {
        let candidate = free.withLock { buffers -> Buffer? in
            let fitting = buffers.indices.filter { buffers[$0].capacity >= count }
            if let best = fitting.min(by: { buffers[$0].capacity < buffers[$1].capacity }) { return buffers.remove(at: best) }
            guard let largest = buffers.indices.max(by: { buffers[$0].capacity < buffers[$1].capacity }) else { return nil }
            return buffers.remove(at: largest)
        }
        if let candidate, candidate.capacity >= count { return candidate }
        candidate?.pointer.deallocate()
        let capacity = max(count, 16)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: capacity * MemoryLayout<Float>.stride, alignment: 64)
        return Buffer(pointer: raw.bindMemory(to: Float.self, capacity: capacity), capacity: capacity)
    }
}
