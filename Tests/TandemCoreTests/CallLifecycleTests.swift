import TandemCore
import TandemHTTP
import XCTest

/// Deadlines, cancellation, size limits, flow control and retries, end to end.
final class CallLifecycleTests: XCTestCase {
  /// A unary handler that waits until its call is cancelled and records what it saw.
  private func waitingRouter(
    cancelled: XCTestExpectation, sawCancelled: Box<Bool>, started: Box<Bool> = Box(false)
  ) -> ServiceRouter {
    var router = ServiceRouter()
    router.registerUnary(TestMethods.get) { (request: TestMessage, context: ServerContext) -> TestMessage in
      started.value = true
      do {
        try await Task.sleep(for: .seconds(60))
      } catch {
        sawCancelled.value = context.isCancelled
        cancelled.fulfill()
        throw error
      }
      return TestMessage("late")
    }
    return router
  }

  func testClientDeadlineExceeded() async throws {
    let cancelled = expectation(description: "handler cancelled")
    let sawCancelled = Box(false)
    let harness = Harness(router: waitingRouter(cancelled: cancelled, sawCancelled: sawCancelled))
    let error = await expectRPCError { _ = try await harness.get("x", options: CallOptions(timeout: .milliseconds(50))) }
    XCTAssertEqual(error?.code, .deadlineExceeded)
    await fulfillment(of: [cancelled], timeout: 10)
    XCTAssertTrue(sawCancelled.value)
  }

  private func deadlineRequestHeaders() -> [HTTPField] {
    [
      HTTPField(name: ":method", value: "POST"), HTTPField(name: ":scheme", value: "http"),
      HTTPField(name: ":path", value: TestMethods.get.path), HTTPField(name: ":authority", value: "x"),
      HTTPField(name: "grpc-timeout", value: "20m"), HTTPField(name: "content-type", value: "application/grpc"),
    ]
  }

  func testServerDeadlineCancelsHandler() async throws {
    let cancelled = expectation(description: "handler cancelled")
    let sawCancelled = Box(false)
    let harness = Harness(router: waitingRouter(cancelled: cancelled, sawCancelled: sawCancelled))
    let closed = expectation(description: "stream closed")
    let recorder = RecordingDelegate(closed: closed)
    let stream = harness.transport.openRawStream(
      requestHeaders: deadlineRequestHeaders(), endStream: false, delegate: recorder)
    stream.writeData(try GRPCMessageFramer.frame(TestMessage("x").serializedBytes()), endStream: true)
    await fulfillment(of: [closed, cancelled], timeout: 10)

    XCTAssertTrue(sawCancelled.value)
    XCTAssertEqual(recorder.firstHeaders?.first(named: "grpc-status"), "4")
    // The status ends the server's side. The stream is then either finished, because the
    // client had half-closed, or reset with NO_ERROR.
    let last = recorder.events.value.last
    XCTAssertTrue(last == .closed(.finished) || last == .closed(.resetByPeer(.noError)), "\(String(describing: last))")
  }

  func testServerDeadlineResetsOpenStream() async throws {
    let unused = XCTestExpectation(description: "handler cancelled")
    let harness = Harness(router: waitingRouter(cancelled: unused, sawCancelled: Box(false)))
    let closed = expectation(description: "stream closed")
    let recorder = RecordingDelegate(closed: closed)
    // The request stays open, so only the reset can end the stream.
    let stream = harness.transport.openRawStream(
      requestHeaders: deadlineRequestHeaders(), endStream: false, delegate: recorder)
    stream.writeData(try GRPCMessageFramer.frame(TestMessage("x").serializedBytes()), endStream: false)
    await fulfillment(of: [closed], timeout: 10)

    let events = recorder.events.value
    XCTAssertEqual(events.count, 2, "\(events)")
    XCTAssertEqual(recorder.firstHeaders?.first(named: "grpc-status"), "4")
    XCTAssertEqual(events.last, .closed(.resetByPeer(.noError)))
  }

