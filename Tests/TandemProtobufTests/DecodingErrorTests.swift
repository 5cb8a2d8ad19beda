import TandemProtobuf
import XCTest

final class DecodingErrorTests: XCTestCase {
  func testTruncatedTag() {
    let error = decodingError(Tandem_Test_Scalars.self, hex("96"))
    XCTAssertEqual(error?.kind, .truncated)
    XCTAssertEqual(error?.offset, 0)
    XCTAssertEqual(error?.fieldPath, [])
  }

  func testTruncatedVarintValue() {
    let error = decodingError(Tandem_Test_Scalars.self, hex("68 01 08 96"))
    XCTAssertEqual(error?.kind, .truncated)
    XCTAssertEqual(error?.offset, 3)
    XCTAssertEqual(error?.fieldPath, [1])
  }

  func testMissingValue() {
    let error = decodingError(Tandem_Test_Scalars.self, hex("08"))
    XCTAssertEqual(error?.kind, .truncated)
    XCTAssertEqual(error?.offset, 1)
  }

  func testTruncatedFixedValues() {
    XCTAssertEqual(decodingError(Tandem_Test_Scalars.self, hex("3D 01 00 00"))?.kind, .truncated)
    XCTAssertEqual(decodingError(Tandem_Test_Scalars.self, hex("41 01 00 00 00 00 00 00"))?.offset, 1)
    // An unknown fixed64 field is checked the same way.
    XCTAssertEqual(decodingError(Tandem_Test_Scalars.self, hex("A9 01 01 02"))?.kind, .truncated)
  }

  func testVarintOverTenBytes() {
    let error = decodingError(Tandem_Test_Scalars.self, hex("08 FF FF FF FF FF FF FF FF FF FF 01"))
    XCTAssertEqual(error?.kind, .malformedVarint)
    XCTAssertEqual(error?.offset, 1)
    XCTAssertEqual(error?.fieldPath, [1])
  }

  func testTenByteVarintIsAccepted() throws {
    XCTAssertEqual(try Tandem_Test_Scalars(serializedBytes: hex("10 FF FF FF FF FF FF FF FF FF 01")).int64Value, -1)
  }

  func testInvalidWireTypes() {
    for (bytes, wireType) in [("0E", UInt8(6)), ("0F", UInt8(7)), ("68 01 A6 01", UInt8(6))] {
      let error = decodingError(Tandem_Test_Scalars.self, hex(bytes))
      XCTAssertEqual(error?.kind, .invalidWireType(wireType), bytes)
    }
    XCTAssertEqual(decodingError(Tandem_Test_Scalars.self, hex("68 01 A6 01"))?.offset, 2)
  }

  func testFieldNumberZero() {
    let error = decodingError(Tandem_Test_Scalars.self, hex("00"))
    XCTAssertEqual(error?.kind, .invalidFieldNumber(0))
    XCTAssertEqual(error?.offset, 0)
    XCTAssertEqual(decodingError(Tandem_Test_Scalars.self, hex("02 00"))?.kind, .invalidFieldNumber(0))
  }

  func testFieldNumberAboveMaximum() {
    // Field 2^29, wire type varint: tag value 2^32.
    let error = decodingError(Tandem_Test_Scalars.self, hex("08 01 80 80 80 80 10 00"))
    XCTAssertEqual(error?.kind, .invalidFieldNumber(536_870_912))
    XCTAssertEqual(error?.offset, 2)
  }

  func testInvalidUTF8() {
    for bytes in ["72 02 C3 28", "72 03 ED A0 80", "72 02 C0 80", "72 01 FF", "72 04 F4 90 80 80"] {
      let error = decodingError(Tandem_Test_Scalars.self, hex(bytes))
      XCTAssertEqual(error?.kind, .invalidUTF8, bytes)
      XCTAssertEqual(error?.offset, 2, bytes)
      XCTAssertEqual(error?.fieldPath, [14], bytes)
    }
  }

  func testInvalidUTF8InRepeatedAndMapAndOneof() {
    XCTAssertEqual(decodingError(Tandem_Test_Repeated.self, hex("72 01 FF"))?.kind, .invalidUTF8)
    XCTAssertEqual(decodingError(Tandem_Test_Maps.self, hex("0A 03 0A 01 FF"))?.fieldPath, [1, 1])
    XCTAssertEqual(decodingError(Tandem_Test_Oneofs.self, hex("12 01 FF"))?.kind, .invalidUTF8)
  }

