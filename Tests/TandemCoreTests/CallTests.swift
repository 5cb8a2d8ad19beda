import TandemCore
import TandemHTTP
import XCTest

/// End-to-end calls through the acceptor, the executor and the in-memory transport.
final class CallTests: XCTestCase {
  private func echoRouter() -> ServiceRouter {
    var router = ServiceRouter()
    router.registerUnary(TestMethods.get) { (request: TestMessage, context: ServerContext) in
      TestMessage("echo: \(request.text)")
    }
    router.registerServerStreaming(TestMethods.expand) {
      (request: TestMessage, responses: ResponseWriter<TestMessage>, context: ServerContext) in
      for word in request.text.split(separator: " ") {
        try await responses.write(TestMessage(String(word)))
      }
    }
    router.registerClientStreaming(TestMethods.collect) {
      (requests: RequestStream<TestMessage>, context: ServerContext) in
      var words: [String] = []
      for try await request in requests { words.append(request.text) }
      return TestMessage(words.joined(separator: " "))
    }
    router.registerBidirectionalStreaming(TestMethods.update) {
      (requests: RequestStream<TestMessage>, responses: ResponseWriter<TestMessage>, context: ServerContext) in
      for try await request in requests {
        try await responses.write(TestMessage(request.text.uppercased()))
      }
    }
    return router
  }

  func testUnary() async throws {
    let harness = Harness(router: echoRouter())
    let reply = try await harness.get("hello")
    XCTAssertEqual(reply.text, "echo: hello")
  }

  func testServerStreaming() async throws {
    let harness = Harness(router: echoRouter())
    let stream: ResponseStream<TestMessage> = harness.client.serverStreaming(
      TestMethods.expand, request: TestMessage("a b c"), metadata: [:], options: .defaults)
    var words: [String] = []
    for try await reply in stream { words.append(reply.text) }
    XCTAssertEqual(words, ["a", "b", "c"])
  }

  func testServerStreamingWithNoResponses() async throws {
    let harness = Harness(router: echoRouter())
    let stream: ResponseStream<TestMessage> = harness.client.serverStreaming(
      TestMethods.expand, request: TestMessage(""), metadata: [:], options: .defaults)
    var count = 0
    for try await _ in stream { count += 1 }
    XCTAssertEqual(count, 0)
    let initial = try await stream.initialMetadata
    XCTAssertEqual(initial, [:])
  }

  func testClientStreaming() async throws {
    let harness = Harness(router: echoRouter())
    let reply = try await harness.client.clientStreaming(
      TestMethods.collect, metadata: [:], options: .defaults,
      requestProducer: { (writer: RequestWriter<TestMessage>) in
        for word in ["x", "y", "z"] { try await writer.write(TestMessage(word)) }
      },
      onResponse: { (response: ClientResponse<TestMessage>) in try response.message })
    XCTAssertEqual(reply.text, "x y z")
  }

  func testClientStreamingWithNoRequests() async throws {
    let harness = Harness(router: echoRouter())
    let reply = try await harness.client.clientStreaming(
      TestMethods.collect, metadata: [:], options: .defaults,
      requestProducer: { (_: RequestWriter<TestMessage>) in },
      onResponse: { (response: ClientResponse<TestMessage>) in try response.message })
    XCTAssertEqual(reply.text, "")
  }

  func testBidirectionalStreaming() async throws {
    let harness = Harness(router: echoRouter())
    let stream: ResponseStream<TestMessage> = harness.client.bidirectionalStreaming(
      TestMethods.update, metadata: [:], options: .defaults
    ) { (writer: RequestWriter<TestMessage>) in
      for word in ["one", "two", "three"] { try await writer.write(TestMessage(word)) }
    }
    var replies: [String] = []
    for try await reply in stream { replies.append(reply.text) }
    XCTAssertEqual(replies, ["ONE", "TWO", "THREE"])
  }

