import Foundation
import Glibc
import Synchronization
@testable import Tandem
import TandemIO
import XCTest

/// A blocking TCP client on 127.0.0.1 for talking raw HTTP/1.1 to a ``MetricsServer``. Every
/// receive gives up after 10 s, so a server that never responds fails the test instead of
/// hanging it.
private final class RawClient {
  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  let fd: Int32

  init(port: Int) throws {
    fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw Failure(description: "socket failed: errno \(errno)") }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let result = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard result == 0 else {
      let code = errno
      Glibc.close(fd)
      throw Failure(description: "connect to 127.0.0.1:\(port) failed: errno \(code)")
    }
  }

  deinit {
    Glibc.close(fd)
  }

  func send(_ text: String) throws {
    try send(Array(text.utf8))
  }

  func send(_ bytes: [UInt8]) throws {
    var offset = 0
    while offset < bytes.count {
      let written = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
      guard written > 0 else { throw Failure(description: "send failed: errno \(errno)") }
      offset += written
    }
  }

  /// Reads until the server closes the connection.
  func receiveAll() throws -> [UInt8] {
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if count > 0 {
        received += buffer[0..<count]
      } else if count == 0 {
        return received
      } else if errno == EINTR {
        continue
      } else if errno == EAGAIN || errno == EWOULDBLOCK {
        throw Failure(description: "no end of stream within 10 s, received \(received.count) bytes")
      } else if errno == ECONNRESET, !received.isEmpty {
        return received
      } else {
        throw Failure(description: "recv failed: errno \(errno)")
      }
    }
  }
}

/// A parsed HTTP/1.1 response.
private struct RawResponse {
  var status: Int
  var headers: [String: String]
  var body: String

  init(_ bytes: [UInt8]) throws {
    let text = String(decoding: bytes, as: UTF8.self)
    guard let separator = text.range(of: "\r\n\r\n") else {
      throw RawClient.Failure(description: "no end of head in \(text.debugDescription)")
    }
    let lines = text[..<separator.lowerBound].components(separatedBy: "\r\n")
    let statusParts = lines[0].split(separator: " ")
    guard statusParts.count >= 2, statusParts[0] == "HTTP/1.1", let status = Int(statusParts[1]) else {
      throw RawClient.Failure(description: "invalid status line \(lines[0].debugDescription)")
    }
    self.status = status
    headers = [:]
    for line in lines.dropFirst() {
      guard let colon = line.firstIndex(of: ":") else { continue }
      headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    body = String(text[separator.upperBound...])
  }
}

/// A log handler that keeps the records, for checks on what the server logged.
private final class RecordingLogHandler: LogHandler {
  let records = Mutex<[(LogLevel, String)]>([])
  var minimumLevel: LogLevel { .trace }
  func log(level: LogLevel, message: String, metadata: [(String, String)]) {
    records.withLock { $0.append((level, message)) }
  }
  var messages: [String] { records.withLock { $0.map(\.1) } }
}

final class MetricsServerTests: XCTestCase {
  private func quietConfiguration(
    maximumConnections: Int = 64, requestHeadTimeout: Duration = .seconds(5), logHandler: any LogHandler = DiscardingLogHandler()
  ) -> MetricsServer.Configuration {
    MetricsServer.Configuration(
      maximumConnections: maximumConnections, requestHeadTimeout: requestHeadTimeout, logHandler: logHandler)
  }

  private func startServer(
    metrics: PrometheusMetrics = PrometheusMetrics(), configuration: MetricsServer.Configuration? = nil
  ) async throws -> MetricsServer {
    try await MetricsServer.start(
      host: "127.0.0.1", port: 0, metrics: metrics, configuration: configuration ?? quietConfiguration())
  }

  private func exchange(port: Int, _ request: String) throws -> RawResponse {
    let client = try RawClient(port: port)
    try client.send(request)
    return try RawResponse(client.receiveAll())
  }

  /// Polls `condition` every 10 ms, at most 500 times (5 s).
  private func waitUntil(_ condition: () -> Bool) async throws -> Bool {
    for _ in 0..<500 {
      if condition() { return true }
      try await Task.sleep(for: .milliseconds(10))
    }
    return condition()
  }

