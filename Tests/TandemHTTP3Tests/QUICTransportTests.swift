import Foundation
import Synchronization
import Tandem
import TandemHTTP
import TandemHTTP3
import TandemIO
import XCTest

@testable import TandemTestSupport

/// QUIC behaviour that the shared call suite does not reach: stream credit, resumption and
/// 0-RTT, migration, idle timeout, graceful shutdown, and the server's replies without a connection.
final class QUICTransportTests: XCTestCase {
  let group = EventLoopGroup(threadCount: 2)

  override func tearDown() async throws {
    await group.shutdownGracefully()
  }

  private func connect(
    _ server: TestHTTP3Server, configuration: HTTP3Configuration = HTTP3Configuration(),
    cache: QUICSessionCache? = nil, delegate: (any HTTPClientConnectionDelegate)? = nil
  ) async throws -> HTTP3ClientConnection {
    try await HTTP3ClientConnection.connect(
      host: "127.0.0.1", port: server.port, loop: group.next(), tls: TestCertificate.clientTLS(),
      configuration: configuration, sessionCache: cache, delegate: delegate, timeout: .seconds(5))
  }

  private func call(
    _ client: HTTP3ClientConnection, _ path: String, body: [UInt8] = [1, 2, 3], safeToReplay: Bool = false
  ) throws -> ResponseCollector {
    let collector = ResponseCollector()
    let stream = try client.openStream(
      requestHeaders: requestHeaders(path), endStream: false, isSafeToReplay: safeToReplay, delegate: collector)
    stream.writeData(body, endStream: true)
    return collector
  }

  func testCancelledConnectStopsAtOnce() async throws {
    // A UDP socket that never replies: the handshake would run for the whole 60 s timeout.
    let silent = try UDPSocket.bind(host: "127.0.0.1", port: 0, on: group.next(), handler: SilentUDPHandler())
    defer { silent.close() }
    let port = silent.localAddress.port
    let group = self.group
    let attempt = Task {
      try await HTTP3ClientConnection.connect(
        host: "127.0.0.1", port: port, loop: group.next(), tls: TestCertificate.clientTLS(), sessionCache: nil,
        timeout: .seconds(60))
    }
    try await Task.sleep(for: .milliseconds(100))
    attempt.cancel()
    do {
      _ = try await attempt.value
      XCTFail("the cancelled attempt connected")
    } catch {
      XCTAssertTrue(error is CancellationError, "the attempt ends with CancellationError, not its timeout: \(error)")
    }
  }

  func testCallsBeyondStreamLimitWait() async throws {
    var serverConfiguration = HTTP3Configuration()
    serverConfiguration.maxConcurrentStreams = 2
    let server = try await TestHTTP3Server.start(group: group, configuration: serverConfiguration)
    let client = try await connect(server)

    let collectors = try (0..<12).map { index in try call(client, "/slow", body: [UInt8(index)]) }
    for (index, collector) in collectors.enumerated() {
      let result = await collector.result()
      XCTAssertEqual(result.closeReason, .finished, "call \(index)")
      XCTAssertEqual(result.body, [UInt8(index)], "call \(index)")
      XCTAssertEqual(result.trailers.first?.value, "0", "call \(index)")
    }
    XCTAssertEqual(server.acceptor.requests.load(ordering: .relaxed), 12)
    client.close()
    await server.stop()
  }

  func testResumptionAcrossClientConnections() async throws {
    let server = try await TestHTTP3Server.start(group: group)
    let cache = QUICSessionCache()
    let first = try await connect(server, cache: cache)
    let firstResult = try await call(first, "/echo").result()
    XCTAssertEqual(firstResult.closeReason, .finished)
    let sessionResumedValue = await first.sessionResumed()
    XCTAssertFalse(sessionResumedValue)
    try await waitForTicket(cache, port: server.port)
    first.close()

    let second = try await connect(server, cache: cache)
    let secondResult = try await call(second, "/echo").result()
    XCTAssertEqual(secondResult.closeReason, .finished)
    let resumedAgain = await second.sessionResumed()
    XCTAssertTrue(resumedAgain)
    second.close()
    await server.stop()
  }

