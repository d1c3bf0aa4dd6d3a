import Foundation

/// The Gaussian error linear unit in its exact form (Hendrycks and Gimpel 2016; Keras
/// `activations.gelu(x, approximate=False)`, PyTorch `nn.GELU()`):
///
///     y = x · Φ(x) = ½ · x · (1 + erf(x / √2))
///
/// and its derivative, with `φ` the standard normal density,
///
///     dy/dx = Φ(x) + x · φ(x) = ½ · (1 + erf(x / √2)) + x · e^(−x²/2) / √(2π)
///
/// so the backward pass keeps only `x`.
public func gelu(_ x: Tensor, implementation: Implementation = .fast) -> Tensor {
    guard x.count > 0 else { return x }
    let kernels = implementation.geluKernels
    let y = [Float](unsafeUninitializedCapacity: x.count) { y, initialized in
        x.scalars.withUnsafeBufferPointer { kernels.forward($0.baseAddress!, into: y.baseAddress!, count: $0.count) }
        initialized = x.count
    }
    return record(Tensor(validShape: x.shape, scalars: y), inputs: [x]) { upstream, _ in
        let dx = [Float](unsafeUninitializedCapacity: x.count) { dx, initialized in
            withSendablePointers([upstream.scalars, x.scalars]) { p in
                implementation.geluKernels.backward(p[1].pointer, upstream: p[0].pointer, into: dx.baseAddress!, count: x.count)
            }
            initialized = x.count
        }
        return [Tensor(validShape: x.shape, scalars: dx)]
    }
}

/// The loops behind `gelu`, as `GELUReference` (the formulas with the C library's `erf` and `exp`)
/// and `GELUFast` (eight lanes at a time, spread over the cores) write them.
protocol GELUKernels {
    /// `y[i] = x[i] · Φ(x[i])`.
    static func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int)
    /// `dx[i] = dy[i] · (Φ(x[i]) + x[i] · φ(x[i]))`.
    static func backward(_ x: UnsafePointer<Float>, upstream dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, count: Int)
}

/// `1 / √2` and `1 / √(2π)`, the constants of `Φ` and `φ`.
private let inverseSquareRootTwo: Float = 0.707_106_781_186_547_52
private let inverseSquareRootTwoPi: Float = 0.398_942_280_401_432_68

/// GELU as the formulas read, one element at a time: the oracle.
enum GELUReference: GELUKernels {
    static func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = 0.5 * x[i] * (1 + Foundation.erf(x[i] * inverseSquareRootTwo)) }
    }

    static func backward(_ x: UnsafePointer<Float>, upstream dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let cdf = 0.5 * (1 + Foundation.erf(x[i] * inverseSquareRootTwo))
            let pdf = inverseSquareRootTwoPi * Foundation.exp(-0.5 * x[i] * x[i])
            dx[i] = dy[i] * (cdf + x[i] * pdf)
        }
    }
}

/// GELU through `SIMD8` lanes, split over the threads (its lane functions are also batch
/// normalization's fused GELU epilogue, `FusedActivation`). `erf` is a rational approximation with
/// only multiplications, additions and one division (the one Eigen and XLA use for `float`; its
/// largest error on `[−6, 6]` is 4.2e-7, below a `Float`'s spacing near 1), so it vectorises, and
/// so does the density's `exp` (`exp(_:)`, Cephes's polynomial).
enum GELUFast: GELUKernels, FusedActivation {
    private typealias Vector = SIMD8<Float>

