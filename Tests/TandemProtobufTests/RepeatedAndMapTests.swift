import TandemProtobuf
import XCTest

final class RepeatedAndMapTests: XCTestCase {
  func testPackedVarintsEncode() throws {
    let message = Tandem_Test_Repeated.with { $0.int32Values = [1, 150, -1] }
    XCTAssertBytes(try message.serializedBytes(), "0A 0D 01 96 01 FF FF FF FF FF FF FF FF FF 01")
  }

  func testPackedFixedEncode() throws {
    let message = Tandem_Test_Repeated.with { $0.fixed32Values = [1, 2] }
    XCTAssertBytes(try message.serializedBytes(), "3A 08 01 00 00 00 02 00 00 00")
  }

  func testPackedFieldAcceptsUnpackedAndSeveralRuns() throws {
    // Unpacked, then packed run, then unpacked, then another packed run.
    let message = try Tandem_Test_Repeated(serializedBytes: hex("08 01 0A 02 02 03 08 04 0A 01 05"))
    XCTAssertEqual(message.int32Values, [1, 2, 3, 4, 5])
  }

  func testUnpackedFieldEncodesOneTagPerElement() throws {
    let message = Tandem_Test_Repeated.with {
      $0.unpackedInt32Values = [1, 2]
      $0.unpackedColors = [.red]
      $0.unpackedDoubleValues = [1]
    }
    XCTAssertBytes(
      try message.serializedBytes(),
      "90 01 01 90 01 02 98 01 01 A1 01 00 00 00 00 00 00 F0 3F")
  }

  func testUnpackedFieldAcceptsPackedInput() throws {
    let message = try Tandem_Test_Repeated(serializedBytes: hex("92 01 02 01 02"))
    XCTAssertEqual(message.unpackedInt32Values, [1, 2])
  }

  func testEveryPackedTypeRoundTrips() throws {
    let message = Tandem_Test_Repeated.with {
      $0.int32Values = [0, -5, .max]
      $0.int64Values = [.min, 7]
      $0.uint32Values = [.max]
      $0.uint64Values = [.max, 0]
      $0.sint32Values = [.min, -1, 1]
      $0.sint64Values = [.min, .max]
      $0.fixed32Values = [9]
      $0.fixed64Values = [10]
      $0.sfixed32Values = [-11]
      $0.sfixed64Values = [-12]
      $0.floatValues = [1.25, -0.0]
      $0.doubleValues = [.infinity, -2.5]
      $0.boolValues = [true, false, true]
      $0.stringValues = ["", "x"]
      $0.bytesValues = [[], [1]]
      $0.colors = [.green, .UNRECOGNIZED(42)]
      $0.messages = [.with { $0.int32Value = 1 }, Tandem_Test_Scalars()]
    }
    let bytes = try message.serializedBytes()
    XCTAssertEqual(bytes.count, message.serializedSize)
    XCTAssertEqual(try Tandem_Test_Repeated(serializedBytes: bytes), message)
  }

  func testPackedRunStopsAtItsLength() {
    // The packed run has length 1, but 0x96 needs a second byte: the 0x01 after the run must not be read.
    let error = decodingError(Tandem_Test_Repeated.self, hex("0A 01 96 01"))
    XCTAssertEqual(error?.kind, .truncated)
    XCTAssertEqual(error?.offset, 2)
    XCTAssertEqual(error?.fieldPath, [1])
  }

  func testPackedFixedRunWithPartialElementFails() {
    let error = decodingError(Tandem_Test_Repeated.self, hex("3A 03 01 00 00"))
    XCTAssertEqual(error?.kind, .truncated)
    XCTAssertEqual(error?.offset, 2)
  }

  func testMapEntryEncodesKeyThenValue() throws {
    let message = Tandem_Test_Maps.with { $0.stringToInt32 = ["a": 1] }
    XCTAssertBytes(try message.serializedBytes(), "0A 05 0A 01 61 10 01")
  }

  func testMapEntryWritesDefaultKeyAndValue() throws {
    let message = Tandem_Test_Maps.with { $0.stringToInt32 = ["": 0] }
    XCTAssertBytes(try message.serializedBytes(), "0A 04 0A 00 10 00")
  }

