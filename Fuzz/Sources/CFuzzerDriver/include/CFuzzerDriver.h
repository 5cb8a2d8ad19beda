#ifndef TANDEM_FUZZ_CFUZZERDRIVER_H
#define TANDEM_FUZZ_CFUZZERDRIVER_H

#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer with the command-line arguments in argc and argv, calling callback once per
/// input. Defined by libFuzzer (LLVM 12 and later), which -sanitize=fuzzer links in.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
