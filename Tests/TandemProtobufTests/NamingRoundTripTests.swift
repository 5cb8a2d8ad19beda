import TandemProtobuf
import XCTest

/// The schema in tandem_test_naming.proto uses keywords and runtime type names everywhere. These
/// tests check that the renamed members still map to the right fields on the wire.
final class NamingRoundTripTests: XCTestCase {
  func testCollidingFieldsKeepTheirNumbers() throws {
    let message = Struct_Protocol_Message.with {
      $0.required = 1
      $0.foo = 2
      $0.hasFoo_p = 3
      $0.clearFoo_p = 4
      $0.fooBar = 5
      $0.fooBar_5 = 6
      $0.foo_11 = 7
    }
    XCTAssertBytes(try message.serializedBytes(), "08 02 10 03 18 04 20 05 28 06 58 07 A8 01 01")
    XCTAssertTrue(message.hasFoo)
    XCTAssertTrue(message.hasHasFooP)
  }

  func testReservedNamesRoundTrip() throws {
    var message = Struct_Protocol_Message()
    message.required = 0
    message.unknownFields_p = "u"
    message.isInitialized_p = "i"
    message.hashValue_p = "h"
    message.description_p = "d"
    message.extensionFields_p = "e"
    message.type = .self_
    message.`enum` = .`case`
    message.`switch` = .`default`("x")
    message.self_p.self_p = 1
    message.self_p.type = 2
    message.self_p.protocol = 3
    message.string = [Struct_Protocol_String.with { $0.value = "s" }]
    message.data["k"] = Struct_Protocol_Data.with { $0.bytes = [1] }
    message.unknown.count = 4
    message.error.message = "m"
    message[extension: Struct_Protocol_TandemTestNaming_Extensions.func] = 5
    message[extension: Struct_Protocol_protocol.Extensions.`var`] = 6
    message[extension: Struct_Protocol_protocol.Extensions.registry_] = "r"
    message[extension: Struct_Protocol_TandemTestNaming_Extensions.types] = [.none, .some]

    let bytes = try message.serializedBytes()
    let decoded = try Struct_Protocol_Message(
      serializedBytes: bytes, options: DecodingOptions(extensions: Struct_Protocol_TandemTestNaming_Extensions.registry))
    XCTAssertEqual(decoded, message)
    XCTAssertTrue(decoded.unknownFields.isEmpty)
  }

  func testEnumDefaultThatIsNotFirstValue() {
    // `type` declares [default = init], the fourth value.
    XCTAssertEqual(Struct_Protocol_Message().type, .init_)
    XCTAssertEqual(Struct_Protocol_Type(), .none)
  }

  func testNoneCaseIsDistinctFromOptionalNone() {
    let stored: Struct_Protocol_Type? = Struct_Protocol_Type.none
    XCTAssertNotNil(stored)
    XCTAssertEqual(stored?.rawValue, 0)
  }

  func testMissingRequiredFieldUsesProtoName() {
    XCTAssertEqual(Struct_Protocol_Message().missingRequiredFields, ["required"])
  }
}
