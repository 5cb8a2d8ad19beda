import XCTest

@testable import TandemCore

final class FramingTests: XCTestCase {
  func testFramerWritesPrefix() throws {
    XCTAssertEqual(try GRPCMessageFramer.frame([]), [0, 0, 0, 0, 0])
    XCTAssertEqual(try GRPCMessageFramer.frame([7, 8, 9]), [0, 0, 0, 0, 3, 7, 8, 9])
    let large = [UInt8](repeating: 1, count: 0x01_02_03)
    XCTAssertEqual(Array(try GRPCMessageFramer.frame(large).prefix(5)), [0, 0, 0x01, 0x02, 0x03])
  }

  func testFramerEnforcesSendLimit() {
    XCTAssertNoThrow(try GRPCMessageFramer.frame([1, 2, 3], maxMessageBytes: 3))
    XCTAssertThrowsError(try GRPCMessageFramer.frame([1, 2, 3, 4], maxMessageBytes: 3)) { error in
      let error = error as? RPCError
      XCTAssertEqual(error?.code, .resourceExhausted)
      XCTAssertTrue(error?.message.contains("4 bytes") ?? false)
      XCTAssertTrue(error?.message.contains("3 bytes") ?? false)
    }
  }

  private func stream(of payloads: [[UInt8]]) throws -> [UInt8] {
    var bytes: [UInt8] = []
    for payload in payloads { bytes += try GRPCMessageFramer.frame(payload) }
    return bytes
  }

  private let payloads: [[UInt8]] = [[1, 2, 3], [], [4], Array(repeating: 9, count: 300), [5, 6]]

  func testDeframerSplitsAtEveryBoundary() throws {
    let bytes = try stream(of: payloads)
    for split in 0...bytes.count {
      var deframer = GRPCMessageDeframer(maxMessageBytes: 1024)
      var messages: [[UInt8]] = []
      try deframer.process(Array(bytes[0..<split]), into: &messages)
      try deframer.process(Array(bytes[split...]), into: &messages)
      XCTAssertEqual(messages, payloads, "split at \(split)")
      XCTAssertFalse(deframer.hasPartialMessage)
    }
  }

  func testDeframerAcceptsOneByteChunks() throws {
    let bytes = try stream(of: payloads)
    var deframer = GRPCMessageDeframer(maxMessageBytes: 1024)
    var messages: [[UInt8]] = []
    for byte in bytes {
      try deframer.process([byte], into: &messages)
    }
    XCTAssertEqual(messages, payloads)
  }

  func testDeframerReadsManyMessagesFromOneChunk() throws {
    let many = (0..<100).map { [UInt8(truncatingIfNeeded: $0)] }
    var deframer = GRPCMessageDeframer(maxMessageBytes: 10)
    var messages: [[UInt8]] = []
    try deframer.process(try stream(of: many), into: &messages)
    XCTAssertEqual(messages, many)
  }

  func testDeframerReportsPartialMessage() throws {
    var deframer = GRPCMessageDeframer(maxMessageBytes: 10)
    var messages: [[UInt8]] = []
    try deframer.process([0, 0, 0], into: &messages)
    XCTAssertTrue(deframer.hasPartialMessage)
    try deframer.process([0, 2, 1], into: &messages)
    XCTAssertTrue(deframer.hasPartialMessage)
    try deframer.process([2], into: &messages)
    XCTAssertFalse(deframer.hasPartialMessage)
    XCTAssertEqual(messages, [[1, 2]])
  }

  func testDeframerRejectsOversizedMessageFromPrefix() {
    // Only the prefix arrives: the length alone must fail the stream.
    var deframer = GRPCMessageDeframer(maxMessageBytes: 100)
    var messages: [[UInt8]] = []
    XCTAssertThrowsError(try deframer.process([0, 0, 0, 0, 101], into: &messages)) { error in
      let error = error as? RPCError
      XCTAssertEqual(error?.code, .resourceExhausted)
      XCTAssertTrue(error?.message.contains("101 bytes") ?? false)
      XCTAssertTrue(error?.message.contains("100 bytes") ?? false)
    }
  }

  func testDeframerAcceptsMessageAtLimit() throws {
    var deframer = GRPCMessageDeframer(maxMessageBytes: 4)
    var messages: [[UInt8]] = []
    try deframer.process([0, 0, 0, 0, 4, 1, 2, 3, 4], into: &messages)
    XCTAssertEqual(messages, [[1, 2, 3, 4]])
  }

  func testDeframerRejectsCompressedFlagWithoutEncoding() {
    var deframer = GRPCMessageDeframer(maxMessageBytes: 100)
    var messages: [[UInt8]] = []
    XCTAssertThrowsError(try deframer.process([1, 0, 0, 0, 1, 7], into: &messages)) { error in
      let error = error as? RPCError
      XCTAssertEqual(error?.code, .internalError)
      XCTAssertTrue(error?.message.contains("no grpc-encoding") ?? false)
    }
  }

  func testDeframerRejectsCompressedFlagWithUnsupportedEncoding() {
    var deframer = GRPCMessageDeframer(maxMessageBytes: 100, encoding: "gzip")
    var messages: [[UInt8]] = []
    XCTAssertThrowsError(try deframer.process([1, 0, 0, 0, 1, 7], into: &messages)) { error in
      let error = error as? RPCError
      XCTAssertEqual(error?.code, .internalError)
      XCTAssertTrue(error?.message.contains("gzip") ?? false)
    }
  }

  func testDeframerRejectsInvalidFlag() {
    for flag: UInt8 in [2, 0x80, 0xFF] {
      var deframer = GRPCMessageDeframer(maxMessageBytes: 100)
      var messages: [[UInt8]] = []
      XCTAssertThrowsError(try deframer.process([flag, 0, 0, 0, 0], into: &messages)) { error in
        let error = error as? RPCError
        XCTAssertEqual(error?.code, .internalError)
        XCTAssertTrue(error?.message.contains("\(flag)") ?? false)
      }
    }
  }

  func testDeframerKeepsMessagesBeforeError() throws {
    var deframer = GRPCMessageDeframer(maxMessageBytes: 100)
    var messages: [[UInt8]] = []
    var bytes = try GRPCMessageFramer.frame([1])
    bytes += [3, 0, 0, 0, 0]
    XCTAssertThrowsError(try deframer.process(bytes, into: &messages))
    XCTAssertEqual(messages, [[1]])
  }
}
