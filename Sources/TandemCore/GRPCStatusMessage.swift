/// The percent-encoding of the `grpc-message` trailer.
///
/// A status message is UTF-8 text. On the wire every byte outside printable ASCII
/// (0x20 through 0x7E) and every `%` is written as `%` followed by two upper-case hex digits.
public enum GRPCStatusMessage {
  private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

  /// Percent-encodes `message` for the `grpc-message` trailer.
  public static func encode(_ message: String) -> String {
    var needsEncoding = false
    for byte in message.utf8 where byte < 0x20 || byte > 0x7E || byte == UInt8(ascii: "%") {
      needsEncoding = true
      break
    }
    if !needsEncoding { return message }

    var output: [UInt8] = []
    output.reserveCapacity(message.utf8.count * 3)
    for byte in message.utf8 {
      if byte < 0x20 || byte > 0x7E || byte == UInt8(ascii: "%") {
        output.append(UInt8(ascii: "%"))
        output.append(hexDigits[Int(byte >> 4)])
        output.append(hexDigits[Int(byte & 0x0F)])
      } else {
        output.append(byte)
      }
    }
    return String(decoding: output, as: UTF8.self)
  }

  /// Decodes a received `grpc-message` value.
  ///
  /// Decoding never fails, as the protocol requires: a `%` that is not followed by two hex
  /// digits stays as it is, and bytes that do not form valid UTF-8 become U+FFFD.
  public static func decode(_ value: String) -> String {
    guard value.utf8.contains(UInt8(ascii: "%")) else { return value }
    let input = Array(value.utf8)
    var output: [UInt8] = []
    output.reserveCapacity(input.count)
    var index = 0
    while index < input.count {
      let byte = input[index]
      if byte == UInt8(ascii: "%"), index + 2 < input.count,
        let high = hexValue(input[index + 1]), let low = hexValue(input[index + 2])
      {
        output.append(high << 4 | low)
        index += 3
      } else {
        output.append(byte)
        index += 1
      }
    }
    return String(decoding: output, as: UTF8.self)
  }

  private static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 0x30...0x39: return byte - 0x30
    case 0x41...0x46: return byte - 0x41 + 10
    case 0x61...0x66: return byte - 0x61 + 10
    default: return nil
    }
  }
}
