import EchoProtos
import Glibc
import Synchronization
import Tandem
import XCTest

/// Calls over real sockets on 127.0.0.1 in plaintext HTTP/2 (h2c). ``TLSLoopbackTests`` runs
/// the same tests over TLS and ``QUICLoopbackTests`` over HTTP/3 on QUIC.
class LoopbackTests: XCTestCase {
  /// Whether the subclass runs over TLS.
  var useTLS: Bool { false }
  /// Whether the subclass runs over HTTP/3 on QUIC (which implies TLS).
  var useQUIC: Bool { false }

  func testUnaryEchoesTextAndPayload() async throws {
    let server = try await TestServer.start(tls: useTLS, quic: useQUIC)
    let channel = try server.makeChannel()
    let echo = Echo_V1_Echo.Client(channel: channel)

    let payload: [UInt8] = (0..<1000).map { UInt8($0 % 251) }
    let reply = try await echo.get(.with { $0.text = "hello"; $0.payload = payload })

    XCTAssertEqual(reply.text, "hello")
    XCTAssertEqual(reply.payload, payload)
    channel.close()
    await server.stop()
  }

  func testServerStreamingOneResponsePerWord() async throws {
    let server = try await TestServer.start(tls: useTLS, quic: useQUIC)
    let channel = try server.makeChannel()
    let echo = Echo_V1_Echo.Client(channel: channel)

    var words: [String] = []
    for try await response in echo.expand(.with { $0.text = "one two  three" }) {
      words.append(response.text)
    }

    XCTAssertEqual(words, ["one", "two", "three"])
    channel.close()
    await server.stop()
  }

  func testClientStreamingJoinsTexts() async throws {
    let server = try await TestServer.start(tls: useTLS, quic: useQUIC)
    let channel = try server.makeChannel()
    let echo = Echo_V1_Echo.Client(channel: channel)

    let reply = try await echo.collect(metadata: [:], options: .defaults) { writer in
      for text in ["alpha", "beta", "gamma"] {
        try await writer.write(.with { $0.text = text })
      }
    }

    XCTAssertEqual(reply.text, "alpha beta gamma")
    let empty = try await echo.collect(metadata: [:], options: .defaults) { _ in }
    XCTAssertEqual(empty.text, "")
    channel.close()
    await server.stop()
  }

  func testBidirectionalRespondsPerRequest() async throws {
    let server = try await TestServer.start(tls: useTLS, quic: useQUIC)
    let channel = try server.makeChannel()
    let echo = Echo_V1_Echo.Client(channel: channel)

    let texts = (0..<50).map { "message \($0)" }
    var received: [String] = []
    for try await response in echo.update(metadata: [:], options: .defaults, requestProducer: { writer in
      for text in texts {
        try await writer.write(.with { $0.text = text })
      }
    }) {
      received.append(response.text)
    }

    XCTAssertEqual(received, texts)
    channel.close()
    await server.stop()
  }

  func testMetadataEchoedInHeadersAndTrailers() async throws {
    let server = try await TestServer.start(tls: useTLS, quic: useQUIC)
    let channel = try server.makeChannel()
    let echo = Echo_V1_Echo.Client(channel: channel)
    var metadata = Metadata()
    metadata.addString("hello world", forKey: "x-echo-text")
    metadata.addBinary([0, 1, 2, 255, 254], forKey: "x-echo-data-bin")
    metadata.addString("not echoed", forKey: "x-other")

    let response = try await echo.get(.with { $0.text = "m" }, metadata: metadata, options: .defaults) { $0 }

    for echoed in [response.initialMetadata, response.trailingMetadata] {
      XCTAssertEqual(echoed[stringValues: "x-echo-text"], ["hello world"])
      XCTAssertEqual(echoed[binaryValues: "x-echo-data-bin"], [[0, 1, 2, 255, 254]])
      XCTAssertEqual(echoed[stringValues: "x-other"], [])
    }
    channel.close()
    await server.stop()
  }

