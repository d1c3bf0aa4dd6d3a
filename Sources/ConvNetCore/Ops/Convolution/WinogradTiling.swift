import CKernels

/// One of Winograd's minimal filtering algorithms F(m×m, r×r) (Lavin and Gray, "Fast Algorithms
/// for Convolutional Neural Networks", 2016): an `m × m` block of one filter's output comes from the
/// `α × α` block of input under it (`α = m + r − 1`) with `α²` multiplications instead of `r²m²`:
///
///     Y  = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A                      (forward)
///     dM = A dY Aᵀ,   dU = dM ⊙ V → dg = Gᵀ dU G,   dV = dM ⊙ U → dd = B dV Bᵀ     (backward)
///
/// Every 2-D transform is separable (`X ↦ T X Tᵀ`), so a tiling is six 1-D maps, each written
/// beside its adjoint (the backward pass's transpose). Each map reads `n` vectors at `source`,
/// `source + stride`, … and writes its `k` results to `target`, `target + stride`, ….
/// `scripts/winograd-matrices.py` derives the matrices of any F(m, r) from its interpolation points
/// and checks them exactly.
protocol WinogradTiling: SendableMetatype {
    /// `m`: output pixels per tile side.
    static var outputSide: Int { get }
    /// `r`: the kernel's side.
    static var kernelSide: Int { get }
    /// `Bᵀ` (α → α) and its adjoint `B`.
    static func inputTransform(_ source: UnsafePointer<WinogradVector>, _ target: UnsafeMutablePointer<WinogradVector>, stride: Int)
    static func inputAdjoint(_ source: UnsafePointer<WinogradVector>, _ target: UnsafeMutablePointer<WinogradVector>, stride: Int)
    /// `G` (r → α) and its adjoint `Gᵀ` (α → r).
    static func kernelTransform(_ source: UnsafePointer<WinogradVector>, _ target: UnsafeMutablePointer<WinogradVector>, stride: Int)
    static func kernelAdjoint(_ source: UnsafePointer<WinogradVector>, _ target: UnsafeMutablePointer<WinogradVector>, stride: Int)
    /// `Aᵀ` (α → m) and its adjoint `A` (m → α).
    static func outputTransform(_ source: UnsafePointer<WinogradVector>, _ target: UnsafeMutablePointer<WinogradVector>, stride: Int)
    static func outputAdjoint(_ source: UnsafePointer<WinogradVector>, _ target: UnsafeMutablePointer<WinogradVector>, stride: Int)
    /// The tiling's transforms compiled in CKernels, when there are any: `Winograd` then calls
    /// them instead of its loops over these maps (the same bits, faster).
    static var compiled: CompiledWinogradTransforms? { get }
}

/// A tiling's transforms over a group of tiles as C loops, with `Winograd`'s data layout
/// (`CKernels.h`): input (`V = Bᵀ d B`), output (`Y = Aᵀ M A` + bias, ReLU, or its 2x2 max pools
/// and their winners), upstream gradient (`dM = A dY Aᵀ`, ReLU mask or pooled gradient routed to
/// the winners, bias gradient) and input gradient (`dd = B dV Bᵀ`, added).
struct CompiledWinogradTransforms {
    typealias Shape = UnsafePointer<convnet_convolution_shape>
    typealias Input = @convention(c) (UnsafePointer<Float>?, Shape?, Int, Int32, UnsafeMutablePointer<Float>?) -> Void
    typealias Output = @convention(c) (UnsafePointer<Float>?, UnsafePointer<Float>?, Shape?, Int, Int32, Int32,
                                       UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?) -> Void
    typealias Upstream = @convention(c) (UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, Shape?, Int, Int32,
                                         UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?) -> Void
    typealias InputGradient = @convention(c) (UnsafePointer<Float>?, Shape?, Int, Int32, UnsafeMutablePointer<Float>?) -> Void
    let input: Input
    let output: Output
    let upstream: Upstream
    let inputGradient: InputGradient
}

extension WinogradTiling {
    static var compiled: CompiledWinogradTransforms? { nil }
}

