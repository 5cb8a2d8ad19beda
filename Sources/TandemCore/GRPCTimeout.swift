/// The `grpc-timeout` request header: a positive integer of at most 8 digits followed by a
/// unit (`H` hours, `M` minutes, `S` seconds, `m` milliseconds, `u` microseconds,
/// `n` nanoseconds).
public enum GRPCTimeout {
  /// The largest value the header can carry in one unit: 8 digits.
  public static let maxValue: Int64 = 99_999_999

  /// A `grpc-timeout` value that is not 1 to 8 ASCII digits followed by one unit letter.
  public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The rejected header value.
    public var value: String

    public var description: String {
      "Invalid grpc-timeout '\(value)': expected 1 to 8 digits followed by one of H, M, S, m, u, n"
    }
  }

  /// Encodes `timeout` in the finest unit whose value fits in 8 digits, rounding up so the
  /// server never receives a shorter timeout than the client's. A zero or negative timeout
  /// encodes as `0n`; a timeout beyond 99,999,999 hours encodes as `99999999H`.
  public static func encode(_ timeout: Duration) -> String {
    let (seconds, attoseconds) = timeout.components
    if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return "0n" }

    // Nanoseconds, rounded up, saturating well above the largest encodable value.
    let limitSeconds: Int64 = maxValue * 3600 + 1
    let wholeSeconds = min(seconds, limitSeconds)
    let fractionNanos = (attoseconds + 999_999_999) / 1_000_000_000
    let units: [(suffix: String, seconds: Int64, nanos: Int64)] = [
      ("n", 0, 1), ("u", 0, 1_000), ("m", 0, 1_000_000),
      ("S", 1, 0), ("M", 60, 0), ("H", 3600, 0),
    ]
    for unit in units {
      let value: Int64
      if unit.nanos > 0 {
        // Sub-second units: the total in nanoseconds fits in Int64 below 9e9 seconds.
        guard wholeSeconds < 9_000_000_000 else { continue }
        let totalNanos = wholeSeconds * 1_000_000_000 + fractionNanos
        value = (totalNanos + unit.nanos - 1) / unit.nanos
      } else {
        let roundedSeconds = wholeSeconds + (fractionNanos > 0 ? 1 : 0)
        value = (roundedSeconds + unit.seconds - 1) / unit.seconds
      }
      if value <= maxValue { return "\(value)\(unit.suffix)" }
    }
    return "\(maxValue)H"
  }

  /// Parses a `grpc-timeout` header value.
  ///
  /// - Throws: ``ParseError`` naming `value` unless it is 1 to 8 ASCII digits followed by
  ///   exactly one of `H`, `M`, `S`, `m`, `u`, `n`. `0` is accepted and means the deadline
  ///   has already passed.
  public static func parse(_ value: String) throws(ParseError) -> Duration {
    let utf8 = value.utf8
    guard utf8.count >= 2, utf8.count <= 9, let unit = utf8.last else { throw ParseError(value: value) }
    var amount: Int64 = 0
    for byte in utf8.dropLast() {
      guard byte >= 0x30, byte <= 0x39 else { throw ParseError(value: value) }
      amount = amount * 10 + Int64(byte - 0x30)
    }
    switch unit {
    case UInt8(ascii: "H"): return .seconds(amount * 3600)
    case UInt8(ascii: "M"): return .seconds(amount * 60)
    case UInt8(ascii: "S"): return .seconds(amount)
    case UInt8(ascii: "m"): return .milliseconds(amount)
    case UInt8(ascii: "u"): return .microseconds(amount)
    case UInt8(ascii: "n"): return .nanoseconds(amount)
    default: throw ParseError(value: value)
    }
  }
}
