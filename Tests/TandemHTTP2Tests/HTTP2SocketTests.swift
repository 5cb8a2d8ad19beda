import Foundation
import Synchronization
import TandemHTTP
import TandemIO
import XCTest

@testable import TandemHTTP2

/// The transports over real loopback sockets, plaintext and TLS, and against nghttp2's own
/// command-line client and load generator.
final class HTTP2SocketTests: XCTestCase {
  static let group = EventLoopGroup(threadCount: 2)

  /// Replies to every request once its body ended: status 200, the request body echoed (or
  /// "ok" for an empty body) and, unless `trailers` is false, grpc-status trailers.
  static func makeEchoAcceptor(trailers: Bool = true) -> RecordingAcceptor {
    let acceptor = RecordingAcceptor()
    acceptor.configure = { stream, _, endStream, delegate in
      func reply(_ stream: any HTTPStream) {
        let body = delegate.data.isEmpty ? Array("ok".utf8) : delegate.data
        stream.writeHeaders([HTTPField(name: ":status", value: "200")], endStream: false)
        if trailers {
          stream.writeData(body, endStream: false)
          stream.writeTrailers(okTrailers)
        } else {
          stream.writeData(body, endStream: true)
        }
      }
      if endStream {
        reply(stream)
      } else {
        delegate.onData = { stream, _, ended in if ended { reply(stream) } }
      }
    }
    return acceptor
  }

  func roundTrip(_ client: HTTP2ClientConnection, body: String) throws -> RecordingDelegate {
    let loop = client.eventLoop
    let reply = try onLoop(loop) { () throws -> RecordingDelegate in
      let reply = RecordingDelegate()
      let stream = try client.openStream(requestHeaders: requestHeaders(path: "/echo.v1.Echo/Get"), endStream: false, delegate: reply)
      stream.writeData(Array(body.utf8), endStream: true)
      return reply
    }
    waitUntil(loop, "the stream closes") { reply.closeReason != nil }
    return reply
  }

  func testPlaintextRoundTripAndShutdown() async throws {
    let server = HTTP2ServerTransport(host: "127.0.0.1", port: 0, group: Self.group)
    let port = try await server.start(acceptor: Self.makeEchoAcceptor())
    let events = RecordingConnectionDelegate()
    let client = try await HTTP2ClientConnection.connect(
      host: "127.0.0.1", port: port, loop: Self.group.next(), delegate: events, timeout: .seconds(5))

    let reply = try roundTrip(client, body: "over tcp")
    onLoop(client.eventLoop) {
      XCTAssertEqual(reply.closeReason, .finished)
      XCTAssertEqual(reply.headers.first?.first(named: ":status"), "200")
      XCTAssertEqual(reply.data, Array("over tcp".utf8))
      XCTAssertEqual(reply.trailers, okTrailers)
    }

    server.beginGracefulShutdown()
    await server.waitUntilClosed()
    waitUntil(client.eventLoop, "the client sees the close") { events.closeDetails.withLock { !$0.isEmpty } }
    XCTAssertFalse(client.isAcceptingStreams)
    XCTAssertEqual(events.goAwayCodes.withLock { $0.first }, .noError)
  }

  func testLargeEchoOverTCP() async throws {
    let server = HTTP2ServerTransport(host: "127.0.0.1", port: 0, group: Self.group)
    let port = try await server.start(acceptor: Self.makeEchoAcceptor())
    let client = try await HTTP2ClientConnection.connect(host: "127.0.0.1", port: port, loop: Self.group.next(), timeout: .seconds(5))
    let size = 8 << 20
    let pattern = (0..<251).map { UInt8($0) }
    var body: [UInt8] = []
    body.reserveCapacity(size + pattern.count)
    while body.count < size { body.append(contentsOf: pattern) }
    body = Array(body.prefix(size))

    let upload = body
    let reply = try onLoop(client.eventLoop) { () throws -> RecordingDelegate in
      let reply = RecordingDelegate()
      let stream = try client.openStream(requestHeaders: requestHeaders(path: "/big"), endStream: false, delegate: reply)
      var offset = 0
      while offset < upload.count {
        let end = min(offset + 65536, upload.count)
        stream.writeData(Array(upload[offset..<end]), endStream: end == upload.count)
        offset = end
      }
      return reply
    }
    waitUntil(client.eventLoop, "the echo completes") { reply.closeReason != nil }
    onLoop(client.eventLoop) {
      XCTAssertEqual(reply.closeReason, .finished)
      XCTAssertEqual(reply.data.count, size)
      XCTAssertTrue(reply.data == body, "the echoed bytes differ")
    }
    client.close()
    server.beginGracefulShutdown()
    await server.waitUntilClosed()
  }