  func testMetadataBothWays() async throws {
    var router = ServiceRouter()
    let seen = Box<Metadata>([:])
    router.registerUnary(TestMethods.get) { (request: TestMessage, context: ServerContext) in
      seen.value = context.requestMetadata
      var initial: Metadata = ["x-initial": "i"]
      initial.addBinary([0, 1, 2, 255], forKey: "initial-bin")
      context.initialResponseMetadata = initial
      context.trailingResponseMetadata = ["x-trailing": "t"]
      return TestMessage("ok")
    }
    let harness = Harness(router: router)
    var metadata: Metadata = ["x-request": "r", "x-repeat": "1"]
    metadata.addString("2", forKey: "x-repeat")
    metadata.addBinary([9, 8, 7], forKey: "request-bin")
    let response = try await harness.client.unary(
      TestMethods.get, request: TestMessage("hi"), metadata: metadata, options: .defaults
    ) { (response: ClientResponse<TestMessage>) in response }

    XCTAssertEqual(try response.message.text, "ok")
    XCTAssertEqual(response.initialMetadata[stringValues: "x-initial"], ["i"])
    XCTAssertEqual(response.initialMetadata[binaryValues: "initial-bin"], [[0, 1, 2, 255]])
    XCTAssertEqual(response.trailingMetadata[stringValues: "x-trailing"], ["t"])
    XCTAssertEqual(seen.value[stringValues: "x-request"], ["r"])
    XCTAssertEqual(seen.value[stringValues: "x-repeat"], ["1", "2"])
    XCTAssertEqual(seen.value[binaryValues: "request-bin"], [[9, 8, 7]])
    XCTAssertEqual(seen.value[stringValues: "user-agent"], ["tandem-swift/0.1"])
  }

  func testStreamingMetadata() async throws {
    var router = ServiceRouter()
    router.registerServerStreaming(TestMethods.expand) {
      (request: TestMessage, responses: ResponseWriter<TestMessage>, context: ServerContext) in
      context.initialResponseMetadata = ["x-initial": "i"]
      try await responses.write(TestMessage("m"))
      context.trailingResponseMetadata = ["x-trailing": "t"]
    }
    let harness = Harness(router: router)
    let stream: ResponseStream<TestMessage> = harness.client.serverStreaming(
      TestMethods.expand, request: TestMessage(""), metadata: [:], options: .defaults)
    let initial = try await stream.initialMetadata
    XCTAssertEqual(initial[stringValues: "x-initial"], ["i"])
    var count = 0
    for try await _ in stream { count += 1 }
    XCTAssertEqual(count, 1)
    let trailing = try await stream.trailingMetadata
    XCTAssertEqual(trailing[stringValues: "x-trailing"], ["t"])
  }

  func testHandlerRPCErrorReachesClient() async throws {
    var router = ServiceRouter()
    router.registerUnary(TestMethods.get) { (request: TestMessage, context: ServerContext) -> TestMessage in
      context.trailingResponseMetadata = ["x-context": "c"]
      throw RPCError(code: .notFound, message: "no such thing: 100%", metadata: ["x-why": "gone"])
    }
    let harness = Harness(router: router)
    let response = try await harness.client.unary(
      TestMethods.get, request: TestMessage("hi"), metadata: [:], options: .defaults
    ) { (response: ClientResponse<TestMessage>) in response }
    guard case .failure(let error) = response.result else { return XCTFail("call succeeded") }
    XCTAssertEqual(error.code, .notFound)
    XCTAssertEqual(error.message, "no such thing: 100%")
    XCTAssertEqual(error.metadata[stringValues: "x-why"], ["gone"])
    XCTAssertEqual(error.metadata[stringValues: "x-context"], ["c"])
    XCTAssertEqual(response.trailingMetadata[stringValues: "x-why"], ["gone"])
  }

  func testOtherHandlerErrorIsUnknownWithoutDetails() async throws {
    struct SecretError: Error, CustomStringConvertible {
      var description: String { "database password is hunter2" }
    }
    var router = ServiceRouter()
    router.registerUnary(TestMethods.get) { (request: TestMessage, context: ServerContext) -> TestMessage in
      throw SecretError()
    }
    let logged = Box<[String]>([])
    let harness = Harness(router: router, logger: { line in logged.update { $0.append(line) } })
    let error = await expectRPCError { _ = try await harness.get("hi") }
    XCTAssertEqual(error?.code, .unknown)
    XCTAssertFalse(error?.message.contains("hunter2") ?? true)
    XCTAssertEqual(logged.value.count, 1)
    XCTAssertTrue(logged.value.first?.contains("hunter2") ?? false)
  }

