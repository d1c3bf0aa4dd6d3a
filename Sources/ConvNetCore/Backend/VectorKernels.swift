/// Element-wise loops that must not branch on the data, eight floats at a time through SIMD vectors.
///
/// Written as scalar loops (`y > 0 ? dy : 0`, `max(a, b)` with loaded operands), the compiler turns
/// the selects into branches on each element's sign or order, which are random and mispredict half
/// the time; vector selects stay selects. (The standard library's `pointwiseMax` goes lane by lane,
/// so the maxima are written as selects too.) A scalar tail handles the last `count % 8` elements.
enum VectorKernels {
    private typealias Vector = SIMD8<Float>

    /// ReLU: `y[i] = max(x[i], 0)`; `x` and `y` may be the same buffer.
    static func relu(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        let vectorEnd = count / 8 * 8
        for i in stride(from: 0, to: vectorEnd, by: 8) {
            store(ReLUActivation.apply(load(x + i)), to: y + i)
        }
        for i in vectorEnd..<count { y[i] = max(x[i], 0) }
    }

    /// ReLU's backward pass: `dx[i] = y[i] > 0 ? dy[i] : 0`, from the forward output `y`; `dx` may be `dy`.
    static func reluGradient(_ dy: UnsafePointer<Float>, output y: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>,
                             count: Int) {
        let vectorEnd = count / 8 * 8
        for i in stride(from: 0, to: vectorEnd, by: 8) {
            store(ReLUActivation.gradient(load(dy + i), at: load(y + i)), to: dx + i)
        }
        for i in vectorEnd..<count { dx[i] = y[i] > 0 ? dy[i] : 0 }
    }

    /// `a[i] = max(a[i], b[i])` (as `Swift.max`: `b` when `b ≥ a`).
    static func maximum(_ a: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, count: Int) {
        let vectorEnd = count / 8 * 8
        for i in stride(from: 0, to: vectorEnd, by: 8) {
            let (x, y) = (load(a + i), load(b + i))
            store(x.replacing(with: y, where: y .>= x), to: a + i)
        }
        for i in vectorEnd..<count { a[i] = max(a[i], b[i]) }
    }

    @inline(__always) private static func load(_ pointer: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(pointer).loadUnaligned(as: Vector.self)
    }

    @inline(__always) private static func store(_ vector: Vector, to pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: vector, as: Vector.self)
    }
}
