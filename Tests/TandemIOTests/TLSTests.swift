import Foundation
import XCTest

@testable import TandemIO

/// Throwaway certificates made with the `openssl` command in a temporary directory:
/// a CA, a server certificate for DNS:localhost and IP:127.0.0.1 signed by it, and a second
/// CA that signed nothing the server uses.
struct TestCertificates {
  let directory: String
  var caFile: String { directory + "/ca.crt" }
  var otherCAFile: String { directory + "/other-ca.crt" }
  var serverCertificateFile: String { directory + "/server.crt" }
  var serverKeyFile: String { directory + "/server.key" }

  static func make() throws -> TestCertificates {
    let directory = NSTemporaryDirectory() + "tandem-io-tls-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let extensions = "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
    try extensions.write(toFile: directory + "/server.ext", atomically: true, encoding: .utf8)
    let ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    try run(["req", "-x509"] + ecKey + ["-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=Tandem Test CA", "-days", "2"], in: directory)
    try run(["req", "-x509"] + ecKey + ["-keyout", "other-ca.key", "-out", "other-ca.crt", "-subj", "/CN=Other Test CA", "-days", "2"], in: directory)
    try run(["req"] + ecKey + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"], in: directory)
    try run(
      [
        "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.crt", "-days", "2", "-extfile", "server.ext",
      ], in: directory)
    return TestCertificates(directory: directory)
  }

  private static func run(_ arguments: [String], in directory: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw XCTSkip("openssl \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
    }
  }

  func remove() {
    try? FileManager.default.removeItem(atPath: directory)
  }
}

final class TLSTests: XCTestCase {
  private var group: EventLoopGroup!
  private var certificates: TestCertificates!

  override func setUp() async throws {
    group = EventLoopGroup(threadCount: 2)
    certificates = try TestCertificates.make()
  }

  override func tearDown() async throws {
    await group.shutdownGracefully()
    group = nil
    certificates?.remove()
  }

  private func serverConfiguration(
    alpn: [String] = ["h2"], maximumVersion: TLSVersion? = nil, handshakeTimeout: Duration = .seconds(10)
  ) throws -> TLSServerConfiguration {
    try .pem(
      certificateChainFile: certificates.serverCertificateFile, privateKeyFile: certificates.serverKeyFile,
      alpn: alpn, maximumVersion: maximumVersion, handshakeTimeout: handshakeTimeout)
  }

  private func bindEcho(tls: TLSServerConfiguration, accepted: AcceptedConnections? = nil) throws -> TCPListener {
    try TCPListener.bind(host: "127.0.0.1", port: 0, group: group, tls: tls) { _ in
      let record = ConnectionRecord()
      accepted?.add(record)
      return RecordingHandler(record: record, echo: true)
    }
  }

  /// Connects with `tls`, sends `payload` and waits for the echo; returns the client record.
  private func echo(
    tls: TLSClientConfiguration, server: TLSServerConfiguration, payload: [UInt8],
    accepted: AcceptedConnections? = nil
  ) async throws -> ConnectionRecord {
    let listener = try bindEcho(tls: server, accepted: accepted)
    defer { listener.close() }
    let client = ConnectionRecord(expectedByteCount: payload.count)
    try await TCPConnector.connect(
      host: "127.0.0.1", port: listener.port, on: group.next(), tls: tls, timeout: .seconds(10),
      handler: RecordingHandler(record: client, greeting: payload))
    await fulfillment(of: [client.receivedAll], timeout: testWaitSeconds)
    return client
  }

  private func expectHandshakeFailure(
    tls: TLSClientConfiguration, server: TLSServerConfiguration
  ) async throws -> TLSError {
    let listener = try bindEcho(tls: server)
    defer { listener.close() }
    let client = ConnectionRecord()
    do {
      try await TCPConnector.connect(
        host: "127.0.0.1", port: listener.port, on: group.next(), tls: tls, timeout: .seconds(10),
        handler: RecordingHandler(record: client))
    } catch let error as TLSError {
      XCTAssertEqual(client.snapshot.activeCount, 0, "the handler must not see a failed connection")
      XCTAssertEqual(client.snapshot.inactiveCount, 0, "the handler must not see a failed connection")
      return error
    }
    XCTFail("the TLS handshake succeeded")
    throw TLSError(kind: .handshakeFailed, message: "the TLS handshake succeeded")
  }

  func testEchoOverTLS13WithALPN() async throws {
    let accepted = AcceptedConnections()
    let payload = makePayload(count: 100_000)
    let client = try await echo(
      tls: .init(trust: .caFile(certificates.caFile), serverName: "localhost", alpn: ["h2"]),
      server: try serverConfiguration(), payload: payload, accepted: accepted)

    let state = client.snapshot
    XCTAssertTrue(state.received == payload)
    XCTAssertTrue(state.isSecure)
    XCTAssertEqual(state.negotiatedALPN, "h2")
    XCTAssertEqual(state.tlsVersion, "TLSv1.3")
    XCTAssertEqual(state.callsOffLoop, 0)
    let server = try XCTUnwrap(accepted.all.first).snapshot
    XCTAssertEqual(server.negotiatedALPN, "h2")
    XCTAssertEqual(server.tlsVersion, "TLSv1.3")
  }

