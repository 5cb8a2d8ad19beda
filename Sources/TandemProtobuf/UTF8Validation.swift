/// Strict UTF-8 validation as protobuf requires for `string` fields: rejects overlong forms, UTF-16
/// surrogates (U+D800 to U+DFFF), code points above U+10FFFF and truncated sequences.
@usableFromInline
enum UTF8Validation {
  @usableFromInline
  static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    let count = bytes.count
    guard let base = bytes.baseAddress else { return true }
    var index = 0
    // ASCII fast path: eight bytes at a time.
    while index + 8 <= count {
      let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
      if word & 0x8080_8080_8080_8080 != 0 { break }
      index += 8
    }
    while index < count {
      let lead = base[index]
      if lead < 0x80 {
        index += 1
        continue
      }
      let length: Int
      var lower: UInt8 = 0x80
      var upper: UInt8 = 0xBF
      switch lead {
      case 0xC2...0xDF:
        length = 2
      case 0xE0:
        length = 3
        lower = 0xA0
      case 0xE1...0xEC, 0xEE...0xEF:
        length = 3
      case 0xED:
        length = 3
        upper = 0x9F
      case 0xF0:
        length = 4
        lower = 0x90
      case 0xF1...0xF3:
        length = 4
      case 0xF4:
        length = 4
        upper = 0x8F
      default:
        return false
      }
      guard count - index >= length else { return false }
      let second = base[index + 1]
      guard second >= lower && second <= upper else { return false }
      var offset = 2
      while offset < length {
        guard base[index + offset] & 0xC0 == 0x80 else { return false }
        offset += 1
      }
      index += length
    }
    return true
  }
}
