// GEMM for the many small products of a Winograd convolution: C (m × n) = A (m × k) · B (k × n),
// with k and n from 8 to a few hundred. BLAS pays a fixed cost per call on such products (it
// copies A and B into packed panels and, for β = 0, clears C in a separate pass first), which
// took as long as its multiply on ResNet-20's layers. Here B is read in place (its rows are
// contiguous runs of n floats, and a position's B fits L1), A one element at a time as a
// broadcast, and C written once: register blocks of 6 rows × 16 columns, twelve 8-float
// accumulators, as BLAS's own AVX2 kernels keep.
#include "Dispatch.h"

typedef float v8 __attribute__((ext_vector_type(8)));
/// The same vector read from or written to memory aligned only as a float.
typedef float v8u __attribute__((ext_vector_type(8), aligned(4)));

/// Rows of C per register block.
enum { ROWS = 6 };

/// C[i, j..<j+8·vectors] for rows i < rows (a compile-time constant after inlining, so `acc`
/// lives in registers): Σ_l A(i, l) · B[l, j..], plus C's old value when `accumulate`. The sum
/// starts from zero and C is added last, as BLAS does for β = 1: started from C, a running total
/// over many calls (Winograd's kernel gradient, group after group) would absorb each small product
/// into a large number and lose its low bits.
static inline __attribute__((always_inline))
void block(const int rows, const int vectors, int k, const float *a, long aRow, long aDepth,
           const float *b, long ldb, float *c, long ldc, int accumulate) {
    v8 acc[ROWS][2];
    for (int i = 0; i < rows; i++)
        for (int v = 0; v < vectors; v++) acc[i][v] = 0;
    for (int l = 0; l < k; l++) {
        const float *bRow = b + l * ldb;
        v8 b0 = *(const v8u *)bRow, b1 = vectors > 1 ? *(const v8u *)(bRow + 8) : (v8)0;
        const float *aColumn = a + l * aDepth;
        for (int i = 0; i < rows; i++) {
            v8 x = aColumn[i * aRow];
            acc[i][0] += x * b0;
            if (vectors > 1) acc[i][1] += x * b1;
        }
    }
    for (int i = 0; i < rows; i++)
        for (int v = 0; v < vectors; v++) {
            v8u *target = (v8u *)(c + i * ldc + 8 * v);
            *target = accumulate ? *target + acc[i][v] : acc[i][v];
        }
}

/// One column strip (16 or 8 columns) of C, down all m rows: blocks of 6 rows, then the rest.
static inline __attribute__((always_inline))
void strip(const int vectors, int m, int k, const float *a, long aRow, long aDepth,
           const float *b, long ldb, float *c, long ldc, int accumulate) {
    int i = 0;
    for (; i + ROWS <= m; i += ROWS)
        block(ROWS, vectors, k, a + i * aRow, aRow, aDepth, b, ldb, c + i * ldc, ldc, accumulate);
    switch (m - i) {
    case 5: block(5, vectors, k, a + i * aRow, aRow, aDepth, b, ldb, c + i * ldc, ldc, accumulate); break;
    case 4: block(4, vectors, k, a + i * aRow, aRow, aDepth, b, ldb, c + i * ldc, ldc, accumulate); break;
    case 3: block(3, vectors, k, a + i * aRow, aRow, aDepth, b, ldb, c + i * ldc, ldc, accumulate); break;
    case 2: block(2, vectors, k, a + i * aRow, aRow, aDepth, b, ldb, c + i * ldc, ldc, accumulate); break;
    case 1: block(1, vectors, k, a + i * aRow, aRow, aDepth, b, ldb, c + i * ldc, ldc, accumulate); break;
    default: break;
    }
}

/// The loops, inlined into one function per instruction set below.
static inline __attribute__((always_inline))
void small_gemm_loops(int m, int n, int k, const float *a, long aRow, long aDepth,
                      const float *b, long ldb, float *c, long ldc, int accumulate) {
    int j = 0;
    for (; j + 16 <= n; j += 16) strip(2, m, k, a, aRow, aDepth, b + j, ldb, c + j, ldc, accumulate);
    if (j < n) strip(1, m, k, a, aRow, aDepth, b + j, ldb, c + j, ldc, accumulate);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
static void small_gemm_avx2(int m, int n, int k, const float *a, long aRow, long aDepth,
                            const float *b, long ldb, float *c, long ldc, int accumulate) {
    small_gemm_loops(m, n, k, a, aRow, aDepth, b, ldb, c, ldc, accumulate);
}
#endif

static void small_gemm_baseline(int m, int n, int k, const float *a, long aRow, long aDepth,
                                const float *b, long ldb, float *c, long ldc, int accumulate) {
    small_gemm_loops(m, n, k, a, aRow, aDepth, b, ldb, c, ldc, accumulate);
}

void convnet_small_gemm(int m, int n, int k, const float *a, long aRow, long aDepth,
                        const float *b, long ldb, float *c, long ldc, int accumulate) {
    CONVNET_DISPATCH(small_gemm, m, n, k, a, aRow, aDepth, b, ldb, c, ldc, accumulate);
}
