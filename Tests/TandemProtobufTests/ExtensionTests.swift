import TandemProtobuf
import XCTest

final class ExtensionTests: XCTestCase {
  typealias Extensions = Tandem_Test2_TandemTestRequired_Extensions
  let registry = DecodingOptions(extensions: Tandem_Test2_TandemTestRequired_Extensions.registry)

  func testUnsetExtensionReadsDeclaredDefault() {
    let message = Tandem_Test2_Extendable()
    XCTAssertFalse(message.hasExtension(Extensions.name))
    XCTAssertEqual(message[extension: Extensions.name], "unnamed")
    XCTAssertEqual(message[extension: Extensions.color], .green)
    XCTAssertEqual(message[extension: Extensions.ratio], -Double.infinity)
    XCTAssertEqual(message[extension: Extensions.count], 0)
    XCTAssertEqual(message[extension: Extensions.numbers], [])
  }

  func testSetHasClear() {
    var message = Tandem_Test2_Extendable()
    message[extension: Extensions.count] = 0
    XCTAssertTrue(message.hasExtension(Extensions.count))
    message.clearExtension(Extensions.count)
    XCTAssertFalse(message.hasExtension(Extensions.count))
    message[extension: Extensions.numbers] = [1]
    XCTAssertTrue(message.hasExtension(Extensions.numbers))
    message[extension: Extensions.numbers] = []
    XCTAssertFalse(message.hasExtension(Extensions.numbers))
  }

  func testEmptyBytesExtensionStaysSet() {
    var message = Tandem_Test2_Extendable()
    message[extension: Extensions.blob] = []
    XCTAssertTrue(message.hasExtension(Extensions.blob))
  }

  func testExtensionsEncodeBetweenFieldsInNumberOrder() throws {
    let message = Tandem_Test2_Extendable.with {
      $0.plain = 1
      $0.between = "b"
      $0[extension: Extensions.blob] = [1]
      $0[extension: Extensions.count] = 5
    }
    XCTAssertBytes(try message.serializedBytes(), "08 01 50 05 A2 01 01 62 F2 06 01 01")
  }

  func testEveryKindRoundTripsTyped() throws {
    let message = Tandem_Test2_Extendable.with {
      $0[extension: Extensions.count] = -3
      $0[extension: Extensions.name] = "n"
      $0[extension: Extensions.color] = .blue
      $0[extension: Extensions.numbers] = [1, 2]
      $0[extension: Extensions.packedNumbers] = [3, 400]
      $0[extension: Extensions.colors] = [.red, .green]
      $0[extension: Extensions.inner] = .with { $0.id = 9 }
      $0[extension: Extensions.inners] = [.with { $0.id = 1 }, .with { $0.id = 2; $0.label = "x" }]
      $0[extension: Extensions.grouped] = .with { $0.a = 4 }
      $0[extension: Extensions.signed] = [-1, Int64.min]
      $0[extension: Extensions.blob] = [0, 255]
      $0[extension: Extensions.ratio] = 0.5
      $0[extension: Tandem_Test2_Scope.Extensions.scoped] = .with { $0.value = 3 }
      $0[extension: Tandem_Test2_Scope.Extensions.scopedNames] = ["a", "b"]
    }
    let bytes = try message.serializedBytes()
    XCTAssertEqual(bytes.count, message.serializedSize)
    let decoded = try Tandem_Test2_Extendable(serializedBytes: bytes, options: registry)
    XCTAssertEqual(decoded, message)
    XCTAssertTrue(decoded.unknownFields.isEmpty)
    XCTAssertEqual(try decoded.serializedBytes(), bytes)
  }

  func testPackedAndGroupAndScopedBytes() throws {
    let message = Tandem_Test2_Extendable.with {
      $0[extension: Extensions.packedNumbers] = [1, 2]
      $0[extension: Extensions.grouped] = .with { $0.a = 1 }
      $0[extension: Extensions.signed] = [-1]
      $0[extension: Tandem_Test2_Scope.Extensions.scoped] = .with { $0.value = 3 }
    }
    XCTAssertBytes(try message.serializedBytes(), "72 02 01 02 93 01 08 01 94 01 98 01 01 AA 06 02 08 03")
  }

  func testUnknownExtensionsArePreservedByteForByte() throws {
    // count = 5 and a group 18 with a = 1, decoded without a registry.
    let input = hex("50 05 93 01 08 01 94 01")
    let message = try Tandem_Test2_Extendable(serializedBytes: input)
    XCTAssertFalse(message.hasExtension(Extensions.count))
    XCTAssertEqual(message.unknownFields.bytes, input)
    XCTAssertEqual(try message.serializedBytes(), input)
  }

