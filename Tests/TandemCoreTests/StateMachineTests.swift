import TandemHTTP
import XCTest

@testable import TandemCore

private func field(_ name: String, _ value: String) -> HTTPField {
  HTTPField(name: name, value: value)
}

private let validRequest = [
  field(":method", "POST"), field(":scheme", "http"), field(":path", "/pkg.Svc/Do"),
  field(":authority", "localhost"), field("grpc-timeout", "5S"), field("content-type", "application/grpc"),
  field("te", "trailers"), field("user-agent", "test/1"), field("x-custom", "v"), field("trace-bin", "AQI="),
]

final class ServerStateMachineTests: XCTestCase {
  func testAcceptsValidRequest() {
    guard case .accept(let head) = ServerStreamStateMachine.receiveRequestHeaders(validRequest) else {
      return XCTFail("request rejected")
    }
    XCTAssertEqual(head.path, "/pkg.Svc/Do")
    XCTAssertEqual(head.timeout, .seconds(5))
    XCTAssertEqual(head.metadata[stringValues: "x-custom"], ["v"])
    XCTAssertEqual(head.metadata[binaryValues: "trace-bin"], [[1, 2]])
    XCTAssertEqual(head.metadata[stringValues: "user-agent"], ["test/1"])
    XCTAssertEqual(head.metadata[stringValues: "te"], [])
    XCTAssertEqual(head.metadata[stringValues: "content-type"], [])
    XCTAssertEqual(head.metadata[stringValues: "grpc-timeout"], [])
  }

  func testAcceptsGRPCContentTypeVariants() {
    for contentType in ["application/grpc", "application/grpc+proto", "Application/GRPC", "application/grpc;charset=utf-8"] {
      var fields = validRequest
      fields[5] = field("content-type", contentType)
      guard case .accept = ServerStreamStateMachine.receiveRequestHeaders(fields) else {
        return XCTFail("\(contentType) rejected")
      }
    }
  }

  private func rejection(_ fields: [HTTPField]) -> [HTTPField]? {
    if case .reject(let response) = ServerStreamStateMachine.receiveRequestHeaders(fields) { return response }
    return nil
  }

  func testRejectsNonGRPCContentTypeWith415() throws {
    var fields = validRequest
    fields[5] = field("content-type", "application/json")
    let response = try XCTUnwrap(rejection(fields))
    XCTAssertEqual(response.first(named: ":status"), "415")
    XCTAssertEqual(response.first(named: "grpc-status"), "13")
    XCTAssertTrue(GRPCStatusMessage.decode(response.first(named: "grpc-message") ?? "").contains("application/json"))
  }

  func testRejectsUnsupportedGRPCSubtypesWith415() throws {
    for contentType in ["application/grpcx", "application/grpc+json", "application/grpc-web"] {
      var fields = validRequest
      fields[5] = field("content-type", contentType)
      let response = try XCTUnwrap(rejection(fields), "\(contentType) accepted")
      XCTAssertEqual(response.first(named: ":status"), "415", contentType)
    }
  }

  func testRejectsInvalidBase64BinaryMetadata() throws {
    var fields = validRequest
    fields.append(field("x-data-bin", "!!!@@@"))
    let response = try XCTUnwrap(rejection(fields))
    XCTAssertEqual(response.first(named: ":status"), "200")
    XCTAssertEqual(response.first(named: "grpc-status"), "13")
    XCTAssertTrue(GRPCStatusMessage.decode(response.first(named: "grpc-message") ?? "").contains("x-data-bin"))
  }

  func testRejectsMissingContentTypeWith415() throws {
    let fields = validRequest.filter { $0.name != "content-type" }
    XCTAssertEqual(try XCTUnwrap(rejection(fields)).first(named: ":status"), "415")
  }

  func testRejectsGETWith405() throws {
    var fields = validRequest
    fields[0] = field(":method", "GET")
    let response = try XCTUnwrap(rejection(fields))
    XCTAssertEqual(response.first(named: ":status"), "405")
    XCTAssertEqual(response.first(named: "grpc-status"), "13")
  }