  func testTLSRoundTrip() async throws {
    let files = try makeCertificate()
    let tls = try TLSServerConfiguration.pem(certificateChainFile: files.certificate, privateKeyFile: files.key, alpn: ["h2"])
    let server = HTTP2ServerTransport(host: "127.0.0.1", port: 0, group: Self.group, tls: tls)
    let port = try await server.start(acceptor: Self.makeEchoAcceptor())
    let client = try await HTTP2ClientConnection.connect(
      host: "127.0.0.1", port: port, loop: Self.group.next(),
      tls: TLSClientConfiguration(trust: .caFile(files.certificate), serverName: "localhost", alpn: ["h2"]),
      timeout: .seconds(5))

    let reply = try roundTrip(client, body: "over tls")
    onLoop(client.eventLoop) {
      XCTAssertEqual(reply.closeReason, .finished)
      XCTAssertEqual(reply.data, Array("over tls".utf8))
      XCTAssertEqual(reply.trailers, okTrailers)
    }
    server.closeNow()
    await server.waitUntilClosed()
  }

  func testTLSWithoutH2ALPNFails() async throws {
    let files = try makeCertificate()
    let tls = try TLSServerConfiguration.pem(
      certificateChainFile: files.certificate, privateKeyFile: files.key, alpn: ["http/1.1", "h2"])
    let server = HTTP2ServerTransport(host: "127.0.0.1", port: 0, group: Self.group, tls: tls)
    let port = try await server.start(acceptor: Self.makeEchoAcceptor())
    do {
      _ = try await HTTP2ClientConnection.connect(
        host: "127.0.0.1", port: port, loop: Self.group.next(),
        tls: TLSClientConfiguration(trust: .caFile(files.certificate), serverName: "localhost", alpn: ["http/1.1"]),
        timeout: .seconds(5))
      XCTFail("connect succeeded without h2")
    } catch let error as HTTPTransportError {
      XCTAssertEqual(error.kind, .connectFailed)
      XCTAssertTrue(error.message.contains("\"http/1.1\""), error.message)
    }
    server.closeNow()
    await server.waitUntilClosed()
  }

  func testConnectWithoutListenerFails() async throws {
    // Port 1 (tcpmux) has no listener on a test machine, so the connect is refused.
    do {
      _ = try await HTTP2ClientConnection.connect(host: "127.0.0.1", port: 1, loop: Self.group.next(), timeout: .seconds(5))
      XCTFail("connect to port 1 succeeded")
    } catch {
      XCTAssertFalse("\(error)".isEmpty)
    }
  }

  func testNghttpClientGetsResponse() async throws {
    guard let nghttp = findExecutable("nghttp") else { throw XCTSkip("nghttp (Debian package nghttp2-client) is not installed") }
    let server = HTTP2ServerTransport(host: "127.0.0.1", port: 0, group: Self.group)
    let port = try await server.start(acceptor: Self.makeEchoAcceptor(trailers: false))
    let result = try run(nghttp, ["-v", "-t", "10", "http://127.0.0.1:\(port)/x"])
    server.beginGracefulShutdown()
    await server.waitUntilClosed()

    XCTAssertEqual(result.status, 0, result.output)
    XCTAssertTrue(result.output.contains(":status: 200"), result.output)
    XCTAssertTrue(result.output.hasSuffix("ok") || result.output.contains("\nok"), result.output)
  }

  func testNghttpClientOverTLS() async throws {
    guard let nghttp = findExecutable("nghttp") else { throw XCTSkip("nghttp (Debian package nghttp2-client) is not installed") }
    let files = try makeCertificate()
    let tls = try TLSServerConfiguration.pem(certificateChainFile: files.certificate, privateKeyFile: files.key, alpn: ["h2"])
    let server = HTTP2ServerTransport(host: "127.0.0.1", port: 0, group: Self.group, tls: tls)
    let port = try await server.start(acceptor: Self.makeEchoAcceptor(trailers: false))
    let result = try run(nghttp, ["-v", "-t", "10", "https://127.0.0.1:\(port)/x"])
    server.beginGracefulShutdown()
    await server.waitUntilClosed()

    XCTAssertEqual(result.status, 0, result.output)
    XCTAssertTrue(result.output.contains("negotiated protocol: h2"), result.output)
    XCTAssertTrue(result.output.contains(":status: 200"), result.output)
  }

