import TandemCore
import TandemHTTP
import XCTest

/// The acceptor and the executor against peers that speak raw HTTP streams.
final class RawProtocolTests: XCTestCase {
  private func requestHeaders(path: String, contentType: String = "application/grpc") -> [HTTPField] {
    [
      HTTPField(name: ":method", value: "POST"), HTTPField(name: ":scheme", value: "http"),
      HTTPField(name: ":path", value: path), HTTPField(name: ":authority", value: "x"),
      HTTPField(name: "content-type", value: contentType), HTTPField(name: "te", value: "trailers"),
    ]
  }

  private func echoHarness() -> Harness {
    var router = ServiceRouter()
    router.registerUnary(TestMethods.get) { (request: TestMessage, context: ServerContext) in request }
    router.registerServerStreaming(TestMethods.expand) {
      (request: TestMessage, responses: ResponseWriter<TestMessage>, context: ServerContext) in
      try await responses.write(request)
    }
    return Harness(router: router)
  }

  /// Sends `body` on a raw stream and returns the recorded events once the stream closed.
  private func exchange(
    _ harness: Harness, headers: [HTTPField], body: [UInt8]?, endWithHeaders: Bool = false
  ) async -> RecordingDelegate {
    let closed = expectation(description: "stream closed")
    let recorder = RecordingDelegate(closed: closed)
    let stream = harness.transport.openRawStream(requestHeaders: headers, endStream: endWithHeaders, delegate: recorder)
    if let body { stream.writeData(body, endStream: true) }
    await fulfillment(of: [closed], timeout: 10)
    return recorder
  }

  func testUnaryWithoutRequestIsInternal() async throws {
    for method in [TestMethods.get, TestMethods.expand] {
      let recorder = await exchange(echoHarness(), headers: requestHeaders(path: method.path), body: nil, endWithHeaders: true)
      let response = try XCTUnwrap(recorder.firstHeaders)
      XCTAssertEqual(response.first(named: ":status"), "200")
      XCTAssertEqual(response.first(named: "grpc-status"), "13", "\(method)")
      let message = GRPCStatusMessage.decode(response.first(named: "grpc-message") ?? "")
      XCTAssertTrue(message.contains("Expected one request message"), message)
      XCTAssertEqual(recorder.events.value.first, .headers(response, endStream: true))
    }
  }

  func testUnaryWithTwoRequestsIsInternal() async throws {
    let body = try GRPCMessageFramer.frame(TestMessage("a").serializedBytes())
      + GRPCMessageFramer.frame(TestMessage("b").serializedBytes())
    let recorder = await exchange(echoHarness(), headers: requestHeaders(path: TestMethods.get.path), body: body)
    let response = try XCTUnwrap(recorder.firstHeaders)
    XCTAssertEqual(response.first(named: "grpc-status"), "13")
  }

  func testUnaryResponseShape() async throws {
    let payload = try TestMessage("hi").serializedBytes()
    let body = try GRPCMessageFramer.frame(payload)
    let recorder = await exchange(echoHarness(), headers: requestHeaders(path: TestMethods.get.path), body: body)
    let events = recorder.events.value
    XCTAssertEqual(events.count, 4, "\(events)")
    XCTAssertEqual(
      events.first,
      .headers(
        [HTTPField(name: ":status", value: "200"), HTTPField(name: "content-type", value: "application/grpc")],
        endStream: false))
    XCTAssertEqual(events.dropFirst().first, .data([0, 0, 0, 0, UInt8(payload.count)] + payload, endStream: false))
    XCTAssertEqual(events.dropFirst(2).first, .trailers([HTTPField(name: "grpc-status", value: "0")]))
    XCTAssertEqual(events.last, .closed(.finished))
  }

  func testTruncatedRequestIsInternal() async throws {
    let recorder = await exchange(echoHarness(), headers: requestHeaders(path: TestMethods.get.path), body: [0, 0, 0, 0, 9, 1])
    XCTAssertEqual(recorder.firstHeaders?.first(named: "grpc-status"), "13")
  }

  func testNonGRPCContentTypeGets415() async throws {
    let recorder = await exchange(
      echoHarness(), headers: requestHeaders(path: TestMethods.get.path, contentType: "application/json"), body: [1])
    XCTAssertEqual(recorder.firstHeaders?.first(named: ":status"), "415")
  }

  func testUnknownPathShape() async throws {
    let recorder = await exchange(echoHarness(), headers: requestHeaders(path: "/nopath"), body: [])
    let response = try XCTUnwrap(recorder.firstHeaders)
    XCTAssertEqual(response.first(named: "grpc-status"), "12")
    XCTAssertTrue(GRPCStatusMessage.decode(response.first(named: "grpc-message") ?? "").contains("/nopath"))
  }

  func testClientMapsHTTPErrorWithoutStatus() async throws {
    let cases: [(String, StatusCode)] = [("503", .unavailable), ("401", .unauthenticated), ("404", .unimplemented), ("500", .unknown)]
    for (httpStatus, code) in cases {
      let harness = Harness(
        acceptor: ScriptedAcceptor(
          script: .respond(
            [HTTPField(name: ":status", value: httpStatus), HTTPField(name: "content-type", value: "text/html")],
            endStream: true)))
      let error = await expectRPCError { _ = try await harness.get("x") }
      XCTAssertEqual(error?.code, code, "HTTP \(httpStatus)")
    }
  }

  func testClientTruncatedResponseIsInternal() async throws {
    // The prefix announces 100 bytes, but only 3 arrive before an OK status.
    let harness = Harness(
      acceptor: ScriptedAcceptor(
        script: .respondWithBody(
          [HTTPField(name: ":status", value: "200"), HTTPField(name: "content-type", value: "application/grpc")],
          body: [0, 0, 0, 0, 100, 1, 2, 3],
          trailers: [HTTPField(name: "grpc-status", value: "0")])))
    let error = await expectRPCError { _ = try await harness.get("x") }
    XCTAssertEqual(error?.code, .internalError)
    XCTAssertEqual(error?.message, "The response stream ended inside a message")
  }

  func testClientReadsTrailersOnlyStatus() async throws {
    let harness = Harness(
      acceptor: ScriptedAcceptor(
        script: .respond(
          [
            HTTPField(name: ":status", value: "200"), HTTPField(name: "content-type", value: "application/grpc"),
            HTTPField(name: "grpc-status", value: "7"), HTTPField(name: "grpc-message", value: "not%20you"),
            HTTPField(name: "x-detail", value: "d"),
          ], endStream: true)))
    let error = await expectRPCError { _ = try await harness.get("x") }
    XCTAssertEqual(error?.code, .permissionDenied)
    XCTAssertEqual(error?.message, "not you")
    XCTAssertEqual(error?.metadata[stringValues: "x-detail"], ["d"])
  }

  func testClientResetMapping() async throws {
    let cases: [(HTTPStreamErrorCode, StatusCode)] = [
      (.cancel, .cancelled), (.enhanceYourCalm, .resourceExhausted), (.inadequateSecurity, .permissionDenied),
      (.protocolError, .internalError),
    ]
    for (code, expected) in cases {
      let harness = Harness(acceptor: ScriptedAcceptor(script: .reset(code)))
      let error = await expectRPCError { _ = try await harness.get("x") }
      XCTAssertEqual(error?.code, expected, "reset \(code)")
    }
  }
}