  func testEchoOverTLS12() async throws {
    let payload = makePayload(count: 50_000)
    let client = try await echo(
      tls: .init(trust: .caFile(certificates.caFile), serverName: "localhost", alpn: ["h2"]),
      server: try serverConfiguration(maximumVersion: .v1_2), payload: payload)
    XCTAssertTrue(client.snapshot.received == payload)
    XCTAssertEqual(client.snapshot.tlsVersion, "TLSv1.2")
    XCTAssertEqual(client.snapshot.negotiatedALPN, "h2")
  }

  func testIPAddressVerifiedAgainstSAN() async throws {
    let payload = makePayload(count: 1000)
    let client = try await echo(
      tls: .init(trust: .caFile(certificates.caFile), serverName: nil, alpn: ["h2"]),
      server: try serverConfiguration(), payload: payload)
    XCTAssertTrue(client.snapshot.received == payload)
  }

  func testLargeTransferOverTLS() async throws {
    let payload = makePayload(count: 4 << 20)
    let client = try await echo(
      tls: .init(trust: .caFile(certificates.caFile), serverName: "localhost", alpn: ["h2"]),
      server: try serverConfiguration(), payload: payload)
    XCTAssertEqual(client.snapshot.received.count, payload.count)
    XCTAssertTrue(client.snapshot.received == payload, "4 MiB over TLS arrived changed")
  }

  /// The socket flushes the first write's ciphertext before the second write is encrypted, so
  /// the socket's buffer stays below 256 KiB while the TLS channel's total went above it.
  func testWritableAfterSocketDrainedEarlier() async throws {
    let first = makePayload(count: 100_000)
    let second = makePayload(count: 163_000, seed: 7)
    let accepted = AcceptedConnections()
    let listener = try TCPListener.bind(host: "127.0.0.1", port: 0, group: group, tls: try serverConfiguration()) { _ in
      let record = ConnectionRecord(expectedByteCount: first.count + second.count)
      accepted.add(record)
      return RecordingHandler(record: record)
    }
    defer { listener.close() }

    let writable = XCTestExpectation(description: "channelWritable after the TLS channel went above 256 KiB")
    let totalAfterSecondWrite = Locked(0)
    let client = RecordingHandler(record: ConnectionRecord())
    client.onActive = { channel in
      first.withUnsafeBytes { channel.write($0) }
      // The first write's ciphertext reaches the socket at the end of this turn, and the socket
      // schedules its flush after that. This callback runs in between.
      channel.eventLoop.runAtEndOfTurn {
        second.withUnsafeBytes { channel.write($0) }
        totalAfterSecondWrite.withLock { $0 = channel.pendingWriteBytes }
      }
    }
    client.onWritable = { _ in writable.fulfill() }
    try await TCPConnector.connect(
      host: "127.0.0.1", port: listener.port, on: group.next(),
      tls: .init(trust: .caFile(certificates.caFile), serverName: "localhost", alpn: ["h2"]),
      timeout: .seconds(10), handler: client)

    await fulfillment(of: [writable], timeout: testWaitSeconds)
    XCTAssertGreaterThan(totalAfterSecondWrite.value, SocketChannel.highWaterMark)
    let server = try XCTUnwrap(accepted.all.first)
    await fulfillment(of: [server.receivedAll], timeout: testWaitSeconds)
    XCTAssertTrue(server.snapshot.received == first + second, "the server received changed bytes")
  }

  func testWrongHostnameRejected() async throws {
    let error = try await expectHandshakeFailure(
      tls: .init(trust: .caFile(certificates.caFile), serverName: "wrong.example", alpn: ["h2"]),
      server: try serverConfiguration())
    XCTAssertEqual(error.kind, .hostnameMismatch)
    XCTAssertTrue(error.description.contains("hostname mismatch"), error.description)
    XCTAssertTrue(error.description.contains("wrong.example"), error.description)
  }

  func testUntrustedCARejected() async throws {
    let error = try await expectHandshakeFailure(
      tls: .init(trust: .caFile(certificates.otherCAFile), serverName: "localhost", alpn: ["h2"]),
      server: try serverConfiguration())
    XCTAssertEqual(error.kind, .certificateVerificationFailed)
    XCTAssertNotNil(error.verifyResult)
    XCTAssertTrue(error.description.contains("certificate"), error.description)
  }

  func testNoVerificationAccepted() async throws {
    let payload = makePayload(count: 1000)
    let client = try await echo(
      tls: .init(trust: .noVerification, serverName: "wrong.example", alpn: ["h2"]),
      server: try serverConfiguration(), payload: payload)
    XCTAssertTrue(client.snapshot.received == payload)
  }

