/// One of Winograd's minimal filtering algorithms F(m×m, 3×3) (Lavin and Gray, "Fast Algorithms
/// for Convolutional Neural Networks", 2016): an `m × m` block of one filter's output comes from the
/// `α × α` block of input under it (`α = m + 2`) with `α²` multiplications instead of `9m²`:
///
///     Y  = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A                      (forward)
///     dM = A dY Aᵀ,   dU = dM ⊙ V → dg = Gᵀ dU G,   dV = dM ⊙ U → dd = B dV Bᵀ     (backward)
///
/// Every 2-D transform is separable (`X ↦ T X Tᵀ`), so a tiling is six 1-D maps, each written
/// beside its adjoint (the backward pass's transpose). Each map reads `n` vectors at `source`,
/// `source + stride`, … and writes its `k` results to `target`, `target + stride`, ….
protocol WinogradTiling: SendableMetatype {
    /// `m`: output pixels per tile side.
    static var outputSide: Int { get }
    /// `Bᵀ` (α → α) and its adjoint `B`.
    static func inputTransform(_ source: UnsafePointer<WinogradVector>, _ target: UnsafeMutablePointer<WinogradVector>, stride: Int)
    static func inputAdjoint(_ source: UnsafePointer<WinogradVector>, _ target: UnsafeMutablePointer<WinogradVector>, stride: Int)
    /// `G` (3 → α) and its adjoint `Gᵀ` (α → 3).
    static func kernelTransform(_ source: UnsafePointer<WinogradVector>, _ target: UnsafeMutablePointer<WinogradVector>, stride: Int)
    static func kernelAdjoint(_ source: UnsafePointer<WinogradVector>, _ target: UnsafeMutablePointer<WinogradVector>, stride: Int)
    /// `Aᵀ` (α → m) and its adjoint `A` (m → α).
    static func outputTransform(_ source: UnsafePointer<WinogradVector>, _ target: UnsafeMutablePointer<WinogradVector>, stride: Int)
    static func outputAdjoint(_ source: UnsafePointer<WinogradVector>, _ target: UnsafeMutablePointer<WinogradVector>, stride: Int)
}

/// Eight channels at once: the transforms work on channel vectors of NHWC data.
typealias WinogradVector = SIMD8<Float>

extension WinogradTiling {
    /// `α = m + 2`: input pixels per tile side.
    static var inputSide: Int { outputSide + 2 }
}

/// F(2x2, 3x3), interpolating at 0, 1, −1 (and ∞): 16 multiplications per tile instead of 36, and
/// the smallest rounding error of the family.
///
///     Bᵀ = | 1  0 -1  0 |   G = |  1    0    0  |   Aᵀ = | 1  1  1  0 |
///          | 0  1  1  0 |       | 1/2  1/2  1/2 |        | 0  1 -1 -1 |
///          | 0 -1  1  0 |       | 1/2 -1/2  1/2 |
///          | 0  1  0 -1 |       |  0    0    1  |
enum WinogradF2x2: WinogradTiling {
    static var outputSide: Int { 2 }

    @inline(__always) static func inputTransform(_ s: UnsafePointer<WinogradVector>, _ t: UnsafeMutablePointer<WinogradVector>, stride n: Int) {
        let (a, b, c, d) = (s[0], s[n], s[2 * n], s[3 * n])
        (t[0], t[n], t[2 * n], t[3 * n]) = (a - c, b + c, c - b, b - d)
    }

    @inline(__always) static func inputAdjoint(_ s: UnsafePointer<WinogradVector>, _ t: UnsafeMutablePointer<WinogradVector>, stride n: Int) {
        let (a, b, c, d) = (s[0], s[n], s[2 * n], s[3 * n])
        (t[0], t[n], t[2 * n], t[3 * n]) = (a, b - c + d, b + c - a, -d)
    }

    @inline(__always) static func kernelTransform(_ s: UnsafePointer<WinogradVector>, _ t: UnsafeMutablePointer<WinogradVector>, stride n: Int) {
        let (a, b, c) = (s[0], s[n], s[2 * n])
        (t[0], t[n], t[2 * n], t[3 * n]) = (a, (a + b + c) * 0.5, (a - b + c) * 0.5, c)
    }

    @inline(__always) static func kernelAdjoint(_ s: UnsafePointer<WinogradVector>, _ t: UnsafeMutablePointer<WinogradVector>, stride n: Int) {
        let (a, b, c, d) = (s[0], s[n], s[2 * n], s[3 * n])
        (t[0], t[n], t[2 * n]) = (a + (b + c) * 0.5, (b - c) * 0.5, (b + c) * 0.5 + d)
    }

    @inline(__always) static func outputTransform(_ s: UnsafePointer<WinogradVector>, _ t: UnsafeMutablePointer<WinogradVector>, stride n: Int) {
        let (a, b, c, d) = (s[0], s[n], s[2 * n], s[3 * n])
        (t[0], t[n]) = (a + b + c, b - c - d)
    }

    @inline(__always) static func outputAdjoint(_ s: UnsafePointer<WinogradVector>, _ t: UnsafeMutablePointer<WinogradVector>, stride n: Int) {
        let (p, q) = (s[0], s[n])
        (t[0], t[n], t[2 * n], t[3 * n]) = (p, p + q, p - q, -q)
    }
}

