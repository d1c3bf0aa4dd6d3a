/// ReLU's forward and backward loops, eight floats at a time through SIMD vectors.
///
/// Written as scalar loops (`y > 0 ? dy : 0`), the compiler turns the select into a branch on the
/// sign of each activation, which is random and mispredicts half the time; vector selects stay
/// selects. The scalar tail handles the last `count % 8` elements.
enum ReLUKernels {
    private typealias Vector = SIMD8<Float>

    /// `y[i] = max(x[i], 0)`; `x` and `y` may be the same buffer. (The standard library's
    /// `pointwiseMax` goes lane by lane; a vector select does not.)
    static func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        let vectors = count / Vector.scalarCount
        for v in 0..<vectors {
            let offset = v * Vector.scalarCount
            let vector = load(x + offset)
            store(vector.replacing(with: 0, where: vector .< 0), to: y + offset)
        }
        for i in vectors * Vector.scalarCount..<count { y[i] = max(x[i], 0) }
    }

    /// `dx[i] = y[i] > 0 ? dy[i] : 0`, from the forward pass's output `y`; `dx` may be `dy`.
    static func backward(_ dy: UnsafePointer<Float>, output y: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>,
                         count: Int) {
        let vectors = count / Vector.scalarCount
        for v in 0..<vectors {
            let offset = v * Vector.scalarCount
            store(load(dy + offset).replacing(with: 0, where: .!(load(y + offset) .> 0)), to: dx + offset)
        }
        for i in vectors * Vector.scalarCount..<count { dx[i] = y[i] > 0 ? dy[i] : 0 }
    }

    @inline(__always) private static func load(_ pointer: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(pointer).loadUnaligned(as: Vector.self)
    }

    @inline(__always) private static func store(_ vector: Vector, to pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: vector, as: Vector.self)
    }
}