  func testEarlyDataAccepted() async throws {
    let server = try await TestHTTP3Server.start(group: group)
    let cache = QUICSessionCache()
    let first = try await connect(server, cache: cache)
    _ = try await call(first, "/echo").result()
    try await waitForTicket(cache, port: server.port)
    first.close()

    let second = try await connect(server, cache: cache)
    let result = try await call(second, "/echo", body: [9, 9], safeToReplay: true).result()
    XCTAssertEqual(result.closeReason, .finished)
    XCTAssertEqual(result.body, [9, 9])
    let earlyDataAcceptedValue = await second.earlyDataAccepted()
    XCTAssertTrue(earlyDataAcceptedValue, "the server should accept the 0-RTT request")
    second.close()
    await server.stop()
  }

  func testRejectedEarlyDataIsResent() async throws {
    // A restarted server has a new ticket key, so it cannot resume and rejects early data.
    let firstServer = try await TestHTTP3Server.start(group: group)
    let cache = QUICSessionCache()
    let first = try await connect(firstServer, cache: cache)
    _ = try await call(first, "/echo").result()
    try await waitForTicket(cache, port: firstServer.port)
    first.close()
    await firstServer.stop()

    let secondServer = try await TestHTTP3Server.start(group: group, port: firstServer.port)
    let second = try await connect(secondServer, cache: cache)
    let result = try await call(second, "/echo", body: [7, 7, 7], safeToReplay: true).result()
    XCTAssertEqual(result.closeReason, .finished)
    XCTAssertEqual(result.body, [7, 7, 7])
    let earlyDataAcceptedValue = await second.earlyDataAccepted()
    XCTAssertFalse(earlyDataAcceptedValue)
    XCTAssertEqual(secondServer.acceptor.requests.load(ordering: .relaxed), 1)
    second.close()
    await secondServer.stop()
  }

  func testServerWithoutEarlyDataStillAnswers() async throws {
    var configuration = HTTP3Configuration()
    configuration.earlyData = false
    let server = try await TestHTTP3Server.start(group: group, configuration: configuration)
    let cache = QUICSessionCache()
    let first = try await connect(server, cache: cache)
    _ = try await call(first, "/echo").result()
    try await waitForTicket(cache, port: server.port)
    first.close()

    let second = try await connect(server, cache: cache)
    let result = try await call(second, "/echo", body: [3], safeToReplay: true).result()
    XCTAssertEqual(result.closeReason, .finished)
    XCTAssertEqual(result.body, [3])
    let accepted = await second.earlyDataAccepted()
    XCTAssertFalse(accepted, "a server with early data off must not accept 0-RTT")
    second.close()
    await server.stop()
  }

  func testMigrationKeepsStreamingCall() async throws {
    let acceptor = TestAcceptor(count: 30, interval: .milliseconds(20))
    let server = try await TestHTTP3Server.start(group: group, acceptor: acceptor)
    let client = try await connect(server)
    let before = await client.localAddress()
    let collector = try call(client, "/stream")
    while collector.bodyCount < 5 * 4 {
      try await Task.sleep(for: .milliseconds(10))
    }
    try await client.migrateToNewLocalPort()
    let after = await client.localAddress()
    let result = await collector.result()

    XCTAssertNotEqual(before.port, after.port)
    XCTAssertEqual(result.closeReason, .finished)
    XCTAssertEqual(result.body.count, 30 * 4, "every message arrives across the migration")
    client.close()
    await server.stop()
  }

  func testIdleConnectionCloses() async throws {
    var configuration = HTTP3Configuration()
    configuration.idleTimeout = .milliseconds(300)
    let server = try await TestHTTP3Server.start(group: group, configuration: configuration)
    let events = ConnectionEvents()
    let client = try await connect(server, configuration: configuration, delegate: events)
    _ = try await call(client, "/echo").result()

    try await Task.sleep(for: .seconds(2))
    XCTAssertFalse(client.isAcceptingStreams)
    XCTAssertTrue(events.closeDetail.withLock { $0 }?.contains("idle") ?? false, "\(String(describing: events.closeDetail.withLock { $0 }))")
    let openConnections = await server.transport.connectionCount()
    XCTAssertEqual(openConnections, 0)
    await server.stop()
  }