/// Eight channels at once: the transforms work on channel vectors of NHWC data.
typealias WinogradVector = SIMD8<Float>

extension WinogradTiling {
    /// `α = m + r − 1`: input pixels per tile side.
    static var inputSide: Int { outputSide + kernelSide - 1 }
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
    static var kernelSide: Int { 3 }

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
///
/// The maps are shared (`WinogradF4x4Maps`) by the tiling `Winograd` runs, whose transforms are C
/// loops, and `WinogradF4x4SwiftMaps`, which runs them through the Swift loops: the oracle the C
/// must equal bit for bit (`ConvolutionWinograd.forwardThroughSwiftMaps`, for the tests).
enum WinogradF4x4: WinogradF4x4Maps {
    /// `convnet_winograd4x4_input`, `_output`, `_upstream` and `_input_gradient`: the maps below,
    /// vectors in registers (and 256 bits wide with AVX2) instead of two SSE halves through the
    /// stack; ResNet-20's inference spent 45% of its time in the Swift loops.
    static var compiled: CompiledWinogradTransforms? {
        CompiledWinogradTransforms(input: convnet_winograd4x4_input, output: convnet_winograd4x4_output,
                                   upstream: convnet_winograd4x4_upstream, inputGradient: convnet_winograd4x4_input_gradient)
    }
}

/// F(4x4, 3x3) through the Swift loops (`compiled` is nil).
enum WinogradF4x4SwiftMaps: WinogradF4x4Maps {}

/// F(4x4, 3x3)'s maps.
protocol WinogradF4x4Maps: WinogradTiling {}

extension WinogradF4x4Maps {
    static var outputSide: Int { 4 }
    static var kernelSide: Int { 3 }

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

/// F(2x2, 7x7), interpolating at 0, ±1, ±2, ±1/2 (and ∞), the points Barabasz et al. found most
/// accurate for α = 8 ("Error Analysis and Improving the Accuracy of Winograd Convolution for Deep
/// Neural Networks", 2020): 64 multiplications per tile instead of 196, 3.1x fewer, for the 7x7
/// layers (conv4x7). Its coefficients (up to 21/4, and 1/90) cost accuracy: the tests' tolerances
/// say how much. Written out by `scripts/winograd-matrices.py 2 7 0 1 -1 2 -2 1/2 -1/2` (`cP_Q`
/// is the coefficient P/Q; opposite points share sums and differences):
///
///     Bᵀ =
///       |      1      0  -21/4      0   21/4      0     -1      0 |
///       |      0     -1     -1   17/4   17/4     -1     -1      0 |
///       |      0      1     -1  -17/4   17/4      1     -1      0 |
///       |      0    1/2    1/4   -5/2   -5/4      2      1      0 |
///       |      0   -1/2    1/4    5/2   -5/4     -2      1      0 |
///       |      0      2      4   -5/2     -5    1/2      1      0 |
///       |      0     -2      4    5/2     -5   -1/2      1      0 |
///       |      0     -1      0   21/4      0  -21/4      0      1 |
///     G =
///       |      1      0      0      0      0      0      0 |
///       |    2/9    2/9    2/9    2/9    2/9    2/9    2/9 |
///       |    2/9   -2/9    2/9   -2/9    2/9   -2/9    2/9 |
///       |   1/90   1/45   2/45   4/45   8/45  16/45  32/45 |
///       |   1/90  -1/45   2/45  -4/45   8/45 -16/45  32/45 |
///       |  32/45  16/45   8/45   4/45   2/45   1/45   1/90 |
///       |  32/45 -16/45   8/45  -4/45   2/45  -1/45   1/90 |
///       |      0      0      0      0      0      0      1 |
///     Aᵀ =
///       |      1      1      1      1      1      1      1      0 |
///       |      0      1     -1      2     -2    1/2   -1/2      1 |
enum WinogradF2x2For7x7: WinogradTiling {
    static var outputSide: Int { 2 }
    static var kernelSide: Int { 7 }

