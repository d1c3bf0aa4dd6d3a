// Direct NHWC convolution, forward: no im2col copy, no packing of the input. Two loops:
//
// - Blocks of 16 filters (layers with 8 to 32 filters). Each output pixel's 16-channel block of Z
//   is a vector accumulator; for every tap (p, q, k) it adds the block's 16 weights times one
//   input value, so the input is read in place and the weights stream from L1. Four neighbouring
//   output pixels share each weight load (register blocking over pixels x channels). Pixels whose
//   window crosses the border take the same loop with bounds checks.
// - Runs of 16 pixels (a single input channel and fewer than 8 filters, below).
#include "Dispatch.h"
#include <stdint.h>
#include <string.h>

typedef float v16 __attribute__((ext_vector_type(16)));
/// The same vector read from or written to memory aligned only as a float.
typedef float v16u __attribute__((ext_vector_type(16), aligned(4)));
typedef float v8 __attribute__((ext_vector_type(8)));
typedef float v8u __attribute__((ext_vector_type(8), aligned(4)));

/// Rearranges a kernel `(taps, n_C)` into groups of `group` output channels,
/// `packed[g][tap][group]`, the last group padded with zeros: both loops read a group's weights
/// as one contiguous run.
static void pack_groups(const float *kernel, int taps, int cOut, int group, float *packed) {
    const int groups = (cOut + group - 1) / group;
    for (int g = 0; g < groups; g++)
        for (int t = 0; t < taps; t++)
            for (int j = 0; j < group; j++) {
                int c = g * group + j;
                packed[((long)g * taps + t) * group + j] = c < cOut ? kernel[(long)t * cOut + c] : 0;
            }
}

long convnet_direct_convolution_packed_count(const convnet_convolution_shape *s) {
    long blocks = (s->outputChannels + CONVNET_DIRECT_BLOCK - 1) / CONVNET_DIRECT_BLOCK;
    return blocks * s->kernelHeight * s->kernelWidth * s->inputChannels * CONVNET_DIRECT_BLOCK;
}

void convnet_direct_convolution_pack(const float *kernel, const convnet_convolution_shape *s, float *packed) {
    pack_groups(kernel, s->kernelHeight * s->kernelWidth * s->inputChannels, s->outputChannels, CONVNET_DIRECT_BLOCK, packed);
}

/// Writes `lanes` channels of the vector `z` (max(0, z) when `relu`) to `out`. (A macro: a function
/// taking a 16-float vector by value has a different ABI with AVX2 than without, which clang warns about.)
#define STORE(out, z, lanes, relu) do { \
        v16 value_ = (relu) ? ((z) < 0 ? 0 : (z)) : (z); \
        if ((lanes) == CONVNET_DIRECT_BLOCK) *(v16u *)(out) = value_; \
        else { float lane_[CONVNET_DIRECT_BLOCK]; *(v16u *)lane_ = value_; memcpy((out), lane_, sizeof(float) * (lanes)); } \
    } while (0)