    static func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        let (x, y) = (SendablePointer(x), SendableMutablePointer(y))
        Parallel.forEachChunk(count, costPerItem: 24) { range in
            let vectorEnd = range.lowerBound + range.count / 8 * 8
            for i in stride(from: range.lowerBound, to: vectorEnd, by: 8) {
                store(apply(load(x.pointer + i)), to: y.pointer + i)
            }
            for i in vectorEnd..<range.upperBound { y.pointer[i] = apply(Vector(repeating: x.pointer[i]))[0] }
        }
    }

    static func backward(_ x: UnsafePointer<Float>, upstream dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, count: Int) {
        let (x, dy, dx) = (SendablePointer(x), SendablePointer(dy), SendableMutablePointer(dx))
        Parallel.forEachChunk(count, costPerItem: 32) { range in
            let vectorEnd = range.lowerBound + range.count / 8 * 8
            for i in stride(from: range.lowerBound, to: vectorEnd, by: 8) {
                store(gradient(load(dy.pointer + i), at: load(x.pointer + i)), to: dx.pointer + i)
            }
            for i in vectorEnd..<range.upperBound {
                dx.pointer[i] = gradient(Vector(repeating: dy.pointer[i]), at: Vector(repeating: x.pointer[i]))[0]
            }
        }
    }

    /// `x · Φ(x) = ½ · x · (1 + erf(x / √2))`, eight lanes.
    @inline(__always) static func apply(_ x: SIMD8<Float>) -> SIMD8<Float> {
        0.5 * x * (1 + erf(x * inverseSquareRootTwo))
    }

    /// `dy · (Φ(x) + x · φ(x))`, eight lanes.
    @inline(__always) static func gradient(_ dy: SIMD8<Float>, at x: SIMD8<Float>) -> SIMD8<Float> {
        let cdf = 0.5 * (1 + erf(x * inverseSquareRootTwo))
        let density = exp(-0.5 * x * x)
        return dy * (cdf + x * inverseSquareRootTwoPi * density)
    }

    /// `eˣ` for `x ≤ 0` (the density's exponent), lane by lane without the C library: Cephes's
    /// `expf`. With `n = round(x / ln 2)` and `r = x − n·ln 2` (ln 2 in two parts, so `r` is exact),
    /// `eˣ = 2ⁿ · eʳ`, `eʳ ≈ 1 + r + r²·P(r)` with `P` of degree 5 on `|r| ≤ ½ ln 2` (error about
    /// 1 ulp), and `2ⁿ` built from its exponent bits. `x` is clamped to `[−87, 0]`: below,
    /// `eˣ < 1.7e-38` counts as that, not as 0 (the density is then multiplied by `x`, and GELU's
    /// gradient there is 0 to a `Float` either way).
    @inline(__always) private static func exp(_ input: Vector) -> Vector {
        // Selects, not `clamped(lowerBound:upperBound:)`: that one calls the generic lane-by-lane
        // `pointwiseMin`/`pointwiseMax` (1% of a speedrun step in `perf`, 2026-12-01).
        var x = input.replacing(with: -87, where: input .< -87)
        x = x.replacing(with: 0, where: x .> 0)
        // n = round(x / ln 2) by adding 1.5·2²³, whose float has no fraction bits left: n is then in
        // the low bits of `shifted` (no rounding or conversion instructions, which SSE2 lacks).
        let shifted = x * 1.442_695_040_888_963_4 + 12_582_912
        let n = shifted - 12_582_912
        let r = x - n * 0.693_359_375 + n * 2.121_944_400_546_905_8e-4
        var p = r * 1.987_569_150_0e-4 + 1.398_199_950_7e-3
        p = r * p + 8.333_451_907_3e-3
        p = r * p + 4.166_579_589_4e-2
        p = r * p + 1.666_666_545_9e-1
        p = r * p + 5.000_000_120_1e-1
        let exponent = unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- 0x4B40_0000 &+ 127  // n + 127, the bias
        let powerOfTwo = unsafeBitCast(exponent &<< 23, to: Vector.self)
        return (p * r * r + r + 1) * powerOfTwo
    }

    /// `erf(x) ≈ x·P(x²) / Q(x²)` on `x` clamped to `[−4, 4]` (beyond which `erf` rounds to ±1 in
    /// `Float`), with `P` of degree 6 and `Q` of degree 4 in `x²`.
    @inline(__always) private static func erf(_ input: Vector) -> Vector {
        var x = input.replacing(with: 4, where: input .> 4)
        x = x.replacing(with: -4, where: x .< -4)
        let x2 = x * x
        var p = x2 * -2.726_142_258_013_06e-10 + 2.770_681_424_959_02e-08
        p = x2 * p - 2.101_024_020_825_08e-06
        p = x2 * p - 5.692_506_394_623_46e-05
        p = x2 * p - 7.349_906_303_268_55e-04
        p = x2 * p - 2.954_599_808_540_25e-03
        p = x2 * p - 1.609_603_332_624_15e-02
        var q = x2 * -1.456_607_184_649_96e-05 - 2.133_740_552_789_05e-04
        q = x2 * q - 1.682_826_974_382_03e-03
        q = x2 * q - 7.373_329_167_204_68e-03
        q = x2 * q - 1.426_473_905_141_89e-02
        return x * p / q
    }

    @inline(__always) private static func load(_ pointer: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(pointer).loadUnaligned(as: Vector.self)
    }

    @inline(__always) private static func store(_ vector: Vector, to pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: vector, as: Vector.self)
    }
}
