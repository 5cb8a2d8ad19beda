import XCTest

@testable import TandemCore

final class GRPCStatusMessageTests: XCTestCase {
  func testEncodeLeavesPrintableASCII() {
    XCTAssertEqual(GRPCStatusMessage.encode("Hello, world! ~"), "Hello, world! ~")
  }

  func testEncodeEscapesPercentControlAndNonASCII() {
    XCTAssertEqual(GRPCStatusMessage.encode("100%"), "100%25")
    XCTAssertEqual(GRPCStatusMessage.encode("a\nb\tc"), "a%0Ab%09c")
    XCTAssertEqual(GRPCStatusMessage.encode("café"), "caf%C3%A9")
    XCTAssertEqual(GRPCStatusMessage.encode("\u{7F}"), "%7F")
  }

  func testDecodeReversesEncode() {
    for text in ["", "plain", "100%", "línea\r\nnueva", "日本語", "%%%", "emoji 🎉"] {
      XCTAssertEqual(GRPCStatusMessage.decode(GRPCStatusMessage.encode(text)), text)
    }
  }

  func testDecodeAcceptsLowercaseHex() {
    XCTAssertEqual(GRPCStatusMessage.decode("caf%c3%a9"), "café")
  }

  func testDecodeKeepsBadEscapes() {
    XCTAssertEqual(GRPCStatusMessage.decode("50%"), "50%")
    XCTAssertEqual(GRPCStatusMessage.decode("%G1x"), "%G1x")
    XCTAssertEqual(GRPCStatusMessage.decode("a%4"), "a%4")
    XCTAssertEqual(GRPCStatusMessage.decode("%41%zz%42"), "A%zzB")
  }

  func testDecodeReplacesInvalidUTF8() {
    XCTAssertEqual(GRPCStatusMessage.decode("x%FFy"), "x\u{FFFD}y")
  }
}
