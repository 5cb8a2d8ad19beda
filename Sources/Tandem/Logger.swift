import TandemHTTP
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The severity of a log record.
public enum LogLevel: Int, Sendable, Comparable, CustomStringConvertible {
  case trace, debug, info, notice, warning, error

  public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }

  public var description: String {
    switch self {
    case .trace: return "trace"
    case .debug: return "debug"
    case .info: return "info"
    case .notice: return "notice"
    case .warning: return "warning"
    case .error: return "error"
    }
  }
}

/// A destination for Tandem's log records.
///
/// Tandem logs starts, stops, connection attempts, retries and every error it catches, each
/// with the ids involved (connection, stream, peer, method). Bridge this protocol to
/// swift-log or any other backend by forwarding ``log(level:message:metadata:)``.
public protocol LogHandler: Sendable {
  /// The lowest level this handler records. Tandem skips building records below it.
  var minimumLevel: LogLevel { get }

  /// Records one event. `metadata` contains key-value context such as `peer` or `connection_id`.
  func log(level: LogLevel, message: String, metadata: [(String, String)])
}

/// Writes one line per record to standard error: time, level, message, then `key=value` pairs.
///
/// Repeats of the same message are rate-limited: after 10 identical messages within one
/// second, further ones in that second are counted and reported in one summary line.
public final class StandardErrorLogHandler: LogHandler {
  public let minimumLevel: LogLevel
  private let state = Mutex(RateState())

  private struct RateState {
    var windowStart: ContinuousClock.Instant = .now
    var counts: [String: Int] = [:]
  }

  /// The maximum number of identical messages written per second.
  public static let maximumRepeatsPerSecond = 10

  /// Creates a handler that records `minimumLevel` and above (default `.info`).
  public init(minimumLevel: LogLevel = .info) {
    self.minimumLevel = minimumLevel
  }

  public func log(level: LogLevel, message: String, metadata: [(String, String)]) {
    guard level >= minimumLevel else { return }
    var summary: String?
    let allowed: Bool = state.withLock { state in
      let now = ContinuousClock.now
      if now - state.windowStart >= .seconds(1) {
        let suppressed = state.counts.filter { $0.value > Self.maximumRepeatsPerSecond }
        if !suppressed.isEmpty {
          let total = suppressed.values.reduce(0) { $0 + $1 - Self.maximumRepeatsPerSecond }
          summary = "suppressed \(total) repeated log records in the last second"
        }
        state.windowStart = now
        state.counts.removeAll(keepingCapacity: true)
      }
      let count = (state.counts[message] ?? 0) + 1
      state.counts[message] = count
      return count <= Self.maximumRepeatsPerSecond
    }
    if let summary {
      write(line: "\(timestamp()) notice \(summary)")
    }
    guard allowed else { return }
    var line = "\(timestamp()) \(level) \(message)"
    for (key, value) in metadata {
      line += " \(key)=\(value)"
    }
    write(line: line)
  }

  private func timestamp() -> String {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    var seconds = time_t(now.tv_sec)
    var parts = tm()
    gmtime_r(&seconds, &parts)
    func pad(_ value: Int32, _ width: Int) -> String {
      let text = String(value)
      return String(repeating: "0", count: max(0, width - text.count)) + text
    }
    let millis = Int32(now.tv_nsec / 1_000_000)
    return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
      + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(millis, 3))Z"
  }

  private func write(line: String) {
    var bytes = Array(line.utf8)
    bytes.append(UInt8(ascii: "\n"))
    bytes.withUnsafeBytes { buffer in
      var offset = 0
      while offset < buffer.count {
        let written = Glibc.write(2, buffer.baseAddress! + offset, buffer.count - offset)
        if written <= 0 { return }
        offset += written
      }
    }
  }
}

/// A handler that drops every record.
public struct DiscardingLogHandler: LogHandler {
  public var minimumLevel: LogLevel { .error }
  public init() {}
  public func log(level: LogLevel, message: String, metadata: [(String, String)]) {}
}

extension LogHandler {
  /// This handler as a transport's logger, with the transport's levels mapped to `LogLevel`.
  var transportLogger: HTTPTransportLogger {
    let handler: any LogHandler = self
    return HTTPTransportLogger { level, message, metadata in
      let mapped: LogLevel
      switch level {
      case .debug: mapped = .debug
      case .info: mapped = .info
      case .warning: mapped = .warning
      }
      guard mapped >= handler.minimumLevel else { return }
      handler.log(level: mapped, message: message, metadata: metadata)
    }
  }
}
