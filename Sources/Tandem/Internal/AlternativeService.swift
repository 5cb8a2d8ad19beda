/// One alternative of an `Alt-Svc` field value (RFC 7838, section 3), such as the `h3=":443"`
/// of `h3=":443"; ma=3600`.
struct AlternativeService: Equatable, Sendable {
  /// The ALPN protocol ID, percent-decoded: `h3` for HTTP/3.
  var protocolID: String
  /// The alternative's host, or empty for the origin's own host.
  var host: String
  /// The alternative's port, 1...65535.
  var port: Int
  /// How long the alternative stays valid: the `ma` parameter, 24 hours by default.
  var maxAge: Duration

  /// The content of a whole field value.
  enum FieldValue: Equatable {
    /// `clear`: forget every alternative of the origin.
    case clear
    case alternatives([AlternativeService])
  }

  /// The maximum field value length in bytes that is parsed. A longer value is ignored.
  static let maxFieldLength = 4096
  /// The maximum number of alternatives taken from one field value.
  static let maxAlternatives = 16
  /// The longest `ma` honored: 30 days.
  static let maxMaxAgeSeconds = 30 * 24 * 3600

  /// Parses an `Alt-Svc` field value. Returns `nil` when the value is longer than
  /// ``maxFieldLength`` or does not follow the RFC 7838 grammar, so that a malformed field is
  /// ignored as a whole.
  static func parse(_ value: String) -> FieldValue? {
    let bytes = Array(value.utf8)
    guard bytes.count <= maxFieldLength else { return nil }
    var scanner = Scanner(bytes: bytes)
    scanner.skipWhitespace()
    if scanner.consumeKeyword("clear") {
      scanner.skipWhitespace()
      return scanner.isAtEnd ? .clear : nil
    }
    var alternatives: [AlternativeService] = []
    while true {
      scanner.skipWhitespace()
      if scanner.isAtEnd { break }
      if scanner.consume(UInt8(ascii: ",")) { continue }  // empty list elements are allowed
      guard let alternative = scanner.alternative() else { return nil }
      if alternatives.count < maxAlternatives { alternatives.append(alternative) }
      scanner.skipWhitespace()
      if scanner.isAtEnd { break }
      guard scanner.consume(UInt8(ascii: ",")) else { return nil }
    }
    return alternatives.isEmpty ? nil : .alternatives(alternatives)
  }

  /// A cursor over the bytes of a field value.
  private struct Scanner {
    let bytes: [UInt8]
    var index = 0

    var isAtEnd: Bool { index >= bytes.count }

    mutating func skipWhitespace() {
      while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
    }

    mutating func consume(_ byte: UInt8) -> Bool {
      guard index < bytes.count, bytes[index] == byte else { return false }
      index += 1
      return true
    }

    /// Consumes `keyword` when it is a whole token here.
    mutating func consumeKeyword(_ keyword: String) -> Bool {
      let start = index
      guard let word = token(), word == keyword else {
        index = start
        return false
      }
      return true
    }

    /// Reads a token (RFC 9110, section 5.6.2), or returns `nil` when none starts here.
    mutating func token() -> String? {
      let start = index
      while index < bytes.count, Self.isTokenCharacter(bytes[index]) { index += 1 }
      guard index > start else { return nil }
      return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// Reads a quoted string without its escapes, or returns `nil` when none is complete here.
    mutating func quotedString() -> String? {
      guard consume(UInt8(ascii: "\"")) else { return nil }
      var content: [UInt8] = []
      while index < bytes.count {
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""):
          return String(decoding: content, as: UTF8.self)
        case UInt8(ascii: "\\"):
          guard index < bytes.count else { return nil }
          content.append(bytes[index])
          index += 1
        case 0x00...0x08, 0x0A...0x1F, 0x7F:
          return nil
        default:
          content.append(byte)
        }
      }
      return nil
    }

    /// `protocol-id "=" alt-authority *( OWS ";" OWS parameter )`.
    mutating func alternative() -> AlternativeService? {
      guard let rawID = token(), let protocolID = Self.percentDecoded(rawID), consume(UInt8(ascii: "=")),
        let authority = quotedString(), let (host, port) = Self.hostAndPort(authority)
      else { return nil }
      var maxAge = 86_400
      while true {
        let start = index
        skipWhitespace()
        guard consume(UInt8(ascii: ";")) else {
          index = start
          break
        }
        skipWhitespace()
        guard let name = token(), consume(UInt8(ascii: "=")) else { return nil }
        guard let value = token() ?? quotedString() else { return nil }
        if name.lowercased() == "ma" {
          guard !value.isEmpty, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
          maxAge = value.count > 9 ? AlternativeService.maxMaxAgeSeconds : min(Int(value)!, AlternativeService.maxMaxAgeSeconds)
        }
      }
      return AlternativeService(protocolID: protocolID, host: host, port: port, maxAge: .seconds(maxAge))
    }

    static func isTokenCharacter(_ byte: UInt8) -> Bool {
      switch byte {
      case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        return true
      default:
        return "!#$%&'*+-.^_`|~".utf8.contains(byte)
      }
    }

    /// Decodes `%XX` escapes of a protocol ID; `nil` for a broken escape.
    static func percentDecoded(_ text: String) -> String? {
      var output: [UInt8] = []
      var bytes = text.utf8.makeIterator()
      while let byte = bytes.next() {
        guard byte == UInt8(ascii: "%") else {
          output.append(byte)
          continue
        }
        guard let high = bytes.next().flatMap(hexValue), let low = bytes.next().flatMap(hexValue) else { return nil }
        output.append(high << 4 | low)
      }
      return String(decoding: output, as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
      default: return nil
      }
    }

    /// Splits `host:port` (the host may be empty or a bracketed IPv6 address).
    static func hostAndPort(_ authority: String) -> (String, Int)? {
      guard let colon = authority.lastIndex(of: ":") else { return nil }
      var host = String(authority[..<colon])
      let portText = authority[authority.index(after: colon)...]
      guard !portText.isEmpty, portText.count <= 5, portText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
        let port = Int(portText), (1...65535).contains(port)
      else { return nil }
      if host.hasPrefix("[") {
        guard host.hasSuffix("]"), host.count > 2 else { return nil }
        host = String(host.dropFirst().dropLast())
      } else if host.contains(":") {
        return nil
      }
      return (host, port)
    }
  }
}
