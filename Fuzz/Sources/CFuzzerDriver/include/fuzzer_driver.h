#ifndef CONVNET_FUZZER_DRIVER_H
#define CONVNET_FUZZER_DRIVER_H

#include <stddef.h>
#include <stdint.h>

// libFuzzer's entry for programs with their own main (LLVM 11 and later). SwiftPM on Linux names
// an executable's entry point <module>_main and points `main` at it, so the harness calls this
// instead of relying on libFuzzer's main.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