  func testResetsWithoutPathOrMethod() {
    for name in [":path", ":method"] {
      let fields = validRequest.filter { $0.name != name }
      guard case .reset(.protocolError) = ServerStreamStateMachine.receiveRequestHeaders(fields) else {
        return XCTFail("missing \(name) not reset")
      }
    }
  }

  func testRejectsInvalidTimeout() throws {
    var fields = validRequest
    fields[4] = field("grpc-timeout", "5s")
    let response = try XCTUnwrap(rejection(fields))
    XCTAssertEqual(response.first(named: ":status"), "200")
    XCTAssertEqual(response.first(named: "grpc-status"), "13")
    XCTAssertTrue(GRPCStatusMessage.decode(response.first(named: "grpc-message") ?? "").contains("'5s'"))
  }

  func testRejectsUnsupportedEncoding() throws {
    var fields = validRequest
    fields.append(field("grpc-encoding", "gzip"))
    let response = try XCTUnwrap(rejection(fields))
    XCTAssertEqual(response.first(named: "grpc-status"), "12")
    XCTAssertEqual(response.first(named: "grpc-accept-encoding"), "identity")
  }

  func testAcceptsIdentityEncoding() {
    var fields = validRequest
    fields.append(field("grpc-encoding", "identity"))
    guard case .accept = ServerStreamStateMachine.receiveRequestHeaders(fields) else { return XCTFail("rejected") }
  }

  func testStatusBeforeMessageIsTrailersOnly() {
    var machine = ServerStreamStateMachine()
    let status = RPCError(code: .notFound, message: "no 100%", metadata: ["k": "v"])
    guard case .trailersOnly(let fields) = machine.sendStatus(status, initialMetadata: ["i": "1"]) else {
      return XCTFail("expected trailers-only")
    }
    XCTAssertEqual(
      fields,
      [
        field(":status", "200"), field("content-type", "application/grpc"), field("i", "1"),
        field("grpc-status", "5"), field("grpc-message", "no 100%25"), field("k", "v"),
      ])
    XCTAssertNil(machine.sendMessage(initialMetadata: [:]))
    guard case .none = machine.sendStatus(status, initialMetadata: [:]) else { return XCTFail("second status sent") }
  }

  func testMessagesThenTrailers() {
    var machine = ServerStreamStateMachine()
    XCTAssertEqual(
      machine.sendMessage(initialMetadata: ["i": "1"]),
      [field(":status", "200"), field("content-type", "application/grpc"), field("i", "1")])
    XCTAssertEqual(machine.sendMessage(initialMetadata: ["i": "1"]), [])
    guard case .trailers(let fields) = machine.sendStatus(RPCError(code: .ok, message: ""), initialMetadata: [:]) else {
      return XCTFail("expected trailers")
    }
    XCTAssertEqual(fields, [field("grpc-status", "0")])
  }
}

final class ClientStateMachineTests: XCTestCase {
  func testRequestHeadersOrderAndContent() {
    var metadata: Metadata = ["x-a": "1", "user-agent": "app/2"]
    metadata.addBinary([1], forKey: "b-bin")
    let fields = ClientStreamStateMachine.makeRequestHeaders(
      path: "/p.S/M", authority: "host:1", scheme: "https", timeout: .milliseconds(250), metadata: metadata,
      userAgent: "tandem-swift/0.1")
    XCTAssertEqual(
      fields,
      [
        field(":method", "POST"), field(":scheme", "https"), field(":path", "/p.S/M"), field(":authority", "host:1"),
        field("grpc-timeout", "250000u"), field("content-type", "application/grpc"), field("te", "trailers"),
        field("user-agent", "app/2 tandem-swift/0.1"), field("x-a", "1"), field("b-bin", "AQ=="),
      ])
  }

