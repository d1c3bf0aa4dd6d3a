import Foundation

/// Eigenvalues and eigenvectors of a small real symmetric matrix by the cyclic Jacobi method
/// (Golub and Van Loan, §8.5): plane rotations `A ← JᵀAJ`, each zeroing one off-diagonal pair,
/// swept over all pairs until the off-diagonal mass is below `tolerance` times the matrix's norm.
/// Quadratically convergent and accurate to a few ulps of `Double`; meant for the 10–100-dimensional
/// covariances of data-dependent initialisation, where a LAPACK `dsyevd` call would be overkill.
package enum SymmetricEigen {
    /// `(values, vectors)` of the symmetric `n × n` matrix `a` (row-major), with the eigenvalues in
    /// descending order and `vectors[k]` the unit eigenvector of `values[k]`. Only the upper
    /// triangle's symmetry is assumed, not checked.
    package static func decompose(_ a: [Double], size n: Int, tolerance: Double = 1e-15, maximumSweeps: Int = 100)
        -> (values: [Double], vectors: [[Double]]) {
        var m = a
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        let norm = m.reduce(0) { $0 + $1 * $1 }.squareRoot()
        for _ in 0..<maximumSweeps {
            var off = 0.0
            for p in 0..<n { for q in (p + 1)..<max(p + 1, n) { off += m[p * n + q] * m[p * n + q] } }
            if off.squareRoot() <= tolerance * max(norm, .leastNormalMagnitude) { break }
            for p in 0..<n {
                for q in (p + 1)..<max(p + 1, n) where m[p * n + q] != 0 {
                    // The rotation angle θ with tan 2θ = 2·a_pq / (a_qq − a_pp), via the smaller root t = tan θ.
                    let theta = (m[q * n + q] - m[p * n + p]) / (2 * m[p * n + q])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {  // columns p and q: A ← A·J
                        let (akp, akq) = (m[k * n + p], m[k * n + q])
                        m[k * n + p] = c * akp - s * akq
                        m[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {  // rows p and q: A ← Jᵀ·A
                        let (apk, aqk) = (m[p * n + k], m[q * n + k])
                        m[p * n + k] = c * apk - s * aqk
                        m[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {  // V ← V·J accumulates the eigenvectors as columns
                        let (vkp, vkq) = (v[k * n + p], v[k * n + q])
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        let order = (0..<n).sorted { m[$0 * n + $0] > m[$1 * n + $1] }
        return (order.map { m[$0 * n + $0] }, order.map { column in (0..<n).map { v[$0 * n + column] } })
    }
}