  func testUnknownMethodIsUnimplemented() async throws {
    let server = try await TestServer.start(tls: useTLS, quic: useQUIC)
    let channel = try server.makeChannel()

    for method in [
      MethodDescriptor(service: "echo.v1.Echo", method: "Missing", kind: .unary),
      MethodDescriptor(service: "no.such.Service", method: "Get", kind: .unary),
    ] {
      let error = await assertRPCError(.unimplemented) {
        try await channel.unary(
          method,
          request: Echo_V1_EchoRequest(),
          metadata: [:],
          options: .defaults
        ) { (response: ClientResponse<Echo_V1_EchoResponse>) in try response.message }
      }
      XCTAssertTrue(error?.message.contains(method.path) ?? false, "message should name \(method.path): \(String(describing: error))")
    }
    // The connection keeps serving other calls.
    let reply = try await Echo_V1_Echo.Client(channel: channel).get(.with { $0.text = "still fine" })
    XCTAssertEqual(reply.text, "still fine")
    channel.close()
    await server.stop()
  }

  func testHandlerErrorsMapToStatus() async throws {
    let server = try await TestServer.start(tls: useTLS, quic: useQUIC)
    let channel = try server.makeChannel()
    func callFail(_ text: String) async throws -> ClientResponse<Echo_V1_EchoResponse> {
      try await channel.unary(ControlService.fail, request: Echo_V1_EchoRequest.with { $0.text = text }, metadata: [:], options: .defaults) {
        (response: ClientResponse<Echo_V1_EchoResponse>) in response
      }
    }

    let notFound = await assertRPCError(.notFound) { try await callFail("5").message }
    XCTAssertEqual(notFound?.message, "failed on purpose: 100% sure")
    XCTAssertEqual(notFound?.metadata[stringValues: "x-failure"], ["detail"])

    let unknown = await assertRPCError(.unknown) { try await callFail("plain").message }
    XCTAssertFalse(unknown?.message.contains("secret internal detail") ?? true, "the error's description leaked: \(String(describing: unknown))")
    channel.close()
    await server.stop()
  }

  func testDeadlineExceededOnBothSides() async throws {
    let server = try await TestServer.start(tls: useTLS, quic: useQUIC)
    let channel = try server.makeChannel()
    let request = Echo_V1_EchoRequest.with { $0.payload = [UInt8](repeating: 0, count: 3000) }  // sleeps 3 s

    // The call ends with DEADLINE_EXCEEDED, from the client's own timer or from the server's
    // status, whichever comes first; both sides know the deadline.
    await assertRPCError(.deadlineExceeded) {
      try await channel.unary(ControlService.sleep, request: request, metadata: [:], options: .init(timeout: .milliseconds(200))) {
        (response: ClientResponse<Echo_V1_EchoResponse>) in try response.message
      }
    }

    // The handler saw a deadline, and was cancelled when it passed.
    var observed = server.observations.snapshot
    for _ in 0..<100 where observed.cancellations == 0 {
      try await Task.sleep(for: .milliseconds(20))
      observed = server.observations.snapshot
    }
    XCTAssertEqual(observed.deadlines.count, 1)
    XCTAssertNotNil(observed.deadlines.first ?? nil, "the handler should see the call's deadline")
    XCTAssertEqual(observed.cancellations, 1, "the handler should be cancelled when the deadline passes")
    channel.close()
    await server.stop()
  }

  func testClientCancellationReachesServer() async throws {
    let server = try await TestServer.start(tls: useTLS, quic: useQUIC)
    let channel = try server.makeChannel()
    let request = Echo_V1_EchoRequest.with { $0.payload = [UInt8](repeating: 0, count: 10_000) }  // sleeps 10 s

    let call = Task {
      try await channel.unary(ControlService.sleep, request: request, metadata: [:], options: .defaults) {
        (response: ClientResponse<Echo_V1_EchoResponse>) in try response.message
      }
    }
    try await Task.sleep(for: .milliseconds(200))
    call.cancel()
    await assertRPCError(.cancelled) { try await call.value }

    var observed = server.observations.snapshot
    for _ in 0..<100 where observed.cancellations == 0 {
      try await Task.sleep(for: .milliseconds(20))
      observed = server.observations.snapshot
    }
    XCTAssertEqual(observed.cancellations, 1, "the server handler should see the cancellation")
    channel.close()
    await server.stop()
  }

