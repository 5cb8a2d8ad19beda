import TandemProtobuf
import XCTest

/// Bytes from space-separated hex pairs, for example `hex("08 96 01")`.
func hex(_ text: String) -> [UInt8] {
  text.split(separator: " ").map { UInt8($0, radix: 16)! }
}

/// Hex pairs of `bytes`, for readable failure messages.
func hexString(_ bytes: [UInt8]) -> String {
  bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16, uppercase: true) }.joined(separator: " ")
}

func XCTAssertBytes(_ actual: [UInt8], _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
  XCTAssertEqual(hexString(actual), hexString(hex(expected)), file: file, line: line)
}

/// Decodes `bytes` as `M` and returns the error, failing the test when decoding succeeds.
func decodingError<M: Message>(
  _ type: M.Type, _ bytes: [UInt8], options: DecodingOptions = DecodingOptions(),
  file: StaticString = #filePath, line: UInt = #line
) -> ProtobufDecodingError? {
  do {
    _ = try M(serializedBytes: bytes, options: options)
    XCTFail("decoding \(hexString(bytes)) succeeded, expected an error", file: file, line: line)
    return nil
  } catch {
    return error
  }
}

/// A deterministic pseudo-random generator (SplitMix64), so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
