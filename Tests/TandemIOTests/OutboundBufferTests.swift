#if canImport(Glibc)
import Glibc
#endif
import XCTest

@testable import TandemIO

final class OutboundBufferTests: XCTestCase {
  /// Drains `buffer` through `withIOVectors`, taking at most `step` bytes per call.
  private func drain(_ buffer: inout OutboundBuffer, step: Int, maxVectors: Int) -> [UInt8] {
    var output: [UInt8] = []
    while !buffer.isEmpty {
      let written = buffer.withIOVectors(maxVectors: maxVectors) { vectors -> Int in
        var taken = 0
        for vector in vectors where taken < step {
          let length = min(vector.iov_len, step - taken)
          let bytes = UnsafeRawBufferPointer(start: vector.iov_base, count: length)
          output.append(contentsOf: bytes)
          taken += length
        }
        return taken
      }
      XCTAssertGreaterThan(written, 0)
    }
    return output
  }

  func testSmallWritesShareOneVector() {
    var buffer = OutboundBuffer()
    let piece = [UInt8](repeating: 7, count: 100)
    for _ in 0..<100 {
      piece.withUnsafeBytes { buffer.append($0) }
    }
    var vectorCount = 0
    _ = buffer.withIOVectors(maxVectors: 64) { vectors in
      vectorCount = vectors.count
      return 0
    }
    XCTAssertEqual(vectorCount, 1)
    XCTAssertEqual(buffer.count, 10_000)
  }

  func testPartialWritesKeepOrder() {
    var buffer = OutboundBuffer()
    let payload = makePayload(count: 300_000)
    var offset = 0
    for size in [1, 70_000, 5, 100_000, 3, 129_991] {
      payload.withUnsafeBytes { buffer.append(UnsafeRawBufferPointer(rebasing: $0[offset..<offset + size])) }
      offset += size
    }
    XCTAssertEqual(offset, payload.count)
    XCTAssertEqual(buffer.count, payload.count)
    let output = drain(&buffer, step: 12_345, maxVectors: 2)
    XCTAssertTrue(output == payload, "bytes came out changed or reordered")
    XCTAssertEqual(buffer.count, 0)
  }

  func testFillAppendKeepsWrittenBytes() {
    var buffer = OutboundBuffer()
    buffer.append(byteCount: 10) { space in
      for index in 0..<4 { space[index] = UInt8(index) }
      return 4
    }
    XCTAssertEqual(buffer.count, 4)
    XCTAssertEqual(drain(&buffer, step: 100, maxVectors: 4), [0, 1, 2, 3])
  }
}