  func testDeadlineWhileConnecting() async throws {
    struct HangingSource: HTTPConnectionSource {
      var authority: String { "unreachable:1" }
      var scheme: String { "http" }
      func connection(deadline: ContinuousClock.Instant?) async throws -> any HTTPClientConnection {
        try await Task.sleep(for: .seconds(60))
        throw RPCError(code: .unavailable, message: "not reached")
      }
      func connectionFailed(_ connection: any HTTPClientConnection) {}
    }
    let client = ClientCallExecutor(source: HangingSource())
    let error = await expectRPCError {
      _ = try await client.unary(
        TestMethods.get, request: TestMessage("x"), metadata: [:], options: CallOptions(timeout: .milliseconds(30))
      ) { (response: ClientResponse<TestMessage>) in try response.message }
    }
    XCTAssertEqual(error?.code, .deadlineExceeded)
  }

  func testUndecodableRequestIsInternal() async throws {
    var router = ServiceRouter()
    router.registerUnary(TestMethods.get) { (request: TestMessage, context: ServerContext) in request }
    let harness = Harness(router: router)
    let closed = expectation(description: "stream closed")
    let recorder = RecordingDelegate(closed: closed)
    let headers = [
      HTTPField(name: ":method", value: "POST"), HTTPField(name: ":scheme", value: "http"),
      HTTPField(name: ":path", value: TestMethods.get.path), HTTPField(name: ":authority", value: "x"),
      HTTPField(name: "content-type", value: "application/grpc"),
    ]
    let stream = harness.transport.openRawStream(requestHeaders: headers, endStream: false, delegate: recorder)
    // Field 1 declares 5 bytes of string but carries 1.
    stream.writeData(try GRPCMessageFramer.frame([0x0A, 0x05, 0x41]), endStream: true)
    await fulfillment(of: [closed], timeout: 10)
    let response = try XCTUnwrap(recorder.firstHeaders)
    XCTAssertEqual(response.first(named: "grpc-status"), "13")
    XCTAssertTrue(GRPCStatusMessage.decode(response.first(named: "grpc-message") ?? "").contains("tandem.test.TestMessage"))
  }

  func testServerContextDescribesCall() async throws {
    let seen = Box<(deadline: ContinuousClock.Instant?, method: MethodDescriptor?, peer: String, version: HTTPVersion?)>(
      (nil, nil, "", nil))
    var router = ServiceRouter()
    router.registerUnary(TestMethods.get) { (request: TestMessage, context: ServerContext) in
      seen.value = (context.deadline, context.method, context.remotePeer, context.transport)
      return request
    }
    let harness = Harness(router: router)
    let before = ContinuousClock.now
    _ = try await harness.get("x", options: CallOptions(timeout: .seconds(30)))
    let deadline = try XCTUnwrap(seen.value.deadline)
    XCTAssertGreaterThan(deadline, before)
    XCTAssertLessThanOrEqual(deadline, ContinuousClock.now.advanced(by: .seconds(30)))
    XCTAssertEqual(seen.value.method, TestMethods.get)
    XCTAssertEqual(seen.value.peer, "ipv4:127.0.0.1:40000")
    XCTAssertEqual(seen.value.version, .http2)
    _ = try await harness.get("y")
    XCTAssertNil(seen.value.deadline)
  }

  func testExpiredTimeoutFailsAtOnce() async throws {
    let harness = Harness(router: ServiceRouter())
    let error = await expectRPCError { _ = try await harness.get("x", options: CallOptions(timeout: .zero)) }
    XCTAssertEqual(error?.code, .deadlineExceeded)
    XCTAssertEqual(harness.transport.acceptedStreamCount, 0)
  }

  func testClientTaskCancellation() async throws {
    let cancelled = expectation(description: "handler cancelled")
    let sawCancelled = Box(false)
    let handlerStarted = Box(false)
    let harness = Harness(
      router: waitingRouter(cancelled: cancelled, sawCancelled: sawCancelled, started: handlerStarted))
    let task = Task { try await harness.get("x") }
    let started = await waitUntil { handlerStarted.value }
    XCTAssertTrue(started)
    task.cancel()
    let error = await expectRPCError { _ = try await task.value }
    XCTAssertEqual(error?.code, .cancelled)
    await fulfillment(of: [cancelled], timeout: 10)
    XCTAssertTrue(sawCancelled.value)
    let pair = try XCTUnwrap(harness.transport.allPairs.first)
    XCTAssertTrue(pair.isClosed)
  }