  func testRequestHeadersWithoutTimeout() {
    let fields = ClientStreamStateMachine.makeRequestHeaders(
      path: "/p.S/M", authority: "h", scheme: "http", timeout: nil, metadata: [:], userAgent: "ua")
    XCTAssertNil(fields.first(named: "grpc-timeout"))
    XCTAssertEqual(fields.first(named: "user-agent"), "ua")
  }

  func testNormalResponse() {
    var machine = ClientStreamStateMachine()
    let headers = [field(":status", "200"), field("content-type", "application/grpc+proto"), field("k", "v")]
    XCTAssertEqual(machine.receiveHeaders(headers, endStream: false), .initialMetadata(["k": "v"]))
    XCTAssertEqual(machine.receiveData(endStream: false), .deframe)
    let status = machine.receiveTrailers([
      field("grpc-status", "0"), field("t", "1"), field("grpc-message", "ok%20done"),
    ])
    XCTAssertEqual(status, RPCError(code: .ok, message: "ok done", metadata: ["t": "1"]))
    XCTAssertNil(machine.close(.finished))
  }

  func testInformationalHeadersAreSkipped() {
    var machine = ClientStreamStateMachine()
    XCTAssertEqual(machine.receiveHeaders([field(":status", "100")], endStream: false), .ignore)
    XCTAssertEqual(
      machine.receiveHeaders([field(":status", "200"), field("content-type", "application/grpc")], endStream: false),
      .initialMetadata([:]))
  }

  func testTrailersOnlyResponse() {
    var machine = ClientStreamStateMachine()
    let fields = [
      field(":status", "200"), field("content-type", "application/grpc"), field("grpc-status", "12"),
      field("grpc-message", "Method%20not%20found"), field("x", "y"),
    ]
    XCTAssertEqual(
      machine.receiveHeaders(fields, endStream: true),
      .finished(RPCError(code: .unimplemented, message: "Method not found", metadata: ["x": "y"]), resetStream: false))
    XCTAssertNil(machine.close(.finished))
  }

  func testHTTPStatusMappingWithoutGRPCStatus() {
    let table: [(String, StatusCode)] = [
      ("400", .internalError), ("401", .unauthenticated), ("403", .permissionDenied), ("404", .unimplemented),
      ("429", .unavailable), ("431", .internalError), ("502", .unavailable), ("503", .unavailable),
      ("504", .unavailable), ("500", .unknown), ("418", .unknown), ("302", .unknown), ("200", .unknown),
    ]
    for (httpStatus, code) in table {
      // As a response that ends the stream (trailers-only shaped) ...
      var ended = ClientStreamStateMachine()
      guard case .finished(let status, false) = ended.receiveHeaders([field(":status", httpStatus)], endStream: true) else {
        return XCTFail("\(httpStatus) did not finish")
      }
      XCTAssertEqual(status.code, code, "HTTP \(httpStatus), end of stream")
      // ... and as headers that leave the stream open.
      if httpStatus != "200" {
        var open = ClientStreamStateMachine()
        let response = [field(":status", httpStatus), field("content-type", "text/html")]
        guard case .finished(let status, true) = open.receiveHeaders(response, endStream: false) else {
          return XCTFail("\(httpStatus) did not finish")
        }
        XCTAssertEqual(status.code, code, "HTTP \(httpStatus), open stream")
        XCTAssertTrue(status.message.contains(httpStatus))
      }
    }
  }

  func testGRPCStatusWinsOverHTTPStatus() {
    var machine = ClientStreamStateMachine()
    let fields = [field(":status", "415"), field("grpc-status", "13"), field("grpc-message", "bad")]
    XCTAssertEqual(
      machine.receiveHeaders(fields, endStream: true),
      .finished(RPCError(code: .internalError, message: "bad"), resetStream: false))
  }

  func testInvalidBase64ResponseMetadataIsInternal() {
    var machine = ClientStreamStateMachine()
    guard
      case .finished(let status, true) = machine.receiveHeaders(
        [field(":status", "200"), field("content-type", "application/grpc"), field("x-data-bin", "!!!")],
        endStream: false)
    else { return XCTFail("not finished") }
    XCTAssertEqual(status.code, .internalError)
    XCTAssertTrue(status.message.contains("x-data-bin"), status.message)

    let trailersStatus = ClientStreamStateMachine.status(
      fromTrailers: [field("grpc-status", "0"), field("y-bin", "%%")], httpStatus: "200")
    XCTAssertEqual(trailersStatus.code, .internalError)
  }