    @inline(__always) static func inputTransform(_ s: UnsafePointer<WinogradVector>, _ t: UnsafeMutablePointer<WinogradVector>, stride n: Int) {
        let c1_4: Float = 1 / 4, c1_2: Float = 1 / 2, c5_4: Float = 5 / 4, c2: Float = 2, c5_2: Float = 5 / 2, c4: Float = 4, c17_4: Float = 17 / 4, c5: Float = 5, c21_4: Float = 21 / 4
        let (d0, d1, d2, d3, d4, d5, d6, d7) = (s[0], s[n], s[2 * n], s[3 * n], s[4 * n], s[5 * n], s[6 * n], s[7 * n])
        let (e1, o1) = (-d2 + d4 * c17_4 - d6, -d1 + d3 * c17_4 - d5)
        let (e3, o3) = (d2 * c1_4 - d4 * c5_4 + d6, d1 * c1_2 - d3 * c5_2 + d5 * c2)
        let (e5, o5) = (d2 * c4 - d4 * c5 + d6, d1 * c2 - d3 * c5_2 + d5 * c1_2)
        t[0] = d0 - d2 * c21_4 + d4 * c21_4 - d6
        t[n] = e1 + o1
        t[2 * n] = e1 - o1
        t[3 * n] = e3 + o3
        t[4 * n] = e3 - o3
        t[5 * n] = e5 + o5
        t[6 * n] = e5 - o5
        t[7 * n] = -d1 + d3 * c21_4 - d5 * c21_4 + d7
    }

    @inline(__always) static func inputAdjoint(_ s: UnsafePointer<WinogradVector>, _ t: UnsafeMutablePointer<WinogradVector>, stride n: Int) {
        let c1_4: Float = 1 / 4, c1_2: Float = 1 / 2, c5_4: Float = 5 / 4, c2: Float = 2, c5_2: Float = 5 / 2, c4: Float = 4, c17_4: Float = 17 / 4, c5: Float = 5, c21_4: Float = 21 / 4
        let (u0, u1, u2, u3, u4, u5, u6, u7) = (s[0], s[n], s[2 * n], s[3 * n], s[4 * n], s[5 * n], s[6 * n], s[7 * n])
        let (u1p2, u1m2) = (u1 + u2, u1 - u2)
        let (u3p4, u3m4) = (u3 + u4, u3 - u4)
        let (u5p6, u5m6) = (u5 + u6, u5 - u6)
        t[0] = u0
        t[n] = -u1m2 + u3m4 * c1_2 + u5m6 * c2 - u7
        t[2 * n] = -u0 * c21_4 - u1p2 + u3p4 * c1_4 + u5p6 * c4
        t[3 * n] = u1m2 * c17_4 - u3m4 * c5_2 - u5m6 * c5_2 + u7 * c21_4
        t[4 * n] = u0 * c21_4 + u1p2 * c17_4 - u3p4 * c5_4 - u5p6 * c5
        t[5 * n] = -u1m2 + u3m4 * c2 + u5m6 * c1_2 - u7 * c21_4
        t[6 * n] = -u0 - u1p2 + u3p4 + u5p6
        t[7 * n] = u7
    }

    @inline(__always) static func kernelTransform(_ s: UnsafePointer<WinogradVector>, _ t: UnsafeMutablePointer<WinogradVector>, stride n: Int) {
        let c1_90: Float = 1 / 90, c1_45: Float = 1 / 45, c2_45: Float = 2 / 45, c4_45: Float = 4 / 45, c8_45: Float = 8 / 45, c2_9: Float = 2 / 9, c16_45: Float = 16 / 45, c32_45: Float = 32 / 45
        let (g0, g1, g2, g3, g4, g5, g6) = (s[0], s[n], s[2 * n], s[3 * n], s[4 * n], s[5 * n], s[6 * n])
        let (e1, o1) = (g0 * c2_9 + g2 * c2_9 + g4 * c2_9 + g6 * c2_9, g1 * c2_9 + g3 * c2_9 + g5 * c2_9)
        let (e3, o3) = (g0 * c1_90 + g2 * c2_45 + g4 * c8_45 + g6 * c32_45, g1 * c1_45 + g3 * c4_45 + g5 * c16_45)
        let (e5, o5) = (g0 * c32_45 + g2 * c8_45 + g4 * c2_45 + g6 * c1_90, g1 * c16_45 + g3 * c4_45 + g5 * c1_45)
        t[0] = g0
        t[n] = e1 + o1
        t[2 * n] = e1 - o1
        t[3 * n] = e3 + o3
        t[4 * n] = e3 - o3
        t[5 * n] = e5 + o5
        t[6 * n] = e5 - o5
        t[7 * n] = g6
    }

