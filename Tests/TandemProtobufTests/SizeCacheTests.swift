import TandemProtobuf
import XCTest

/// Number of `CountingNode.encodedSize(into:)` calls; read and reset by one test at a time.
nonisolated(unsafe) var countingNodeSizeCalls = 0

/// A hand-written message with nested children that counts how often it is sized.
struct CountingNode: Message {
  static let protoMessageName = "test.CountingNode"
  var children: [CountingNode] = []
  var unknownFields = UnknownFields()

  init() {}

  mutating func decodeMessage(from decoder: inout WireDecoder) throws(ProtobufDecodingError) {
    while let tag = try decoder.nextTag() {
      switch tag.fieldNumber {
      case 1 where tag.wireType == .lengthDelimited:
        var child = CountingNode()
        try decoder.decodeMessage(&child)
        children.append(child)
      default:
        try decoder.skipField(tag, into: &unknownFields)
      }
    }
  }

  func encodedSize(into sizes: inout SizeCache) -> Int {
    countingNodeSizeCalls += 1
    var size = 0
    for child in children {
      size += 1 + sizes.lengthDelimitedSize(of: child)
    }
    return size + unknownFields.count
  }

  func encode(to encoder: inout WireEncoder) {
    for child in children {
      encoder.writeTag(0x0A)
      encoder.writeMessage(child)
    }
    encoder.writeUnknownFields(unknownFields)
  }
}

final class SizeCacheTests: XCTestCase {
  func chain(levels: Int) -> CountingNode {
    var node = CountingNode()
    for _ in 0..<levels {
      var parent = CountingNode()
      parent.children = [node]
      node = parent
    }
    return node
  }

  func testEachMessageIsSizedOncePerEncode() throws {
    for levels in [1, 10, 500] {
      let message = chain(levels: levels)
      countingNodeSizeCalls = 0
      let bytes = try message.serializedBytes()
      XCTAssertEqual(countingNodeSizeCalls, levels + 1, "levels \(levels)")
      XCTAssertEqual(try CountingNode(serializedBytes: bytes, options: DecodingOptions(recursionLimit: 1000)), message)
    }
  }

  func testTreeIsSizedOncePerNode() throws {
    var root = CountingNode()
    root.children = Array(repeating: chain(levels: 3), count: 4)
    countingNodeSizeCalls = 0
    _ = try root.serializedBytes()
    XCTAssertEqual(countingNodeSizeCalls, 1 + 4 * 4)
  }

  func testSlotPerSubMessageAndPackedRun() {
    let message = Tandem_Test_Everything.with {
      $0.scalars.int32Value = 1
      $0.repeated.int32Values = [1, 2]
      $0.repeated.fixed32Values = [1]
      $0.maps.stringToInt32 = ["a": 1]
    }
    var sizes = SizeCache()
    _ = message.encodedSize(into: &sizes)
    // scalars, repeated, its packed varint run, maps and its one entry; packed fixed32 needs no slot.
    XCTAssertEqual(sizes.count, 5)
  }

  func testSerializedSizeMatchesBytes() throws {
    let message = Tandem_Test_Everything.with {
      $0.scalars.stringValue = String(repeating: "x", count: 300)
      $0.repeated.messages = Array(repeating: .with { $0.int64Value = -1 }, count: 20)
      $0.maps.int64ToMessage = [1: .with { $0.bytesValue = Array(repeating: 7, count: 200) }]
    }
    XCTAssertEqual(try message.serializedBytes().count, message.serializedSize)
  }
}
