/// Writes JSON string literals: quotes, backslashes and control characters escaped, everything
/// else (including non-ASCII text) copied as UTF-8.
enum JSONStringEscaping {
  private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

  static func appendQuoted(_ text: String, to output: inout [UInt8]) {
    output.append(UInt8(ascii: "\""))
    var text = text
    text.withUTF8 { utf8 in
      var runStart = 0
      for (offset, byte) in utf8.enumerated() {
        let escape: UInt8?
        switch byte {
        case UInt8(ascii: "\""): escape = UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): escape = UInt8(ascii: "\\")
        case 0x0A: escape = UInt8(ascii: "n")
        case 0x0D: escape = UInt8(ascii: "r")
        case 0x09: escape = UInt8(ascii: "t")
        case 0x08: escape = UInt8(ascii: "b")
        case 0x0C: escape = UInt8(ascii: "f")
        case 0..<0x20: escape = 0
        default: continue
        }
        output.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<offset]))
        runStart = offset + 1
        output.append(UInt8(ascii: "\\"))
        if let escape, escape != 0 {
          output.append(escape)
        } else {
          output.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
          output.append(hexDigits[Int(byte >> 4)])
          output.append(hexDigits[Int(byte & 0xF)])
        }
      }
      output.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
    }
    output.append(UInt8(ascii: "\""))
  }

  static func appendQuoted(_ text: String, to output: inout String) {
    var bytes: [UInt8] = []
    appendQuoted(text, to: &bytes)
    output += String(decoding: bytes, as: UTF8.self)
  }
}
