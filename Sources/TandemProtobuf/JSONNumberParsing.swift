/// Exact conversion of JSON number text to integers, so that 64-bit values never pass through a
/// `Double`.
enum JSONNumberParsing {
  enum IntegerResult: Equatable {
    case value(negative: Bool, magnitude: UInt64)
    /// Not a number by the JSON grammar, or a number with a non-zero fractional part.
    case invalid
    /// An integer whose magnitude exceeds `UInt64.max`.
    case outOfRange
  }

  /// `true` when `text` matches the RFC 8259 number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
  static func isNumber(_ text: String) -> Bool {
    parts(text) != nil
  }

  private struct Parts {
    var negative: Bool
    /// Digits of the integer and fraction parts, without the decimal point.
    var digits: ArraySlice<UInt8>
    /// Number of those digits after the decimal point.
    var fractionCount: Int
    /// The exponent, clamped to +-100,000 (far beyond any value that fits 64 bits).
    var exponent: Int
  }

  private static func isDigit(_ byte: UInt8) -> Bool {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
  }

  private static func parts(_ text: String) -> Parts? {
    let bytes = Array(text.utf8)
    var index = 0
    var negative = false
    if index < bytes.count && bytes[index] == UInt8(ascii: "-") {
      negative = true
      index += 1
    }

    let integerStart = index
    while index < bytes.count && isDigit(bytes[index]) { index += 1 }
    let integerCount = index - integerStart
    guard integerCount > 0 else { return nil }
    if integerCount > 1 && bytes[integerStart] == UInt8(ascii: "0") { return nil }

    var digits = Array(bytes[integerStart..<index])
    var fractionCount = 0
    if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
      index += 1
      let fractionStart = index
      while index < bytes.count && isDigit(bytes[index]) { index += 1 }
      fractionCount = index - fractionStart
      guard fractionCount > 0 else { return nil }
      digits.append(contentsOf: bytes[fractionStart..<index])
    }

    var exponent = 0
    if index < bytes.count && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E")) {
      index += 1
      var exponentNegative = false
      if index < bytes.count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) {
        exponentNegative = bytes[index] == UInt8(ascii: "-")
        index += 1
      }
      let exponentStart = index
      while index < bytes.count && isDigit(bytes[index]) {
        exponent = min(exponent * 10 + Int(bytes[index] - UInt8(ascii: "0")), 100_000)
        index += 1
      }
      guard index > exponentStart else { return nil }
      if exponentNegative { exponent = -exponent }
    }
    guard index == bytes.count else { return nil }
    return Parts(negative: negative, digits: digits[...], fractionCount: fractionCount, exponent: exponent)
  }

  /// Converts number text such as `-12`, `1.0`, `1e3` or `12300e-2` to an integer. Any digits after
  /// the decimal point, once the exponent is applied, must be zero.
  static func parseInteger(_ text: String) -> IntegerResult {
    guard var parts = parts(text) else { return .invalid }
    while let first = parts.digits.first, first == UInt8(ascii: "0") {
      parts.digits.removeFirst()
    }
    if parts.digits.isEmpty {
      return .value(negative: parts.negative, magnitude: 0)
    }

    // The value is digits * 10^scale.
    var scale = parts.exponent - parts.fractionCount
    var digits = parts.digits
    if scale < 0 {
      let dropped = -scale
      if dropped > digits.count { return .invalid }
      guard digits.suffix(dropped).allSatisfy({ $0 == UInt8(ascii: "0") }) else { return .invalid }
      digits.removeLast(dropped)
      scale = 0
      if digits.isEmpty {
        return .value(negative: parts.negative, magnitude: 0)
      }
    }

    if digits.count + scale > 20 { return .outOfRange }
    var magnitude: UInt64 = 0
    for digit in digits {
      let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
      let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
      if overflow1 || overflow2 { return .outOfRange }
      magnitude = sum
    }
    for _ in 0..<scale {
      let (times10, overflow) = magnitude.multipliedReportingOverflow(by: 10)
      if overflow { return .outOfRange }
      magnitude = times10
    }
    return .value(negative: parts.negative, magnitude: magnitude)
  }
}
