import TandemHTTP
import XCTest

@testable import TandemCore

final class MetadataTests: XCTestCase {
  func testKeepsOrderAndRepeatedKeys() {
    var metadata: Metadata = ["B": "1"]
    metadata.addString("2", forKey: "a")
    metadata.addString("3", forKey: "b")
    metadata.addBinary([1, 2], forKey: "x-bin")
    XCTAssertEqual(metadata.map(\.key), ["b", "a", "b", "x-bin"])
    XCTAssertEqual(metadata[stringValues: "b"], ["1", "3"])
    XCTAssertEqual(metadata[binaryValues: "X-Bin"], [[1, 2]])
    XCTAssertEqual(metadata[stringValues: "x-bin"], [])
    XCTAssertEqual(metadata.count, 4)
  }

  func testRemoveAndReplace() {
    var metadata: Metadata = ["a": "1", "b": "2", "a": "3"]
    metadata.replaceOrAddString("4", forKey: "a")
    XCTAssertEqual(metadata[stringValues: "a"], ["4"])
    metadata.removeAllValues(forKey: "b")
    XCTAssertEqual(metadata[stringValues: "b"], [])
  }

  func testBase64EncodeIsPadded() {
    XCTAssertEqual(Base64.encode([]), "")
    XCTAssertEqual(Base64.encode(Array("f".utf8)), "Zg==")
    XCTAssertEqual(Base64.encode(Array("fo".utf8)), "Zm8=")
    XCTAssertEqual(Base64.encode(Array("foo".utf8)), "Zm9v")
    XCTAssertEqual(Base64.encode(Array("foobar".utf8)), "Zm9vYmFy")
    XCTAssertEqual(Base64.encode([0xFB, 0xFF]), "+/8=")
  }

  func testBase64DecodeAcceptsPaddedAndUnpadded() {
    XCTAssertEqual(Base64.decode(Array("Zg==".utf8)), Array("f".utf8))
    XCTAssertEqual(Base64.decode(Array("Zg".utf8)), Array("f".utf8))
    XCTAssertEqual(Base64.decode(Array("Zm8=".utf8)), Array("fo".utf8))
    XCTAssertEqual(Base64.decode(Array("Zm8".utf8)), Array("fo".utf8))
    XCTAssertEqual(Base64.decode(Array("Zm9vYmFy".utf8)), Array("foobar".utf8))
    XCTAssertEqual(Base64.decode(Array("".utf8)), [])
  }

  func testBase64DecodeRejectsInvalid() {
    for text in ["Z", "Zm9vY", "Zm9v!", "Zg=", "Z===", "=Zg=", "Zm 9v", "Zm-_"] {
      XCTAssertNil(Base64.decode(Array(text.utf8)), "decoding '\(text)'")
    }
  }

  func testBase64RoundTripsAllLengths() {
    for length in 0..<40 {
      let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
      XCTAssertEqual(Base64.decode(Array(Base64.encode(bytes).utf8)), bytes)
    }
  }

  func testReceivedBinaryFieldsSplitOnCommas() {
    var metadata = Metadata()
    metadata.appendReceived(name: "trace-bin", value: "Zg==, Zm8")
    metadata.appendReceived(name: "trace-bin", value: "!!!")
    metadata.appendReceived(name: "plain", value: "a,b")
    XCTAssertEqual(metadata[binaryValues: "trace-bin"], [Array("f".utf8), Array("fo".utf8)])
    XCTAssertEqual(metadata[stringValues: "plain"], ["a,b"])
    XCTAssertEqual(metadata.count, 3)
  }

  func testFieldsEncodeBinaryAsBase64() {
    var metadata: Metadata = ["k": "v"]
    metadata.addBinary([0xFF], forKey: "b-bin")
    var fields: [HTTPField] = []
    metadata.appendFields(to: &fields)
    XCTAssertEqual(fields, [HTTPField(name: "k", value: "v"), HTTPField(name: "b-bin", value: "/w==")])
  }

  func testValidateAcceptsUserKeys() throws {
    var metadata: Metadata = ["x-request-id": "abc", "a.b_c-1": "ok", "grpc-trace-bin": .binary([1])]
    metadata.addBinary([0], forKey: "grpc-status-details-bin")
    XCTAssertNoThrow(try metadata.validate())
  }

  func testValidateRejectsInvalidEntries() {
    let cases: [(Metadata, String)] = [
      (["bad key": "v"], "bad key"),
      (["k\u{e9}y": "v"], "k\u{e9}y"),
      (["": "v"], "''"),
      (["grpc-status": "0"], "grpc-status"),
      (["grpc-custom": "0"], "grpc-custom"),
      (["content-type": "x"], "content-type"),
      (["te": "trailers"], "te"),
      ([":path": "/x"], ":path"),
      (["raw": .binary([1])], "raw"),
      (["k": "line\nbreak"], "'k'"),
    ]
    for (metadata, named) in cases {
      XCTAssertThrowsError(try metadata.validate(), "validating \(metadata)") { error in
        guard let error = error as? RPCError else { return XCTFail("unexpected error \(error)") }
        XCTAssertEqual(error.code, .internalError)
        XCTAssertTrue(error.message.contains(named), "'\(error.message)' should name \(named)")
      }
    }
  }
}
