/// A strict RFC 8259 JSON parser that builds a ``JSONValue`` tree.
///
/// It rejects what RFC 8259 does not allow: comments, trailing commas, single quotes, leading
/// zeros, `NaN` literals, control characters in strings, unpaired UTF-16 surrogate escapes and
/// invalid UTF-8. It also rejects duplicate keys in one object, nesting deeper than the recursion
/// limit, and content after the top-level value.
struct JSONParser {
  private let bytes: UnsafeBufferPointer<UInt8>
  private var index = 0
  private let recursionLimit: Int
  private var depth = 0
  /// Keys and indexes from the top-level value down to the value being parsed, for errors.
  private var path: [JSONPathComponent] = []
  /// Reusable buffer for strings with escapes.
  private var scratch: [UInt8] = []

  init(bytes: UnsafeBufferPointer<UInt8>, recursionLimit: Int) {
    self.bytes = bytes
    self.recursionLimit = recursionLimit
  }

  /// Parses `bytes` as one JSON value, surrounded by optional whitespace.
  static func parse(_ bytes: UnsafeBufferPointer<UInt8>, options: JSONDecodingOptions) throws(JSONDecodingError) -> JSONValue {
    if bytes.count > options.maxInputBytes {
      throw JSONDecodingError(kind: .inputTooLarge(size: bytes.count, limit: options.maxInputBytes), path: "$")
    }
    var parser = JSONParser(bytes: bytes, recursionLimit: options.recursionLimit)
    parser.skipWhitespace()
    let value = try parser.parseValue()
    parser.skipWhitespace()
    if parser.index < bytes.count {
      throw parser.malformed("unexpected content after the top-level value")
    }
    return value
  }

  private func malformed(_ reason: String, at offset: Int? = nil) -> JSONDecodingError {
    JSONDecodingError(kind: .malformedJSON(offset: offset ?? index, reason: reason), path: JSONPathComponent.render(path))
  }

  private mutating func skipWhitespace() {
    while index < bytes.count {
      switch bytes[index] {
      case 0x20, 0x09, 0x0A, 0x0D: index += 1
      default: return
      }
    }
  }

  private func describeByte(_ byte: UInt8) -> String {
    if byte >= 0x20 && byte < 0x7F {
      return "'\(Character(Unicode.Scalar(byte)))'"
    }
    return "byte 0x\(String(byte, radix: 16))"
  }

  private mutating func parseValue() throws(JSONDecodingError) -> JSONValue {
    guard index < bytes.count else { throw malformed("unexpected end of input, expected a value") }
    switch bytes[index] {
    case UInt8(ascii: "{"):
      return try parseObject()
    case UInt8(ascii: "["):
      return try parseArray()
    case UInt8(ascii: "\""):
      return .string(try parseString())
    case UInt8(ascii: "t"):
      try expectLiteral("true")
      return .bool(true)
    case UInt8(ascii: "f"):
      try expectLiteral("false")
      return .bool(false)
    case UInt8(ascii: "n"):
      try expectLiteral("null")
      return .null
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      return .number(try parseNumber())
    default:
      throw malformed("unexpected \(describeByte(bytes[index])), expected a value")
    }
  }

  private mutating func expectLiteral(_ literal: StaticString) throws(JSONDecodingError) {
    let start = index
    let count = literal.utf8CodeUnitCount
    guard index + count <= bytes.count else { throw malformed("invalid literal, expected \(literal)", at: start) }
    let expected = UnsafeBufferPointer(start: literal.utf8Start, count: count)
    for offset in 0..<count where bytes[index + offset] != expected[offset] {
      throw malformed("invalid literal, expected \(literal)", at: start)
    }
    index += count
  }

  private mutating func enterContainer() throws(JSONDecodingError) {
    depth += 1
    // The top-level container is depth 1; the limit counts the levels below it.
    if depth - 1 > recursionLimit {
      throw JSONDecodingError(kind: .recursionLimitExceeded(limit: recursionLimit), path: JSONPathComponent.render(path))
    }
  }

