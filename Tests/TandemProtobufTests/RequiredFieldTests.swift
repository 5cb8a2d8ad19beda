import TandemProtobuf
import XCTest

final class RequiredFieldTests: XCTestCase {
  typealias Extensions = Tandem_Test2_TandemTestRequired_Extensions

  func missingPaths(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> [String] {
    guard let error = decodingError(Tandem_Test2_Outer.self, bytes, file: file, line: line) else { return [] }
    guard case .missingRequiredFields(let paths) = error.kind else {
      XCTFail("expected missingRequiredFields, got \(error)", file: file, line: line)
      return []
    }
    return paths
  }

  func testEmptyMessageIsNotInitialized() {
    let outer = Tandem_Test2_Outer()
    XCTAssertFalse(outer.isInitialized)
    XCTAssertEqual(outer.missingRequiredFields, ["middle"])
  }

  func testSetRequiredFieldsMakeInitialized() {
    let outer = Tandem_Test2_Outer.with { $0.middle.inner.id = 1 }
    XCTAssertTrue(outer.isInitialized)
    XCTAssertEqual(outer.missingRequiredFields, [])
  }

  func testDecodeNestedMissingFieldNamesPath() {
    XCTAssertEqual(missingPaths(hex("0A 02 0A 00")), ["middle.inner.id"])
  }

  func testDecodeRepeatedMissingFieldsNameIndexes() {
    XCTAssertEqual(missingPaths(hex("0A 04 12 00 12 00")), ["middle.items[0].id", "middle.items[1].id"])
  }

  func testDecodeMapValueMissingFieldNamesKey() {
    XCTAssertEqual(missingPaths(hex("0A 07 1A 05 0A 01 6B 12 00")), ["middle.by_name[k].id"])
  }

  func testDecodeOneofAndGroupMissingFields() {
    XCTAssertEqual(missingPaths(hex("0A 02 22 00")), ["middle.picked.id"])
    XCTAssertEqual(missingPaths(hex("0A 02 33 34")), ["middle.block.key"])
  }

  func testDecodeRecursiveMessageMissingField() {
    // middle { inner { id: 1 } } next { }: the boxed recursive field lacks its required middle.
    XCTAssertEqual(missingPaths(hex("0A 04 0A 02 08 01 12 00")), ["next.middle"])
  }

  func testDecodeErrorDescriptionNamesPathAndOption() {
    let error = decodingError(Tandem_Test2_Outer.self, hex("0A 02 0A 00"))
    XCTAssertEqual(
      error?.description,
      "required fields are not set: middle.inner.id; decode with DecodingOptions(allowPartial: true) to accept such messages")
  }

  func testAllowPartialDecodes() throws {
    let outer = try Tandem_Test2_Outer(serializedBytes: hex("0A 02 0A 00"), options: DecodingOptions(allowPartial: true))
    XCTAssertTrue(outer.middle.hasInner)
    XCTAssertFalse(outer.isInitialized)
  }

  func testRequiredSetInLaterOccurrenceDecodes() throws {
    // The sub-message arrives twice; the second occurrence sets the required id, and the two merge.
    let outer = try Tandem_Test2_Outer(serializedBytes: hex("0A 02 0A 00 0A 04 0A 02 08 07"))
    XCTAssertEqual(outer.middle.inner.id, 7)
  }

  func testEncodeMissingFieldThrows() {
    let outer = Tandem_Test2_Outer.with { $0.middle.items = [Tandem_Test2_Inner()] }
    XCTAssertThrowsError(try outer.serializedBytes()) { error in
      XCTAssertEqual(
        (error as? ProtobufEncodingError)?.kind, .missingRequiredFields(paths: ["middle.items[0].id"]))
    }
  }

  func testEncodePartialSucceeds() throws {
    let outer = Tandem_Test2_Outer.with { $0.middle.items = [Tandem_Test2_Inner()] }
    XCTAssertBytes(try outer.serializedBytes(partial: true), "0A 02 12 00")
  }

  func testExtensionValueMissingFieldUsesFullName() {
    var message = Tandem_Test2_Extendable()
    message[extension: Extensions.inner] = Tandem_Test2_Inner()
    message[extension: Extensions.inners] = [Tandem_Test2_Inner.with { $0.id = 1 }, Tandem_Test2_Inner()]
    XCTAssertFalse(message.isInitialized)
    XCTAssertEqual(message.missingRequiredFields, ["(tandem.test2.inner).id", "(tandem.test2.inners)[1].id"])
  }

  func testDecodedExtensionMissingFieldFails() {
    // Extension 16 (inner) contains an Inner without its required id.
    let options = DecodingOptions(extensions: Extensions.registry)
    let error = decodingError(Tandem_Test2_Extendable.self, hex("82 01 00"), options: options)
    XCTAssertEqual(error?.kind, .missingRequiredFields(paths: ["(tandem.test2.inner).id"]))
  }

  func testMessageWithoutRequiredFieldsIsInitialized() {
    XCTAssertTrue(Tandem_Test2_Defaults().isInitialized)
    XCTAssertTrue(Tandem_Test_Scalars().isInitialized)
  }
}