/// F(4x4, 3x3), interpolating at 0, ±1, ±2 (and ∞): 36 multiplications per tile instead of 144,
/// 1.8x fewer than F(2x2, 3x3), and less data per output pixel (36/16 transformed values
/// instead of 16/4); its larger coefficients cost some accuracy (see the tests' tolerances).
///
///     Bᵀ = | 4  0 -5  0  1  0 |   G = |  1/4    0     0  |   Aᵀ = | 1  1  1  1  1  0 |
///          | 0 -4 -4  1  1  0 |       | -1/6  -1/6  -1/6 |        | 0  1 -1  2 -2  0 |
///          | 0  4 -4 -1  1  0 |       | -1/6   1/6  -1/6 |        | 0  1  1  4  4  0 |
///          | 0 -2 -1  2  1  0 |       | 1/24  1/12   1/6 |        | 0  1 -1  8 -8  1 |
///          | 0  2 -1 -2  1  0 |       | 1/24 -1/12   1/6 |
///          | 0  4  0 -5  0  1 |       |   0     0     1  |
enum WinogradF4x4: WinogradTiling {
    static var outputSide: Int { 4 }

    @inline(__always) static func inputTransform(_ s: UnsafePointer<WinogradVector>, _ t: UnsafeMutablePointer<WinogradVector>, stride n: Int) {
        let (d0, d1, d2, d3, d4, d5) = (s[0], s[n], s[2 * n], s[3 * n], s[4 * n], s[5 * n])
        let (p, q) = (d4 - 4 * d2, d3 - 4 * d1)          // rows 1 and 2: p ± q
        let (r, u) = (d4 - d2, 2 * (d3 - d1))            // rows 3 and 4: r ± u
        (t[0], t[n], t[2 * n]) = (4 * d0 - 5 * d2 + d4, p + q, p - q)
        (t[3 * n], t[4 * n], t[5 * n]) = (r + u, r - u, 4 * d1 - 5 * d3 + d5)
    }

    @inline(__always) static func inputAdjoint(_ s: UnsafePointer<WinogradVector>, _ t: UnsafeMutablePointer<WinogradVector>, stride n: Int) {
        let (u0, u1, u2, u3, u4, u5) = (s[0], s[n], s[2 * n], s[3 * n], s[4 * n], s[5 * n])
        (t[0], t[n], t[2 * n]) = (4 * u0, 4 * (u2 - u1) + 2 * (u4 - u3) + 4 * u5, -5 * u0 - 4 * (u1 + u2) - (u3 + u4))
        (t[3 * n], t[4 * n], t[5 * n]) = ((u1 - u2) + 2 * (u3 - u4) - 5 * u5, u0 + u1 + u2 + u3 + u4, u5)
    }

    @inline(__always) static func kernelTransform(_ s: UnsafePointer<WinogradVector>, _ t: UnsafeMutablePointer<WinogradVector>, stride n: Int) {
        let (a, b, c) = (s[0], s[n], s[2 * n])
        let (outer, middle) = (a + c, b)
        (t[0], t[n], t[2 * n]) = (a * 0.25, (outer + middle) * (-1.0 / 6), (outer - middle) * (-1.0 / 6))
        let (even, odd) = (a * (1.0 / 24) + c * (1.0 / 6), b * (1.0 / 12))
        (t[3 * n], t[4 * n], t[5 * n]) = (even + odd, even - odd, c)
    }

    @inline(__always) static func kernelAdjoint(_ s: UnsafePointer<WinogradVector>, _ t: UnsafeMutablePointer<WinogradVector>, stride n: Int) {
        let (u0, u1, u2, u3, u4, u5) = (s[0], s[n], s[2 * n], s[3 * n], s[4 * n], s[5 * n])
        let (sum12, difference12, sum34, difference34) = (u1 + u2, u2 - u1, u3 + u4, u3 - u4)
        (t[0], t[n], t[2 * n]) = (u0 * 0.25 - sum12 * (1.0 / 6) + sum34 * (1.0 / 24),
                                  difference12 * (1.0 / 6) + difference34 * (1.0 / 12),
                                  (sum34 - sum12) * (1.0 / 6) + u5)
    }

    @inline(__always) static func outputTransform(_ s: UnsafePointer<WinogradVector>, _ t: UnsafeMutablePointer<WinogradVector>, stride n: Int) {
        let (m0, m1, m2, m3, m4, m5) = (s[0], s[n], s[2 * n], s[3 * n], s[4 * n], s[5 * n])
        let (sum12, difference12, sum34, difference34) = (m1 + m2, m1 - m2, m3 + m4, m3 - m4)
        (t[0], t[n]) = (m0 + sum12 + sum34, difference12 + 2 * difference34)
        (t[2 * n], t[3 * n]) = (sum12 + 4 * sum34, difference12 + 8 * difference34 + m5)
    }

    @inline(__always) static func outputAdjoint(_ s: UnsafePointer<WinogradVector>, _ t: UnsafeMutablePointer<WinogradVector>, stride n: Int) {
        let (y0, y1, y2, y3) = (s[0], s[n], s[2 * n], s[3 * n])
        let (even1, odd1, even2, odd2) = (y0 + y2, y1 + y3, y0 + 4 * y2, 2 * y1 + 8 * y3)
        (t[0], t[n], t[2 * n]) = (y0, even1 + odd1, even1 - odd1)
        (t[3 * n], t[4 * n], t[5 * n]) = (even2 + odd2, even2 - odd2, y3)
    }
}
