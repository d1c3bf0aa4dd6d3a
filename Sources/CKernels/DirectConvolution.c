// Direct NHWC convolution, forward: no im2col copy, no packing of the input. Each output pixel's
// 16-channel block of Z is a vector accumulator; for every tap (p, q, k) it adds the block's 16
// weights times one input value, so the input is read in place and the weights stream from L1.
// Four neighbouring output pixels share each weight load (register blocking over pixels x
// channels). Pixels whose window crosses the border take the same loop with bounds checks.
#include "CKernels.h"
#include <string.h>

typedef float v16 __attribute__((ext_vector_type(16)));
/// The same vector read from or written to memory aligned only as a float.
typedef float v16u __attribute__((ext_vector_type(16), aligned(4)));

long convnet_direct_convolution_packed_count(const convnet_convolution_shape *s) {
    long blocks = (s->outputChannels + CONVNET_DIRECT_BLOCK - 1) / CONVNET_DIRECT_BLOCK;
    return blocks * s->kernelHeight * s->kernelWidth * s->inputChannels * CONVNET_DIRECT_BLOCK;
}

void convnet_direct_convolution_pack(const float *kernel, const convnet_convolution_shape *s, float *packed) {
    const int taps = s->kernelHeight * s->kernelWidth * s->inputChannels, cOut = s->outputChannels;
    const int blocks = (cOut + CONVNET_DIRECT_BLOCK - 1) / CONVNET_DIRECT_BLOCK;
    for (int b = 0; b < blocks; b++)
        for (int t = 0; t < taps; t++)
            for (int j = 0; j < CONVNET_DIRECT_BLOCK; j++) {
                int c = b * CONVNET_DIRECT_BLOCK + j;
                packed[((long)b * taps + t) * CONVNET_DIRECT_BLOCK + j] = c < cOut ? kernel[(long)t * cOut + c] : 0;
            }
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

#if defined(__x86_64__)
/// The loops compiled for AVX2 and FMA (Haswell and later, AMD Zen): 256-bit vectors and fused multiply-adds.
__attribute__((target("avx2,fma")))
static void forward_avx2(const float *input, const float *packed, const float *bias, float *output,
                         const convnet_convolution_shape *s, int first, int count, int relu) {
    forward_loops(input, packed, bias, output, s, first, count, relu);
}
#endif

/// The loops compiled for the architecture's baseline (x86-64: SSE2).
static void forward_baseline(const float *input, const float *packed, const float *bias, float *output,
                             const convnet_convolution_shape *s, int first, int count, int relu) {
    forward_loops(input, packed, bias, output, s, first, count, relu);
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
#if defined(__x86_64__)
    if (convnet_direct_convolution_is_vectorised()) {
        forward_avx2(input, packed, bias, output, s, first, count, relu);
        return;
    }
#endif
    forward_baseline(input, packed, bias, output, s, first, count, relu);
}