    @inline(__always) static func kernelAdjoint(_ s: UnsafePointer<WinogradVector>, _ t: UnsafeMutablePointer<WinogradVector>, stride n: Int) {
        let c1_90: Float = 1 / 90, c1_45: Float = 1 / 45, c2_45: Float = 2 / 45, c4_45: Float = 4 / 45, c8_45: Float = 8 / 45, c2_9: Float = 2 / 9, c16_45: Float = 16 / 45, c32_45: Float = 32 / 45
        let (u0, u1, u2, u3, u4, u5, u6, u7) = (s[0], s[n], s[2 * n], s[3 * n], s[4 * n], s[5 * n], s[6 * n], s[7 * n])
        let (u1p2, u1m2) = (u1 + u2, u1 - u2)
        let (u3p4, u3m4) = (u3 + u4, u3 - u4)
        let (u5p6, u5m6) = (u5 + u6, u5 - u6)
        t[0] = u0 + u1p2 * c2_9 + u3p4 * c1_90 + u5p6 * c32_45
        t[n] = u1m2 * c2_9 + u3m4 * c1_45 + u5m6 * c16_45
        t[2 * n] = u1p2 * c2_9 + u3p4 * c2_45 + u5p6 * c8_45
        t[3 * n] = u1m2 * c2_9 + u3m4 * c4_45 + u5m6 * c4_45
        t[4 * n] = u1p2 * c2_9 + u3p4 * c8_45 + u5p6 * c2_45
        t[5 * n] = u1m2 * c2_9 + u3m4 * c16_45 + u5m6 * c1_45
        t[6 * n] = u1p2 * c2_9 + u3p4 * c32_45 + u5p6 * c1_90 + u7
    }

    @inline(__always) static func outputTransform(_ s: UnsafePointer<WinogradVector>, _ t: UnsafeMutablePointer<WinogradVector>, stride n: Int) {
        let c1_2: Float = 1 / 2, c2: Float = 2
        let (m0, m1, m2, m3, m4, m5, m6, m7) = (s[0], s[n], s[2 * n], s[3 * n], s[4 * n], s[5 * n], s[6 * n], s[7 * n])
        let (m1p2, m1m2) = (m1 + m2, m1 - m2)
        let (m3p4, m3m4) = (m3 + m4, m3 - m4)
        let (m5p6, m5m6) = (m5 + m6, m5 - m6)
        t[0] = m0 + m1p2 + m3p4 + m5p6
        t[n] = m1m2 + m3m4 * c2 + m5m6 * c1_2 + m7
    }

    @inline(__always) static func outputAdjoint(_ s: UnsafePointer<WinogradVector>, _ t: UnsafeMutablePointer<WinogradVector>, stride n: Int) {
        let c1_2: Float = 1 / 2, c2: Float = 2
        let (y0, y1) = (s[0], s[n])
        let (e1, o1) = (y0, y1)
        let (e3, o3) = (y0, y1 * c2)
        let (e5, o5) = (y0, y1 * c1_2)
        t[0] = y0
        t[n] = e1 + o1
        t[2 * n] = e1 - o1
        t[3 * n] = e3 + o3
        t[4 * n] = e3 - o3
        t[5 * n] = e5 + o5
        t[6 * n] = e5 - o5
        t[7 * n] = y1
    }
}