/// The loops, inlined into one function per instruction set below.
static inline __attribute__((always_inline))
void forward_loops(const float *input, const float *packed, const float *bias, float *output,
                   const convnet_convolution_shape *s, int first, int count, int relu) {
    const int H = s->inputHeight, W = s->inputWidth, C = s->inputChannels, cOut = s->outputChannels;
    const int fh = s->kernelHeight, fw = s->kernelWidth, OH = s->outputHeight, OW = s->outputWidth;
    const int sh = s->strideHeight, sw = s->strideWidth, dh = s->dilationHeight, dw = s->dilationWidth;
    const int taps = fh * fw * C, blocks = (cOut + CONVNET_DIRECT_BLOCK - 1) / CONVNET_DIRECT_BLOCK;
    // Output columns whose whole window lies inside the input: no bounds checks there.
    const int xStart = (s->padLeft + sw - 1) / sw;
    const int lastInside = W - 1 + s->padLeft - (fw - 1) * dw;
    const int xEnd = lastInside < 0 ? 0 : (lastInside / sw + 1 < OW ? lastInside / sw + 1 : OW);
    for (int i = first; i < first + count; i++) {
        const float *image = input + (long)i * H * W * C;
        float *z = output + (long)i * OH * OW * cOut;
        for (int b = 0; b < blocks; b++) {
            const float *w = packed + (long)b * taps * CONVNET_DIRECT_BLOCK;
            const int c0 = b * CONVNET_DIRECT_BLOCK;
            const int lanes = cOut - c0 < CONVNET_DIRECT_BLOCK ? cOut - c0 : CONVNET_DIRECT_BLOCK;
            v16 b16 = 0;
            for (int j = 0; j < lanes; j++) b16[j] = bias[c0 + j];
            for (int y = 0; y < OH; y++) {
                const int top = y * sh - s->padTop;
                float *zRow = z + (long)y * OW * cOut + c0;
                int x = 0;
                while (x < OW) {
                    if (x >= xStart && x < xEnd && xEnd - xStart >= 4) {
                        // Four pixels, all taps inside: 4 accumulators share each weight vector. The
                        // last block of the interior ends at its end, overlapping the one before
                        // (a pixel computed twice costs less than one left to the latency-bound
                        // single-pixel loop).
                        if (x + 4 > xEnd) x = xEnd - 4;
                        v16 a0 = b16, a1 = b16, a2 = b16, a3 = b16;
                        const long step = (long)sw * C;
                        for (int p = 0; p < fh; p++) {
                            const int row = top + p * dh;
                            if (row < 0 || row >= H) continue;
                            // Without dilation a kernel row's taps (q, k) are one run of f_w · n_C_prev floats.
                            const int runs = dw == 1 ? 1 : fw, run = dw == 1 ? fw * C : C;
                            for (int r = 0; r < runs; r++) {
                                const float *in = image + ((long)row * W + x * sw - s->padLeft + r * dw) * C;
                                const float *wt = w + ((long)p * fw * C + (long)r * C) * CONVNET_DIRECT_BLOCK;
                                const float *in1 = in + step, *in2 = in1 + step, *in3 = in2 + step;
                                for (int t = 0; t < run; t++) {
                                    const v16 wk = *(const v16u *)(wt + t * CONVNET_DIRECT_BLOCK);
                                    a0 += wk * in[t];
                                    a1 += wk * in1[t];
                                    a2 += wk * in2[t];
                                    a3 += wk * in3[t];
                                }
                            }
                        }
                        STORE(zRow + (long)x * cOut, a0, lanes, relu);
                        STORE(zRow + (long)(x + 1) * cOut, a1, lanes, relu);
                        STORE(zRow + (long)(x + 2) * cOut, a2, lanes, relu);
                        STORE(zRow + (long)(x + 3) * cOut, a3, lanes, relu);
                        x += 4;
                    } else {
                        // One pixel, each tap checked against the border.
                        v16 a = b16;
                        const int left = x * sw - s->padLeft;
                        for (int p = 0; p < fh; p++) {
                            const int row = top + p * dh;
                            if (row < 0 || row >= H) continue;
                            for (int q = 0; q < fw; q++) {
                                const int column = left + q * dw;
                                if (column < 0 || column >= W) continue;
                                const float *in = image + ((long)row * W + column) * C;
                                const float *wt = w + (long)(p * fw + q) * C * CONVNET_DIRECT_BLOCK;
                                for (int k = 0; k < C; k++) a += *(const v16u *)(wt + k * CONVNET_DIRECT_BLOCK) * in[k];
                            }
                        }
                        STORE(zRow + (long)x * cOut, a, lanes, relu);
                        x += 1;
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Single-channel input, few filters (LeNet-5's first layer: 1 channel, 6 filters). Blocks of 16
// filters would leave most lanes idle, so this loop vectorises over output pixels instead: 16
// neighbouring pixels of one output row are a vector, and six filters' accumulators share each
// input vector (stride 1: the 16 inputs a tap meets are contiguous). The image is first copied
// into a zero border, so every window is whole and the loop has no bounds checks.

long convnet_direct_pixel_runs_packed_count(const convnet_convolution_shape *s) {
    long groups = (s->outputChannels + CONVNET_PIXEL_RUN_FILTERS - 1) / CONVNET_PIXEL_RUN_FILTERS;
    return groups * s->kernelHeight * s->kernelWidth * CONVNET_PIXEL_RUN_FILTERS;
}

void convnet_direct_pixel_runs_pack(const float *kernel, const convnet_convolution_shape *s, float *packed) {
    pack_groups(kernel, s->kernelHeight * s->kernelWidth, s->outputChannels, CONVNET_PIXEL_RUN_FILTERS, packed);
}

long convnet_direct_pixel_runs_scratch_count(const convnet_convolution_shape *s) {
    return (long)(s->outputHeight + s->kernelHeight - 1) * (s->outputWidth + s->kernelWidth - 1);
}

/// Copies a single-channel image into `bordered` (`BH × BW`, zero elsewhere) at row `pad_top`,
/// column `pad_left`: a window of output pixel (y, x) then starts at (y, x). Rows and columns no
/// window reaches are dropped.
static inline __attribute__((always_inline))
void border_image(const float *image, const convnet_convolution_shape *s, float *bordered, int BH, int BW) {
    const int H = s->inputHeight, W = s->inputWidth;
    memset(bordered, 0, sizeof(float) * BH * BW);
    for (int r = 0; r < H; r++) {
        const int br = r + s->padTop;
        if (br < 0 || br >= BH) continue;
        for (int c = 0; c < W; c++) {
            const int bc = c + s->padLeft;
            if (bc >= 0 && bc < BW) bordered[(long)br * BW + bc] = image[(long)r * W + c];
        }
    }
}

static inline __attribute__((always_inline))
void pixel_runs_loops(const float *input, const float *packed, const float *bias, float *output,
                const convnet_convolution_shape *s, int first, int count, int relu, float *bordered) {
    const int H = s->inputHeight, W = s->inputWidth, cOut = s->outputChannels;
    const int fh = s->kernelHeight, fw = s->kernelWidth, OH = s->outputHeight, OW = s->outputWidth;
    const int taps = fh * fw, groups = (cOut + CONVNET_PIXEL_RUN_FILTERS - 1) / CONVNET_PIXEL_RUN_FILTERS;
    const int BH = OH + fh - 1, BW = OW + fw - 1;
    for (int i = first; i < first + count; i++) {
        border_image(input + (long)i * H * W, s, bordered, BH, BW);
        float *z = output + (long)i * OH * OW * cOut;
        for (int g = 0; g < groups; g++) {
            const float *w = packed + (long)g * taps * CONVNET_PIXEL_RUN_FILTERS;
            const int c0 = g * CONVNET_PIXEL_RUN_FILTERS;
            const int filters = cOut - c0 < CONVNET_PIXEL_RUN_FILTERS ? cOut - c0 : CONVNET_PIXEL_RUN_FILTERS;
            float b[CONVNET_PIXEL_RUN_FILTERS] = {0};
            for (int j = 0; j < filters; j++) b[j] = bias[c0 + j];
            for (int y = 0; y < OH; y++)
                // 16 pixels at a time; the last run ends at the row's end, overlapping the one before.
                for (int x = 0; x < OW; x += CONVNET_DIRECT_BLOCK) {
                    if (x + CONVNET_DIRECT_BLOCK > OW) x = OW - CONVNET_DIRECT_BLOCK;
                    v16 a[CONVNET_PIXEL_RUN_FILTERS];
                    for (int f = 0; f < CONVNET_PIXEL_RUN_FILTERS; f++) a[f] = b[f];
                    for (int p = 0; p < fh; p++) {
                        const float *in = bordered + (long)(y + p) * BW + x;
                        const float *wt = w + (long)p * fw * CONVNET_PIXEL_RUN_FILTERS;
                        for (int q = 0; q < fw; q++) {
                            const v16 v = *(const v16u *)(in + q);
                            for (int f = 0; f < CONVNET_PIXEL_RUN_FILTERS; f++) a[f] += v * wt[q * CONVNET_PIXEL_RUN_FILTERS + f];
                        }
                    }
                    // Pixel-major accumulators to the NHWC output: a transpose through the stack.
                    float lanes[CONVNET_PIXEL_RUN_FILTERS][CONVNET_DIRECT_BLOCK];
                    for (int f = 0; f < CONVNET_PIXEL_RUN_FILTERS; f++) *(v16u *)lanes[f] = relu ? (a[f] < 0 ? 0 : a[f]) : a[f];
                    float *zRun = z + ((long)y * OW + x) * cOut + c0;
                    for (int j = 0; j < CONVNET_DIRECT_BLOCK; j++)
                        for (int f = 0; f < filters; f++) zRun[(long)j * cOut + f] = lanes[f][j];
                }
        }
    }
}

// The kernel gradient of a pixel-run layer, the same layout turned around:
//
//     dW[p, q, 0, f] = Σ_{i, y, x} B_i[y + p, x + q] · dZ_i[y, x, f]      (B: the bordered image)
//
// dZ is first transposed to one zero-padded row of ⌈n_W / 16⌉ · 16 floats per filter and output
// row (and masked by ReLU when the forward pass applied it), so that for each tap (p, q) a run of
// 8 output pixels is one vector of B times one vector of each filter's dZ: six filters'
// accumulators share each load of B, and the padded columns add zeros.

/// Output columns rounded up to whole 16-pixel runs.
static inline int padded_width(const convnet_convolution_shape *s) {
    return (s->outputWidth + CONVNET_DIRECT_BLOCK - 1) / CONVNET_DIRECT_BLOCK * CONVNET_DIRECT_BLOCK;
}

long convnet_direct_pixel_runs_gradient_scratch_count(const convnet_convolution_shape *s) {
    const long RW = padded_width(s), groups = (s->outputChannels + CONVNET_PIXEL_RUN_FILTERS - 1) / CONVNET_PIXEL_RUN_FILTERS;
    return (s->outputHeight + s->kernelHeight - 1) * (RW + s->kernelWidth - 1)
        + groups * CONVNET_PIXEL_RUN_FILTERS * s->outputHeight * RW;
}

/// `y > 0 ? dz : 0` as a bit mask, not a branch: a branch on the sign of ReLU's output is
/// mispredicted about half the time.
static inline float keep_if_positive(float dz, float y) {
    uint32_t bits;
    memcpy(&bits, &dz, sizeof bits);
    bits &= -(uint32_t)(y > 0);
    memcpy(&dz, &bits, sizeof bits);
    return dz;
}

static inline __attribute__((always_inline))
void pixel_runs_gradient_loops(const float *input, const float *upstream, const float *reluOutput, float *dKernel,
                               float *dBias, const convnet_convolution_shape *s, int first, int count, float *scratch) {
    enum { F = CONVNET_PIXEL_RUN_FILTERS };
    const int H = s->inputHeight, W = s->inputWidth, cOut = s->outputChannels;
    const int fh = s->kernelHeight, fw = s->kernelWidth, OH = s->outputHeight, OW = s->outputWidth;
    const int RW = padded_width(s), BH = OH + fh - 1, BW = RW + fw - 1, groups = (cOut + F - 1) / F;
    float *bordered = scratch, *dzT = scratch + (long)BH * BW;
    if (dKernel) memset(dKernel, 0, sizeof(float) * fh * fw * cOut);
    if (dBias) memset(dBias, 0, sizeof(float) * cOut);
    for (int i = first; i < first + count; i++) {
        border_image(input + (long)i * H * W, s, bordered, BH, BW);
        // dzT[c][y][x] = dZ[y, x, c] (0 where the ReLU output is not positive, and for x ≥ n_W).
        memset(dzT, 0, sizeof(float) * groups * F * OH * RW);
        const float *dz = upstream + (long)i * OH * OW * cOut;
        const float *relued = reluOutput ? reluOutput + (long)i * OH * OW * cOut : 0;
        for (int c = 0; c < cOut; c++)
            for (int y = 0; y < OH; y++) {
                float *row = dzT + ((long)c * OH + y) * RW;
                const long pixel = (long)y * OW * cOut + c;
                if (relued)
                    for (int x = 0; x < OW; x++) row[x] = keep_if_positive(dz[pixel + (long)x * cOut], relued[pixel + (long)x * cOut]);
                else
                    for (int x = 0; x < OW; x++) row[x] = dz[pixel + (long)x * cOut];
            }
        // db[c] = Σ_{y, x} dZ[y, x, c]: the rows just written, eight columns per vector.
        for (int c = 0; dBias && c < cOut; c++) {
            v8 sum = 0;
            for (long e = 0; e < (long)OH * RW; e += 8) sum += *(const v8u *)(dzT + (long)c * OH * RW + e);
            float lanes[8], total = 0;
            *(v8u *)lanes = sum;
            for (int j = 0; j < 8; j++) total += lanes[j];
            dBias[c] += total;
        }
        for (int g = 0; dKernel && g < groups; g++) {
            const float *d = dzT + (long)g * F * OH * RW;
            const int filters = cOut - g * F < F ? cOut - g * F : F;
            for (int p = 0; p < fh; p++)
                for (int q = 0; q < fw; q++) {
                    // Eight pixels per vector: six accumulators, the input and one operand fit in
                    // sixteen 256-bit registers (with 16 the accumulators spilled to the stack).
                    v8 a[F];
                    for (int f = 0; f < F; f++) a[f] = 0;
                    for (int y = 0; y < OH; y++) {
                        const float *in = bordered + (long)(y + p) * BW + q;
                        const float *dRow = d + (long)y * RW;
                        for (int x = 0; x < RW; x += 8) {
                            const v8 v = *(const v8u *)(in + x);
                            for (int f = 0; f < F; f++) a[f] += v * *(const v8u *)(dRow + (long)f * OH * RW + x);
                        }
                    }
                    float *dw = dKernel + (long)(p * fw + q) * cOut + g * F;
                    for (int f = 0; f < filters; f++) {
                        float lanes[8], sum = 0;
                        *(v8u *)lanes = a[f];
                        for (int j = 0; j < 8; j++) sum += lanes[j];
                        dw[f] += sum;
                    }
                }
        }
    }
}

#if defined(__x86_64__)
/// The loops compiled for AVX2 and FMA (Haswell and later, AMD Zen): 256-bit vectors and fused multiply-adds.
__attribute__((target("avx2,fma")))
static void forward_avx2(const float *input, const float *packed, const float *bias, float *output,
                         const convnet_convolution_shape *s, int first, int count, int relu) {
    forward_loops(input, packed, bias, output, s, first, count, relu);
}

__attribute__((target("avx2,fma")))
static void pixel_runs_avx2(const float *input, const float *packed, const float *bias, float *output,
                            const convnet_convolution_shape *s, int first, int count, int relu, float *scratch) {
    pixel_runs_loops(input, packed, bias, output, s, first, count, relu, scratch);
}

__attribute__((target("avx2,fma")))
static void pixel_runs_gradient_avx2(const float *input, const float *upstream, const float *reluOutput, float *dKernel,
                                     float *dBias, const convnet_convolution_shape *s, int first, int count, float *scratch) {
    pixel_runs_gradient_loops(input, upstream, reluOutput, dKernel, dBias, s, first, count, scratch);
}
#endif

/// The loops compiled for the architecture's baseline (x86-64: SSE2).
static void forward_baseline(const float *input, const float *packed, const float *bias, float *output,
                             const convnet_convolution_shape *s, int first, int count, int relu) {
    forward_loops(input, packed, bias, output, s, first, count, relu);
}

static void pixel_runs_baseline(const float *input, const float *packed, const float *bias, float *output,
                                const convnet_convolution_shape *s, int first, int count, int relu, float *scratch) {
    pixel_runs_loops(input, packed, bias, output, s, first, count, relu, scratch);
}

static void pixel_runs_gradient_baseline(const float *input, const float *upstream, const float *reluOutput, float *dKernel,
                                         float *dBias, const convnet_convolution_shape *s, int first, int count, float *scratch) {
    pixel_runs_gradient_loops(input, upstream, reluOutput, dKernel, dBias, s, first, count, scratch);
}

int convnet_direct_convolution_is_vectorised(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

void convnet_direct_convolution_forward(const float *input, const float *packed, const float *bias, float *output,
                                        const convnet_convolution_shape *s, int first, int count, int relu) {
    CONVNET_DISPATCH(forward, input, packed, bias, output, s, first, count, relu);
}

void convnet_direct_pixel_runs_forward(const float *input, const float *packed, const float *bias, float *output,
                                       const convnet_convolution_shape *s, int first, int count, int relu, float *scratch) {
    CONVNET_DISPATCH(pixel_runs, input, packed, bias, output, s, first, count, relu, scratch);
}

void convnet_direct_pixel_runs_kernel_gradient(const float *input, const float *upstream, const float *reluOutput,
                                               float *dKernel, float *dBias, const convnet_convolution_shape *s,
                                               int first, int count, float *scratch) {
    CONVNET_DISPATCH(pixel_runs_gradient, input, upstream, reluOutput, dKernel, dBias, s, first, count, scratch);
}