  func testGetMetricsReturnsRenderedText() async throws {
    let metrics = PrometheusMetrics()
    metrics.increment(counter: TandemMetric.callsStarted.name, by: 7, labels: [("transport", "quic"), ("target", "a:1")])
    metrics.record(histogram: TandemMetric.handshakeDuration.name, value: 0.02, labels: [("transport", "tcp"), ("target", "a:1")])
    let server = try await startServer(metrics: metrics)

    let response = try exchange(port: server.port, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n")
    await server.stop()

    XCTAssertEqual(response.status, 200)
    XCTAssertEqual(response.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8")
    XCTAssertEqual(response.headers["content-length"], String(response.body.utf8.count))
    XCTAssertEqual(response.headers["connection"], "close")
    XCTAssertEqual(response.body, metrics.render())
    XCTAssertTrue(response.body.contains("tandem_calls_started_total{target=\"a:1\",transport=\"quic\"} 7\n"), response.body)
  }

  func testServerServesMetricsEndpoint() async throws {
    let metrics = PrometheusMetrics()
    metrics.increment(counter: TandemMetric.racesWon.name, by: 3, labels: [("transport", "quic"), ("target", "b:2")])
    var configuration = Server.Configuration.defaults
    configuration.logHandler = StandardErrorLogHandler(minimumLevel: .warning)
    configuration.metricsEndpoint = .init(host: "127.0.0.1", port: 0, metrics: metrics)
    let server = Server(services: [], listening: .init(host: "127.0.0.1", port: 0), tls: nil, configuration: configuration)
    let running = Task { try await server.run() }
    _ = try await server.listeningPort
    let port = try XCTUnwrap(server.metricsPort)

    let response = try exchange(port: port, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    XCTAssertEqual(response.status, 200)
    XCTAssertTrue(response.body.contains("tandem_races_won_total{target=\"b:2\",transport=\"quic\"} 3\n"), response.body)

    server.shutdown(gracePeriod: .seconds(1))
    try await running.value
    XCTAssertThrowsError(try exchange(port: port, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), "the endpoint stops with the server")
  }

  func testHeadReturnsLengthWithoutBody() async throws {
    let metrics = PrometheusMetrics()
    metrics.set(gauge: "temperature", to: 20, labels: [])
    let server = try await startServer(metrics: metrics)

    let response = try exchange(port: server.port, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    await server.stop()

    XCTAssertEqual(response.status, 200)
    XCTAssertEqual(response.headers["content-length"], String(metrics.render().utf8.count))
    XCTAssertEqual(response.body, "")
  }

  func testQueryStringIsIgnored() async throws {
    let server = try await startServer()
    let response = try exchange(port: server.port, "GET /metrics?name[]=up HTTP/1.1\r\nHost: x\r\n\r\n")
    await server.stop()

    XCTAssertEqual(response.status, 200)
  }

  func testOtherPathReturns404() async throws {
    let server = try await startServer()
    let root = try exchange(port: server.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    let other = try exchange(port: server.port, "POST /other HTTP/1.1\r\nHost: x\r\n\r\n")
    await server.stop()

    XCTAssertEqual(root.status, 404)
    XCTAssertEqual(root.headers["content-length"], String(root.body.utf8.count))
    XCTAssertEqual(other.status, 404)
  }

  func testOtherMethodReturns405() async throws {
    let server = try await startServer()
    let response = try exchange(port: server.port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    let delete = try exchange(port: server.port, "DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    await server.stop()

    XCTAssertEqual(response.status, 405)
    XCTAssertEqual(response.headers["allow"], "GET, HEAD")
    XCTAssertEqual(delete.status, 405)
  }

  func testMalformedRequestsReturn400() async throws {
    let server = try await startServer()
    let requests = [
      "GET /metrics HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n",
      "GET /metrics HTTP/1.1\r\n\r\n",
      "NONSENSE\r\n\r\n",
      "GET /metrics HTTP/9.9\r\nHost: x\r\n\r\n",
      "\u{0}\u{1}\u{2}\r\n\r\n",
    ]
    var statuses: [Int] = []
    for request in requests {
      statuses.append(try exchange(port: server.port, request).status)
    }
    await server.stop()

    XCTAssertEqual(statuses, Array(repeating: 400, count: requests.count))
  }

  func testOversizedHeadReturns431() async throws {
    let server = try await startServer()
    let client = try RawClient(port: server.port)
    try client.send("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Filler: " + String(repeating: "a", count: 9000))
    let response = try RawResponse(client.receiveAll())
    await server.stop()

    XCTAssertEqual(response.status, 431)
  }

  func testSilentClientGets408() async throws {
    let server = try await startServer(configuration: quietConfiguration(requestHeadTimeout: .milliseconds(200)))
    let silent = try RawClient(port: server.port)
    let slow = try RawClient(port: server.port)
    try slow.send("GET /metrics HTTP/1.1\r\nHost: x\r\n")

    let silentResponse = try RawResponse(silent.receiveAll())
    let slowResponse = try RawResponse(slow.receiveAll())
    XCTAssertEqual(silentResponse.status, 408)
    XCTAssertEqual(slowResponse.status, 408)
    let drained = try await waitUntil { server.connectionCount == 0 }
    XCTAssertTrue(drained, "connections left: \(server.connectionCount)")
    await server.stop()
  }

  func testConnectionLimitReturns503() async throws {
    let logs = RecordingLogHandler()
    let server = try await startServer(configuration: quietConfiguration(maximumConnections: 2, logHandler: logs))
    let first = try RawClient(port: server.port)
    let second = try RawClient(port: server.port)
    let bothOpen = try await waitUntil { server.connectionCount == 2 }
    XCTAssertTrue(bothOpen, "connections: \(server.connectionCount)")

    for _ in 0..<5 {
      let rejected = try exchange(port: server.port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
      XCTAssertEqual(rejected.status, 503)
    }
    let rejectionRecords = logs.messages.filter { $0.contains("rejected connections") }
    XCTAssertEqual(rejectionRecords.count, 1, "one record per 10 s, not one per connection: \(logs.messages)")

    try first.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    XCTAssertEqual(try RawResponse(first.receiveAll()).status, 200)
    let oneOpen = try await waitUntil { server.connectionCount == 1 }
    XCTAssertTrue(oneOpen, "connections: \(server.connectionCount)")
    let accepted = try exchange(port: server.port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    XCTAssertEqual(accepted.status, 200)
    withExtendedLifetime(second) {}
    await server.stop()
  }

  func testRejectionLogCountsWhatItHid() {
    let registry = MetricsConnectionRegistry(maximumConnections: 1)
    let start = ContinuousClock.now
    XCTAssertEqual(registry.countRejection(now: start), 1)
    XCTAssertNil(registry.countRejection(now: start + .seconds(1)))
    XCTAssertNil(registry.countRejection(now: start + .seconds(9)))
    XCTAssertEqual(registry.countRejection(now: start + .seconds(10)), 3, "the record counts the two hidden ones")
    XCTAssertNil(registry.countRejection(now: start + .seconds(11)))
  }

  func testSequentialRequestsReleaseConnections() async throws {
    let metrics = PrometheusMetrics()
    let server = try await startServer(metrics: metrics, configuration: quietConfiguration(maximumConnections: 4))
    for index in 0..<20 {
      metrics.increment(counter: "scrapes_total", by: 1, labels: [])
      let response = try exchange(port: server.port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
      XCTAssertEqual(response.status, 200, "request \(index)")
      XCTAssertTrue(response.body.contains("scrapes_total \(index + 1)\n"), "request \(index)")
    }
    let released = try await waitUntil { server.connectionCount == 0 }
    XCTAssertTrue(released, "connections left: \(server.connectionCount)")
    await server.stop()
  }

  func testStopClosesListenerAndConnections() async throws {
    let logs = RecordingLogHandler()
    let server = try await startServer(configuration: quietConfiguration(logHandler: logs))
    let idle = try RawClient(port: server.port)
    let idleOpen = try await waitUntil { server.connectionCount == 1 }
    XCTAssertTrue(idleOpen, "connections: \(server.connectionCount)")

    await server.stop()
    await server.stop()

    XCTAssertEqual(try idle.receiveAll(), [])
    XCTAssertThrowsError(try RawClient(port: server.port))
    let closed = try await waitUntil { server.connectionCount == 0 }
    XCTAssertTrue(closed, "connections left: \(server.connectionCount)")
    XCTAssertEqual(logs.messages.filter { $0 == "metrics server started" }.count, 1)
    XCTAssertEqual(logs.messages.filter { $0 == "metrics server stopped" }.count, 1)
  }

  func testStopAfterGroupShutdownReturns() async throws {
    let group = EventLoopGroup(threadCount: 1)
    let server = try await MetricsServer.start(
      host: "127.0.0.1", port: 0, metrics: PrometheusMetrics(), group: group, configuration: quietConfiguration())
    let response = try exchange(port: server.port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    XCTAssertEqual(response.status, 200)

    await group.shutdownGracefully()
    await server.stop()

    XCTAssertThrowsError(try RawClient(port: server.port))
  }

  func testLargeResponseArrivesWhole() async throws {
    let metrics = PrometheusMetrics()
    for index in 0..<10_000 {
      metrics.set(gauge: "queue_length", to: Double(index), labels: [("queue", "queue-number-\(index)")])
    }
    let server = try await startServer(metrics: metrics)

    let response = try exchange(port: server.port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    await server.stop()

    XCTAssertEqual(response.status, 200)
    XCTAssertGreaterThan(response.body.utf8.count, 400_000)
    XCTAssertEqual(response.headers["content-length"], String(response.body.utf8.count))
    XCTAssertEqual(response.body, metrics.render())
  }

  func testStartRejectsInvalidConfiguration() async {
    let cases: [(MetricsServer.Configuration, String)] = [
      (.init(maximumConnections: 0), "maximumConnections"),
      (.init(maximumRequestHeadBytes: 10), "maximumRequestHeadBytes"),
      (.init(requestHeadTimeout: .zero), "requestHeadTimeout"),
      (.init(requestHeadTimeout: .seconds(601)), "requestHeadTimeout"),
    ]
    for (configuration, setting) in cases {
      do {
        let server = try await MetricsServer.start(
          host: "127.0.0.1", port: 0, metrics: PrometheusMetrics(), configuration: configuration)
        await server.stop()
        XCTFail("expected an error for \(setting)")
      } catch let error as MetricsConfigurationError {
        XCTAssertEqual(error.setting, setting)
      } catch {
        XCTFail("unexpected error \(error)")
      }
    }
  }

  func testStartRejectsInvalidPort() async {
    do {
      let server = try await MetricsServer.start(
        host: "127.0.0.1", port: 70_000, metrics: PrometheusMetrics(), configuration: quietConfiguration())
      await server.stop()
      XCTFail("expected an error for port 70000")
    } catch {
      XCTAssertTrue("\(error)".contains("70000"), "\(error)")
    }
  }
}
