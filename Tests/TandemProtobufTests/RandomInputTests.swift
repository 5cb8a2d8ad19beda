import TandemProtobuf
import XCTest

final class RandomInputTests: XCTestCase {
  /// Decodes `bytes` and, when that succeeds, checks that the message re-encodes and decodes again.
  func exercise<M: Message>(_ type: M.Type, _ bytes: [UInt8]) {
    guard let message = try? M(serializedBytes: bytes) else { return }
    guard let encoded = try? message.serializedBytes() else {
      XCTFail("re-encoding a decoded \(M.protoMessageName) failed for \(hexString(bytes))")
      return
    }
    XCTAssertEqual(encoded.count, message.serializedSize)
    XCTAssertNoThrow(try M(serializedBytes: encoded), hexString(bytes))
  }

  func testRandomBytesNeverCrash() {
    var random = SplitMix64(state: 0x5EED)
    for _ in 0..<20_000 {
      let count = Int.random(in: 0...48, using: &random)
      let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
      exercise(Tandem_Test_Everything.self, bytes)
      exercise(Tandem_Test2_Proto2.self, bytes)
      exercise(Tandem_Test_Maps.self, bytes)
    }
  }

  func testMutatedValidMessagesNeverCrash() throws {
    let valid = try Tandem_Test_Everything.with {
      $0.scalars = .with { $0.int32Value = -5; $0.stringValue = "héllo"; $0.doubleValue = 2; $0.color = .green }
      $0.repeated.int32Values = [1, 300, -1]
      $0.repeated.messages = [.with { $0.bytesValue = [1, 2, 3] }]
      $0.maps.int64ToMessage = [3: .with { $0.boolValue = true }]
      $0.maps.stringToInt32 = ["k": 9]
      $0.oneofs.message.fixed64Value = 8
      $0.recursive.child.child.depth = 2
      $0.optionals.stringValue = ""
    }.serializedBytes()
    let proto2 = try Tandem_Test2_Proto2.with {
      $0.id = 1
      $0.data.b = "group"
      $0.item = [.with { $0.value = 3 }]
      $0.packedSizes = [.large]
      $0.counts = ["c": 1]
    }.serializedBytes()
    var random = SplitMix64(state: 42)
    for base in [valid, proto2] {
      for _ in 0..<5_000 {
        var bytes = base
        for _ in 0..<Int.random(in: 1...4, using: &random) {
          let index = Int.random(in: 0..<bytes.count, using: &random)
          switch Int.random(in: 0..<3, using: &random) {
          case 0: bytes[index] = UInt8.random(in: 0...255, using: &random)
          case 1: bytes[index] ^= 1 << UInt8.random(in: 0..<8, using: &random)
          default: bytes.removeSubrange(index...)
          }
          if bytes.isEmpty { break }
        }
        exercise(Tandem_Test_Everything.self, bytes)
        exercise(Tandem_Test2_Proto2.self, bytes)
      }
    }
  }

  func testEveryPrefixOfValidMessageIsHandled() throws {
    let bytes = try Tandem_Test_Everything.with {
      $0.scalars.stringValue = "abc"
      $0.maps.int32ToString = [1: "one"]
      $0.recursive.named = ["n": .with { $0.leaf = 1 }]
    }.serializedBytes()
    for end in 0...bytes.count {
      exercise(Tandem_Test_Everything.self, Array(bytes[0..<end]))
    }
  }
}
