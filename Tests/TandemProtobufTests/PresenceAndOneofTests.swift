import TandemProtobuf
import XCTest

final class PresenceAndOneofTests: XCTestCase {
  /// Proto2's required `id` is left unset in the proto2 inputs below.
  let allowPartial = DecodingOptions(allowPartial: true)

  func testProto3OptionalZeroIsEncoded() throws {
    var message = Tandem_Test_Optionals()
    XCTAssertFalse(message.hasInt32Value)
    message.int32Value = 0
    XCTAssertTrue(message.hasInt32Value)
    XCTAssertBytes(try message.serializedBytes(), "08 00")
    let decoded = try Tandem_Test_Optionals(serializedBytes: hex("08 00"))
    XCTAssertTrue(decoded.hasInt32Value)
    XCTAssertFalse(decoded.hasStringValue)
  }

  func testProto3OptionalClear() throws {
    var message = Tandem_Test_Optionals.with { $0.stringValue = "x"; $0.message.int32Value = 1 }
    XCTAssertTrue(message.hasMessage)
    message.clearStringValue()
    message.clearMessage()
    XCTAssertFalse(message.hasStringValue)
    XCTAssertFalse(message.hasMessage)
    XCTAssertEqual(message.stringValue, "")
    XCTAssertEqual(try message.serializedBytes(), [])
  }

  func testEmptySubMessageIsPresent() throws {
    let message = Tandem_Test_Optionals.with { $0.message = Tandem_Test_Scalars() }
    XCTAssertBytes(try message.serializedBytes(), "22 00")
    XCTAssertTrue(try Tandem_Test_Optionals(serializedBytes: hex("22 00")).hasMessage)
  }

  func testOneofLastMemberWins() throws {
    let message = try Tandem_Test_Oneofs(serializedBytes: hex("08 05 12 01 78"))
    XCTAssertEqual(message.kind, .text("x"))
    XCTAssertEqual(message.number, 0)
    XCTAssertBytes(try message.serializedBytes(), "12 01 78")
  }

  func testOneofMessageMemberMerges() throws {
    let message = try Tandem_Test_Oneofs(serializedBytes: hex("1A 02 08 01 1A 02 10 02"))
    XCTAssertEqual(message.kind, .message(.with { $0.int32Value = 1; $0.int64Value = 2 }))
  }

  func testOneofOtherMemberBetweenResetsMessage() throws {
    let message = try Tandem_Test_Oneofs(serializedBytes: hex("1A 02 08 01 08 05 1A 02 10 02"))
    XCTAssertEqual(message.kind, .message(.with { $0.int64Value = 2 }))
  }

  func testOneofMemberWithDefaultValueIsEncoded() throws {
    let message = Tandem_Test_Oneofs.with { $0.number = 0 }
    XCTAssertBytes(try message.serializedBytes(), "08 00")
    XCTAssertEqual(try Tandem_Test_Oneofs(serializedBytes: hex("08 00")).kind, .number(0))
  }

  func testOneofMembersInterleaveInFieldOrder() throws {
    let message = Tandem_Test_Oneofs.with { $0.real = 1; $0.after = "a" }
    // Field 6 (after) comes before field 7 (real), though real belongs to the oneof.
    XCTAssertBytes(try message.serializedBytes(), "32 01 61 39 00 00 00 00 00 00 F0 3F")
  }

  func testOneofEveryMemberRoundTrips() throws {
    let members: [Tandem_Test_Oneofs.OneOf_Kind] = [
      .number(-3), .text("t"), .message(.with { $0.boolValue = true }), .color(.UNRECOGNIZED(9)), .data([7]), .real(-1),
    ]
    for member in members {
      let message = Tandem_Test_Oneofs.with { $0.kind = member }
      XCTAssertEqual(try Tandem_Test_Oneofs(serializedBytes: message.serializedBytes()), message)
    }
  }

  func testProto2DefaultsWhenUnset() {
    let message = Tandem_Test2_Defaults()
    XCTAssertEqual(message.int32Value, -42)
    XCTAssertEqual(message.int64Value, 9_000_000_000)
    XCTAssertEqual(message.uint32Value, 4_000_000_000)
    XCTAssertEqual(message.uint64Value, 18_000_000_000_000_000_000)
    XCTAssertEqual(message.sint32Value, -7)
    XCTAssertEqual(message.sint64Value, -9_000_000_000)
    XCTAssertEqual(message.fixed32Value, 7)
    XCTAssertEqual(message.fixed64Value, 8)
    XCTAssertEqual(message.sfixed32Value, -9)
    XCTAssertEqual(message.sfixed64Value, -10)
    XCTAssertEqual(message.floatValue, 1.5)
    XCTAssertEqual(message.doubleValue, -.infinity)
    XCTAssertTrue(message.nanValue.isNaN)
    XCTAssertEqual(message.boolValue, true)
    XCTAssertEqual(message.stringValue, "hello \"world\"\n")
    XCTAssertEqual(message.bytesValue, [1, 2, 255, 120])
    XCTAssertEqual(message.size, .medium)
    XCTAssertEqual(message.infFloat, .infinity)
    XCTAssertFalse(message.hasInt32Value)
  }

