import TandemProtobuf
import XCTest

final class UnknownFieldTests: XCTestCase {
  /// One unknown field of every wire type: varint 20, fixed64 21, length-delimited 22, a group 23
  /// holding a varint and an empty nested group, and fixed32 24.
  let unknownOfEveryWireType =
    "A0 01 05 A9 01 01 02 03 04 05 06 07 08 B2 01 02 AA BB BB 01 08 01 13 14 BC 01 C5 01 01 02 03 04"

  func testEveryWireTypeIsPreservedVerbatim() throws {
    let message = try Tandem_Test_Scalars(serializedBytes: hex(unknownOfEveryWireType))
    XCTAssertEqual(message, Tandem_Test_Scalars.with { $0.unknownFields = UnknownFields(bytes: hex(unknownOfEveryWireType)) })
    XCTAssertBytes(try message.serializedBytes(), unknownOfEveryWireType)
  }

  func testUnknownFieldsFollowKnownFields() throws {
    let message = try Tandem_Test_Scalars(serializedBytes: hex("A0 01 05 08 01"))
    XCTAssertEqual(message.int32Value, 1)
    XCTAssertBytes(try message.serializedBytes(), "08 01 A0 01 05")
  }

  func testUnknownFieldsInNestedMessageArePreserved() throws {
    let message = try Tandem_Test_Everything(serializedBytes: hex("0A 05 08 01 A0 01 05"))
    XCTAssertEqual(message.scalars.unknownFields.bytes, hex("A0 01 05"))
    XCTAssertBytes(try message.serializedBytes(), "0A 05 08 01 A0 01 05")
  }

  func testDiscardUnknownFieldsOption() throws {
    let options = DecodingOptions(discardUnknownFields: true)
    let message = try Tandem_Test_Scalars(serializedBytes: hex(unknownOfEveryWireType + " 08 01"), options: options)
    XCTAssertTrue(message.unknownFields.isEmpty)
    XCTAssertBytes(try message.serializedBytes(), "08 01")
  }

  func testLargestFieldNumberIsAccepted() throws {
    // Field 536870911 (2^29 - 1), wire type varint.
    let message = try Tandem_Test_Scalars(serializedBytes: hex("F8 FF FF FF 0F 00"))
    XCTAssertEqual(message.unknownFields.bytes, hex("F8 FF FF FF 0F 00"))
  }

  func testNestedUnknownGroupsArePreservedVerbatim() throws {
    // Group 23 holding group 24 holding field 1 = 1, then field 1 = 5 of Scalars after the groups.
    let input = hex("BB 01 C3 01 08 01 C4 01 BC 01 08 05")
    let message = try Tandem_Test_Scalars(serializedBytes: input)
    XCTAssertEqual(message.int32Value, 5)
    XCTAssertEqual(message.unknownFields.bytes, hex("BB 01 C3 01 08 01 C4 01 BC 01"))
    XCTAssertBytes(try message.serializedBytes(), "08 05 BB 01 C3 01 08 01 C4 01 BC 01")
  }

  func testUnknownGroupInsideKnownGroupIsKept() throws {
    // Proto2's group 7 (Data) contains field a = 1 and an unknown group 30 that Data does not define.
    let input = hex("08 01 3B 40 01 F3 01 08 02 F4 01 3C")
    let message = try Tandem_Test2_Proto2(serializedBytes: input)
    XCTAssertEqual(message.data.a, 1)
    XCTAssertEqual(message.data.unknownFields.bytes, hex("F3 01 08 02 F4 01"))
    XCTAssertBytes(try message.serializedBytes(), "08 01 3B 40 01 F3 01 08 02 F4 01 3C")
  }
}
