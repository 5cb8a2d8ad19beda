#if canImport(Glibc)
import Glibc
#endif

/// Facts about the machine.
public enum System {
  /// The number of online processors (`sysconf(_SC_NPROCESSORS_ONLN)`), at least 1.
  public static var coreCount: Int {
    max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
  }
}
