// The transforms of Winograd's F(4x4, 3x3) (input and output, and their adjoints for the backward
// pass), the tiling of every 3x3 stride-1 layer (`WinogradF4x4` in Swift, which documents the
// matrices and stays the readable version).
// They move more data than they compute: each tile's 6 x 6 block of 8-channel vectors is read,
// transformed along its columns and then its rows, and written to 36 places. In Swift, built for
// the baseline CPU, each 8-float vector is two SSE halves and the blocks go through the stack
// between the passes; here the 36 vectors stay in (256-bit, with AVX2) registers, and the
// transforms took 45% of ResNet-20's inference before.
//
// The arithmetic is Swift's, operation for operation, and contraction into fused multiply-adds is
// off, so both give the same bits (`compiledTransformsEqualTheSwiftMapsBitForBit`). With `winners`,
// the output and upstream transforms are those of the convolution fused with 2x2 max pooling
// (`Winograd.maxPool` and `transformUpstream` in Swift).
#include "Dispatch.h"

#pragma clang fp contract(off)

typedef float v8 __attribute__((ext_vector_type(8)));
/// The same vector read from or written to memory aligned only as a float.
typedef float v8u __attribute__((ext_vector_type(8), aligned(4)));

/// Bᵀ on six values (one column or row of a block): `WinogradF4x4.inputTransform`.
#define INPUT_1D(d0, d1, d2, d3, d4, d5, t0, t1, t2, t3, t4, t5) do { \
        v8 p_ = (d4) - 4 * (d2), q_ = (d3) - 4 * (d1), r_ = (d4) - (d2), u_ = 2 * ((d3) - (d1)); \
        v8 first_ = 4 * (d0) - 5 * (d2) + (d4), last_ = 4 * (d1) - 5 * (d3) + (d5); \
        (t0) = first_; (t1) = p_ + q_; (t2) = p_ - q_; (t3) = r_ + u_; (t4) = r_ - u_; (t5) = last_; \
    } while (0)

/// Aᵀ, six values to four: `WinogradF4x4.outputTransform`.
#define OUTPUT_1D(m0, m1, m2, m3, m4, m5, t0, t1, t2, t3) do { \
        v8 s12_ = (m1) + (m2), d12_ = (m1) - (m2), s34_ = (m3) + (m4), d34_ = (m3) - (m4); \
        (t0) = (m0) + s12_ + s34_; (t1) = d12_ + 2 * d34_; (t2) = s12_ + 4 * s34_; (t3) = d12_ + 8 * d34_ + (m5); \
    } while (0)

/// B, the adjoint of Bᵀ (the input gradient's map): `WinogradF4x4.inputAdjoint`.
#define INPUT_ADJOINT_1D(u0, u1, u2, u3, u4, u5, t0, t1, t2, t3, t4, t5) do { \
        v8 a0_ = 4 * (u0), a1_ = 4 * ((u2) - (u1)) + 2 * ((u4) - (u3)) + 4 * (u5); \
        v8 a2_ = -5 * (u0) - 4 * ((u1) + (u2)) - ((u3) + (u4)), a3_ = ((u1) - (u2)) + 2 * ((u3) - (u4)) - 5 * (u5); \
        v8 a4_ = (u0) + (u1) + (u2) + (u3) + (u4), a5_ = (u5); \
        (t0) = a0_; (t1) = a1_; (t2) = a2_; (t3) = a3_; (t4) = a4_; (t5) = a5_; \
    } while (0)

/// A, the adjoint of Aᵀ, four values to six (the upstream gradient's map): `WinogradF4x4.outputAdjoint`.
#define OUTPUT_ADJOINT_1D(y0, y1, y2, y3, t0, t1, t2, t3, t4, t5) do { \
        v8 even1_ = (y0) + (y2), odd1_ = (y1) + (y3), even2_ = (y0) + 4 * (y2), odd2_ = 2 * (y1) + 8 * (y3); \
        (t0) = (y0); (t1) = even1_ + odd1_; (t2) = even1_ - odd1_; (t3) = even2_ + odd2_; (t4) = even2_ - odd2_; (t5) = (y3); \
    } while (0)

