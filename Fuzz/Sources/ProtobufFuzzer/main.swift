import CFuzzerDriver

#if canImport(Glibc)
  import Glibc
#endif

// Runs libFuzzer with this program's arguments (-runs=N, -max_total_time=S, corpus folders and
// the other libFuzzer flags) and exits with its status.
var arguments = CommandLine.argc
var argumentValues: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&arguments, &argumentValues, { checkInput($0, $1) }))
