#if canImport(Accelerate)
import Accelerate
#endif
import CKernels

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
    ///
    /// In `ComputePrecision.bfloat16` (`precision`, else `ComputePrecision.current`), with oneDNN
    /// available and a product large enough (`worthBFloat16`), the operands are rounded to
    /// bfloat16 and multiplied with float32 accumulation.
    public static func multiply(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, threaded: Bool = true, precision: ComputePrecision? = nil
    ) {
        guard m > 0, n > 0 else { return }
        #if !canImport(Accelerate)
        if (precision ?? ComputePrecision.current) == .bfloat16, worthBFloat16(m: m, n: n, k: k),
           case let .success(oneDNN) = OneDNN.shared {
            return multiplyBFloat16(oneDNN, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                                    a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, threaded: threaded)
        }
        #endif
        let (byRows, blocks) = split(m: m, n: n, k: k, threaded: threaded)
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
                let columns = blocks[index]
                single(transposeA: transposeA, transposeB: transposeB, m: m, n: columns.count, k: k, alpha: alpha,
                       a: aShared.pointer, lda: lda, b: bShared.pointer + columns.lowerBound * (transposeB ? ldb : 1), ldb: ldb,
                       beta: beta, c: cShared.pointer + columns.lowerBound, ldc: ldc)
            }
        }
    }

    /// `C = op(A) · B`, plus `C`'s old value when `accumulate`, for the many small products of a
    /// Winograd convolution (`k`, `n` from 8 to a few hundred; `n` a multiple of 8) on the calling
    /// thread. Where the CPU runs `convnet_small_gemm`'s AVX2 build, that loop computes it: it
    /// reads `A` and `B` in place and writes `C` once, where BLAS first copies both into packed
    /// panels and clears `C` in a pass of its own (`sgemm_beta`), a fixed cost per call that
    /// matched the multiply itself on ResNet-20's layers (docs/PERFORMANCE.md). Elsewhere, when
    /// `threaded` (one task owning a whole layer), and for products whose kernel-sized operand
    /// (`n` times the smaller of `m` and `k`: `n_C_prev · n_C` in each of Winograd's three products)
    /// exceeds `smallProductLimit`, `multiply`.
    public static func multiplySmall(
        transposeA: Bool = false, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int, threaded: Bool = false
    ) {
        guard m > 0, n > 0 else { return }
        guard smallProductsVectorised, !threaded, n % 8 == 0, n * min(m, k) <= smallProductLimit else {
            return multiply(transposeA: transposeA, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                            beta: accumulate ? 1 : 0, c: c, ldc: ldc, threaded: threaded, precision: .float32)
        }
        convnet_small_gemm(Int32(m), Int32(n), Int32(k), a, transposeA ? 1 : lda, transposeA ? lda : 1,
                           b, ldb, c, ldc, accumulate ? 1 : 0)
    }

    /// The largest kernel-sized operand `multiplySmall` leaves to `convnet_small_gemm`: 64 × 256 floats.
    /// Layers of 16–64 channels ran 1.1–1.4x faster through it than through BLAS, 64 → 256 about
    /// the same, 256 → 512 up to 1.5x slower (`convnet bench conv`, AMD Zen 3): there BLAS's
    /// packed panels pay for themselves.
    static let smallProductLimit = 64 * 256

    /// Whether `convnet_small_gemm` runs its AVX2 + FMA build here (its baseline build is slower than BLAS).
    static let smallProductsVectorised = convnet_direct_convolution_is_vectorised() != 0

    /// How `multiply` cuts `C` over the threads: by whole rows (when `m ≥ n`) or by columns in
    /// multiples of `blockAlignment`; one block when not `threaded` or too small to share.
    private static func split(m: Int, n: Int, k: Int, threaded: Bool) -> (byRows: Bool, blocks: [Range<Int>]) {
        let byRows = m >= n
        guard threaded else { return (byRows, [0..<(byRows ? m : n)]) }
        let units = byRows ? m : (n + blockAlignment - 1) / blockAlignment
        let chunks = Parallel.chunks(units, costPerItem: (byRows ? n : blockAlignment * m) * max(k, 1),
                                     minimumWork: minimumParallelMultiplyAdds)
        return (byRows, byRows ? chunks : chunks.map { $0.lowerBound * blockAlignment..<min($0.upperBound * blockAlignment, n) })
    }

    /// Whether a product is large enough for bfloat16 to pay: rounding both operands and oneDNN's
    /// packing cost more than the faster multiply saves on thin or small products. With every GEMM
    /// in bfloat16, LeNet-5 (k = 25 and 150, n = 6 and 16) trained at 11,534 images/s against
    /// about 24,000 in float32 (`docs/PERFORMANCE.md`, "bfloat16").
    static func worthBFloat16(m: Int, n: Int, k: Int) -> Bool {
        k >= 32 && n >= 32 && m >= 16 && m * n * k >= 1 << 22
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

    #if !canImport(Accelerate)
    /// `multiply` in `ComputePrecision.bfloat16`: the same blocks as float32, each one oneDNN call
    /// on bfloat16 copies of its operands. The operand every block reads whole (`B` when cutting by
    /// rows, `A` by columns) is rounded once, before the blocks start; each block rounds its own
    /// slice of the other one, so the rounding is spread over the threads like the multiply.
    private static func multiplyBFloat16(
        _ oneDNN: OneDNN, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threaded: Bool
    ) {
        let (byRows, blocks) = split(m: m, n: n, k: k, threaded: threaded)
        // Stored shapes: A is m × k (k × m transposed), B is k × n (n × k transposed). A block's
        // slice runs along stored rows when the sliced index (m of A, n of B) is the stored row.
        let aStored = BFloat16Operand(pointer: a, ld: lda, rows: transposeA ? k : m, columns: transposeA ? m : k, slicedAlongRows: !transposeA)
        let bStored = BFloat16Operand(pointer: b, ld: ldb, rows: transposeB ? n : k, columns: transposeB ? k : n, slicedAlongRows: transposeB)
        let (shared, sliced) = byRows ? (bStored, aStored) : (aStored, bStored)
        withBFloat16Copy(of: shared, slice: nil) { sharedCopy, sharedLD in
            let sharedCopy = SendablePointer(sharedCopy), cShared = SendableMutablePointer(c)
            Parallel.run(tasks: blocks.count) { index in
                let block = blocks[index]
                withBFloat16Copy(of: sliced, slice: block) { slicedCopy, slicedLD in
                    let (aCopy, aLD, bCopy, bLD) = byRows ? (slicedCopy, slicedLD, sharedCopy.pointer, sharedLD)
                                                          : (sharedCopy.pointer, sharedLD, slicedCopy, slicedLD)
                    let (rows, columns) = byRows ? (block.count, n) : (m, block.count)
                    let cBlock = cShared.pointer + (byRows ? block.lowerBound * ldc : block.lowerBound)
                    let done = oneDNN.multiply(transposeA: transposeA, transposeB: transposeB, m: rows, n: columns, k: k, alpha: alpha,
                                               a: aCopy, lda: aLD, b: bCopy, ldb: bLD, beta: beta, c: cBlock, ldc: ldc)
                    precondition(done, "oneDNN refused a bfloat16 GEMM of \(rows)×\(columns)×\(k)")
                }
            }
        }
    }

    /// Calls `body` with a packed bfloat16 copy of `operand` (whole, or the rows or columns `slice`
    /// of it along its sliced index) and the copy's row stride, in a scratch buffer.
    private static func withBFloat16Copy(of operand: BFloat16Operand, slice: Range<Int>?,
                                         _ body: (UnsafePointer<UInt16>, Int) -> Void) {
        let part = slice ?? 0..<(operand.slicedAlongRows ? operand.rows : operand.columns)
        let (rows, columns) = operand.slicedAlongRows ? (part.count, operand.columns) : (operand.rows, part.count)
        let source = operand.pointer + (operand.slicedAlongRows ? part.lowerBound * operand.ld : part.lowerBound)
        ScratchBuffers.withBuffer(count: (rows * columns + 1) / 2) { floats in
            UnsafeMutableRawPointer(floats).withMemoryRebound(to: UInt16.self, capacity: rows * columns) { copy in
                // Called for the shared operand, outside the blocks, this spreads the rounding over
                // the threads; inside a block the nested region runs on the block's own thread.
                let (sourceShared, copyShared) = (SendablePointer(source), SendableMutablePointer(copy))
                let ld = operand.ld
                Parallel.forEachChunk(rows, costPerItem: columns) { range in
                    BFloat16.round(sourceShared.pointer + range.lowerBound * ld, rows: range.count, columns: columns, stride: ld,
                                   into: copyShared.pointer + range.lowerBound * columns)
                }
                body(copy, columns)
            }
        }
    }
    #endif

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

/// A row-major float32 matrix as stored (`rows × columns`, row stride `ld`), and whether the blocks
/// of a threaded GEMM cut it along its rows or its columns. Read-only, and read by the blocks only
/// while `multiply` waits for them, hence `Sendable`.
private struct BFloat16Operand: @unchecked Sendable {
    let pointer: UnsafePointer<Float>
    let ld: Int
    let rows: Int
    let columns: Int
    let slicedAlongRows: Bool
}
