/// Name checks, escaping and number formatting of the Prometheus text exposition format 0.0.4.
///
/// Source: "Exposition formats" in the Prometheus documentation (prometheus.io/docs/instrumenting/exposition_formats).
enum PrometheusTextFormat {
  /// The media type of the format, as sent in `Content-Type`.
  static let contentType = "text/plain; version=0.0.4; charset=utf-8"

  /// Returns whether `name` is a valid metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
  static func isValidMetricName(_ name: String) -> Bool {
    var isFirst = true
    for byte in name.utf8 {
      let allowed = isLetterOrUnderscore(byte) || byte == UInt8(ascii: ":") || (!isFirst && isDigit(byte))
      guard allowed else { return false }
      isFirst = false
    }
    return !isFirst
  }

  /// Returns whether `name` is a valid label name: `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`,
  /// which Prometheus reserves for its own use.
  static func isValidLabelName(_ name: String) -> Bool {
    var isFirst = true
    for byte in name.utf8 {
      let allowed = isLetterOrUnderscore(byte) || (!isFirst && isDigit(byte))
      guard allowed else { return false }
      isFirst = false
    }
    return !isFirst && !name.hasPrefix("__")
  }

  private static func isLetterOrUnderscore(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
      || byte == UInt8(ascii: "_")
  }

  private static func isDigit(_ byte: UInt8) -> Bool {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
  }

  /// Appends `value` as the inside of a quoted label value: backslash, double quote and line
  /// feed become `\\`, `\"` and `\n`. Other characters, including other control characters,
  /// pass unchanged, as the format defines.
  static func appendEscapedLabelValue(_ value: String, to output: inout String) {
    let needsEscaping = value.utf8.contains { byte in
      byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\n")
    }
    guard needsEscaping else {
      output += value
      return
    }
    for scalar in value.unicodeScalars {
      switch scalar {
      case "\\": output += "\\\\"
      case "\"": output += "\\\""
      case "\n": output += "\\n"
      default: output.unicodeScalars.append(scalar)
      }
    }
  }

  /// Appends `text` as a `# HELP` docstring: backslash and line feed become `\\` and `\n`.
  static func appendEscapedHelp(_ text: String, to output: inout String) {
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\\": output += "\\\\"
      case "\n": output += "\\n"
      default: output.unicodeScalars.append(scalar)
      }
    }
  }

  /// Formats a sample value or a bucket bound: `NaN`, `+Inf`, `-Inf`, integral values below
  /// 2^53 without a fraction (`1`, not `1.0`), and others in Swift's shortest round-trip form
  /// (`0.005`, `1e-05`), which Prometheus parses.
  static func format(_ value: Double) -> String {
    if value.isNaN {
      return "NaN"
    }
    if value.isInfinite {
      return value > 0 ? "+Inf" : "-Inf"
    }
    if value == value.rounded(), abs(value) < 9_007_199_254_740_992 {
      return String(Int64(value))
    }
    return value.description
  }
}
