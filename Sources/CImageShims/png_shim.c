// PNG decoding with libpng's low-level API.
//
// libpng's simplified API (png_image_*) would avoid setjmp, but it applies gamma correction: it
// treats 16-bit files as linear and converts them to sRGB when reducing to 8 bits (a stored 0x8000
// becomes 186, not 128), and converts 8-bit files whose gAMA chunk is not sRGB's. Datasets expect
// the stored sample values, so decoding uses the low-level API, whose transforms are explicit.
//
// libpng reports errors through error_fn, which must not return; it longjmps back into
// read_png. Everything read_png allocates is stored in caller-owned memory, because C leaves
// automatic variables of a function changed between setjmp and longjmp indeterminate.

#include "image_shims.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct png_memory_source {
    const unsigned char *data;
    size_t size;
    size_t offset;
};

struct png_error_state {
    char *message;
    size_t messageSize;
};

static void read_from_memory(png_structp png, png_bytep out, size_t count) {
    struct png_memory_source *source = png_get_io_ptr(png);
    if (count > source->size - source->offset) {
        png_error(png, "unexpected end of file (truncated PNG)");
    }
    memcpy(out, source->data + source->offset, count);
    source->offset += count;
}

// Records libpng's message and unwinds to the setjmp in read_png.
static void record_error(png_structp png, png_const_charp text) {
    struct png_error_state *state = png_get_error_ptr(png);
    snprintf(state->message, state->messageSize, "%s", text);
    png_longjmp(png, 1);
}

// Warnings (for example "iCCP: known incorrect sRGB profile") do not affect the samples; libpng
// would print them to stderr, once per file, which floods the log when loading a dataset.
static void ignore_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

// Decodes into `image`; `*rows` is scratch the caller frees. Returns 0, or 1 after a libpng error.
static int read_png(png_structp png, png_infop info, struct png_memory_source *source, size_t maxPixels,
                    ConvNetDecodedImage *image, png_bytep **rows) {
    if (setjmp(png_jmpbuf(png))) {
        return 1;
    }
    png_set_read_fn(png, source, read_from_memory);
    png_read_info(png, info);
    // A decompression bomb: a small file whose header declares a huge image.
    size_t declaredWidth = png_get_image_width(png, info), declaredHeight = png_get_image_height(png, info);
    if (declaredHeight != 0 && declaredWidth > maxPixels / declaredHeight) {
        image->width = (int)declaredWidth;
        image->height = (int)declaredHeight;
        return 2;
    }
    png_set_expand(png);             // palette -> RGB, low-bit gray -> 8 bits, tRNS -> alpha
    png_set_scale_16(png);           // 16 -> 8 bits, rounding
    png_set_interlace_handling(png); // Adam7 files are deinterlaced by png_read_image
    png_read_update_info(png, info);

    size_t width = png_get_image_width(png, info);
    size_t height = png_get_image_height(png, info);
    size_t channels = png_get_channels(png, info);
    size_t rowBytes = png_get_rowbytes(png, info);
    if (rowBytes != width * channels) {
        png_error(png, "unsupported PNG sample layout");
    }
    image->width = (int)width;
    image->height = (int)height;
    image->channels = (int)channels;
    image->pixels = malloc(height * rowBytes);
    *rows = malloc(height * sizeof(png_bytep));
    if (image->pixels == NULL || *rows == NULL) {
        png_error(png, "out of memory for the decoded image");
    }
    for (size_t y = 0; y < height; y++) {
        (*rows)[y] = image->pixels + y * rowBytes;
    }
    png_read_image(png, *rows);
    png_read_end(png, NULL); // reads the chunks after the image data, so truncation is caught
    return 0;
}

int convnet_png_decode(const unsigned char *data, size_t size, size_t maxPixels, ConvNetDecodedImage *image,
                       char *message, size_t messageSize) {
    struct png_memory_source source = {data, size, 0};
    struct png_error_state errorState = {message, messageSize};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &errorState, record_error, ignore_warning);
    png_infop info = png == NULL ? NULL : png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        snprintf(message, messageSize, "out of memory creating the PNG reader");
        return 1;
    }
    ConvNetDecodedImage result = {NULL, 0, 0, 0};
    png_bytep *rows = NULL;
    int status = read_png(png, info, &source, maxPixels, &result, &rows);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    if (status != 0) {
        free(result.pixels);
        if (status == 2) {
            image->width = result.width;
            image->height = result.height;
        }
        return status;
    }
    *image = result;
    return 0;
}

void convnet_image_free(void *buffer) {
    free(buffer);
}
