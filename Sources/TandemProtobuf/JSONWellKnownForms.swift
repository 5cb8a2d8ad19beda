/// Text forms of `google.protobuf.Timestamp`, `Duration` and `FieldMask` in the JSON mapping.
enum JSONWellKnownForms {
  /// Seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z since the Unix epoch: the range that
  /// `Timestamp` allows.
  static let minTimestampSeconds: Int64 = -62_135_596_800
  static let maxTimestampSeconds: Int64 = 253_402_300_799
  /// Largest `Duration` in seconds: 10,000 years of 365.25 days.
  static let maxDurationSeconds: Int64 = 315_576_000_000

  static func isValidTimestamp(seconds: Int64, nanos: Int32) -> Bool {
    seconds >= minTimestampSeconds && seconds <= maxTimestampSeconds && nanos >= 0 && nanos <= 999_999_999
  }

  static func isValidDuration(seconds: Int64, nanos: Int32) -> Bool {
    guard seconds >= -maxDurationSeconds && seconds <= maxDurationSeconds else { return false }
    guard nanos >= -999_999_999 && nanos <= 999_999_999 else { return false }
    return !(seconds > 0 && nanos < 0) && !(seconds < 0 && nanos > 0)
  }

  // MARK: Calendar

  /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
  static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let shiftedMonth = month > 2 ? month - 3 : month + 9
    let dayOfYear = (153 * shiftedMonth + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
  }

  /// Returns the proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's civil_from_days).
  static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let shiftedMonth = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
    let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
    return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
  }

  private static func padded(_ value: Int64, width: Int) -> String {
    let text = String(value)
    return String(repeating: "0", count: max(0, width - text.count)) + text
  }

  /// Nanoseconds as `.fff`, `.ffffff` or `.fffffffff` (the fewest groups of three digits that
  /// keep every non-zero digit), or nothing for zero.
  private static func fraction(_ nanos: Int32) -> String {
    if nanos == 0 { return "" }
    if nanos % 1_000_000 == 0 { return "." + padded(Int64(nanos / 1_000_000), width: 3) }
    if nanos % 1000 == 0 { return "." + padded(Int64(nanos / 1000), width: 6) }
    return "." + padded(Int64(nanos), width: 9)
  }

  // MARK: Timestamp

  /// RFC 3339 in UTC with a `Z` suffix, for example `1972-01-01T10:00:20.021Z`. The caller checks
  /// the range first.
  static func formatTimestamp(seconds: Int64, nanos: Int32) -> String {
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let secondOfDay = seconds - days * 86_400
    let date = civilFromDays(days)
    return padded(date.year, width: 4) + "-" + padded(date.month, width: 2) + "-" + padded(date.day, width: 2)
      + "T" + padded(secondOfDay / 3600, width: 2) + ":" + padded(secondOfDay / 60 % 60, width: 2) + ":"
      + padded(secondOfDay % 60, width: 2) + fraction(nanos) + "Z"
  }

  /// Parses `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+HH:MM|-HH:MM)`; `t` and `z` may be lower case.
  /// Returns nil for any other text, an invalid date or time, or a result outside the range.
  static func parseTimestamp(_ text: String) -> (seconds: Int64, nanos: Int32)? {
    var scanner = DigitScanner(text)
    guard let year = scanner.number(digits: 4), scanner.consume("-"),
      let month = scanner.number(digits: 2), scanner.consume("-"),
      let day = scanner.number(digits: 2), scanner.consume("T") || scanner.consume("t"),
      let hour = scanner.number(digits: 2), scanner.consume(":"),
      let minute = scanner.number(digits: 2), scanner.consume(":"),
      let second = scanner.number(digits: 2)
    else { return nil }

    var nanos: Int64 = 0
    if scanner.consume(".") {
      guard let parsed = scanner.fractionNanos() else { return nil }
      nanos = parsed
    }

    var offsetSeconds: Int64 = 0
    if scanner.consume("Z") || scanner.consume("z") {
      offsetSeconds = 0
    } else {
      let sign: Int64
      if scanner.consume("+") {
        sign = 1
      } else if scanner.consume("-") {
        sign = -1
      } else {
        return nil
      }
      guard let offsetHours = scanner.number(digits: 2), scanner.consume(":"),
        let offsetMinutes = scanner.number(digits: 2), offsetHours <= 23, offsetMinutes <= 59
      else { return nil }
      offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
    }
    guard scanner.isAtEnd else { return nil }

    guard month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year: year, month: month) else { return nil }
    guard hour <= 23 && minute <= 59 && second <= 59 else { return nil }
    let seconds = daysFromCivil(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
      - offsetSeconds
    guard isValidTimestamp(seconds: seconds, nanos: Int32(nanos)) else { return nil }
    return (seconds, Int32(nanos))
  }

  private static func daysInMonth(year: Int64, month: Int64) -> Int64 {
    switch month {
    case 2:
      let isLeap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
      return isLeap ? 29 : 28
    case 4, 6, 9, 11:
      return 30
    default:
      return 31
    }
  }

  // MARK: Duration

  /// Seconds with 0, 3, 6 or 9 fractional digits and an `s` suffix, for example `-1.500s`. The
  /// caller checks the range first.
  static func formatDuration(seconds: Int64, nanos: Int32) -> String {
    let negative = seconds < 0 || nanos < 0
    let sign = negative ? "-" : ""
    return sign + String(seconds.magnitude) + fraction(Int32(nanos.magnitude)) + "s"
  }

  /// Parses `[-]S[.f{1,9}]s`. Returns nil for any other text or a result outside the range.
  static func parseDuration(_ text: String) -> (seconds: Int64, nanos: Int32)? {
    var scanner = DigitScanner(text)
    let negative = scanner.consume("-")
    guard let seconds = scanner.number(maxDigits: 12) else { return nil }
    var nanos: Int64 = 0
    if scanner.consume(".") {
      guard let parsed = scanner.fractionNanos() else { return nil }
      nanos = parsed
    }
    guard scanner.consume("s"), scanner.isAtEnd else { return nil }
    let signedSeconds = negative ? -seconds : seconds
    let signedNanos = Int32(negative ? -nanos : nanos)
    guard isValidDuration(seconds: signedSeconds, nanos: signedNanos) else { return nil }
    return (signedSeconds, signedNanos)
  }

  // MARK: FieldMask

  /// `foo_bar.baz` -> `fooBar.baz`; nil when the path has an upper-case letter or a `_` that is not
  /// followed by a lower-case letter, because such a path would not convert back unchanged.
  static func camelCasePath(_ path: String) -> String? {
    var result = ""
    var afterUnderscore = false
    for character in path {
      if character.isUppercase { return nil }
      if afterUnderscore {
        guard character.isLowercase else { return nil }
        result += character.uppercased()
        afterUnderscore = false
      } else if character == "_" {
        afterUnderscore = true
      } else {
        result.append(character)
      }
    }
    return afterUnderscore ? nil : result
  }

  /// `fooBar.baz` -> `foo_bar.baz`; nil when the JSON path contains `_`.
  static func snakeCasePath(_ path: String) -> String? {
    var result = ""
    for character in path {
      if character == "_" { return nil }
      if character.isUppercase {
        result += "_" + character.lowercased()
      } else {
        result.append(character)
      }
    }
    return result
  }
}

