import TandemProtobuf
import XCTest

final class ScalarWireTests: XCTestCase {
  func testEachScalarEncodesToSpecBytes() throws {
    let cases: [(Tandem_Test_Scalars, String)] = [
      (.with { $0.int32Value = 150 }, "08 96 01"),
      (.with { $0.int32Value = -1 }, "08 FF FF FF FF FF FF FF FF FF 01"),
      (.with { $0.int64Value = -2 }, "10 FE FF FF FF FF FF FF FF FF 01"),
      (.with { $0.uint32Value = .max }, "18 FF FF FF FF 0F"),
      (.with { $0.uint64Value = .max }, "20 FF FF FF FF FF FF FF FF FF 01"),
      (.with { $0.sint32Value = -1 }, "28 01"),
      (.with { $0.sint32Value = 1 }, "28 02"),
      (.with { $0.sint32Value = .min }, "28 FF FF FF FF 0F"),
      (.with { $0.sint64Value = -3 }, "30 05"),
      (.with { $0.sint64Value = .max }, "30 FE FF FF FF FF FF FF FF FF 01"),
      (.with { $0.fixed32Value = 1 }, "3D 01 00 00 00"),
      (.with { $0.fixed64Value = 0x0102_0304_0506_0708 }, "41 08 07 06 05 04 03 02 01"),
      (.with { $0.sfixed32Value = -2 }, "4D FE FF FF FF"),
      (.with { $0.sfixed64Value = -2 }, "51 FE FF FF FF FF FF FF FF"),
      (.with { $0.floatValue = 1.5 }, "5D 00 00 C0 3F"),
      (.with { $0.floatValue = -0.0 }, "5D 00 00 00 80"),
      (.with { $0.doubleValue = 2.5 }, "61 00 00 00 00 00 00 04 40"),
      (.with { $0.boolValue = true }, "68 01"),
      (.with { $0.stringValue = "hi" }, "72 02 68 69"),
      (.with { $0.stringValue = "é" }, "72 02 C3 A9"),
      (.with { $0.bytesValue = [0, 255] }, "7A 02 00 FF"),
      (.with { $0.color = .blue }, "80 01 03"),
    ]
    for (message, expected) in cases {
      let bytes = try message.serializedBytes()
      XCTAssertBytes(bytes, expected)
      XCTAssertEqual(message.serializedSize, bytes.count)
      XCTAssertEqual(try Tandem_Test_Scalars(serializedBytes: bytes), message, expected)
    }
  }

  func testZeroValuesAreNotEncoded() throws {
    XCTAssertEqual(try Tandem_Test_Scalars().serializedBytes(), [])
    XCTAssertEqual(try Tandem_Test_Scalars(serializedBytes: []), Tandem_Test_Scalars())
  }

  func testAllFieldsEncodeInFieldNumberOrder() throws {
    let message = Tandem_Test_Scalars.with {
      $0.color = .red
      $0.int32Value = 1
      $0.stringValue = "a"
      $0.fixed32Value = 2
    }
    XCTAssertBytes(try message.serializedBytes(), "08 01 3D 02 00 00 00 72 01 61 80 01 01")
  }

  func testInt32TruncatesWideVarint() throws {
    // 2^32 + 5 as a varint: int32 keeps the low 32 bits.
    let message = try Tandem_Test_Scalars(serializedBytes: hex("08 85 80 80 80 10"))
    XCTAssertEqual(message.int32Value, 5)
  }

  func testBoolAcceptsAnyNonZeroVarint() throws {
    XCTAssertTrue(try Tandem_Test_Scalars(serializedBytes: hex("68 02")).boolValue)
    XCTAssertTrue(try Tandem_Test_Scalars(serializedBytes: hex("68 80 01")).boolValue)
  }

  func testRepeatedSingularScalarLastValueWins() throws {
    let message = try Tandem_Test_Scalars(serializedBytes: hex("08 01 72 01 61 08 02 72 01 62"))
    XCTAssertEqual(message.int32Value, 2)
    XCTAssertEqual(message.stringValue, "b")
  }

  func testRepeatedSubMessageMerges() throws {
    let message = try Tandem_Test_Everything(serializedBytes: hex("0A 02 08 01 0A 02 10 02 0A 02 08 03"))
    XCTAssertEqual(message.scalars.int32Value, 3)
    XCTAssertEqual(message.scalars.int64Value, 2)
  }

  func testMergeSerializedBytesAddsFields() throws {
    var message = Tandem_Test_Scalars.with { $0.int32Value = 1 }
    try message.merge(serializedBytes: hex("10 02"))
    XCTAssertEqual(message.int32Value, 1)
    XCTAssertEqual(message.int64Value, 2)
  }

  func testOpenEnumKeepsUnknownNumber() throws {
    let message = try Tandem_Test_Scalars(serializedBytes: hex("80 01 63"))
    XCTAssertEqual(message.color, .UNRECOGNIZED(99))
    XCTAssertEqual(message.color.rawValue, 99)
    XCTAssertBytes(try message.serializedBytes(), "80 01 63")
  }

  func testNegativeEnumNumberUsesTenBytes() throws {
    let message = Tandem_Test_Scalars.with { $0.color = .UNRECOGNIZED(-1) }
    XCTAssertBytes(try message.serializedBytes(), "80 01 FF FF FF FF FF FF FF FF FF 01")
  }

  func testMismatchedWireTypeIsKeptAsUnknown() throws {
    // Field 1 is int32 (varint); here it arrives length-delimited.
    let message = try Tandem_Test_Scalars(serializedBytes: hex("0A 01 05"))
    XCTAssertEqual(message.int32Value, 0)
    XCTAssertEqual(message.unknownFields.bytes, hex("0A 01 05"))
    XCTAssertBytes(try message.serializedBytes(), "0A 01 05")
  }

  func testReadmeStyleBuilderAndRoundTrip() throws {
    let message = Tandem_Test_Everything.with {
      $0.scalars.stringValue = "text"
      $0.optionals.int32Value = 0
      $0.oneofs.text = "one"
    }
    let copy = try Tandem_Test_Everything(serializedBytes: message.serializedBytes())
    XCTAssertEqual(copy, message)
    XCTAssertTrue(copy.optionals.hasInt32Value)
  }
}