  func testProto2ExplicitDefaultValueIsEncoded() throws {
    var message = Tandem_Test2_Defaults()
    XCTAssertEqual(try message.serializedBytes(), [])
    message.int32Value = -42
    message.size = .small
    XCTAssertTrue(message.hasInt32Value)
    XCTAssertBytes(try message.serializedBytes(), "08 D6 FF FF FF FF FF FF FF FF 01 88 01 01")
    message.clearInt32Value()
    XCTAssertEqual(message.int32Value, -42)
    XCTAssertBytes(try message.serializedBytes(), "88 01 01")
  }

  func testProto2ClosedEnumUnknownGoesToUnknownFields() throws {
    let message = try Tandem_Test2_Proto2(serializedBytes: hex("78 63"), options: allowPartial)
    XCTAssertFalse(message.hasSize)
    XCTAssertEqual(message.unknownFields.bytes, hex("78 63"))
    XCTAssertBytes(try message.serializedBytes(partial: true), "78 63")
  }

  func testProto2ClosedEnumRepeatedUnknownGoesToUnknownFields() throws {
    // sizes (field 5, unpacked): SMALL, the undefined 99, LARGE.
    let message = try Tandem_Test2_Proto2(serializedBytes: hex("28 01 28 63 28 03"), options: allowPartial)
    XCTAssertEqual(message.sizes, [.small, .large])
    XCTAssertEqual(message.unknownFields.bytes, hex("28 63"))
    XCTAssertBytes(try message.serializedBytes(partial: true), "28 01 28 03 28 63")
  }

  func testProto2ClosedEnumPackedUnknownSplitsOut() throws {
    let message = try Tandem_Test2_Proto2(serializedBytes: hex("32 03 01 63 02"), options: allowPartial)
    XCTAssertEqual(message.packedSizes, [.small, .medium])
    XCTAssertEqual(message.unknownFields.bytes, hex("30 63"))
    XCTAssertBytes(try message.serializedBytes(partial: true), "32 02 01 02 30 63")
  }

  func testProto2RepeatedUnpackedByDefault() throws {
    let message = Tandem_Test2_Proto2.with { $0.unpacked = [1, 2]; $0.packed = [3, 4] }
    XCTAssertBytes(try message.serializedBytes(partial: true), "18 01 18 02 22 02 03 04")
  }

  func testProto2GroupsEncodeAndDecode() throws {
    let message = Tandem_Test2_Proto2.with {
      $0.data.a = 1
      $0.item = [.with { $0.value = 5 }, .with { $0.value = 6 }]
    }
    let bytes = try message.serializedBytes(partial: true)
    XCTAssertBytes(bytes, "3B 40 01 3C 53 58 05 54 53 58 06 54")
    XCTAssertEqual(try Tandem_Test2_Proto2(serializedBytes: bytes, options: allowPartial), message)
  }

  func testProto2GroupMergesAcrossOccurrences() throws {
    let message = try Tandem_Test2_Proto2(serializedBytes: hex("3B 40 01 3C 3B 4A 01 78 3C"), options: allowPartial)
    XCTAssertEqual(message.data.a, 1)
    XCTAssertEqual(message.data.b, "x")
  }

  func testProto2RequiredFieldIsPlainPresence() throws {
    var message = Tandem_Test2_Proto2()
    XCTAssertFalse(message.hasID)
    XCTAssertThrowsError(try message.serializedBytes())
    message.id = 0
    XCTAssertBytes(try message.serializedBytes(), "08 00")
  }

  func testProto2ExtensionFieldIsUnknown() throws {
    // Field 150 lies in the extension range 100 to 200; extensions are kept as unknown fields.
    let message = try Tandem_Test2_Proto2(serializedBytes: hex("B0 09 01"), options: allowPartial)
    XCTAssertEqual(message.unknownFields.bytes, hex("B0 09 01"))
  }
}

final class ClosedEnumMapTests: XCTestCase {
  /// Proto2's required `id` is left unset in these inputs.
  let allowPartial = DecodingOptions(allowPartial: true)

  func testKnownValueIsStored() throws {
    // Field 17 entry {1: 3, 2: 1}.
    let message = try Tandem_Test2_Proto2(serializedBytes: hex("8A 01 04 08 03 10 01"), options: allowPartial)
    XCTAssertEqual(message.levels, [3: .one])
    XCTAssertBytes(try message.serializedBytes(partial: true), "8A 01 04 08 03 10 01")
  }

  func testUnknownValueKeepsWholeEntryAsUnknown() throws {
    // Field 17 entry {1: 3, 2: 5}: 5 is not a Level, so the entry goes to the unknown fields verbatim.
    let message = try Tandem_Test2_Proto2(serializedBytes: hex("8A 01 04 08 03 10 05"), options: allowPartial)
    XCTAssertTrue(message.levels.isEmpty)
    XCTAssertEqual(message.unknownFields.bytes, hex("8A 01 04 08 03 10 05"))
    XCTAssertBytes(try message.serializedBytes(partial: true), "8A 01 04 08 03 10 05")
  }
}
