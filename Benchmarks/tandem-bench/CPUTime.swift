#if canImport(Glibc)
import Glibc
#endif

/// CPU time (user + system) of this process and, optionally, of the server process.
struct CPUTime {
  /// This process's user + system time in microseconds, from `getrusage(RUSAGE_SELF)`.
  var clientMicroseconds: Int64
  /// The server's `utime + stime` in microseconds, from `/proc/PID/stat`; `nil` without a
  /// server process id or when the file cannot be read. Its resolution is one clock tick
  /// (usually 10 ms).
  var serverMicroseconds: Int64?

  /// Reads both counters now.
  static func sample(serverPID: Int32?) -> CPUTime {
    CPUTime(clientMicroseconds: ownMicroseconds(), serverMicroseconds: serverPID.flatMap(processMicroseconds))
  }

  private static func ownMicroseconds() -> Int64 {
    var usage = rusage()
    guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
    let user = Int64(usage.ru_utime.tv_sec) * 1_000_000 + Int64(usage.ru_utime.tv_usec)
    let system = Int64(usage.ru_stime.tv_sec) * 1_000_000 + Int64(usage.ru_stime.tv_usec)
    return user + system
  }

  /// Reads fields 14 and 15 (utime, stime, in clock ticks) of `/proc/PID/stat`. The process
  /// name in field 2 may contain spaces, so the fields are counted after its closing `)`.
  private static func processMicroseconds(_ pid: Int32) -> Int64? {
    let descriptor = open("/proc/\(pid)/stat", O_RDONLY)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var buffer = [UInt8](repeating: 0, count: 4096)
    let length = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
    guard length > 0 else { return nil }
    let text = String(decoding: buffer[0..<length], as: UTF8.self)
    guard let nameEnd = text.lastIndex(of: ")") else { return nil }
    // After ")" come field 3 (state), 4, ...; utime is field 14, so index 11 here.
    let fields = text[text.index(after: nameEnd)...].split(separator: " ")
    guard fields.count > 12, let utime = Int64(fields[11]), let stime = Int64(fields[12]) else { return nil }
    let ticksPerSecond = Int64(sysconf(Int32(_SC_CLK_TCK)))
    guard ticksPerSecond > 0 else { return nil }
    return (utime + stime) * 1_000_000 / ticksPerSecond
  }

  /// Returns the time used between `start` and `self` as `RESULT` fields in microseconds per
  /// `unit` (for example per call): `client_cpu_us_per_<unit>` and, when both samples have it,
  /// `server_cpu_us_per_<unit>`.
  func fields(since start: CPUTime, per count: Int, unit: String) -> [String] {
    let divisor = Double(max(count, 1))
    var fields = [
      "client_cpu_s=\(format(Double(clientMicroseconds - start.clientMicroseconds) / 1e6, digits: 3))",
      "client_cpu_us_per_\(unit)=\(format(Double(clientMicroseconds - start.clientMicroseconds) / divisor, digits: 1))",
    ]
    if let end = serverMicroseconds, let begin = start.serverMicroseconds {
      fields.append("server_cpu_s=\(format(Double(end - begin) / 1e6, digits: 3))")
      fields.append("server_cpu_us_per_\(unit)=\(format(Double(end - begin) / divisor, digits: 1))")
    }
    return fields
  }
}
