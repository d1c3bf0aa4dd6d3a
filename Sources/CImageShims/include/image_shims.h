#ifndef CONVNET_IMAGE_SHIMS_H
#define CONVNET_IMAGE_SHIMS_H

// C entry points around libpng and libjpeg for ConvNet's Swift image codecs.
//
// Both libraries report fatal errors through a callback that must not return (libpng's error_fn,
// libjpeg's error_exit); the standard recovery is setjmp/longjmp, which Swift cannot do. These
// functions keep every setjmp/longjmp inside C and turn failures into a return code plus a
// message, so a corrupt file never aborts the process.
//
// Pixel buffers are 8 bits per sample, rows top to bottom, samples interleaved:
// `pixels[(y * width + x) * channels + c]`.

#include <stddef.h>

/// A decoded image. `pixels` holds `height * width * channels` bytes, allocated with malloc;
/// release it with `convnet_image_free`.
typedef struct {
    unsigned char *pixels;
    int width;
    int height;
    /// 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA.
    int channels;
} ConvNetDecodedImage;

/// Decodes a PNG held in memory. Every colour type and bit depth is expanded to 8-bit samples:
/// palette -> RGB (RGBA with a tRNS chunk), gray of 1, 2 or 4 bits -> 8 bits, tRNS -> alpha,
/// 16 bits -> 8 bits rounded (v * 255 / 65535). Gamma chunks are ignored: the values are the stored
/// samples, as PIL and TensorFlow's decode_png return them.
/// Returns 0 on success; 2, with `image->width` and `height` set and no pixels, when the header
/// declares more than `maxPixels` pixels (checked before anything is allocated); otherwise 1, with
/// a NUL-terminated reason in `message`.
int convnet_png_decode(const unsigned char *data, size_t size, size_t maxPixels, ConvNetDecodedImage *image,
                       char *message, size_t messageSize);

/// Decodes a baseline or progressive JPEG held in memory into gray (1 channel) for grayscale
/// files and RGB (3 channels) for colour files. CMYK files are rejected. A truncated or corrupt
/// stream is an error rather than a silently grey-filled image.
/// Returns 0, 1 or 2 as `convnet_png_decode` does.
int convnet_jpeg_decode(const unsigned char *data, size_t size, size_t maxPixels, ConvNetDecodedImage *image,
                        char *message, size_t messageSize);

/// Encodes 8-bit gray (`channels` 1) or RGB (`channels` 3) pixels as a JPEG of the given quality
/// (1...100). On success returns 0 and sets `*jpeg` (malloc'ed; release with `convnet_image_free`)
/// and `*jpegSize`; otherwise nonzero with a reason in `message`.
int convnet_jpeg_encode(const unsigned char *pixels, int width, int height, int channels, int quality,
                        unsigned char **jpeg, unsigned long *jpegSize, char *message, size_t messageSize);

/// Releases a buffer returned by the functions above.
void convnet_image_free(void *buffer);

#endif