/// Where tile `tile` of the batch lies: tiles are numbered image by image, row by row, each
/// covering 4 x 4 output pixels.
static inline void place(long tile, const convnet_convolution_shape *s, long *image, int *row, int *column) {
    const int tileRows = (s->outputHeight + 3) / 4, tileColumns = (s->outputWidth + 3) / 4;
    *image = tile / ((long)tileRows * tileColumns);
    const int inImage = (int)(tile % ((long)tileRows * tileColumns));
    *row = inImage / tileColumns;
    *column = inImage % tileColumns;
}

/// The 4 x 4 output block of tile `tile`: its top-left pixel (y0, x0) and that pixel's offset in
/// the NHWC output (pixels of an edge tile beyond the output are not stored).
static inline long output_block(long tile, const convnet_convolution_shape *s, int *y0, int *x0) {
    long image;
    int row, column;
    place(tile, s, &image, &row, &column);
    *y0 = 4 * row;
    *x0 = 4 * column;
    return ((image * s->outputHeight + *y0) * s->outputWidth + *x0) * (long)s->outputChannels;
}

/// The 6 x 6 input block under tile `tile`: its top-left pixel (y0, x0), negative in the padding,
/// and that pixel's offset in the NHWC input (counted as if the padding were stored).
static inline long input_block(long tile, const convnet_convolution_shape *s, int *y0, int *x0) {
    long image;
    int row, column;
    place(tile, s, &image, &row, &column);
    *y0 = 4 * row - s->padTop;
    *x0 = 4 * column - s->padLeft;
    return ((image * s->inputHeight + *y0) * s->inputWidth + *x0) * (long)s->inputChannels;
}

static inline __attribute__((always_inline))
void input_loops(const float *input, const convnet_convolution_shape *s, long first, int count, float *v) {
    const int H = s->inputHeight, W = s->inputWidth, C = s->inputChannels;
    for (int t = 0; t < count; t++) {
        int y0, x0;
        const float *block = input + input_block(first + t, s, &y0, &x0);
        const int inside = y0 >= 0 && x0 >= 0 && y0 + 6 <= H && x0 + 6 <= W;
        for (int k = 0; k < C; k += 8) {
            v8 d[6][6], e[6][6];
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 6; j++) {
                    const int y = y0 + i, x = x0 + j;
                    d[i][j] = inside || (y >= 0 && y < H && x >= 0 && x < W)
                        ? *(const v8u *)(block + ((long)i * W + j) * C + k) : (v8)0;
                }
            for (int j = 0; j < 6; j++)
                INPUT_1D(d[0][j], d[1][j], d[2][j], d[3][j], d[4][j], d[5][j], e[0][j], e[1][j], e[2][j], e[3][j], e[4][j], e[5][j]);
            for (int i = 0; i < 6; i++)
                INPUT_1D(e[i][0], e[i][1], e[i][2], e[i][3], e[i][4], e[i][5], d[i][0], d[i][1], d[i][2], d[i][3], d[i][4], d[i][5]);
            for (int n = 0; n < 36; n++) *(v8u *)(v + ((long)n * count + t) * C + k) = d[n / 6][n % 6];
        }
    }
}

/// The 2x2 max pools (stride 2) of one tile's 4 x 4 block `y` of channels c..c+7 plus the bias (and
/// ReLU): the maxima to `output`, and which pixel won each window to `winners` (0-3 in scan order,
/// the first of equal values; 4 when ReLU zeroed the window). `Winograd.maxPool` in Swift.
static inline __attribute__((always_inline))
void max_pool_block(v8 y[4][4], const float *bias, int relu, long tile, const convnet_convolution_shape *s, int c,
                    float *output, float *winners) {
    const v8 b = *(const v8u *)(bias + c);
    const int PH = s->outputHeight / 2, PW = s->outputWidth / 2, C = s->outputChannels;
    long image;
    int row, column;
    place(tile, s, &image, &row, &column);
    for (int py = 0; py < 2; py++)
        for (int px = 0; px < 2; px++) {
            const int py0 = 2 * row + py, px0 = 2 * column + px;
            if (py0 >= PH || px0 >= PW) continue;
            const int i = 2 * py, j = 2 * px;
            v8 best = y[i][j] + b, winner = 0;
            const v8 others[3] = {y[i][j + 1] + b, y[i + 1][j] + b, y[i + 1][j + 1] + b};
            for (int index = 1; index <= 3; index++) {
                const v8 value = others[index - 1];
                const __attribute__((ext_vector_type(8))) int larger = value > best;
                winner = larger ? (v8)(float)index : winner;
                best = larger ? value : best;
            }
            if (relu) {
                const __attribute__((ext_vector_type(8))) int positive = best > 0;
                winner = positive ? winner : (v8)4;
                best = positive ? best : (v8)0;
            }
            const long offset = ((image * PH + py0) * PW + px0) * (long)C + c;
            *(v8u *)(output + offset) = best;
            *(v8u *)(winners + offset) = winner;
        }
}

