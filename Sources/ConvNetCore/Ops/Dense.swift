/// Matrix product `(m, k) · (k, n) → (m, n)`.
public func matmul(_ a: Tensor, _ b: Tensor, implementation: Implementation = .fast) throws -> Tensor {
    try dense(a, kernel: b, bias: nil, implementation: implementation, op: "matmul")
}

/// A fully connected layer's function: `Z = X · W + b`.
///
/// - Parameters:
///   - input: `(m, n_in)`.
///   - kernel: `(n_in, n_out)`, Keras's layout.
///   - bias: `(n_out)`, optional.
///   - implementation: `.fast` (BLAS GEMM) or `.reference` (plain loops, for checking).
/// - Returns: `(m, n_out)`. Backward: `dX = dZ · Wᵀ`, `dW = Xᵀ · dZ`, `db = Σ_rows dZ`.
public func dense(_ input: Tensor, kernel: Tensor, bias: Tensor? = nil, implementation: Implementation = .fast) throws -> Tensor {
    try dense(input, kernel: kernel, bias: bias, implementation: implementation, op: "dense")
}

private func dense(_ input: Tensor, kernel: Tensor, bias: Tensor?, implementation: Implementation, op: String) throws -> Tensor {
    guard input.rank == 2, kernel.rank == 2 else {
        throw ConvNetError.shape(op: op, message: "expected input (m, n_in) and kernel (n_in, n_out), got \(describe(shape: input.shape)) and \(describe(shape: kernel.shape))")
    }
    let (m, k, n) = (input.shape[0], input.shape[1], kernel.shape[1])
    guard kernel.shape[0] == k else {
        throw ConvNetError.shape(op: op, message: "input \(describe(shape: input.shape)) has \(k) features but kernel \(describe(shape: kernel.shape)) expects \(kernel.shape[0])")
    }
    if let bias, bias.shape != [n] {
        throw ConvNetError.shape(op: op, message: "bias \(describe(shape: bias.shape)) does not match \(n) units")
    }
    let output = [Float](unsafeUninitializedCapacity: m * n) { z, initialized in
        if let bias {
            // Start from the bias and let GEMM accumulate onto it (β = 1).
            bias.scalars.withUnsafeBufferPointer { b in
                for row in 0..<m { (z.baseAddress! + row * n).initialize(from: b.baseAddress!, count: n) }
            }
        }
        withScalarBuffers(input, kernel) { x, w in
            implementation.matrixKernels.multiply(false, false, m, n, k, x.baseAddress!, k, w.baseAddress!, n, bias == nil ? 0 : 1, z.baseAddress!, n)
        }
        initialized = m * n
    }
    return record(Tensor(validShape: [m, n], scalars: output), inputs: [input, kernel, bias]) { upstream, needed in
        var dX = [Float](repeating: 0, count: needed[0] ? m * k : 0)
        var dW = [Float](repeating: 0, count: needed[1] ? k * n : 0)
        var db = [Float](repeating: 0, count: n)
        withScalarBuffers(upstream, input, kernel) { dZ, x, w in
            if needed[0] {
                dX.withUnsafeMutableBufferPointer {
                    implementation.matrixKernels.multiply(false, true, m, k, n, dZ.baseAddress!, n, w.baseAddress!, n, 0, $0.baseAddress!, k)
                }
            }
            if needed[1] {
                dW.withUnsafeMutableBufferPointer {
                    implementation.matrixKernels.multiply(true, false, k, n, m, x.baseAddress!, k, dZ.baseAddress!, n, 0, $0.baseAddress!, n)
                }
            }
            db.withUnsafeMutableBufferPointer { db in
                for row in 0..<m {
                    for j in 0..<n { db[j] += dZ[row * n + j] }
                }
            }
        }
        return [needed[0] ? Tensor(validShape: [m, k], scalars: dX) : nil,
                needed[1] ? Tensor(validShape: [k, n], scalars: dW) : nil,
                Tensor(validShape: [n], scalars: db)]
    }
}

/// The matrix product behind `dense` and `matmul`, `C = op(A) · op(B) + β · C`, as the reference
/// triple loop (`GEMM.reference`, the oracle) and BLAS (`GEMM.multiply`) compute it.
protocol MatrixKernels {
    static func multiply(_ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ lda: Int,
                         _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int)
}

enum FastMatrixKernels: MatrixKernels {
    static func multiply(_ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ lda: Int,
                         _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        GEMM.multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                      beta: beta, c: c, ldc: ldc)
    }
}

enum ReferenceMatrixKernels: MatrixKernels {
    static func multiply(_ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ lda: Int,
                         _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        GEMM.reference(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                       beta: beta, c: c, ldc: ldc)
    }
}