  func testServerCloseNowEndsClientStreams() async throws {
    let acceptor = RecordingAcceptor()
    let server = HTTP2ServerTransport(host: "127.0.0.1", port: 0, group: Self.group)
    let port = try await server.start(acceptor: acceptor)
    let events = RecordingConnectionDelegate()
    let client = try await HTTP2ClientConnection.connect(
      host: "127.0.0.1", port: port, loop: Self.group.next(), delegate: events, timeout: .seconds(5))
    let reply = try onLoop(client.eventLoop) { () throws -> RecordingDelegate in
      let reply = RecordingDelegate()
      _ = try client.openStream(requestHeaders: requestHeaders(path: "/slow"), endStream: false, delegate: reply)
      return reply
    }
    let deadline = ContinuousClock.now + .seconds(10)
    while acceptor.acceptedCount.load(ordering: .relaxed) == 0 && ContinuousClock.now < deadline {
      usleep(2000)
    }
    XCTAssertEqual(acceptor.acceptedCount.load(ordering: .relaxed), 1)
    server.closeNow()
    await server.waitUntilClosed()
    waitUntil(client.eventLoop, "the client stream closes") { reply.closeReason != nil }
    onLoop(client.eventLoop) {
      guard case .connectionClosed = reply.closeReason else {
        return XCTFail("stream closed with \(String(describing: reply.closeReason))")
      }
    }
    waitUntil(client.eventLoop, "the client connection closes") { events.closeDetails.withLock { !$0.isEmpty } }
  }

  func testSilentClientClosedAfterPrefaceTimeout() async throws {
    let server = HTTP2ServerTransport(
      host: "127.0.0.1", port: 0, group: Self.group, configuration: HTTP2Configuration(prefaceTimeout: .milliseconds(50)))
    let port = try await server.start(acceptor: Self.makeEchoAcceptor())
    let raw = RawHandler()
    let loop = Self.group.next()
    // The client connects over TCP and never writes a byte.
    try await TCPConnector.connect(host: "127.0.0.1", port: port, on: loop, tls: nil, timeout: .seconds(5), handler: raw)
    waitUntil(loop, "the server closes the connection") { raw.isInactive }
    onLoop(loop) {
      // SETTINGS (0x4) and the connection WINDOW_UPDATE (0x8), but no GOAWAY (0x7).
      XCTAssertEqual(frameTypes(in: raw.received), [0x4, 0x8])
    }
    // The closed connection no longer holds up shutdown.
    server.beginGracefulShutdown()
    await server.waitUntilClosed()
  }

  func testStartRejectsTLSWithoutH2() async throws {
    let files = try makeCertificate()
    let tls = try TLSServerConfiguration.pem(certificateChainFile: files.certificate, privateKeyFile: files.key, alpn: ["http/1.1"])
    let server = HTTP2ServerTransport(host: "127.0.0.1", port: 0, group: Self.group, tls: tls)
    do {
      _ = try await server.start(acceptor: Self.makeEchoAcceptor())
      XCTFail("start accepted an ALPN list without h2")
    } catch let error as HTTP2ConfigurationError {
      XCTAssertTrue(error.message.contains("\"h2\""), error.message)
    }
    await server.waitUntilClosed()
  }

  func testH2loadSmokeRun() async throws {
    guard let h2load = findExecutable("h2load") else { throw XCTSkip("h2load (Debian package nghttp2-client) is not installed") }
    let server = HTTP2ServerTransport(host: "127.0.0.1", port: 0, group: Self.group)
    let port = try await server.start(acceptor: Self.makeEchoAcceptor())
    let result = try run(h2load, ["-n", "2000", "-c", "1", "-m", "10", "-T", "20", "http://127.0.0.1:\(port)/x"])
    server.beginGracefulShutdown()
    await server.waitUntilClosed()

    XCTAssertEqual(result.status, 0, result.output)
    XCTAssertTrue(result.output.contains("2000 succeeded, 0 failed, 0 errored"), result.output)
  }

  // MARK: Helpers

  func makeCertificate() throws -> (certificate: String, key: String) {
    guard let openssl = findExecutable("openssl") else { throw XCTSkip("the openssl command is not installed") }
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-h2-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(atPath: directory) }
    let certificate = directory + "/cert.pem"
    let key = directory + "/key.pem"
    let result = try run(openssl, [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", key, "-out", certificate, "-days", "1", "-subj", "/CN=localhost",
      "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ])
    XCTAssertEqual(result.status, 0, result.output)
    return (certificate, key)
  }

  func findExecutable(_ name: String) -> String? {
    for directory in ["/usr/bin", "/usr/local/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
      return "\(directory)/\(name)"
    }
    return nil
  }

  /// Runs a program with a 60 second limit and returns its exit status and combined output.
  func run(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
    process.arguments = ["60", path] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
  }
}
