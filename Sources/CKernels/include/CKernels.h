// The few kernels ConvNet writes in C rather than Swift: loops that should run with the CPU's
// widest vector instructions in a binary built for the architecture's baseline. Swift compiles a
// module for one CPU (SSE2 on x86-64 unless `-target-cpu` says otherwise); clang compiles a C
// function for any instruction set its `target` attribute names, so each loop here is compiled
// twice, for AVX2 + FMA and for the baseline, and the CPU's flags choose at run time. No library
// is linked: this is ConvNet's own code.
#ifndef CONVNET_CKERNELS_H
#define CONVNET_CKERNELS_H

/// The shape of one 2-D convolution in NHWC, as `ConvolutionShape` and `WindowGeometry` give it.
typedef struct {
    int inputHeight, inputWidth, inputChannels;
    int kernelHeight, kernelWidth, outputChannels;
    int outputHeight, outputWidth;
    int strideHeight, strideWidth, dilationHeight, dilationWidth;
    int padTop, padLeft;
} convnet_convolution_shape;

/// Output channels per register block of the direct convolution: one 16-float vector.
enum { CONVNET_DIRECT_BLOCK = 16 };

/// Floats `convnet_direct_convolution_pack` writes: ⌈n_C / 16⌉ · f_h · f_w · n_C_prev · 16.
long convnet_direct_convolution_packed_count(const convnet_convolution_shape *shape);

/// Rearranges the kernel `(f_h, f_w, n_C_prev, n_C)` into blocks of 16 output channels,
/// `packed[block][tap][16]` (tap = (p · f_w + q) · n_C_prev + k), the last block padded with zeros,
/// so that the forward loop reads each block's weights as one contiguous run.
void convnet_direct_convolution_pack(const float *kernel, const convnet_convolution_shape *shape, float *packed);

/// Z[i, h, w, c] = b[c] + Σ_{p, q, k} A[i, h·s_h + p·d_h − pad_top, w·s_w + q·d_w − pad_left, k] · W[p, q, k, c]
/// for images `first ..< first + count`, taps outside the input skipped (zero padding), then
/// max(0, Z) when `relu`. `input` `(m, n_H_prev, n_W_prev, n_C_prev)`, `packed` from
/// `convnet_direct_convolution_pack`, `bias` `(n_C)`, `output` `(m, n_H, n_W, n_C)`.
void convnet_direct_convolution_forward(const float *input, const float *packed, const float *bias, float *output,
                                        const convnet_convolution_shape *shape, int first, int count, int relu);

/// Filters per group of the single-channel loop: six 16-pixel accumulators (twelve 256-bit
/// registers with AVX2), LeNet-5's first layer in one group.
enum { CONVNET_PIXEL_RUN_FILTERS = 6 };

/// Floats `convnet_direct_pixel_runs_pack` writes: ⌈n_C / 6⌉ · f_h · f_w · 6.
long convnet_direct_pixel_runs_packed_count(const convnet_convolution_shape *shape);

/// Rearranges a single-channel kernel `(f_h, f_w, 1, n_C)` into groups of 6 filters,
/// `packed[group][tap][6]` (tap = p · f_w + q), the last group padded with zeros.
void convnet_direct_pixel_runs_pack(const float *kernel, const convnet_convolution_shape *shape, float *packed);

/// Floats of scratch `convnet_direct_pixel_runs_forward` needs per call: one image in its zero border,
/// (n_H + f_h − 1) · (n_W + f_w − 1).
long convnet_direct_pixel_runs_scratch_count(const convnet_convolution_shape *shape);

/// The same Z (and max(0, Z) when `relu`) as `convnet_direct_convolution_forward`, for a
/// single-channel input with stride 1, dilation 1 and `n_W ≥ 16`, vectorised over 16 neighbouring
/// output pixels of a row instead of over filters. `packed` from `convnet_direct_pixel_runs_pack`,
/// `scratch` of `convnet_direct_pixel_runs_scratch_count` floats (one per concurrent call).
void convnet_direct_pixel_runs_forward(const float *input, const float *packed, const float *bias, float *output,
                                       const convnet_convolution_shape *shape, int first, int count, int relu, float *scratch);

/// Floats of scratch `convnet_direct_pixel_runs_kernel_gradient` needs per call: one image in its
/// zero border and the upstream gradient transposed, rows padded to whole runs of 16.
long convnet_direct_pixel_runs_gradient_scratch_count(const convnet_convolution_shape *shape);