static inline __attribute__((always_inline))
void output_loops(const float *m, const float *bias, const convnet_convolution_shape *s, long first, int count, int relu,
                  float *output, float *winners) {
    const int OH = s->outputHeight, OW = s->outputWidth, C = s->outputChannels;
    for (int t = 0; t < count; t++) {
        int y0, x0;
        float *block = output + output_block(first + t, s, &y0, &x0);
        for (int c = 0; c < C; c += 8) {
            v8 a[6][6], e[4][6], y[4][4];
            for (int n = 0; n < 36; n++) a[n / 6][n % 6] = *(const v8u *)(m + ((long)n * count + t) * C + c);
            for (int j = 0; j < 6; j++) OUTPUT_1D(a[0][j], a[1][j], a[2][j], a[3][j], a[4][j], a[5][j], e[0][j], e[1][j], e[2][j], e[3][j]);
            for (int i = 0; i < 4; i++) OUTPUT_1D(e[i][0], e[i][1], e[i][2], e[i][3], e[i][4], e[i][5], y[i][0], y[i][1], y[i][2], y[i][3]);
            if (winners) {
                max_pool_block(y, bias, relu, first + t, s, c, output, winners);
                continue;
            }
            const v8 b = *(const v8u *)(bias + c);
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) {
                    if (y0 + i >= OH || x0 + j >= OW) continue;
                    v8 value = y[i][j] + b;
                    if (relu) value = value < 0 ? 0 : value;
                    *(v8u *)(block + ((long)i * OW + j) * C + c) = value;
                }
        }
    }
}

static inline __attribute__((always_inline))
void upstream_loops(const float *upstream, const float *reluOutput, const float *winners, const convnet_convolution_shape *s,
                    long first, int count, float *dM, float *db) {
    const int OH = s->outputHeight, OW = s->outputWidth, C = s->outputChannels, PH = OH / 2, PW = OW / 2;
    for (int t = 0; t < count; t++) {
        int y0, x0;
        const long block = output_block(first + t, s, &y0, &x0);
        long image;
        int row, column;
        place(first + t, s, &image, &row, &column);
        for (int c = 0; c < C; c += 8) {
            v8 y[4][4], e[6][4], a[6][6], sum = *(const v8u *)(db + c);
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) {
                    v8 value = 0;  // beyond the edge (or not its window's winner)
                    if (winners) {
                        const int py = (y0 + i) / 2, px = (x0 + j) / 2;
                        if (py < PH && px < PW) {
                            const long offset = ((image * PH + py) * PW + px) * (long)C + c;
                            value = *(const v8u *)(upstream + offset);
                            value = *(const v8u *)(winners + offset) != (float)(2 * (i % 2) + j % 2) ? 0 : value;
                        }
                    } else if (y0 + i < OH && x0 + j < OW) {
                        const long offset = block + ((long)i * OW + j) * C + c;
                        value = *(const v8u *)(upstream + offset);
                        if (reluOutput) value = *(const v8u *)(reluOutput + offset) <= 0 ? 0 : value;
                    }
                    y[i][j] = value;
                    sum += value;
                }
            *(v8u *)(db + c) = sum;
            for (int j = 0; j < 4; j++) OUTPUT_ADJOINT_1D(y[0][j], y[1][j], y[2][j], y[3][j], e[0][j], e[1][j], e[2][j], e[3][j], e[4][j], e[5][j]);
            for (int i = 0; i < 6; i++) OUTPUT_ADJOINT_1D(e[i][0], e[i][1], e[i][2], e[i][3], a[i][0], a[i][1], a[i][2], a[i][3], a[i][4], a[i][5]);
            for (int n = 0; n < 36; n++) *(v8u *)(dM + ((long)n * count + t) * C + c) = a[n / 6][n % 6];
        }
    }
}

