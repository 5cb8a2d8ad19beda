/// Base64 (RFC 4648) for `bytes` fields: written in the standard alphabet with padding, read in
/// the standard or the URL-safe alphabet, with or without padding.
enum JSONBase64 {
  private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

  /// Values of the input characters of both alphabets; 0xFF marks characters outside them.
  private static let decodeTable: [UInt8] = {
    var table = [UInt8](repeating: 0xFF, count: 256)
    for (value, character) in alphabet.enumerated() {
      table[Int(character)] = UInt8(value)
    }
    table[Int(UInt8(ascii: "-"))] = 62
    table[Int(UInt8(ascii: "_"))] = 63
    return table
  }()

  static func encode(_ bytes: [UInt8], to output: inout [UInt8]) {
    var index = 0
    while index + 3 <= bytes.count {
      let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
      output.append(alphabet[Int(chunk >> 18 & 0x3F)])
      output.append(alphabet[Int(chunk >> 12 & 0x3F)])
      output.append(alphabet[Int(chunk >> 6 & 0x3F)])
      output.append(alphabet[Int(chunk & 0x3F)])
      index += 3
    }
    let remaining = bytes.count - index
    if remaining == 1 {
      let chunk = UInt32(bytes[index]) << 16
      output.append(alphabet[Int(chunk >> 18 & 0x3F)])
      output.append(alphabet[Int(chunk >> 12 & 0x3F)])
      output.append(contentsOf: [UInt8(ascii: "="), UInt8(ascii: "=")])
    } else if remaining == 2 {
      let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
      output.append(alphabet[Int(chunk >> 18 & 0x3F)])
      output.append(alphabet[Int(chunk >> 12 & 0x3F)])
      output.append(alphabet[Int(chunk >> 6 & 0x3F)])
      output.append(UInt8(ascii: "="))
    }
  }

  /// Decodes `text`, or returns nil for a character outside both alphabets, for padding anywhere
  /// but at the end, and for a length that no encoding produces (one character left over).
  static func decode(_ text: String) -> [UInt8]? {
    var characters = Array(text.utf8)
    var padding = 0
    while characters.last == UInt8(ascii: "=") {
      characters.removeLast()
      padding += 1
    }
    if padding > 2 || (padding > 0 && (characters.count + padding) % 4 != 0) { return nil }
    if characters.count % 4 == 1 { return nil }
    var output: [UInt8] = []
    output.reserveCapacity(characters.count * 3 / 4)
    var accumulator: UInt32 = 0
    var bits = 0
    for character in characters {
      let value = decodeTable[Int(character)]
      if value == 0xFF { return nil }
      accumulator = accumulator << 6 | UInt32(value)
      bits += 6
      if bits >= 8 {
        bits -= 8
        output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
      }
    }
    return output
  }
}
