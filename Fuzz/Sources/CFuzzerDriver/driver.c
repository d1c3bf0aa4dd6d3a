// Intentionally empty: the target exists for its header (fuzzer_driver.h), which declares
// libFuzzer's LLVMFuzzerRunDriver for the Swift harness.
#include "fuzzer_driver.h"