  func testCancellationReachesStreamingHandler() async throws {
    let outcome = Box<(readError: RPCError?, writeError: RPCError?, cancelled: Bool)>((nil, nil, false))
    let finished = expectation(description: "handler finished")
    var router = ServiceRouter()
    router.registerBidirectionalStreaming(TestMethods.update) {
      (requests: RequestStream<TestMessage>, responses: ResponseWriter<TestMessage>, context: ServerContext) in
      defer { finished.fulfill() }
      do {
        for try await request in requests { try await responses.write(request) }
      } catch let error as RPCError {
        outcome.update { $0.readError = error }
      }
      do {
        try await responses.write(TestMessage("after"))
      } catch let error as RPCError {
        outcome.update { $0.writeError = error }
      }
      outcome.update { $0.cancelled = context.isCancelled }
    }

    let harness = Harness(router: router)
    let stream: ResponseStream<TestMessage> = harness.client.bidirectionalStreaming(
      TestMethods.update, metadata: [:], options: .defaults
    ) { (writer: RequestWriter<TestMessage>) in
      try await writer.write(TestMessage("ping"))
      try await Task.sleep(for: .seconds(60))
    }
    let consumer = Task {
      for try await _ in stream {}
    }
    let echoed = await waitUntil { harness.transport.allPairs.first?.clientReceivedBytes ?? 0 > 0 }
    XCTAssertTrue(echoed)

    consumer.cancel()
    let error = await expectRPCError { try await consumer.value }
    XCTAssertEqual(error?.code, .cancelled)
    await fulfillment(of: [finished], timeout: 10)
    XCTAssertEqual(outcome.value.readError?.code, .cancelled)
    XCTAssertEqual(outcome.value.writeError?.code, .cancelled)
    XCTAssertTrue(outcome.value.cancelled)
  }

  func testBreakingOutOfResponsesCancelsCall() async throws {
    let writeError = Box<RPCError?>(nil)
    let finished = expectation(description: "handler finished")
    var router = ServiceRouter()
    router.registerServerStreaming(TestMethods.expand) {
      (request: TestMessage, responses: ResponseWriter<TestMessage>, context: ServerContext) in
      defer { finished.fulfill() }
      do {
        while true { try await responses.write(TestMessage("tick")) }
      } catch let error as RPCError {
        writeError.value = error
        throw error
      }
    }
    let harness = Harness(router: router)
    let stream: ResponseStream<TestMessage> = harness.client.serverStreaming(
      TestMethods.expand, request: TestMessage(""), metadata: [:], options: .defaults)
    var count = 0
    for try await _ in stream {
      count += 1
      if count == 3 { break }
    }
    XCTAssertEqual(count, 3)
    await fulfillment(of: [finished], timeout: 10)
    XCTAssertEqual(writeError.value?.code, .cancelled)
  }

  func testConnectionClosedIsUnavailable() async throws {
    let cancelled = expectation(description: "handler cancelled")
    let sawCancelled = Box(false)
    let handlerStarted = Box(false)
    let harness = Harness(
      router: waitingRouter(cancelled: cancelled, sawCancelled: sawCancelled, started: handlerStarted))
    let task = Task { try await harness.get("x") }
    let started = await waitUntil { handlerStarted.value }
    XCTAssertTrue(started)
    harness.transport.closeAllStreams(detail: "peer went away")
    let error = await expectRPCError { _ = try await task.value }
    XCTAssertEqual(error?.code, .unavailable)
    XCTAssertTrue(error?.message.contains("peer went away") ?? false)
    await fulfillment(of: [cancelled], timeout: 10)
  }

  // MARK: - Size limits

  func testRequestOverServerLimit() async throws {
    var router = ServiceRouter()
    router.registerUnary(TestMethods.get) { (request: TestMessage, context: ServerContext) in request }
    let limit = TestMessage("0123456789").encodedByteCount
    let harness = Harness(router: router, server: ServerCallConfiguration(maxReceiveMessageBytes: limit))
    let atLimit = try await harness.get("0123456789")
    XCTAssertEqual(atLimit.text, "0123456789")
    let error = await expectRPCError { _ = try await harness.get("0123456789A") }
    XCTAssertEqual(error?.code, .resourceExhausted)
    XCTAssertTrue(error?.message.contains("\(limit + 1) bytes") ?? false)
  }

