#if canImport(Accelerate)
import Accelerate
#endif

/// Single-precision matrix multiply, the one place ConvNet calls BLAS.
///
/// Computes `C = α · op(A) · op(B) + β · C` for row-major matrices, where `op(X)` is `X` or `Xᵀ`,
/// `op(A)` is `m × k`, `op(B)` is `k × n` and `C` is `m × n`; `lda`, `ldb`, `ldc` are row strides.
/// Convolution (through im2col) and dense layers both reduce to this call.
public enum GEMM {
    /// What serves GEMM in this process: library and kernel, e.g. `OpenBLAS (libopenblas.so.0, SkylakeX)`.
    public static var backendDescription: String {
        #if canImport(Accelerate)
        return "Accelerate"
        #else
        switch OpenBLAS.shared {
        case let .success(blas): return "OpenBLAS (\(blas.library), kernel \(blas.coreName))"
        case let .failure(error): return "reference loops (\(error))"
        }
        #endif
    }

    /// `C = α · op(A) · op(B) + β · C` (see the type's documentation for shapes).
    ///
    /// When `threaded` and large, the product is spread over `Parallel.threads` threads: `C` is cut
    /// into blocks of whole rows (when `m ≥ n`) or whole columns, each computed by one
    /// single-threaded BLAS call; `k` is never split, so no partial sums are added across threads.
    /// Kernels that already run on every thread (inside `Parallel.run`) pass `threaded: false`.
    public static func multiply(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, threaded: Bool = true
    ) {
        guard m > 0, n > 0 else { return }
        guard threaded else {
            return single(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                          a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
        let byRows = m >= n
        let units = byRows ? m : (n + blockAlignment - 1) / blockAlignment
        let blocks = Parallel.chunks(units, costPerItem: (byRows ? n : blockAlignment * m) * max(k, 1),
                                     minimumWork: minimumParallelMultiplyAdds)
        guard blocks.count > 1 else {
            return single(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                          a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
        let (aShared, bShared, cShared) = (SendablePointer(a), SendablePointer(b), SendableMutablePointer(c))
        Parallel.run(tasks: blocks.count) { index in
            if byRows {
                let rows = blocks[index]
                single(transposeA: transposeA, transposeB: transposeB, m: rows.count, n: n, k: k, alpha: alpha,
                       a: aShared.pointer + rows.lowerBound * (transposeA ? 1 : lda), lda: lda, b: bShared.pointer, ldb: ldb,
                       beta: beta, c: cShared.pointer + rows.lowerBound * ldc, ldc: ldc)
            } else {
                let columns = blocks[index].lowerBound * blockAlignment..<min(blocks[index].upperBound * blockAlignment, n)
                single(transposeA: transposeA, transposeB: transposeB, m: m, n: columns.count, k: k, alpha: alpha,
                       a: aShared.pointer, lda: lda, b: bShared.pointer + columns.lowerBound * (transposeB ? ldb : 1), ldb: ldb,
                       beta: beta, c: cShared.pointer + columns.lowerBound, ldc: ldc)
            }
        }
    }

    /// Column blocks are cut at multiples of this (the width of OpenBLAS's AVX-512 SGEMM kernel).
    static let blockAlignment = 16
    /// Multiply-adds below which a GEMM stays on one thread (about 5 µs of one core's SGEMM).
    static let minimumParallelMultiplyAdds = 1 << 20

    /// One BLAS call on the calling thread.
    private static func single(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let rowMajor: Int32 = 101, noTrans: Int32 = 111, trans: Int32 = 112
        #if canImport(Accelerate)
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        _ = (rowMajor, noTrans, trans)
        #else
        switch OpenBLAS.shared {
        case let .success(blas):
            blas.sgemm(rowMajor, transposeA ? trans : noTrans, transposeB ? trans : noTrans,
                       Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        case .failure:
            reference(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                      a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
        #endif
    }

    /// The definition, as a triple loop: `C[i][j] = α · Σ_p op(A)[i][p] · op(B)[p][j] + β · C[i][j]`.
    /// The oracle for the tests, and the fallback when no BLAS can be loaded.
    public static func reference(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var sum: Float = 0
                for p in 0..<k {
                    let aip = transposeA ? a[p * lda + i] : a[i * lda + p]
                    let bpj = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                    sum += aip * bpj
                }
                c[i * ldc + j] = alpha * sum + (beta == 0 ? 0 : beta * c[i * ldc + j])
            }
        }
    }
}
