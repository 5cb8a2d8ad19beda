import TandemProtobuf
import XCTest

/// Encodes `message` with the pointer-based `encodedSize(of:into:)` and `encode(_:to:)`, which
/// `serializedBytes()` uses for elements of repeated message fields.
func pointerEncoded<M: Message>(_ message: M, recordedSizes: inout Int) -> [UInt8] {
  withUnsafePointer(to: message) { pointer in
    var sizes = SizeCache()
    let size = M.encodedSize(of: pointer, into: &sizes)
    recordedSizes = sizes.count
    var bytes = [UInt8](repeating: 0, count: size)
    bytes.withUnsafeMutableBytes { buffer in
      var encoder = WireEncoder(buffer: buffer, sizes: sizes)
      M.encode(pointer, to: &encoder)
      XCTAssertEqual(encoder.count, size)
    }
    return bytes
  }
}

final class PointerEncodingTests: XCTestCase {
  func makeScalars(_ index: Int) -> Tandem_Test_Scalars {
    Tandem_Test_Scalars.with {
      $0.int32Value = Int32(index)
      $0.int64Value = -1_000_000_007 * Int64(index + 1)
      $0.sint32Value = Int32(-index)
      $0.fixed64Value = 0xFFFF_0000_FFFF_0000
      $0.doubleValue = Double(index) / 3
      $0.stringValue = "scalars number \(index), long enough to be stored on the heap"
      $0.bytesValue = [UInt8(index), 0, 255]
      $0.color = .blue
    }
  }

  func makeEverything() -> Tandem_Test_Everything {
    Tandem_Test_Everything.with {
      $0.scalars = makeScalars(1)
      $0.repeated.messages = (0..<5).map(makeScalars)
      $0.repeated.int32Values = [1, -2, 300]
      $0.repeated.stringValues = ["a", "a string of more than fifteen bytes"]
      $0.maps.int64ToMessage = [7: makeScalars(7), -8: makeScalars(8)]
      $0.optionals.message = makeScalars(2)
      $0.optionals.stringValue = "optional"
      $0.oneofs.message = makeScalars(3)
      $0.oneofs.after = "after"
      $0.recursive.depth = 1
      $0.recursive.child.depth = 2
      $0.recursive.child.children = [Tandem_Test_Recursive.with { $0.depth = 3 }]
      $0.recursive.children = (0..<3).map { index in
        Tandem_Test_Recursive.with {
          $0.depth = Int32(10 + index)
          $0.left.leaf = Int32(index)
        }
      }
      $0.ping.pong.ping.value = 5
    }
  }

  func testPointerEncoderMatchesValueEncoder() throws {
    let message = makeEverything()
    var recordedSizes = 0
    let bytes = pointerEncoded(message, recordedSizes: &recordedSizes)

    var sizes = SizeCache()
    _ = message.encodedSize(into: &sizes)
    XCTAssertEqual(recordedSizes, sizes.count)
    XCTAssertEqual(hexString(bytes), hexString(try message.serializedBytes()))
    XCTAssertEqual(try Tandem_Test_Everything(serializedBytes: bytes), message)
  }

  func testPointerEncoderEmptyMessage() {
    var recordedSizes = -1
    XCTAssertEqual(pointerEncoded(Tandem_Test_Everything(), recordedSizes: &recordedSizes), [])
    XCTAssertEqual(recordedSizes, 0)
  }

  func testRepeatedMessagesRoundTrip() throws {
    let message = Tandem_Test_Repeated.with {
      $0.messages = (0..<100).map(makeScalars) + [Tandem_Test_Scalars()]
    }
    let bytes = try message.serializedBytes()
    XCTAssertEqual(bytes.count, message.serializedSize)
    XCTAssertEqual(try Tandem_Test_Repeated(serializedBytes: bytes), message)
  }

  func testOutputSizesAroundAllocationLimit() throws {
    // serializedBytes() allocates outputs of up to 4,096 bytes and larger ones in different ways.
    // A Scalars message with only bytes_value set is 1 tag byte, the length and the bytes, and
    // lengths from 128 to 16,383 take 2 bytes.
    for size in [4_095, 4_096, 4_097, 16_000] {
      let message = Tandem_Test_Scalars.with {
        $0.bytesValue = (0..<(size - 3)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
      }
      let bytes = try message.serializedBytes()
      XCTAssertEqual(bytes.count, size)
      XCTAssertEqual(message.serializedSize, size)
      XCTAssertEqual(try Tandem_Test_Scalars(serializedBytes: bytes), message, "size \(size)")
    }
  }

  func testWrappedValuePointerOfNil() {
    let optional: Tandem_Test_Scalars? = nil
    withUnsafePointer(to: optional) { pointer in
      XCTAssertNil(WireFormat.wrappedValuePointer(pointer))
    }
  }

  func testWrappedValuePointerOfValue() {
    let optional: Tandem_Test_Scalars? = makeScalars(4)
    withUnsafePointer(to: optional) { pointer in
      XCTAssertEqual(WireFormat.wrappedValuePointer(pointer)?.pointee, makeScalars(4))
    }
    let number: Int8? = -3
    withUnsafePointer(to: number) { pointer in
      XCTAssertEqual(WireFormat.wrappedValuePointer(pointer)?.pointee, -3)
    }
  }
}