  func testOversizedRequestIsResourceExhausted() async throws {
    let server = try await TestServer.start(tls: useTLS, quic: useQUIC)
    let channel = try server.makeChannel()
    let echo = Echo_V1_Echo.Client(channel: channel)

    let big = [UInt8](repeating: 1, count: 4 * 1024 * 1024 + 1)
    await assertRPCError(.resourceExhausted) { try await echo.get(.with { $0.payload = big }) }

    // Exactly at the limit minus framing overhead still works, and the connection is intact.
    let fits = [UInt8](repeating: 1, count: 4 * 1024 * 1024 - 16)
    let reply = try await echo.get(.with { $0.payload = fits })
    XCTAssertEqual(reply.payload.count, fits.count)
    channel.close()
    await server.stop()
  }

  func testOversizedResponseIsResourceExhausted() async throws {
    let server = try await TestServer.start(tls: useTLS, quic: useQUIC)
    let channel = try server.makeChannel()
    let echo = Echo_V1_Echo.Client(channel: channel)

    var options = CallOptions.defaults
    options.maxReceiveMessageBytes = 1024
    await assertRPCError(.resourceExhausted) {
      try await echo.get(.with { $0.payload = [UInt8](repeating: 2, count: 2048) }, options: options)
    }
    channel.close()
    await server.stop()
  }

  func testManyConcurrentCallsShareOneConnection() async throws {
    let server = try await TestServer.start(tls: useTLS, quic: useQUIC)
    let channel = try server.makeChannel()
    let echo = Echo_V1_Echo.Client(channel: channel)

    try await withThrowingTaskGroup(of: Void.self) { group in
      for index in 0..<300 {
        group.addTask {
          let reply = try await echo.get(.with { $0.text = "call \(index)" })
          XCTAssertEqual(reply.text, "call \(index)")
        }
      }
      for index in 0..<20 {
        group.addTask {
          _ = try await channel.unary(ControlService.peer, request: Echo_V1_EchoRequest(), metadata: [:], options: .defaults) {
            (response: ClientResponse<Echo_V1_EchoResponse>) in try response.message
          }
          _ = index
        }
      }
      try await group.waitForAll()
    }
    XCTAssertEqual(server.observations.snapshot.peers.count, 1, "all calls should use one connection")
    channel.close()
    await server.stop()
  }

  func testSlowClientBoundsServerBuffering() async throws {
    let server = try await TestServer.start(tls: useTLS, quic: useQUIC)
    let channel = try server.makeChannel()
    // 200 messages of 64 KiB = 12.5 MiB, far more than the flow-control windows.
    let request = Echo_V1_EchoRequest.with { $0.payload = [UInt8](repeating: 0, count: 200) }
    let responses: ResponseStream<Echo_V1_EchoResponse> = channel.serverStreaming(
      ControlService.flood, request: request, metadata: [:], options: .defaults)

    var consumed = 0
    var maximumAhead = 0
    for try await _ in responses {
      consumed += 1
      if consumed % 10 == 0 {
        try await Task.sleep(for: .milliseconds(30))
      }
      maximumAhead = max(maximumAhead, server.observations.snapshot.sent - consumed)
    }

    XCTAssertEqual(consumed, 200)
    // The stream window (1 MiB) plus the write buffers hold about 20 messages of 64 KiB.
    XCTAssertLessThan(maximumAhead, 60, "the server ran \(maximumAhead) messages ahead of a slow client")
    channel.close()
    await server.stop()
  }

  func testSlowServerBoundsClientBuffering() async throws {
    let server = try await TestServer.start(tls: useTLS, quic: useQUIC)
    let channel = try server.makeChannel()
    let chunk = [UInt8](repeating: 3, count: 64 * 1024)
    let sent = Mutex(0)
    let maximumAhead = Mutex(0)
    let observations = server.observations

    let reply: Echo_V1_EchoResponse = try await channel.clientStreaming(ControlService.drain, metadata: [:], options: .defaults) {
      (writer: RequestWriter<Echo_V1_EchoRequest>) in
      for _ in 0..<100 {
        try await writer.write(.with { $0.payload = chunk })
        let count = sent.withLock { $0 += 1; return $0 }
        let ahead = count - observations.snapshot.received
        maximumAhead.withLock { $0 = max($0, ahead) }
      }
    } onResponse: { response in try response.message }

    XCTAssertEqual(reply.text, "100")
    XCTAssertLessThan(maximumAhead.withLock { $0 }, 60, "the client ran too far ahead of a slow server")
    channel.close()
    await server.stop()
  }