  func testErrorAfterMessagesArrivesInTrailers() async throws {
    var router = ServiceRouter()
    router.registerServerStreaming(TestMethods.expand) {
      (request: TestMessage, responses: ResponseWriter<TestMessage>, context: ServerContext) in
      try await responses.write(TestMessage("first"))
      throw RPCError(code: .aborted, message: "stopped")
    }
    let harness = Harness(router: router)
    let stream: ResponseStream<TestMessage> = harness.client.serverStreaming(
      TestMethods.expand, request: TestMessage(""), metadata: [:], options: .defaults)
    var received: [String] = []
    let error = await expectRPCError {
      for try await reply in stream { received.append(reply.text) }
    }
    XCTAssertEqual(received, ["first"])
    XCTAssertEqual(error?.code, .aborted)
    XCTAssertEqual(error?.message, "stopped")
  }

  func testUnknownMethodIsUnimplemented() async throws {
    let harness = Harness(router: echoRouter())
    let missing = MethodDescriptor(service: "test.Echo", method: "Missing", kind: .unary)
    let error = await expectRPCError {
      _ = try await harness.client.unary(missing, request: TestMessage("x"), metadata: [:], options: .defaults) {
        (response: ClientResponse<TestMessage>) in try response.message
      }
    }
    XCTAssertEqual(error?.code, .unimplemented)
    XCTAssertTrue(error?.message.contains("/test.Echo/Missing") ?? false)
  }

  func testUnknownServiceIsUnimplemented() async throws {
    let harness = Harness(router: echoRouter())
    let missing = MethodDescriptor(service: "other.Service", method: "Get", kind: .serverStreaming)
    let stream: ResponseStream<TestMessage> = harness.client.serverStreaming(
      missing, request: TestMessage("x"), metadata: [:], options: .defaults)
    let error = await expectRPCError { for try await _ in stream {} }
    XCTAssertEqual(error?.code, .unimplemented)
    XCTAssertTrue(error?.message.contains("unknown service other.Service") ?? false)
  }

  func testInvalidRequestMetadataFailsBeforeSending() async throws {
    let harness = Harness(router: echoRouter())
    let error = await expectRPCError { _ = try await harness.get("x", metadata: ["Bad Key": "v"]) }
    XCTAssertEqual(error?.code, .internalError)
    XCTAssertTrue(error?.message.contains("bad key") ?? false)
    XCTAssertEqual(harness.transport.acceptedStreamCount, 0)
  }

  func testInvalidResponseMetadataIsInternal() async throws {
    var router = ServiceRouter()
    router.registerUnary(TestMethods.get) { (request: TestMessage, context: ServerContext) in
      context.trailingResponseMetadata = ["grpc-status": "0"]
      return TestMessage("never sent")
    }
    let harness = Harness(router: router)
    let error = await expectRPCError { _ = try await harness.get("x") }
    XCTAssertEqual(error?.code, .internalError)
    XCTAssertTrue(error?.message.contains("grpc-status") ?? false)
  }

  func testManyConcurrentCalls() async throws {
    let harness = Harness(router: echoRouter())
    try await withThrowingTaskGroup(of: (Int, String).self) { group in
      for index in 0..<300 {
        group.addTask { (index, try await harness.get("\(index)").text) }
      }
      var seen = 0
      for try await (index, text) in group {
        XCTAssertEqual(text, "echo: \(index)")
        seen += 1
      }
      XCTAssertEqual(seen, 300)
    }
    XCTAssertEqual(harness.transport.acceptedStreamCount, 300)
  }

  func testLargeMessagesBothWays() async throws {
    let harness = Harness(router: echoRouter())
    let text = String(repeating: "abcdefgh", count: 200_000)
    let reply = try await harness.get(text)
    XCTAssertEqual(reply.text, "echo: " + text)
  }

  func testServerWritesSuspendUntilClientReads() async throws {
    var router = ServiceRouter()
    router.registerServerStreaming(TestMethods.expand) {
      (request: TestMessage, responses: ResponseWriter<TestMessage>, context: ServerContext) in
      for index in 0..<200 {
        try await responses.write(TestMessage("\(index):" + String(repeating: "x", count: 16_000)))
      }
    }
    let harness = Harness(router: router)
    let stream: ResponseStream<TestMessage> = harness.client.serverStreaming(
      TestMethods.expand, request: TestMessage(""), metadata: [:], options: .defaults)
    var index = 0
    for try await reply in stream {
      XCTAssertTrue(reply.text.hasPrefix("\(index):"))
      index += 1
      if index % 20 == 0 { await Task.yield() }
    }
    XCTAssertEqual(index, 200)
  }
}
