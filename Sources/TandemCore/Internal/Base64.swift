/// Standard base64 (RFC 4648, section 4) for binary metadata values.
enum Base64 {
  private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

  /// 0-63 for alphabet bytes, 0xFF for every other byte.
  private static let decodeTable: [UInt8] = {
    var table = [UInt8](repeating: 0xFF, count: 256)
    for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
    return table
  }()

  /// Encodes `bytes` with `=` padding.
  static func encode(_ bytes: [UInt8]) -> String {
    var output: [UInt8] = []
    output.reserveCapacity((bytes.count + 2) / 3 * 4)
    var index = 0
    while index + 3 <= bytes.count {
      let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
      output.append(alphabet[Int(value >> 18 & 0x3F)])
      output.append(alphabet[Int(value >> 12 & 0x3F)])
      output.append(alphabet[Int(value >> 6 & 0x3F)])
      output.append(alphabet[Int(value & 0x3F)])
      index += 3
    }
    let remaining = bytes.count - index
    if remaining == 1 {
      let value = UInt32(bytes[index]) << 16
      output.append(alphabet[Int(value >> 18 & 0x3F)])
      output.append(alphabet[Int(value >> 12 & 0x3F)])
      output.append(UInt8(ascii: "="))
      output.append(UInt8(ascii: "="))
    } else if remaining == 2 {
      let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
      output.append(alphabet[Int(value >> 18 & 0x3F)])
      output.append(alphabet[Int(value >> 12 & 0x3F)])
      output.append(alphabet[Int(value >> 6 & 0x3F)])
      output.append(UInt8(ascii: "="))
    }
    return String(decoding: output, as: UTF8.self)
  }

  /// Decodes padded or unpadded base64, or returns `nil` for a byte outside the alphabet,
  /// misplaced padding or a length that no encoding produces.
  static func decode<Bytes: Collection<UInt8>>(_ text: Bytes) -> [UInt8]? {
    var input = Array(text)
    if input.count % 4 == 0, input.last == UInt8(ascii: "=") {
      input.removeLast()
      if input.last == UInt8(ascii: "=") { input.removeLast() }
    }
    if input.count % 4 == 1 { return nil }

    var output: [UInt8] = []
    output.reserveCapacity(input.count * 3 / 4)
    var accumulator: UInt32 = 0
    var bitCount = 0
    for byte in input {
      let sextet = decodeTable[Int(byte)]
      if sextet == 0xFF { return nil }
      accumulator = accumulator << 6 | UInt32(sextet)
      bitCount += 6
      if bitCount >= 8 {
        bitCount -= 8
        output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bitCount)))
      }
    }
    // The leftover bits of a final partial group must be zero in a canonical encoding;
    // like most decoders, this one ignores them.
    return output
  }
}