  func testKeepaliveKeepsIdleConnectionOpen() async throws {
    var configuration = HTTP3Configuration()
    configuration.idleTimeout = .milliseconds(800)
    configuration.keepaliveInterval = .milliseconds(100)
    let server = try await TestHTTP3Server.start(group: group, configuration: configuration)
    let client = try await connect(server, configuration: configuration)

    try await Task.sleep(for: .seconds(2))
    XCTAssertTrue(client.isAcceptingStreams)
    let result = try await call(client, "/echo").result()
    XCTAssertEqual(result.closeReason, .finished)
    client.close()
    await server.stop()
  }

  func testGracefulShutdownFinishesCallsInFlight() async throws {
    let acceptor = TestAcceptor(delay: .milliseconds(400))
    let server = try await TestHTTP3Server.start(group: group, acceptor: acceptor)
    let events = ConnectionEvents()
    let client = try await connect(server, delegate: events)
    let running = try call(client, "/slow", body: [5])
    while acceptor.requests.load(ordering: .relaxed) == 0 {
      try await Task.sleep(for: .milliseconds(5))
    }
    server.transport.beginGracefulShutdown()
    let result = await running.result()
    await server.transport.waitUntilClosed()

    XCTAssertEqual(result.closeReason, .finished)
    XCTAssertEqual(result.body, [5])
    XCTAssertEqual(events.goAways.load(ordering: .relaxed), 1)
    XCTAssertFalse(client.isAcceptingStreams)
    XCTAssertThrowsError(try client.openStream(requestHeaders: requestHeaders("/echo"), endStream: true, delegate: ResponseCollector()))
  }

  func testRetryWhenAddressValidationIsAlways() async throws {
    var configuration = HTTP3Configuration()
    configuration.addressValidation = .always
    let server = try await TestHTTP3Server.start(group: group, configuration: configuration)
    let client = try await connect(server)
    let result = try await call(client, "/echo").result()

    XCTAssertEqual(result.closeReason, .finished)
    let counters = await server.transport.statelessCounters()
    XCTAssertEqual(counters.retries, 1)
    client.close()
    await server.stop()
  }

  func testUnknownVersionGetsVersionNegotiation() async throws {
    let server = try await TestHTTP3Server.start(group: group)
    // A long-header Initial-sized packet of version 0x1a2a3a4a with 8-byte connection IDs.
    var packet: [UInt8] = [0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 8] + Array(repeating: 0x11, count: 8) + [8] + Array(repeating: 0x22, count: 8)
    packet += Array(repeating: 0, count: 1200 - packet.count)
    let reply = try await exchange(packet, port: server.port)

    let answer = try XCTUnwrap(reply)
    XCTAssertEqual(Array(answer[1...4]), [0, 0, 0, 0], "version 0 marks version negotiation")
    XCTAssertEqual(Array(answer[6..<14]), Array(repeating: 0x22, count: 8), "the client's source ID comes back as destination")
    XCTAssertTrue(answer.count >= 4 && Array(answer.suffix(4)) == [0, 0, 0, 1] || answer.contains(1), "QUIC v1 is offered")
    await server.stop()
  }

  func testUnknownShortHeaderGetsStatelessReset() async throws {
    let server = try await TestHTTP3Server.start(group: group)
    let packet: [UInt8] = [0x40] + Array(repeating: 0x33, count: 18) + Array(repeating: 0x44, count: 60)
    let reply = try await exchange(packet, port: server.port)

    let answer = try XCTUnwrap(reply)
    XCTAssertLessThan(answer.count, packet.count, "a stateless reset is smaller than its trigger")
    XCTAssertGreaterThanOrEqual(answer.count, 21)
    XCTAssertEqual(answer[0] & 0xc0, 0x40, "it looks like a short-header packet")
    let counters = await server.transport.statelessCounters()
    XCTAssertEqual(counters.statelessResets, 1)
    await server.stop()
  }

  func testWrongHostnameFailsHandshake() async throws {
    let server = try await TestHTTP3Server.start(group: group)
    do {
      _ = try await HTTP3ClientConnection.connect(
        host: "127.0.0.1", port: server.port, loop: group.next(), tls: TestCertificate.clientTLS(serverName: "wrong.example"),
        sessionCache: nil, timeout: .seconds(5))
      XCTFail("the handshake should fail")
    } catch let error as TLSError {
      XCTAssertEqual(error.kind, .hostnameMismatch)
    }
    await server.stop()
  }

