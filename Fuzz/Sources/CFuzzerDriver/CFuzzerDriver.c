// This target provides only the declaration in include/CFuzzerDriver.h. SwiftPM requires a source file.
#include "CFuzzerDriver.h"