  func testResponseOverClientLimit() async throws {
    var router = ServiceRouter()
    router.registerUnary(TestMethods.get) { (request: TestMessage, context: ServerContext) in
      TestMessage(String(repeating: "z", count: 20))
    }
    let harness = Harness(router: router)
    let size = TestMessage(String(repeating: "z", count: 20)).encodedByteCount
    let error = await expectRPCError {
      _ = try await harness.get("x", options: CallOptions(maxReceiveMessageBytes: size - 1))
    }
    XCTAssertEqual(error?.code, .resourceExhausted)
    let atLimit = try await harness.get("x", options: CallOptions(maxReceiveMessageBytes: size))
    XCTAssertEqual(atLimit.text.count, 20)
  }

  func testRequestOverClientSendLimit() async throws {
    let harness = Harness(router: ServiceRouter(), client: ClientCallConfiguration(maxSendMessageBytes: 4))
    let error = await expectRPCError { _ = try await harness.get("12345") }
    XCTAssertEqual(error?.code, .resourceExhausted)
    XCTAssertEqual(harness.transport.acceptedStreamCount, 0)
  }

  func testResponseOverServerSendLimit() async throws {
    var router = ServiceRouter()
    router.registerUnary(TestMethods.get) { (request: TestMessage, context: ServerContext) in request }
    let harness = Harness(router: router, server: ServerCallConfiguration(maxSendMessageBytes: 3))
    let error = await expectRPCError { _ = try await harness.get("1234") }
    XCTAssertEqual(error?.code, .resourceExhausted)
  }

  // MARK: - Flow control

  func testSlowHandlerReturnsCreditOnlyAsItReads() async throws {
    let messageSize = 8_192
    let framedSize = TestMessage(String(repeating: "m", count: messageSize)).encodedByteCount + 5
    let messageCount = 40
    let window = 65_536
    let violations = Box<[String]>([])
    let transportBox = Box<InMemoryTransport?>(nil)
    var router = ServiceRouter()
    router.registerClientStreaming(TestMethods.collect) {
      (requests: RequestStream<TestMessage>, context: ServerContext) -> TestMessage in
      let pair = transportBox.value!.allPairs.first!
      // Let the client fill the whole window before the handler reads anything.
      _ = await waitUntil { pair.serverReceivedBytes >= window }
      var taken = 0
      for try await request in requests {
        XCTAssertEqual(request.text.utf8.count, messageSize)
        taken += framedSize
        let consumed = pair.serverConsumedBytes
        let received = pair.serverReceivedBytes
        if consumed > taken + framedSize {
          violations.update { $0.append("consumed \(consumed) after taking \(taken)") }
        }
        if received - consumed > window {
          violations.update { $0.append("received \(received) with only \(consumed) consumed") }
        }
        await Task.yield()
      }
      return TestMessage("\(taken / framedSize)")
    }

    let harness = Harness(router: router, server: ServerCallConfiguration(maxBufferedInboundBytes: 0))
    transportBox.value = harness.transport
    let reply = try await harness.client.clientStreaming(
      TestMethods.collect, metadata: [:], options: .defaults,
      requestProducer: { (writer: RequestWriter<TestMessage>) in
        for _ in 0..<messageCount { try await writer.write(TestMessage(String(repeating: "m", count: messageSize))) }
      },
      onResponse: { (response: ClientResponse<TestMessage>) in try response.message })

    XCTAssertEqual(reply.text, "\(messageCount)")
    XCTAssertEqual(violations.value, [])
    let pair = try XCTUnwrap(harness.transport.allPairs.first)
    XCTAssertEqual(pair.serverConsumedBytes, messageCount * framedSize)
  }