  func testCallsCompleteThroughLossyPath() async throws {
    let acceptor = TestAcceptor(count: 40, interval: .milliseconds(2))
    let server = try await TestHTTP3Server.start(group: group, acceptor: acceptor)
    let relay = try UDPRelay(
      target: try SocketAddress(ipAddress: "127.0.0.1", port: server.port), on: group.next(), seed: 7,
      impairment: .init(dropProbability: 0.1, reorderProbability: 0.1))
    let client = try await HTTP3ClientConnection.connect(
      host: "127.0.0.1", port: relay.port, loop: group.next(), tls: TestCertificate.clientTLS(), sessionCache: nil,
      timeout: .seconds(10))

    let payload = (0..<200_000).map { UInt8($0 % 253) }
    let echo = try call(client, "/echo", body: payload)
    let streaming = try call(client, "/stream")
    let small = try (0..<20).map { index in try call(client, "/echo", body: [UInt8(index)]) }
    let echoResult = await echo.result(within: .seconds(30))
    let streamingResult = await streaming.result(within: .seconds(30))

    XCTAssertEqual(echoResult.closeReason, .finished)
    XCTAssertEqual(echoResult.body, payload, "the large body arrives intact")
    XCTAssertEqual(streamingResult.body.count, 40 * 4)
    for (index, collector) in small.enumerated() {
      let result = await collector.result(within: .seconds(30))
      XCTAssertEqual(result.body, [UInt8(index)], "call \(index)")
    }
    let dropped = relay.counters(for: .toTarget).dropped + relay.counters(for: .toClient).dropped
    XCTAssertGreaterThan(dropped, 0, "the relay should have dropped datagrams")
    client.close()
    await relay.close()
    await server.stop()
  }

  func testLoopbackPathUsesLargeDatagrams() async throws {
    let server = try await TestHTTP3Server.start(group: group, acceptor: TestAcceptor())
    let relay = try UDPRelay(target: try SocketAddress(ipAddress: "127.0.0.1", port: server.port), on: group.next())
    let client = try await HTTP3ClientConnection.connect(
      host: "127.0.0.1", port: relay.port, loop: group.next(), tls: TestCertificate.clientTLS(), sessionCache: nil,
      timeout: .seconds(10))
    let payload = (0..<300_000).map { UInt8($0 % 251) }
    let result = await (try call(client, "/echo", body: payload)).result(within: .seconds(30))
    XCTAssertEqual(result.body, payload)
    let toServer = relay.counters(for: .toTarget)
    let toClient = relay.counters(for: .toClient)
    XCTAssertLessThanOrEqual(toServer.firstSize, 1452, "the Initial keeps the ordinary size")
    XCTAssertGreaterThan(toServer.largestSize, 16_384, "the upload uses loopback-sized datagrams")
    XCTAssertLessThanOrEqual(toServer.largestSize, 65_507)
    XCTAssertGreaterThan(toClient.largestSize, 16_384, "the server also sizes its datagrams for loopback")
    client.close()
    await relay.close()
    await server.stop()
  }

  func testLoopbackSizingCanBeTurnedOff() async throws {
    let server = try await TestHTTP3Server.start(group: group, acceptor: TestAcceptor())
    let relay = try UDPRelay(target: try SocketAddress(ipAddress: "127.0.0.1", port: server.port), on: group.next())
    var configuration = HTTP3Configuration()
    configuration.loopbackUDPPayloadSize = nil
    let client = try await HTTP3ClientConnection.connect(
      host: "127.0.0.1", port: relay.port, loop: group.next(), tls: TestCertificate.clientTLS(),
      configuration: configuration, sessionCache: nil, timeout: .seconds(10))
    let payload = (0..<300_000).map { UInt8($0 % 251) }
    let result = await (try call(client, "/echo", body: payload)).result(within: .seconds(30))
    XCTAssertEqual(result.body, payload)
    XCTAssertLessThanOrEqual(relay.counters(for: .toTarget).largestSize, configuration.maxUDPPayloadSize)
    client.close()
    await relay.close()
    await server.stop()
  }

  func testLoopbackPayloadSizeIsValidated() {
    var configuration = HTTP3Configuration()
    configuration.loopbackUDPPayloadSize = 70_000
    XCTAssertThrowsError(try configuration.validate()) { error in
      XCTAssertTrue("\(error)".contains("loopbackUDPPayloadSize is 70000"), "\(error)")
    }
  }

