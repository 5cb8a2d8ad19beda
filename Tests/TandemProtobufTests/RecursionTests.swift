import TandemProtobuf
import XCTest

final class RecursionTests: XCTestCase {
  /// Returns a `Recursive` message with `levels` nested `child` messages below the top-level one.
  func chain(levels: Int) -> Tandem_Test_Recursive {
    var message = Tandem_Test_Recursive.with { $0.depth = Int32(levels) }
    for level in stride(from: levels - 1, through: 0, by: -1) {
      let child = message
      message = Tandem_Test_Recursive.with {
        $0.depth = Int32(level)
        $0.child = child
      }
    }
    return message
  }

  func depth(of message: Tandem_Test_Recursive) -> Int {
    var levels = 0
    var current = message
    while current.hasChild {
      current = current.child
      levels += 1
    }
    return levels
  }

  func testTenAndHundredLevelsDecode() throws {
    for levels in [10, 100] {
      let message = chain(levels: levels)
      let bytes = try message.serializedBytes()
      let decoded = try Tandem_Test_Recursive(serializedBytes: bytes)
      XCTAssertEqual(depth(of: decoded), levels)
      XCTAssertEqual(decoded, message)
    }
  }

  func testEncodingStopsBeyondMaximumDepth() throws {
    XCTAssertNoThrow(try chain(levels: SizeCache.maxDepth).serializedBytes())
    XCTAssertThrowsError(try chain(levels: 2_000).serializedBytes()) { error in
      XCTAssertEqual((error as? ProtobufEncodingError)?.kind, .nestingTooDeep(limit: 500))
      XCTAssertTrue("\(error)".contains("deeper than 500 levels"), "\(error)")
    }
  }

  func testRecursionLimitAboveMaximumActsAsMaximum() throws {
    let bytes = try chain(levels: SizeCache.maxDepth).serializedBytes()
    let options = DecodingOptions(recursionLimit: 10_000)
    XCTAssertNoThrow(try Tandem_Test_Recursive(serializedBytes: bytes, options: options))
    // 501 levels, built on the wire: a field-2 (child) tag and length around each level.
    var nested: [UInt8] = []
    for _ in 0...DecodingOptions.maxRecursionLimit {
      var wrapped: [UInt8] = [0x12]
      var length = nested.count
      while length >= 0x80 {
        wrapped.append(UInt8(length & 0x7F) | 0x80)
        length >>= 7
      }
      wrapped.append(UInt8(length))
      nested = wrapped + nested
    }
    XCTAssertThrowsError(try Tandem_Test_Recursive(serializedBytes: nested, options: options)) { error in
      XCTAssertEqual((error as? ProtobufDecodingError)?.kind, .recursionLimitExceeded(limit: 500))
    }
  }

  func testLevel101ExceedsDefaultLimit() throws {
    let bytes = try chain(levels: 101).serializedBytes()
    let error = decodingError(Tandem_Test_Recursive.self, bytes)
    XCTAssertEqual(error?.kind, .recursionLimitExceeded(limit: 100))
    XCTAssertEqual(error?.fieldPath.count, 101)
    XCTAssertEqual(error?.fieldPath.allSatisfy { $0 == 2 }, true)
  }

  func testFiveHundredLevelsEncodeAndFailToDecode() throws {
    let message = chain(levels: 500)
    let bytes = try message.serializedBytes()
    XCTAssertEqual(bytes.count, message.serializedSize)
    XCTAssertEqual(decodingError(Tandem_Test_Recursive.self, bytes)?.kind, .recursionLimitExceeded(limit: 100))
    let decoded = try Tandem_Test_Recursive(serializedBytes: bytes, options: DecodingOptions(recursionLimit: 500))
    XCTAssertEqual(depth(of: decoded), 500)
  }

  func testCustomLimit() throws {
    let bytes = try chain(levels: 5).serializedBytes()
    XCTAssertNoThrow(try Tandem_Test_Recursive(serializedBytes: bytes, options: DecodingOptions(recursionLimit: 5)))
    let error = decodingError(Tandem_Test_Recursive.self, bytes, options: DecodingOptions(recursionLimit: 4))
    XCTAssertEqual(error?.kind, .recursionLimitExceeded(limit: 4))
  }

  func testDeepUnknownGroupsHitLimitWithoutCrashing() {
    // 5000 nested unknown groups of field 23 in a message that does not define field 23.
    let bytes = Array(repeating: hex("BB 01"), count: 5000).flatMap { $0 }
      + Array(repeating: hex("BC 01"), count: 5000).flatMap { $0 }
    XCTAssertEqual(decodingError(Tandem_Test_Scalars.self, bytes)?.kind, .recursionLimitExceeded(limit: 100))
  }

  func testDeepLengthDelimitedInputHitsLimit() {
    // 2000 nested `child` fields, built by hand from the inside out.
    var bytes: [UInt8] = []
    for _ in 0..<2000 {
      var prefix: [UInt8] = [0x12]
      var length = bytes.count
      while length >= 0x80 {
        prefix.append(UInt8(length & 0x7F) | 0x80)
        length >>= 7
      }
      prefix.append(UInt8(length))
      bytes = prefix + bytes
    }
    XCTAssertEqual(decodingError(Tandem_Test_Recursive.self, bytes)?.kind, .recursionLimitExceeded(limit: 100))
  }

  func testIndirectRecursionRoundTrips() throws {
    let message = Tandem_Test_Ping.with {
      $0.value = 1
      $0.pong.ping.value = 2
      $0.pong.ping.pong.ping.value = 3
    }
    let bytes = try message.serializedBytes()
    XCTAssertBytes(bytes, "0A 0A 0A 08 0A 04 0A 02 10 03 10 02 10 01")
    XCTAssertEqual(try Tandem_Test_Ping(serializedBytes: bytes), message)
  }

  func testRecursiveValueSemantics() {
    var original = Tandem_Test_Recursive.with { $0.child.depth = 1 }
    let copy = original
    original.child.depth = 2
    XCTAssertEqual(copy.child.depth, 1)
    XCTAssertEqual(original.child.depth, 2)
    XCTAssertNotEqual(copy, original)
  }

  func testRecursiveOneofAndMapRoundTrip() throws {
    let message = Tandem_Test_Recursive.with {
      $0.left = .with { $0.leaf = 4 }
      $0.named = ["a": .with { $0.depth = 9 }]
      $0.children = [.with { $0.child.depth = 3 }]
    }
    XCTAssertEqual(try Tandem_Test_Recursive(serializedBytes: message.serializedBytes()), message)
  }
}