  func testRegistryDecodesTypedAndMergesMessages() throws {
    // inner { id: 1 } then inner { label: "x" }: two occurrences of a message extension merge.
    let message = try Tandem_Test2_Extendable(serializedBytes: hex("82 01 02 08 01 82 01 03 12 01 78"), options: registry)
    XCTAssertEqual(message[extension: Extensions.inner], .with { $0.id = 1; $0.label = "x" })
    XCTAssertTrue(message.unknownFields.isEmpty)
  }

  func testRepeatedExtensionAcceptsPackedAndUnpacked() throws {
    // numbers (13) unpacked 1, then a packed run 2, 3; packed_numbers (14) unpacked 4.
    let message = try Tandem_Test2_Extendable(serializedBytes: hex("68 01 6A 02 02 03 70 04"), options: registry)
    XCTAssertEqual(message[extension: Extensions.numbers], [1, 2, 3])
    XCTAssertEqual(message[extension: Extensions.packedNumbers], [4])
  }

  func testClosedEnumExtensionKeepsUnknownNumbers() throws {
    // color (12) = 9 is undefined; colors (15) packed run 1, 9, 3 keeps 9 as a varint field.
    let message = try Tandem_Test2_Extendable(serializedBytes: hex("60 09 7A 03 01 09 03"), options: registry)
    XCTAssertFalse(message.hasExtension(Extensions.color))
    XCTAssertEqual(message[extension: Extensions.colors], [.red, .blue])
    XCTAssertEqual(message.unknownFields.bytes, hex("60 09 78 09"))
  }

  func testWrongWireTypeStaysUnknown() throws {
    // count (10) sent length-delimited does not match int32, so it stays an unknown field.
    let message = try Tandem_Test2_Extendable(serializedBytes: hex("52 01 00"), options: registry)
    XCTAssertFalse(message.hasExtension(Extensions.count))
    XCTAssertEqual(message.unknownFields.bytes, hex("52 01 00"))
  }

  func testEqualityAndHashingIncludeExtensions() {
    let first = Tandem_Test2_Extendable.with { $0[extension: Extensions.count] = 1 }
    let second = Tandem_Test2_Extendable.with { $0[extension: Extensions.count] = 2 }
    XCTAssertNotEqual(first, second)
    XCTAssertEqual(Set([first, first, second]).count, 2)
  }

  func testRegistryLookupAndUnion() {
    var registry = ExtensionRegistry()
    XCTAssertTrue(registry.isEmpty)
    registry.insert(Extensions.count)
    registry.formUnion(Extensions.registry)
    XCTAssertEqual(registry.count, Extensions.registry.count)
    XCTAssertEqual(registry.extensionField(messageName: "tandem.test2.Extendable", fieldNumber: 10)?.fullName, "tandem.test2.count")
    XCTAssertNil(registry.extensionField(messageName: "tandem.test2.Inner", fieldNumber: 10))
    XCTAssertEqual(Extensions.registry.count, 14)
  }

  func testExtensionsOfProto2MessageWithRanges() throws {
    // Field 150 lies in Proto2's extension range 100 to 200 and no extension is registered for it.
    let message = try Tandem_Test2_Proto2(serializedBytes: hex("08 01 B0 09 01"))
    XCTAssertEqual(message.unknownFields.bytes, hex("B0 09 01"))
    XCTAssertBytes(try message.serializedBytes(), "08 01 B0 09 01")
  }

  func testDecodeExtensionsMovesKnownUnknownFields() throws {
    // count = 5, unknown field 30 (not an extension), then inner { id: 1 } as extension 16.
    var message = try Tandem_Test2_Extendable(serializedBytes: hex("50 05 F0 01 01 82 01 02 08 01"))
    XCTAssertFalse(message.hasExtension(Extensions.count))

    try message.decodeExtensions(using: [Extensions.count, Extensions.inner])

    XCTAssertEqual(message[extension: Extensions.count], 5)
    XCTAssertEqual(message[extension: Extensions.inner].id, 1)
    XCTAssertEqual(message.unknownFields.bytes, hex("F0 01 01"))
    XCTAssertBytes(try message.serializedBytes(), "50 05 82 01 02 08 01 F0 01 01")
  }

  func testDecodeExtensionsFailureLeavesMessageUnchanged() throws {
    // name (11) contains the invalid UTF-8 byte FF.
    var message = try Tandem_Test2_Extendable(serializedBytes: hex("50 05 5A 01 FF"))
    let before = message
    XCTAssertThrowsError(try message.decodeExtensions(using: Extensions.registry)) { error in
      XCTAssertEqual((error as? ProtobufDecodingError)?.kind, .invalidUTF8)
    }
    XCTAssertEqual(message, before)
  }
}