/// Reads ASCII digits and punctuation from the front of a string.
private struct DigitScanner {
  private let bytes: [UInt8]
  private var index = 0

  init(_ text: String) {
    bytes = Array(text.utf8)
  }

  var isAtEnd: Bool { index == bytes.count }

  mutating func consume(_ character: Unicode.Scalar) -> Bool {
    guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
    index += 1
    return true
  }

  private func digit(at position: Int) -> Int64? {
    guard position < bytes.count, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") else {
      return nil
    }
    return Int64(bytes[position] - UInt8(ascii: "0"))
  }

  /// Reads exactly `digits` decimal digits.
  mutating func number(digits: Int) -> Int64? {
    var value: Int64 = 0
    for offset in 0..<digits {
      guard let digit = digit(at: index + offset) else { return nil }
      value = value * 10 + digit
    }
    index += digits
    return value
  }

  /// Reads one to `maxDigits` decimal digits.
  mutating func number(maxDigits: Int) -> Int64? {
    var value: Int64 = 0
    var count = 0
    while let digit = digit(at: index) {
      guard count < maxDigits else { return nil }
      value = value * 10 + digit
      index += 1
      count += 1
    }
    return count == 0 ? nil : value
  }

  /// Reads one to nine fractional digits and returns them as nanoseconds.
  mutating func fractionNanos() -> Int64? {
    var value: Int64 = 0
    var count = 0
    while let digit = digit(at: index) {
      guard count < 9 else { return nil }
      value = value * 10 + digit
      index += 1
      count += 1
    }
    guard count > 0 else { return nil }
    for _ in count..<9 {
      value *= 10
    }
    return value
  }
}