  func testGracefulShutdownLetsRunningCallsFinish() async throws {
    let server = try await TestServer.start(tls: useTLS, quic: useQUIC)
    let channel = try server.makeChannel()
    let request = Echo_V1_EchoRequest.with { $0.payload = [UInt8](repeating: 0, count: 300) }  // sleeps 300 ms

    let call = Task {
      try await channel.unary(ControlService.sleep, request: request, metadata: [:], options: .defaults) {
        (response: ClientResponse<Echo_V1_EchoResponse>) in try response.message
      }
    }
    try await Task.sleep(for: .milliseconds(100))
    server.server.shutdown(gracePeriod: .seconds(5))

    let reply = try await call.value
    XCTAssertEqual(reply.text, "slept")
    _ = await server.task.result
    // New calls now fail: nothing listens any more.
    let late = try server.makeChannel()
    await assertRPCError(.unavailable) { try await Echo_V1_Echo.Client(channel: late).get(.with { $0.text = "late" }) }
    channel.close()
    late.close()
  }

  func testReconnectsAfterServerRestart() async throws {
    try XCTSkipIf(useTLS && !useQUIC, "the plaintext and QUIC runs cover reconnection")
    let first = try await TestServer.start(tls: useTLS, quic: useQUIC)
    var configuration = Channel.Configuration.defaults
    configuration.backoff = .init(initial: .milliseconds(50), multiplier: 1.6, maximum: .milliseconds(200), jitter: 0.1)
    let channel = try first.makeChannel(configuration: configuration)
    let echo = Echo_V1_Echo.Client(channel: channel)
    let firstReply = try await echo.get(.with { $0.text = "one" })
    XCTAssertEqual(firstReply.text, "one")
    await first.stop()

    await assertRPCError(.unavailable) { try await echo.get(.with { $0.text = "down" }) }

    // A new server on the same port: the channel reconnects after its backoff.
    let second = Server(
      services: [TestEchoService()],
      listening: .init(host: "127.0.0.1", port: first.port, transports: useQUIC ? [.quic] : [.tcp]),
      tls: first.certificate.map { .pem(certificateChain: $0.certificatePath, privateKey: $0.privateKeyPath) },
      configuration: TestServer.quietConfiguration()
    )
    let task = Task { try await second.run() }
    _ = try await second.listeningPort
    var reply: Echo_V1_EchoResponse?
    for _ in 0..<50 where reply == nil {
      reply = try? await echo.get(.with { $0.text = "two" }, options: .init(timeout: .seconds(1)))
      if reply == nil { try await Task.sleep(for: .milliseconds(50)) }
    }
    XCTAssertEqual(reply?.text, "two")
    channel.close()
    second.shutdown(gracePeriod: .seconds(1))
    _ = await task.result
  }
}

/// Server lifecycle rules that need no per-transport variant.
final class ServerLifecycleTests: XCTestCase {
  func testDuplicateMethodPathIsRejected() async throws {
    let server = Server(
      services: [TestEchoService(), TestEchoService()],
      listening: .init(host: "127.0.0.1", port: 0),
      configuration: TestServer.quietConfiguration()
    )
    do {
      try await server.run()
      XCTFail("run() accepted two services with the same method paths")
    } catch let error as ServerError {
      XCTAssertEqual(error.kind, .duplicateMethod)
      XCTAssertTrue(error.message.contains("/echo.v1.Echo/"), error.message)
    }
  }

