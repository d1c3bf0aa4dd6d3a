// The one dispatch of CKernels: each loop is written once, inlined into a build for AVX2 + FMA
// (`loop_avx2`, x86-64 only) and one for the architecture's baseline (`loop_baseline`), and
// `CONVNET_DISPATCH(loop, arguments…)` calls the AVX2 build where the CPU has both extensions.
#ifndef CONVNET_CKERNELS_DISPATCH_H
#define CONVNET_CKERNELS_DISPATCH_H

#include "CKernels.h"

#if defined(__x86_64__)
#define CONVNET_DISPATCH(loop, ...) \
    (convnet_direct_convolution_is_vectorised() ? loop##_avx2(__VA_ARGS__) : loop##_baseline(__VA_ARGS__))
#else
#define CONVNET_DISPATCH(loop, ...) loop##_baseline(__VA_ARGS__)
#endif

#endif