  func testBytesFieldAcceptsInvalidUTF8() throws {
    XCTAssertEqual(try Tandem_Test_Scalars(serializedBytes: hex("7A 01 FF")).bytesValue, [0xFF])
  }

  func testLengthPastEnd() {
    let error = decodingError(Tandem_Test_Scalars.self, hex("72 05 61"))
    XCTAssertEqual(error?.kind, .lengthExceedsInput(length: 5, remaining: 1))
    XCTAssertEqual(error?.offset, 1)
    XCTAssertEqual(error?.fieldPath, [14])
  }

  func testLengthPastEnclosingMessage() {
    // The sub-message in field 1 is 3 bytes long; its string claims 5 bytes although 5 more follow it.
    let error = decodingError(Tandem_Test_Everything.self, hex("0A 03 72 05 61 61 61 61 61"))
    XCTAssertEqual(error?.kind, .lengthExceedsInput(length: 5, remaining: 1))
    XCTAssertEqual(error?.offset, 3)
    XCTAssertEqual(error?.fieldPath, [1, 14])
  }

  func testLengthOverTwoGiB() {
    let error = decodingError(Tandem_Test_Scalars.self, hex("72 80 80 80 80 08"))
    XCTAssertEqual(error?.kind, .lengthTooLarge(2_147_483_648))
    XCTAssertEqual(error?.offset, 1)
    let huge = decodingError(Tandem_Test_Scalars.self, hex("A2 01 FF FF FF FF FF FF FF FF FF 01"))
    XCTAssertEqual(huge?.kind, .lengthTooLarge(.max))
  }

  func testNestedErrorPath() {
    let error = decodingError(Tandem_Test_Everything.self, hex("0A 04 72 02 C3 28"))
    XCTAssertEqual(error?.kind, .invalidUTF8)
    XCTAssertEqual(error?.offset, 4)
    XCTAssertEqual(error?.fieldPath, [1, 14])
    XCTAssertEqual(error?.description, "string field is not valid UTF-8 at byte offset 4, field path 1.14")
  }

  func testUnexpectedEndGroup() {
    let error = decodingError(Tandem_Test_Scalars.self, hex("3C"))
    XCTAssertEqual(error?.kind, .unexpectedEndGroup(fieldNumber: 7))
    XCTAssertEqual(error?.offset, 0)
  }

  func testMismatchedEndGroup() {
    let unknownGroup = decodingError(Tandem_Test_Scalars.self, hex("BB 01 08 01 C4 01"))
    XCTAssertEqual(unknownGroup?.kind, .mismatchedEndGroup(expected: 23, found: 24))
    XCTAssertEqual(unknownGroup?.offset, 4)
    let knownGroup = decodingError(Tandem_Test2_Proto2.self, hex("3B 40 01 44"))
    XCTAssertEqual(knownGroup?.kind, .mismatchedEndGroup(expected: 7, found: 8))
    XCTAssertEqual(knownGroup?.offset, 3)
    XCTAssertEqual(knownGroup?.fieldPath, [7, 8])
  }

  func testUnterminatedGroup() {
    XCTAssertEqual(decodingError(Tandem_Test2_Proto2.self, hex("3B 40 01"))?.kind, .unterminatedGroup(fieldNumber: 7))
    XCTAssertEqual(decodingError(Tandem_Test_Scalars.self, hex("BB 01 08 01"))?.kind, .unterminatedGroup(fieldNumber: 23))
  }

  func testGroupEndInsideLengthDelimitedSubMessageFails() {
    // A group opened inside a sub-message must close inside it, not after the sub-message's end.
    let error = decodingError(Tandem_Test_Everything.self, hex("0A 02 BB 01 BC 01"))
    XCTAssertEqual(error?.kind, .unterminatedGroup(fieldNumber: 23))
    XCTAssertEqual(error?.fieldPath, [1, 23])
  }

  func testErrorDescriptionsNameValueAndLimit() {
    let cases: [(ProtobufDecodingError.Kind, String)] = [
      (.malformedVarint, "maximum of 10 bytes"),
      (.invalidWireType(6), "invalid wire type 6"),
      (.invalidFieldNumber(0), "1 through 536870911"),
      (.recursionLimitExceeded(limit: 100), "recursion limit of 100"),
      (.lengthTooLarge(3_000_000_000), "length 3000000000 exceeds the maximum of 2147483647"),
    ]
    for (kind, fragment) in cases {
      let text = ProtobufDecodingError(kind: kind, offset: 9).description
      XCTAssertTrue(text.contains(fragment), text)
      XCTAssertTrue(text.contains("offset 9"), text)
    }
  }
}