  func testNonGRPCContentTypeIsUnknown() {
    var machine = ClientStreamStateMachine()
    guard
      case .finished(let status, true) = machine.receiveHeaders(
        [field(":status", "200"), field("content-type", "text/plain")], endStream: false)
    else { return XCTFail("not finished") }
    XCTAssertEqual(status.code, .unknown)
    XCTAssertTrue(status.message.contains("text/plain"))
  }

  func testMissingGRPCStatusInTrailersIsUnknown() {
    var machine = ClientStreamStateMachine()
    _ = machine.receiveHeaders([field(":status", "200"), field("content-type", "application/grpc")], endStream: false)
    XCTAssertEqual(machine.receiveTrailers([field("x", "1")])?.code, .unknown)
  }

  func testInvalidGRPCStatusIsUnknown() {
    for value in ["abc", "-1", "17", "1 ", ""] {
      var machine = ClientStreamStateMachine()
      _ = machine.receiveHeaders([field(":status", "200"), field("content-type", "application/grpc")], endStream: false)
      let status = machine.receiveTrailers([field("grpc-status", value)])
      XCTAssertEqual(status?.code, .unknown, "grpc-status '\(value)'")
      XCTAssertTrue(status?.message.contains("'\(value)'") ?? false)
    }
  }

  func testStreamEndingWithoutTrailersIsInternal() {
    var machine = ClientStreamStateMachine()
    _ = machine.receiveHeaders([field(":status", "200"), field("content-type", "application/grpc")], endStream: false)
    guard case .deframeThenFinish(let status) = machine.receiveData(endStream: true) else {
      return XCTFail("expected a finish")
    }
    XCTAssertEqual(status.code, .internalError)
  }

  func testDataBeforeHeadersIsInternal() {
    var machine = ClientStreamStateMachine()
    guard case .finished(let status, true) = machine.receiveData(endStream: false) else {
      return XCTFail("expected a finish")
    }
    XCTAssertEqual(status.code, .internalError)
  }

  func testResetMapping() {
    let table: [(HTTPStreamErrorCode, StatusCode)] = [
      (.noError, .internalError), (.protocolError, .internalError), (.internalError, .internalError),
      (.flowControlError, .internalError), (.refusedStream, .unavailable), (.cancel, .cancelled),
      (.enhanceYourCalm, .resourceExhausted), (.inadequateSecurity, .permissionDenied),
      (.other(0xD, version: .http2), .internalError),
    ]
    for (code, expected) in table {
      var machine = ClientStreamStateMachine()
      _ = machine.receiveHeaders([field(":status", "200"), field("content-type", "application/grpc")], endStream: false)
      let result = machine.close(.resetByPeer(code))
      XCTAssertEqual(result?.status.code, expected, "reset \(code)")
      XCTAssertEqual(result?.retryable, false, "reset \(code) after headers")
    }
  }

  func testRefusalsBeforeHeadersAreRetryable() {
    for reason: HTTPStreamCloseReason in [.resetByPeer(.refusedStream), .refusedByGoAway] {
      var machine = ClientStreamStateMachine()
      let result = machine.close(reason)
      XCTAssertEqual(result?.status.code, .unavailable)
      XCTAssertEqual(result?.retryable, true)
    }
    var machine = ClientStreamStateMachine()
    XCTAssertEqual(machine.close(.resetByPeer(.cancel))?.retryable, false)
  }

  func testConnectionClosedIsUnavailable() {
    var machine = ClientStreamStateMachine()
    let result = machine.close(.connectionClosed(detail: "peer closed"))
    XCTAssertEqual(result?.status.code, .unavailable)
    XCTAssertTrue(result?.status.message.contains("peer closed") ?? false)
  }
}