  func testGracePeriodEndsOpenCalls() async throws {
    let server = try await TestServer.start(tls: false)
    let channel = try server.makeChannel()
    let echo = Echo_V1_Echo.Client(channel: channel)
    // A bidirectional call whose client never half-closes keeps the connection busy.
    let call = Task {
      var count = 0
      for try await _ in echo.update(metadata: [:], options: .defaults, requestProducer: { writer in
        try await writer.write(.with { $0.text = "first" })
        try await Task.sleep(for: .seconds(60))
      }) {
        count += 1
      }
      return count
    }
    try await Task.sleep(for: .milliseconds(200))

    server.server.shutdown(gracePeriod: .milliseconds(300))
    // run() must return once the grace period ends, without waiting for the client.
    let stopped = await withTaskGroup(of: Bool.self) { group in
      group.addTask {
        _ = await server.task.result
        return true
      }
      group.addTask {
        try? await Task.sleep(for: .seconds(20))
        return false
      }
      let first = await group.next() ?? false
      group.cancelAll()
      return first
    }
    XCTAssertTrue(stopped, "run() did not return after the grace period")
    call.cancel()
    _ = await call.result
    channel.close()
  }
}

/// The same calls over TLS 1.3 with ALPN h2 and a verified certificate.
final class TLSLoopbackTests: LoopbackTests {
  override var useTLS: Bool { true }

  func testWrongHostnameIsRejected() async throws {
    let server = try await TestServer.start(tls: true)
    let channel = try server.makeChannel(serverName: "wrong.example")
    let error = await assertRPCError(.unavailable) {
      try await Echo_V1_Echo.Client(channel: channel).get(.with { $0.text = "x" })
    }
    XCTAssertTrue(
      error?.message.lowercased().contains("host") ?? false,
      "the error should mention the host name mismatch: \(String(describing: error))"
    )
    channel.close()
    await server.stop()
  }

  func testUntrustedCertificateIsRejected() async throws {
    let server = try await TestServer.start(tls: true)
    let channel = try Channel(target: "127.0.0.1:\(server.port)", security: .tls(trust: .systemTrustStore, serverName: "localhost"))
    await assertRPCError(.unavailable) {
      try await Echo_V1_Echo.Client(channel: channel).get(.with { $0.text = "x" })
    }
    channel.close()
    await server.stop()
  }
}


/// The same calls over HTTP/3 on QUIC, each call on its own QUIC stream.
final class QUICLoopbackTests: LoopbackTests {
  override var useTLS: Bool { true }
  override var useQUIC: Bool { true }

  func testWrongHostnameIsRejected() async throws {
    let server = try await TestServer.start(tls: true, quic: true)
    let channel = try server.makeChannel(serverName: "wrong.example")
    let error = await assertRPCError(.unavailable) {
      try await Echo_V1_Echo.Client(channel: channel).get(.with { $0.text = "x" })
    }
    XCTAssertTrue(
      error?.message.contains("does not match") ?? false,
      "the error should mention the host name mismatch: \(String(describing: error))"
    )
    channel.close()
    await server.stop()
  }

  func testUntrustedCertificateIsRejected() async throws {
    let server = try await TestServer.start(tls: true, quic: true)
    let channel = try Channel(
      target: "127.0.0.1:\(server.port)", transport: .quic,
      security: .tls(trust: .systemTrustStore, serverName: "localhost"))
    let error = await assertRPCError(.unavailable) {
      try await Echo_V1_Echo.Client(channel: channel).get(.with { $0.text = "x" })
    }
    XCTAssertTrue(
      error?.message.contains("NOT trusted") ?? false, "the error should say the chain is not trusted: \(String(describing: error))")
    channel.close()
    await server.stop()
  }

  func testDeadlineCoversConnecting() async throws {
    // A UDP socket that never replies: the handshake cannot finish, so only the deadline ends the call.
    let silent = try SilentSocket(SOCK_DGRAM)
    defer { silent.close() }
    let port = silent.port
    let channel = try Channel(target: "127.0.0.1:\(port)", transport: .quic, security: .insecure)
    // Without the deadline ending the wait, the call would fail with UNAVAILABLE once the
    // handshake timed out.
    await assertRPCError(.deadlineExceeded) {
      try await Echo_V1_Echo.Client(channel: channel).get(.with { $0.text = "x" }, options: .init(timeout: .milliseconds(500)))
    }
    channel.close()
  }

  func testQUICWithoutTLSIsRejected() throws {
    XCTAssertThrowsError(try Channel(target: "127.0.0.1:1", transport: .quic, security: .plaintext)) { error in
      XCTAssertEqual((error as? ChannelError)?.kind, .transportUnavailable)
    }
  }
}