static inline __attribute__((always_inline))
void input_gradient_loops(const float *dV, const convnet_convolution_shape *s, long first, int count, float *dA) {
    const int H = s->inputHeight, W = s->inputWidth, C = s->inputChannels;
    for (int t = 0; t < count; t++) {
        int y0, x0;
        float *block = dA + input_block(first + t, s, &y0, &x0);
        for (int k = 0; k < C; k += 8) {
            v8 u[6][6], e[6][6];
            for (int n = 0; n < 36; n++) u[n / 6][n % 6] = *(const v8u *)(dV + ((long)n * count + t) * C + k);
            for (int j = 0; j < 6; j++)
                INPUT_ADJOINT_1D(u[0][j], u[1][j], u[2][j], u[3][j], u[4][j], u[5][j], e[0][j], e[1][j], e[2][j], e[3][j], e[4][j], e[5][j]);
            for (int i = 0; i < 6; i++)
                INPUT_ADJOINT_1D(e[i][0], e[i][1], e[i][2], e[i][3], e[i][4], e[i][5], u[i][0], u[i][1], u[i][2], u[i][3], u[i][4], u[i][5]);
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 6; j++) {
                    const int y = y0 + i, x = x0 + j;
                    if (y < 0 || y >= H || x < 0 || x >= W) continue;  // padding
                    v8u *target = (v8u *)(block + ((long)i * W + j) * C + k);
                    *target = *target + u[i][j];
                }
        }
    }
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
static void upstream_avx2(const float *upstream, const float *reluOutput, const float *winners, const convnet_convolution_shape *s,
                          long first, int count, float *dM, float *db) {
    upstream_loops(upstream, reluOutput, winners, s, first, count, dM, db);
}

__attribute__((target("avx2,fma")))
static void input_gradient_avx2(const float *dV, const convnet_convolution_shape *s, long first, int count, float *dA) {
    input_gradient_loops(dV, s, first, count, dA);
}

__attribute__((target("avx2,fma")))
static void input_avx2(const float *input, const convnet_convolution_shape *s, long first, int count, float *v) {
    input_loops(input, s, first, count, v);
}

__attribute__((target("avx2,fma")))
static void output_avx2(const float *m, const float *bias, const convnet_convolution_shape *s, long first, int count, int relu,
                        float *output, float *winners) {
    output_loops(m, bias, s, first, count, relu, output, winners);
}
#endif

static void upstream_baseline(const float *upstream, const float *reluOutput, const float *winners, const convnet_convolution_shape *s,
                              long first, int count, float *dM, float *db) {
    upstream_loops(upstream, reluOutput, winners, s, first, count, dM, db);
}

static void input_gradient_baseline(const float *dV, const convnet_convolution_shape *s, long first, int count, float *dA) {
    input_gradient_loops(dV, s, first, count, dA);
}

static void input_baseline(const float *input, const convnet_convolution_shape *s, long first, int count, float *v) {
    input_loops(input, s, first, count, v);
}

static void output_baseline(const float *m, const float *bias, const convnet_convolution_shape *s, long first, int count,
                            int relu, float *output, float *winners) {
    output_loops(m, bias, s, first, count, relu, output, winners);
}

void convnet_winograd4x4_input(const float *input, const convnet_convolution_shape *s, long first, int count, float *v) {
    CONVNET_DISPATCH(input, input, s, first, count, v);
}

void convnet_winograd4x4_output(const float *m, const float *bias, const convnet_convolution_shape *s, long first, int count,
                                int relu, float *output, float *winners) {
    CONVNET_DISPATCH(output, m, bias, s, first, count, relu, output, winners);
}

void convnet_winograd4x4_upstream(const float *upstream, const float *reluOutput, const float *winners,
                                  const convnet_convolution_shape *s, long first, int count, float *dM, float *db) {
    CONVNET_DISPATCH(upstream, upstream, reluOutput, winners, s, first, count, dM, db);
}

void convnet_winograd4x4_input_gradient(const float *dV, const convnet_convolution_shape *s, long first, int count, float *dA) {
    CONVNET_DISPATCH(input_gradient, dV, s, first, count, dA);
}
