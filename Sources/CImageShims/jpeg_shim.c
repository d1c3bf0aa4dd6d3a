// JPEG decoding and encoding with libjpeg(-turbo).
//
// libjpeg's default error_exit prints the message and calls exit(); its warnings go to stderr and
// decoding carries on (a truncated file comes back padded with grey). Here error_exit records the
// message and longjmps back into read_jpeg or write_jpeg, and warnings that mean corrupt data do the
// same, so a damaged file is reported, like PIL's "image file is truncated", instead of used.
// The libjpeg structs and every buffer live in the caller's frame, because C leaves automatic
// variables of the setjmp function that change before the longjmp indeterminate.

#include "image_shims.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

struct jpeg_error_state {
    struct jpeg_error_mgr manager; // first, so a j_common_ptr's err can be cast to this struct
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

static void record_error_and_jump(j_common_ptr info) {
    struct jpeg_error_state *state = (struct jpeg_error_state *)info->err;
    (*info->err->format_message)(info, state->message);
    longjmp(state->jump, 1);
}

// `level` < 0 is a warning, >= 0 a trace message. Warnings about the stream's content (premature
// end, bad Huffman code, extraneous bytes, ...) are fatal; the three below describe metadata only
// and leave the pixels intact, so they are ignored, as are trace messages.
static void handle_message(j_common_ptr info, int level) {
    if (level >= 0) {
        return;
    }
    switch (info->err->msg_code) {
    case JWRN_JFIF_MAJOR:
    case JWRN_ADOBE_XFORM:
    case JWRN_BOGUS_ICC:
        return;
    default:
        record_error_and_jump(info);
    }
}

static void install_error_handlers(struct jpeg_error_state *state) {
    jpeg_std_error(&state->manager);
    state->manager.error_exit = record_error_and_jump;
    state->manager.emit_message = handle_message;
    state->message[0] = '\0';
}

// Decodes into `image` (whose pixels the caller frees on failure). Returns 0, or 1 with
// `state->message` set.
static int read_jpeg(struct jpeg_decompress_struct *info, struct jpeg_error_state *state,
                     const unsigned char *data, size_t size, size_t maxPixels, ConvNetDecodedImage *image) {
    if (setjmp(state->jump)) {
        return 1;
    }
    jpeg_create_decompress(info);
    jpeg_mem_src(info, data, (unsigned long)size);
    jpeg_read_header(info, TRUE);
    // A decompression bomb: a small file whose header declares a huge image.
    if (info->image_height != 0 && (size_t)info->image_width > maxPixels / info->image_height) {
        image->width = (int)info->image_width;
        image->height = (int)info->image_height;
        return 2;
    }
    switch (info->jpeg_color_space) {
    case JCS_GRAYSCALE:
        info->out_color_space = JCS_GRAYSCALE;
        break;
    case JCS_CMYK:
    case JCS_YCCK:
        snprintf(state->message, sizeof state->message, "CMYK JPEG files are not supported; convert the file to RGB");
        return 1;
    default:
        info->out_color_space = JCS_RGB;
    }
    jpeg_start_decompress(info);

    size_t rowBytes = (size_t)info->output_width * (size_t)info->output_components;
    image->width = (int)info->output_width;
    image->height = (int)info->output_height;
    image->channels = info->output_components;
    image->pixels = malloc((size_t)info->output_height * rowBytes);
    if (image->pixels == NULL) {
        snprintf(state->message, sizeof state->message, "out of memory for a %dx%d JPEG", image->width, image->height);
        return 1;
    }
    while (info->output_scanline < info->output_height) {
        JSAMPROW row = image->pixels + info->output_scanline * rowBytes;
        jpeg_read_scanlines(info, &row, 1);
    }
    jpeg_finish_decompress(info); // reads up to the end-of-image marker, so truncation is caught
    return 0;
}

int convnet_jpeg_decode(const unsigned char *data, size_t size, size_t maxPixels, ConvNetDecodedImage *image,
                        char *message, size_t messageSize) {
    struct jpeg_decompress_struct info;
    struct jpeg_error_state errorState;
    memset(&info, 0, sizeof info); // so jpeg_destroy_decompress is safe even if creation failed
    install_error_handlers(&errorState);
    info.err = &errorState.manager;
    ConvNetDecodedImage result = {NULL, 0, 0, 0};
    int status = read_jpeg(&info, &errorState, data, size, maxPixels, &result);
    jpeg_destroy_decompress(&info);
    if (status != 0) {
        free(result.pixels);
        if (status == 2) {
            image->width = result.width;
            image->height = result.height;
        }
        snprintf(message, messageSize, "%s", errorState.message);
        return status;
    }
    *image = result;
    return 0;
}

// A destination manager that grows a buffer owned by the caller. libjpeg's jpeg_mem_dest frees
// its own buffer when it grows it, so after an error the caller could not tell what to free.
struct growing_destination {
    struct jpeg_destination_mgr manager; // first, so info->dest can be cast to this struct
    unsigned char *buffer;
    size_t capacity;
};

static void start_destination(j_compress_ptr info) {
    struct growing_destination *destination = (struct growing_destination *)info->dest;
    destination->manager.next_output_byte = destination->buffer;
    destination->manager.free_in_buffer = destination->capacity;
}

// Called when the buffer is full: doubles it and continues after the bytes already written.
static boolean grow_destination(j_compress_ptr info) {
    struct growing_destination *destination = (struct growing_destination *)info->dest;
    size_t capacity = destination->capacity * 2;
    unsigned char *grown = realloc(destination->buffer, capacity);
    if (grown == NULL) {
        ERREXIT1(info, JERR_OUT_OF_MEMORY, 0);
    }
    destination->manager.next_output_byte = grown + destination->capacity;
    destination->manager.free_in_buffer = capacity - destination->capacity;
    destination->buffer = grown;
    destination->capacity = capacity;
    return TRUE;
}

static void finish_destination(j_compress_ptr info) {
    (void)info;
}

// Compresses into `destination`. Returns 0, or 1 with `state->message` set.
static int write_jpeg(struct jpeg_compress_struct *info, struct jpeg_error_state *state,
                      struct growing_destination *destination,
                      const unsigned char *pixels, int width, int height, int channels, int quality) {
    if (setjmp(state->jump)) {
        return 1;
    }
    jpeg_create_compress(info);
    info->dest = &destination->manager;
    info->image_width = (JDIMENSION)width;
    info->image_height = (JDIMENSION)height;
    info->input_components = channels;
    info->in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(info);
    jpeg_set_quality(info, quality, TRUE);
    jpeg_start_compress(info, TRUE);
    size_t rowBytes = (size_t)width * (size_t)channels;
    while (info->next_scanline < info->image_height) {
        // libjpeg's API takes non-const rows but only reads them when compressing.
        JSAMPROW row = (JSAMPROW)(pixels + info->next_scanline * rowBytes);
        jpeg_write_scanlines(info, &row, 1);
    }
    jpeg_finish_compress(info);
    return 0;
}

int convnet_jpeg_encode(const unsigned char *pixels, int width, int height, int channels, int quality,
                        unsigned char **jpeg, unsigned long *jpegSize, char *message, size_t messageSize) {
    if (channels != 1 && channels != 3) {
        snprintf(message, messageSize, "JPEG encoding needs 1 or 3 channels, got %d", channels);
        return 1;
    }
    struct growing_destination destination;
    memset(&destination, 0, sizeof destination);
    destination.manager.init_destination = start_destination;
    destination.manager.empty_output_buffer = grow_destination;
    destination.manager.term_destination = finish_destination;
    destination.capacity = 16384;
    destination.buffer = malloc(destination.capacity);
    if (destination.buffer == NULL) {
        snprintf(message, messageSize, "out of memory for the JPEG output");
        return 1;
    }
    struct jpeg_compress_struct info;
    struct jpeg_error_state errorState;
    memset(&info, 0, sizeof info); // so jpeg_destroy_compress is safe even if creation failed
    install_error_handlers(&errorState);
    info.err = &errorState.manager;
    int status = write_jpeg(&info, &errorState, &destination, pixels, width, height, channels, quality);
    size_t written = destination.capacity - destination.manager.free_in_buffer;
    jpeg_destroy_compress(&info);
    if (status != 0) {
        free(destination.buffer);
        snprintf(message, messageSize, "%s", errorState.message);
        return status;
    }
    *jpeg = destination.buffer;
    *jpegSize = (unsigned long)written;
    return 0;
}