  func testALPNWithoutH2Rejected() async throws {
    let error = try await expectHandshakeFailure(
      tls: .init(trust: .caFile(certificates.caFile), serverName: "localhost", alpn: ["http/1.1"]),
      server: try serverConfiguration())
    XCTAssertEqual(error.kind, .noApplicationProtocol)
    XCTAssertTrue(error.description.contains("no application protocol"), error.description)
  }

  func testServerReportsHandshakeFailure() async throws {
    let serverErrors = Locked<[String]>([])
    let reported = XCTestExpectation(description: "server reported the failed handshake")
    let listener = try TCPListener.bind(
      host: "127.0.0.1", port: 0, group: group, tls: try serverConfiguration(),
      onError: { error in
        serverErrors.withLock { $0.append("\(error)") }
        reported.fulfill()
      },
      makeHandler: { _ in RecordingHandler(record: ConnectionRecord()) })
    defer { listener.close() }

    do {
      try await TCPConnector.connect(
        host: "127.0.0.1", port: listener.port, on: group.next(),
        tls: .init(trust: .caFile(certificates.caFile), serverName: "localhost", alpn: ["http/1.1"]),
        timeout: .seconds(10), handler: RecordingHandler(record: ConnectionRecord()))
      XCTFail("the TLS handshake succeeded")
    } catch is TLSError {
    }
    await fulfillment(of: [reported], timeout: testWaitSeconds)
    XCTAssertEqual(serverErrors.value.count, 1)
    XCTAssertTrue(serverErrors.value.first?.contains("no application protocol") ?? false, "\(serverErrors.value)")
  }

  func testClientWithoutALPNAccepted() async throws {
    let payload = makePayload(count: 1000)
    let client = try await echo(
      tls: .init(trust: .caFile(certificates.caFile), serverName: "localhost", alpn: []),
      server: try serverConfiguration(), payload: payload)
    XCTAssertTrue(client.snapshot.received == payload)
    XCTAssertNil(client.snapshot.negotiatedALPN)
  }

  func testMissingCertificateFileNamed() {
    XCTAssertThrowsError(
      try TLSServerConfiguration.pem(
        certificateChainFile: "/nonexistent/server.crt", privateKeyFile: certificates.serverKeyFile, alpn: [])
    ) { error in
      XCTAssertEqual((error as? TLSError)?.kind, .configuration)
      XCTAssertTrue("\(error)".contains("/nonexistent/server.crt"), "\(error)")
    }
  }

  func testInvalidALPNNameRejected() {
    XCTAssertThrowsError(
      try serverConfiguration(alpn: [""])
    ) { error in
      XCTAssertEqual((error as? TLSError)?.kind, .configuration)
    }
  }

  func testPeerCloseOverTLSDeliversInactive() async throws {
    let listener = try TCPListener.bind(host: "127.0.0.1", port: 0, group: group, tls: try serverConfiguration()) { _ in
      let handler = RecordingHandler(record: ConnectionRecord())
      handler.onRead = { channel, _ in
        Array("bye".utf8).withUnsafeBytes { channel.write($0) }
        channel.close()
      }
      return handler
    }
    defer { listener.close() }
    let client = ConnectionRecord(expectedByteCount: 3)
    try await TCPConnector.connect(
      host: "127.0.0.1", port: listener.port, on: group.next(),
      tls: .init(trust: .caFile(certificates.caFile), serverName: "localhost", alpn: ["h2"]), timeout: .seconds(10),
      handler: RecordingHandler(record: client, greeting: Array("hello".utf8)))
    await fulfillment(of: [client.receivedAll, client.inactive], timeout: testWaitSeconds)
    XCTAssertEqual(client.snapshot.received, Array("bye".utf8))
    XCTAssertNil(client.snapshot.inactiveError)
    XCTAssertEqual(client.snapshot.inactiveCount, 1)
  }

  func testSilentClientClosedAfterHandshakeTimeout() async throws {
    let accepted = AcceptedConnections()
    let tls = try serverConfiguration(handshakeTimeout: .milliseconds(100))
    let listener = try bindEcho(tls: tls, accepted: accepted)
    defer { listener.close() }

    // A plaintext client that never sends a ClientHello.
    let client = ConnectionRecord()
    try await TCPConnector.connect(
      host: "127.0.0.1", port: listener.port, on: group.next(), tls: nil, timeout: .seconds(10),
      handler: RecordingHandler(record: client))
    await fulfillment(of: [client.inactive], timeout: testWaitSeconds)
    XCTAssertEqual(accepted.all.count, 1)
    XCTAssertEqual(accepted.all.first?.snapshot.activeCount, 0, "the server handler must not see the connection")
  }

  func testServerTimeoutMustBePositive() {
    XCTAssertThrowsError(try serverConfiguration(handshakeTimeout: .zero)) { error in
      XCTAssertEqual((error as? TLSError)?.kind, .configuration)
    }
  }
}