  func testMapEntryMissingKeyOrValueUsesDefault() throws {
    XCTAssertEqual(try Tandem_Test_Maps(serializedBytes: hex("0A 02 10 05")).stringToInt32, ["": 5])
    XCTAssertEqual(try Tandem_Test_Maps(serializedBytes: hex("0A 03 0A 01 61")).stringToInt32, ["a": 0])
    XCTAssertEqual(try Tandem_Test_Maps(serializedBytes: hex("0A 00")).stringToInt32, ["": 0])
    XCTAssertEqual(
      try Tandem_Test_Maps(serializedBytes: hex("1A 02 08 07")).int64ToMessage, [7: Tandem_Test_Scalars()])
  }

  func testMapEntryReorderedFields() throws {
    XCTAssertEqual(try Tandem_Test_Maps(serializedBytes: hex("0A 05 10 01 0A 01 61")).stringToInt32, ["a": 1])
  }

  func testMapEntryDuplicateFieldsLastWins() throws {
    let message = try Tandem_Test_Maps(serializedBytes: hex("0A 0A 0A 01 61 10 01 0A 01 62 10 02"))
    XCTAssertEqual(message.stringToInt32, ["b": 2])
  }

  func testMapDuplicateKeysLastEntryWins() throws {
    let message = try Tandem_Test_Maps(serializedBytes: hex("0A 05 0A 01 61 10 01 0A 05 0A 01 61 10 02"))
    XCTAssertEqual(message.stringToInt32, ["a": 2])
  }

  func testMapEntryUnknownFieldIsSkipped() throws {
    let message = try Tandem_Test_Maps(serializedBytes: hex("0A 07 18 09 0A 01 61 10 01"))
    XCTAssertEqual(message.stringToInt32, ["a": 1])
    XCTAssertTrue(message.unknownFields.isEmpty)
  }

  func testMapMessageValueFieldsMergeInsideEntry() throws {
    let message = try Tandem_Test_Maps(serializedBytes: hex("1A 0A 08 07 12 02 08 01 12 02 10 02"))
    XCTAssertEqual(message.int64ToMessage[7], .with { $0.int32Value = 1; $0.int64Value = 2 })
  }

  func testMapOfMessagesEncodes() throws {
    let message = Tandem_Test_Maps.with { $0.int64ToMessage = [7: .with { $0.int32Value = 1 }] }
    XCTAssertBytes(try message.serializedBytes(), "1A 06 08 07 12 02 08 01")
  }

  func testEveryMapTypeRoundTrips() throws {
    let message = Tandem_Test_Maps.with {
      $0.stringToInt32 = ["a": 1, "b": -2, "": 0]
      $0.int32ToString = [-1: "minus", 5: ""]
      $0.int64ToMessage = [.min: .with { $0.stringValue = "deep" }, 0: Tandem_Test_Scalars()]
      $0.boolToBytes = [true: [1, 2], false: []]
      $0.uint32ToColor = [1: .red, 2: .UNRECOGNIZED(77)]
      $0.sint64ToDouble = [-3: 1.5]
      $0.fixed32ToFloat = [4: -0.5]
      $0.sfixed64ToInt64 = [-5: .max]
      $0.uint64ToUint64 = [.max: .max]
      $0.sint32ToSfixed32 = [.min: .min]
      $0.fixed64ToFixed64 = [1: 2]
      $0.sfixed32ToBool = [-1: true]
    }
    let bytes = try message.serializedBytes()
    XCTAssertEqual(bytes.count, message.serializedSize)
    XCTAssertEqual(try Tandem_Test_Maps(serializedBytes: bytes), message)
  }

  func testMapEntryLengthPastEndFails() {
    // The entry claims 5 bytes, the key string inside claims 9.
    let error = decodingError(Tandem_Test_Maps.self, hex("0A 05 0A 09 61 10 01"))
    XCTAssertEqual(error?.kind, .lengthExceedsInput(length: 9, remaining: 3))
    XCTAssertEqual(error?.offset, 3)
    XCTAssertEqual(error?.fieldPath, [1, 1])
  }
}
