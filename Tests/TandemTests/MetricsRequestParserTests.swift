import XCTest

@testable import Tandem

final class MetricsRequestParserTests: XCTestCase {
  private func parse(_ text: String, maximumHeadBytes: Int = 8192) -> MetricsRequestParser.Action {
    var parser = MetricsRequestParser(maximumHeadBytes: maximumHeadBytes)
    return Array(text.utf8).withUnsafeBytes { parser.receive($0) }
  }

  private func isBadRequest(_ action: MetricsRequestParser.Action) -> Bool {
    if case .respond(.badRequest) = action { return true }
    return false
  }

  func testParserRoutesRequests() {
    XCTAssertEqual(parse("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n"), .respond(.metrics(includeBody: true)))
    XCTAssertEqual(parse("HEAD /metrics HTTP/1.1\r\nHost: a\r\n\r\n"), .respond(.metrics(includeBody: false)))
    XCTAssertEqual(parse("GET /metrics?name[]=x HTTP/1.1\r\nHost: a\r\n\r\n"), .respond(.metrics(includeBody: true)))
    XCTAssertEqual(parse("GET /metrics HTTP/1.0\r\n\r\n"), .respond(.metrics(includeBody: true)))
    XCTAssertEqual(parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), .respond(.notFound))
    XCTAssertEqual(parse("GET /metrics/ HTTP/1.1\r\nHost: a\r\n\r\n"), .respond(.notFound))
    XCTAssertEqual(parse("POST /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"), .respond(.methodNotAllowed))
    XCTAssertEqual(parse("get /metrics HTTP/1.1\r\nHost: a\r\n\r\n"), .respond(.methodNotAllowed))
  }

  func testParserRejectsMalformedHeads() {
    let malformed = [
      "\r\n\r\n",
      "GET /metrics\r\nHost: a\r\n\r\n",
      "GET  /metrics HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET /metrics HTTP/2\r\nHost: a\r\n\r\n",
      "G(T /metrics HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET metrics HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET http://a/metrics HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET /met\u{1}rics HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET /metrics HTTP/1.1\r\nHost a\r\n\r\n",
      "GET /metrics HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n",
      "GET /metrics HTTP/1.1\r\nHost: a\r\n : x\r\n\r\n",
      "GET /metrics HTTP/1.1\r\nHost: a\r\nX: 1\r\n folded\r\n\r\n",
      "GET /metrics HTTP/1.1\r\nHost: a\r\nX : 1\r\n\r\n",
      "GET /metrics HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n",
      "GET /metrics HTTP/1.1\r\nHost: a\nX: 1\r\n\r\n",
      "GET /metrics HTTP/1.1\r\n\r\n",
      "GET /metrics HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n",
      "GET /metrics HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n",
    ]
    for text in malformed {
      XCTAssertTrue(isBadRequest(parse(text)), "expected 400 for \(text.debugDescription), got \(parse(text))")
    }
  }

  func testParserWaitsForCompleteHeadAcrossReads() {
    var parser = MetricsRequestParser(maximumHeadBytes: 8192)
    let request = Array("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
    for (index, byte) in request.enumerated() {
      let action = [byte].withUnsafeBytes { parser.receive($0) }
      if index < request.count - 1 {
        XCTAssertEqual(action, .waitForMoreBytes, "after byte \(index)")
      } else {
        XCTAssertEqual(action, .respond(.metrics(includeBody: true)))
      }
    }
    XCTAssertEqual([UInt8(65)].withUnsafeBytes { parser.receive($0) }, .ignore)
    XCTAssertEqual(parser.timedOut(), .ignore)
  }

  func testParserLimitsHeadLength() {
    let header = "GET /metrics HTTP/1.1\r\nHost: a\r\nX: "
    let exact = header + String(repeating: "a", count: 100 - header.utf8.count - 4) + "\r\n\r\n"
    XCTAssertEqual(exact.utf8.count, 100)
    XCTAssertEqual(parse(exact, maximumHeadBytes: 100), .respond(.metrics(includeBody: true)))

    let oneOver = header + String(repeating: "a", count: 101 - header.utf8.count - 4) + "\r\n\r\n"
    XCTAssertEqual(parse(oneOver, maximumHeadBytes: 100), .respond(.headerFieldsTooLarge))
    XCTAssertEqual(parse(String(repeating: "a", count: 100), maximumHeadBytes: 100), .respond(.headerFieldsTooLarge))
    XCTAssertEqual(parse(String(repeating: "a", count: 99), maximumHeadBytes: 100), .waitForMoreBytes)
  }

  func testParserTimesOutIncompleteHead() {
    var parser = MetricsRequestParser(maximumHeadBytes: 8192)
    let action = Array("GET /metrics HTTP/1.1\r\n".utf8).withUnsafeBytes { parser.receive($0) }
    XCTAssertEqual(action, .waitForMoreBytes)
    XCTAssertEqual(parser.timedOut(), .respond(.requestTimeout))
    XCTAssertEqual(parser.timedOut(), .ignore)
  }

  func testTextFormatValidatesNames() {
    for name in ["a", "_", ":", "a:b_c9", "tandem_calls_total", "A"] {
      XCTAssertTrue(PrometheusTextFormat.isValidMetricName(name), name)
    }
    for name in ["", "9a", "a-b", "a.b", "é", "a b"] {
      XCTAssertFalse(PrometheusTextFormat.isValidMetricName(name), name)
    }
    for name in ["a", "_a", "a9", "transport"] {
      XCTAssertTrue(PrometheusTextFormat.isValidLabelName(name), name)
    }
    for name in ["", "__a", "__", "9a", "a:b", "a-b"] {
      XCTAssertFalse(PrometheusTextFormat.isValidLabelName(name), name)
    }
  }

  func testTextFormatFormatsNumbers() {
    XCTAssertEqual(PrometheusTextFormat.format(1), "1")
    XCTAssertEqual(PrometheusTextFormat.format(-2), "-2")
    XCTAssertEqual(PrometheusTextFormat.format(0.0005), "0.0005")
    XCTAssertEqual(PrometheusTextFormat.format(2.5), "2.5")
    XCTAssertEqual(PrometheusTextFormat.format(1e-7), "1e-07")
    XCTAssertEqual(PrometheusTextFormat.format(1e20), "1e+20")
    XCTAssertEqual(PrometheusTextFormat.format(.nan), "NaN")
    XCTAssertEqual(PrometheusTextFormat.format(.infinity), "+Inf")
    XCTAssertEqual(PrometheusTextFormat.format(-.infinity), "-Inf")
  }
}