/// The kernel gradient of a layer `convnet_direct_pixel_runs_forward` computes, over images
/// `first ..< first + count`, unless `dKernel` is NULL:
/// dW[p, q, 0, c] = Σ_{i, h, w} A[i, h + p − pad_top, w + q − pad_left, 0] · dZ[i, h, w, c]
/// (taps outside the input read zeros), with dZ taken as 0 where `reluOutput` (the forward
/// pass's max(0, Z), or NULL) is not positive; and, unless `dBias` is NULL, db[c] = Σ_{i, h, w} dZ[i, h, w, c].
/// `dKernel` `(f_h, f_w, 1, n_C)` and `dBias` `(n_C)` are overwritten; `scratch` of
/// `convnet_direct_pixel_runs_gradient_scratch_count` floats (one per concurrent call).
void convnet_direct_pixel_runs_kernel_gradient(const float *input, const float *upstream, const float *reluOutput,
                                               float *dKernel, float *dBias, const convnet_convolution_shape *shape,
                                               int first, int count, float *scratch);

/// C (m × n) = A (m × k) · B (k × n), plus C's old value when `accumulate`, for small row-major
/// products without BLAS's packing copies and β pass: element (i, l) of A is
/// `a[i · aRow + l · aDepth]` (A: aRow = lda, aDepth = 1; Aᵀ stored as k × m: aRow = 1, aDepth = its
/// row stride), B's element (l, j) is `b[l · ldb + j]`, C's `c[i · ldc + j]`. `n` must be a multiple
/// of 8. Runs on the calling thread.
void convnet_small_gemm(int m, int n, int k, const float *a, long aRow, long aDepth,
                        const float *b, long ldb, float *c, long ldc, int accumulate);

/// Winograd F(4x4, 3x3)'s input transform V = Bᵀ d B for tiles `first ..< first + count` of the
/// batch (numbered image by image, row by row, each covering 4 x 4 output pixels) and every input
/// channel (n_C_prev a multiple of 8): `v[(ξ · count + t) · n_C_prev + k]` for position ξ = 6 · row
/// + column of the tile's 6 x 6 input block; input outside the image (padding) reads as zero.
/// The same bits as `Winograd<WinogradF4x4>.transformInput` in Swift.
void convnet_winograd4x4_input(const float *input, const convnet_convolution_shape *shape, long first, int count, float *v);

/// Its output transform Y = Aᵀ M A, plus `bias`, then max(0, ·) when `relu`, from `m` laid out as
/// `v` above (n_C a multiple of 8) into the NHWC `output`; pixels of edge tiles beyond the output
/// are dropped. Unless `winners` is NULL, `output` receives Y's 2x2 max pools (stride 2, valid:
/// (m, ⌊n_H/2⌋, ⌊n_W/2⌋, n_C)) instead, and `winners`, in the same layout, which pixel of each
/// window won (0-3 in scan order, the first of equal values; 4 when ReLU zeroed the window).
void convnet_winograd4x4_output(const float *m, const float *bias, const convnet_convolution_shape *shape, long first,
                                int count, int relu, float *output, float *winners);

/// The backward pass's dM = A dY Aᵀ for the same tiles and every filter, into `dM` laid out as `v`
/// (n_C a multiple of 8), dY being the NHWC upstream gradient, zero beyond the output's edge and,
/// unless `reluOutput` is NULL, where it is not positive; adds Σ dY over the tiles' pixels to `db`.
/// Unless `winners` is NULL, `upstream` is the gradient of the pooled output and dY is it routed to
/// each window's winner (`reluOutput` is then not read).
void convnet_winograd4x4_upstream(const float *upstream, const float *reluOutput, const float *winners,
                                  const convnet_convolution_shape *shape, long first, int count, float *dM, float *db);

/// dd = B dV Bᵀ for the same tiles and every input channel, `dV` laid out as `v`, added onto each
/// tile's 6 x 6 input block in the NHWC `dA` (blocks overlap; positions in the padding are dropped).
void convnet_winograd4x4_input_gradient(const float *dV, const convnet_convolution_shape *shape, long first, int count, float *dA);

/// 1 when the loops here (the direct convolution's and `convnet_small_gemm`) run with 256-bit
/// vectors and fused multiply-adds (x86-64 with AVX2 and FMA), 0 when they run their baseline
/// builds, which are no faster than im2col + BLAS.
int convnet_direct_convolution_is_vectorised(void);

#endif