  func testWritesWaitWhileConnecting() async throws {
    final class GatedSource: HTTPConnectionSource {
      let transport: InMemoryTransport
      private let gate = Box<(released: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

      init(transport: InMemoryTransport) {
        self.transport = transport
      }

      var authority: String { "localhost" }
      var scheme: String { "http" }

      func connection(deadline: ContinuousClock.Instant?) async throws -> any HTTPClientConnection {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
          let released = gate.update { gate -> Bool in
            if !gate.released { gate.waiters.append(continuation) }
            return gate.released
          }
          if released { continuation.resume() }
        }
        return transport.makeConnection()
      }

      func connectionFailed(_ connection: any HTTPClientConnection) {}

      func release() {
        let waiters = gate.update { gate in
          gate.released = true
          defer { gate.waiters = [] }
          return gate.waiters
        }
        for waiter in waiters { waiter.resume() }
      }
    }

    var router = ServiceRouter()
    router.registerClientStreaming(TestMethods.collect) {
      (requests: RequestStream<TestMessage>, context: ServerContext) in
      var count = 0
      for try await _ in requests { count += 1 }
      return TestMessage("\(count)")
    }
    let transport = InMemoryTransport(acceptor: ServerCallAcceptor(router: router))
    let source = GatedSource(transport: transport)
    let client = ClientCallExecutor(source: source)
    let written = Box(0)
    let call = Task {
      try await client.clientStreaming(
        TestMethods.collect, metadata: [:], options: .defaults,
        requestProducer: { (writer: RequestWriter<TestMessage>) in
          for _ in 0..<20 {
            try await writer.write(TestMessage(String(repeating: "w", count: 8_192)))
            written.update { $0 += 1 }
          }
        },
        onResponse: { (response: ClientResponse<TestMessage>) in try response.message })
    }

    // 8 messages of 8,200 framed bytes reach the 65,536-byte limit; the 9th write waits.
    let reachedLimit = await waitUntil { written.value >= 8 }
    XCTAssertTrue(reachedLimit)
    for _ in 0..<50 { try await Task.sleep(for: .milliseconds(1)) }
    XCTAssertEqual(written.value, 8)

    source.release()
    let reply = try await call.value
    XCTAssertEqual(reply.text, "20")
    XCTAssertEqual(written.value, 20)
  }

  // MARK: - Retries

  func testRefusedStreamIsRetriedOnce() async throws {
    var router = ServiceRouter()
    router.registerUnary(TestMethods.get) { (request: TestMessage, context: ServerContext) in request }
    let refusals: [InMemoryTransport.Refusal] = [.resetRefusedStream, .resetRefusedStreamBeforeReturn, .goAway, .openStreamThrows]
    for refusal in refusals {
      let harness = Harness(router: router)
      harness.transport.refuseNextStreams([refusal])
      let reply = try await harness.get("again")
      XCTAssertEqual(reply.text, "again", "after \(refusal)")
      XCTAssertEqual(harness.transport.acceptedStreamCount, 1)
      XCTAssertEqual(harness.source.failedConnectionCount, refusal == .openStreamThrows ? 1 : 0)
    }
  }

  func testRetryCanBeTurnedOff() async throws {
    let harness = Harness(router: ServiceRouter(), client: ClientCallConfiguration(retriesRefusedCalls: false))
    harness.transport.refuseNextStreams([.resetRefusedStream])
    let error = await expectRPCError { _ = try await harness.get("x") }
    XCTAssertEqual(error?.code, .unavailable)
    XCTAssertEqual(harness.transport.acceptedStreamCount, 0)
  }

  func testSecondRefusalFails() async throws {
    let harness = Harness(router: ServiceRouter())
    harness.transport.refuseNextStreams([.resetRefusedStream, .resetRefusedStream])
    let error = await expectRPCError { _ = try await harness.get("x") }
    XCTAssertEqual(error?.code, .unavailable)
  }

  func testRefusedStreamingCallResendsRequests() async throws {
    var router = ServiceRouter()
    router.registerClientStreaming(TestMethods.collect) {
      (requests: RequestStream<TestMessage>, context: ServerContext) in
      var words: [String] = []
      for try await request in requests { words.append(request.text) }
      return TestMessage(words.joined(separator: ","))
    }
    let harness = Harness(router: router)
    harness.transport.refuseNextStreams([.goAway])
    let reply = try await harness.client.clientStreaming(
      TestMethods.collect, metadata: [:], options: .defaults,
      requestProducer: { (writer: RequestWriter<TestMessage>) in
        for word in ["a", "b", "c"] { try await writer.write(TestMessage(word)) }
      },
      onResponse: { (response: ClientResponse<TestMessage>) in try response.message })
    XCTAssertEqual(reply.text, "a,b,c")
  }

  func testServerResetIsNotRetried() async throws {
    let harness = Harness(acceptor: ScriptedAcceptor(script: .reset(.internalError)))
    let error = await expectRPCError { _ = try await harness.get("x") }
    XCTAssertEqual(error?.code, .internalError)
    XCTAssertEqual(harness.transport.acceptedStreamCount, 1)
  }
}
