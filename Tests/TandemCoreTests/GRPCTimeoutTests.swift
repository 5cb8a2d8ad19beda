import XCTest

@testable import TandemCore

final class GRPCTimeoutTests: XCTestCase {
  func testParseValidValues() throws {
    let cases: [(String, Duration)] = [
      ("1H", .seconds(3600)),
      ("2M", .seconds(120)),
      ("30S", .seconds(30)),
      ("100m", .milliseconds(100)),
      ("250u", .microseconds(250)),
      ("999n", .nanoseconds(999)),
      ("0n", .zero),
      ("99999999S", .seconds(99_999_999)),
      ("00000001m", .milliseconds(1)),
      ("99999999H", .seconds(Int64(99_999_999) * 3600)),
    ]
    for (value, expected) in cases {
      XCTAssertEqual(try GRPCTimeout.parse(value), expected, "parsing \(value)")
    }
  }

  func testParseRejectsInvalidValues() {
    let invalid = ["", "S", "1", "10", "123456789S", "1s", "1h", "-1S", "+1S", "1.5S", " 1S", "1S ", "1SS", "1x", "١S", "1 S"]
    for value in invalid {
      XCTAssertThrowsError(try GRPCTimeout.parse(value), "parsing '\(value)'") { error in
        guard let error = error as? GRPCTimeout.ParseError else {
          return XCTFail("unexpected error type \(error)")
        }
        XCTAssertEqual(error.value, value)
        XCTAssertTrue(error.description.contains("'\(value)'"))
      }
    }
  }

  func testEncodeChoosesFinestFittingUnit() {
    let cases: [(Duration, String)] = [
      (.nanoseconds(1), "1n"),
      (.nanoseconds(99_999_999), "99999999n"),
      (.milliseconds(100), "100000u"),
      (.seconds(1), "1000000u"),
      (.seconds(2), "2000000u"),
      (.seconds(100), "100000m"),
      (.seconds(99_999), "99999000m"),
      (.seconds(100_000), "100000S"),
      (.seconds(99_999_999), "99999999S"),
      (.seconds(100_000_000), "1666667M"),
      (.seconds(Int64(99_999_999) * 60 + 1), "1666667H"),
      (.seconds(Int64(99_999_999) * 3600 * 2), "99999999H"),
      (.zero, "0n"),
      (.seconds(-5), "0n"),
    ]
    for (duration, expected) in cases {
      XCTAssertEqual(GRPCTimeout.encode(duration), expected, "encoding \(duration)")
    }
  }

  func testEncodeRoundsUp() {
    // 1.5 microseconds does not fit a whole number of microseconds but fits nanoseconds.
    XCTAssertEqual(GRPCTimeout.encode(.nanoseconds(1_500)), "1500n")
    // 100.0000001 seconds: milliseconds round up.
    XCTAssertEqual(GRPCTimeout.encode(.seconds(100) + .nanoseconds(100)), "100001m")
  }

  func testEncodedValuesParseBack() throws {
    for duration: Duration in [.nanoseconds(7), .milliseconds(1234), .seconds(86_400), .seconds(5_000_000_000)] {
      let encoded = GRPCTimeout.encode(duration)
      XCTAssertLessThanOrEqual(encoded.count, 9)
      XCTAssertGreaterThanOrEqual(try GRPCTimeout.parse(encoded), duration)
    }
  }
}