  func testRequiredClientCertificate() async throws {
    // The client's self-signed certificate is its own CA.
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-mtls-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let clientCertificate = try SelfSignedCertificate.generate(in: directory, commonName: "client")
    let tls = try QUICServerTLSConfiguration.pem(
      certificateChainFile: TestCertificate.shared.certificatePath, privateKeyFile: TestCertificate.shared.privateKeyPath,
      clientCertificates: .required(caFile: clientCertificate.certificatePath))
    let server = try await TestHTTP3Server.start(group: group, tls: tls)

    // TLS 1.3 clients finish their handshake before the server checks their certificate, so
    // the rejection shows on the first call, or earlier: the server's close can arrive before
    // the call starts, and then opening the stream fails.
    if let anonymous = try? await HTTP3ClientConnection.connect(
      host: "127.0.0.1", port: server.port, loop: group.next(), tls: TestCertificate.clientTLS(), sessionCache: nil,
      timeout: .seconds(5)), let collector = try? call(anonymous, "/echo")
    {
      let rejected = await collector.result()
      XCTAssertNotEqual(rejected.closeReason, .finished, "a client without a certificate must not get a response")
      XCTAssertEqual(rejected.body, [])
    }
    XCTAssertEqual(server.acceptor.requests.load(ordering: .relaxed), 0)

    let withCertificate = QUICClientTLSConfiguration(
      trust: .caFile(TestCertificate.shared.certificatePath), serverName: "localhost",
      clientCertificate: (chainFile: clientCertificate.certificatePath, keyFile: clientCertificate.privateKeyPath))
    let client = try await HTTP3ClientConnection.connect(
      host: "127.0.0.1", port: server.port, loop: group.next(), tls: withCertificate, sessionCache: nil, timeout: .seconds(5))
    let result = try await call(client, "/echo", body: [4, 2]).result()
    XCTAssertEqual(result.closeReason, .finished)
    XCTAssertEqual(result.body, [4, 2])
    client.close()
    await server.stop()
  }

  func testClosedPortFailsFast() async throws {
    // Bind and close a socket to find a port where nothing listens.
    let probe = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    let any = try SocketAddress(ipAddress: "127.0.0.1", port: 0)
    _ = any.withSockAddr { bind(probe, $0, $1) }
    var address = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(probe, $0, &length) }
    }
    close(probe)
    let port = Int(UInt16(bigEndian: address.sin_port))

    do {
      _ = try await HTTP3ClientConnection.connect(
        host: "127.0.0.1", port: port, loop: group.next(), tls: TestCertificate.clientTLS(), sessionCache: nil,
        timeout: .seconds(10))
      XCTFail("nothing listens on port \(port)")
    } catch {
      // The ICMP port-unreachable error ends the attempt, not the 10 s handshake timeout.
      XCTAssertTrue("\(error)".contains("unreachable"), "\(error)")
      XCTAssertFalse("\(error)".contains("did not finish within"), "\(error)")
    }
  }

  // MARK: Helpers

  private func waitForTicket(_ cache: QUICSessionCache, port: Int) async throws {
    for _ in 0..<200 where !cache.hasTicket(serverName: "localhost", port: port) {
      try await Task.sleep(for: .milliseconds(10))
    }
    XCTAssertTrue(cache.hasTicket(serverName: "localhost", port: port), "the server should send a session ticket")
  }

  /// Sends one datagram from a fresh socket and returns the first reply within 2 seconds.
  private func exchange(_ packet: [UInt8], port: Int) async throws -> [UInt8]? {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    defer { close(fd) }
    // Generous, because a loaded machine can delay the reply; only a failing run waits this long.
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let destination = try SocketAddress(ipAddress: "127.0.0.1", port: port)
    let sent = destination.withSockAddr { address, length in
      packet.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, address, length) }
    }
    XCTAssertEqual(sent, packet.count)
    var buffer = [UInt8](repeating: 0, count: 2048)
    let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
    return received > 0 ? Array(buffer[..<received]) : nil
  }
}

/// Receives datagrams and never replies.
private final class SilentUDPHandler: UDPSocketHandler {
  func socket(_ socket: UDPSocket, didReceive datagrams: [UDPDatagram]) {}
  func socket(_ socket: UDPSocket, didFailToSend error: IOError) {}
  func socketDidClose(_ socket: UDPSocket, error: IOError?) {}
}