  private mutating func parseObject() throws(JSONDecodingError) -> JSONValue {
    try enterContainer()
    defer { depth -= 1 }
    index += 1
    var members: [JSONMember] = []
    var keys: Set<String> = []
    skipWhitespace()
    if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
      index += 1
      return .object(members)
    }
    while true {
      skipWhitespace()
      guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
        throw malformed(index < bytes.count ? "expected a string key" : "unexpected end of input inside an object")
      }
      let key = try parseString()
      path.append(.key(key))
      if !keys.insert(key).inserted {
        throw JSONDecodingError(kind: .duplicateKey(key), path: JSONPathComponent.render(path))
      }
      skipWhitespace()
      guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
        throw malformed("expected ':' after an object key")
      }
      index += 1
      skipWhitespace()
      let value = try parseValue()
      path.removeLast()
      members.append(JSONMember(key: key, value: value))
      skipWhitespace()
      guard index < bytes.count else { throw malformed("unexpected end of input inside an object") }
      if bytes[index] == UInt8(ascii: ",") {
        index += 1
        continue
      }
      if bytes[index] == UInt8(ascii: "}") {
        index += 1
        return .object(members)
      }
      throw malformed("unexpected \(describeByte(bytes[index])), expected ',' or '}'")
    }
  }

  private mutating func parseArray() throws(JSONDecodingError) -> JSONValue {
    try enterContainer()
    defer { depth -= 1 }
    index += 1
    var elements: [JSONValue] = []
    skipWhitespace()
    if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
      index += 1
      return .array(elements)
    }
    while true {
      skipWhitespace()
      path.append(.index(elements.count))
      elements.append(try parseValue())
      path.removeLast()
      skipWhitespace()
      guard index < bytes.count else { throw malformed("unexpected end of input inside an array") }
      if bytes[index] == UInt8(ascii: ",") {
        index += 1
        continue
      }
      if bytes[index] == UInt8(ascii: "]") {
        index += 1
        return .array(elements)
      }
      throw malformed("unexpected \(describeByte(bytes[index])), expected ',' or ']'")
    }
  }

  /// Parses a number by the RFC 8259 grammar and returns its text unchanged.
  private mutating func parseNumber() throws(JSONDecodingError) -> String {
    let start = index
    if bytes[index] == UInt8(ascii: "-") { index += 1 }
    guard index < bytes.count, isDigit(bytes[index]) else { throw malformed("expected a digit", at: index) }
    if bytes[index] == UInt8(ascii: "0") {
      index += 1
      if index < bytes.count, isDigit(bytes[index]) {
        throw malformed("numbers must not have leading zeros", at: start)
      }
    } else {
      while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }
    if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
      index += 1
      guard index < bytes.count, isDigit(bytes[index]) else { throw malformed("expected a digit after '.'") }
      while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }
    if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
      index += 1
      if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
      guard index < bytes.count, isDigit(bytes[index]) else { throw malformed("expected a digit in the exponent") }
      while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }
    return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
  }

  private func isDigit(_ byte: UInt8) -> Bool {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
  }

  /// Parses a string starting at its opening quote.
  private mutating func parseString() throws(JSONDecodingError) -> String {
    let start = index
    index += 1
    // Fast path: no escapes.
    var end = index
    while end < bytes.count {
      let byte = bytes[end]
      if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { break }
      end += 1
    }
    if end < bytes.count && bytes[end] == UInt8(ascii: "\"") {
      let content = UnsafeBufferPointer(rebasing: bytes[index..<end])
      guard UTF8Validation.isValid(content) else { throw malformed("string is not valid UTF-8", at: start) }
      index = end + 1
      return String(decoding: content, as: UTF8.self)
    }

    scratch.removeAll(keepingCapacity: true)
    scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[index..<end]))
    index = end
    while true {
      guard index < bytes.count else { throw malformed("unterminated string", at: start) }
      let byte = bytes[index]
      if byte == UInt8(ascii: "\"") {
        index += 1
        break
      }
      if byte < 0x20 {
        throw malformed("control character \(describeByte(byte)) in a string must be escaped")
      }
      if byte != UInt8(ascii: "\\") {
        scratch.append(byte)
        index += 1
        continue
      }
      index += 1
      guard index < bytes.count else { throw malformed("unterminated escape sequence") }
      let escape = bytes[index]
      index += 1
      switch escape {
      case UInt8(ascii: "\""): scratch.append(UInt8(ascii: "\""))
      case UInt8(ascii: "\\"): scratch.append(UInt8(ascii: "\\"))
      case UInt8(ascii: "/"): scratch.append(UInt8(ascii: "/"))
      case UInt8(ascii: "b"): scratch.append(0x08)
      case UInt8(ascii: "f"): scratch.append(0x0C)
      case UInt8(ascii: "n"): scratch.append(0x0A)
      case UInt8(ascii: "r"): scratch.append(0x0D)
      case UInt8(ascii: "t"): scratch.append(0x09)
      case UInt8(ascii: "u"):
        let scalar = try parseUnicodeEscape()
        appendUTF8(scalar)
      default:
        throw malformed("invalid escape sequence \\\(Character(Unicode.Scalar(escape)))", at: index - 2)
      }
    }
    let valid = scratch.withUnsafeBufferPointer { UTF8Validation.isValid($0) }
    guard valid else { throw malformed("string is not valid UTF-8", at: start) }
    return String(decoding: scratch, as: UTF8.self)
  }

  /// Parses the hex digits after `\u`, joining a surrogate pair into one scalar.
  private mutating func parseUnicodeEscape() throws(JSONDecodingError) -> UInt32 {
    let escapeStart = index - 2
    let first = try parseHex4()
    if first >= 0xDC00 && first <= 0xDFFF {
      throw malformed("unpaired low surrogate \\u\(String(first, radix: 16))", at: escapeStart)
    }
    guard first >= 0xD800 && first <= 0xDBFF else { return first }
    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
      throw malformed("unpaired high surrogate \\u\(String(first, radix: 16))", at: escapeStart)
    }
    index += 2
    let second = try parseHex4()
    guard second >= 0xDC00 && second <= 0xDFFF else {
      throw malformed("high surrogate \\u\(String(first, radix: 16)) is not followed by a low surrogate", at: escapeStart)
    }
    return 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
  }

  private mutating func parseHex4() throws(JSONDecodingError) -> UInt32 {
    guard index + 4 <= bytes.count else { throw malformed("\\u escape needs four hex digits") }
    var value: UInt32 = 0
    for _ in 0..<4 {
      let byte = bytes[index]
      let digit: UInt32
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
      default: throw malformed("\\u escape needs four hex digits")
      }
      value = value << 4 | digit
      index += 1
    }
    return value
  }

  private mutating func appendUTF8(_ scalar: UInt32) {
    switch scalar {
    case 0..<0x80:
      scratch.append(UInt8(scalar))
    case 0x80..<0x800:
      scratch.append(UInt8(0xC0 | scalar >> 6))
      scratch.append(UInt8(0x80 | scalar & 0x3F))
    case 0x800..<0x10000:
      scratch.append(UInt8(0xE0 | scalar >> 12))
      scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
      scratch.append(UInt8(0x80 | scalar & 0x3F))
    default:
      scratch.append(UInt8(0xF0 | scalar >> 18))
      scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
      scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
      scratch.append(UInt8(0x80 | scalar & 0x3F))
    }
  }
}

/// One step of a JSONPath: an object key or an array index.
enum JSONPathComponent: Sendable, Hashable {
  case key(String)
  case index(Int)

  /// Renders `$`, then `.key` for keys made of letters, digits and `_`, `["key"]` for other keys,
  /// and `[index]` for array elements.
  static func render(_ components: [JSONPathComponent]) -> String {
    var result = "$"
    for component in components {
      switch component {
      case .key(let key):
        let plain = !key.isEmpty && key.utf8.allSatisfy { byte in
          (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
        }
        if plain {
          result += "." + key
        } else {
          var escaped = ""
          JSONStringEscaping.appendQuoted(key, to: &escaped)
          result += "[" + escaped + "]"
        }
      case .index(let index):
        result += "[\(index)]"
      }
    }
    return result
  }
}
