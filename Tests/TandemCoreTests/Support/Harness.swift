import Synchronization
import TandemCore
import TandemHTTP
import XCTest

enum TestMethods {
  static let get = MethodDescriptor(service: "test.Echo", method: "Get", kind: .unary)
  static let expand = MethodDescriptor(service: "test.Echo", method: "Expand", kind: .serverStreaming)
  static let collect = MethodDescriptor(service: "test.Echo", method: "Collect", kind: .clientStreaming)
  static let update = MethodDescriptor(service: "test.Echo", method: "Update", kind: .bidirectionalStreaming)
}

/// A server acceptor and a client executor joined by an in-memory transport.
struct Harness {
  let transport: InMemoryTransport
  let source: InMemoryConnectionSource
  let client: ClientCallExecutor

  init(
    router: ServiceRouter,
    server: ServerCallConfiguration = .defaults,
    client: ClientCallConfiguration = .defaults,
    transportOptions: InMemoryTransport.Options = .init(),
    logger: (@Sendable (String) -> Void)? = nil
  ) {
    let acceptor = ServerCallAcceptor(router: router, configuration: server, logger: logger)
    transport = InMemoryTransport(acceptor: acceptor, options: transportOptions)
    source = InMemoryConnectionSource(transport: transport)
    self.client = ClientCallExecutor(source: source, configuration: client)
  }

  init(acceptor: any HTTPServerStreamAcceptor, client: ClientCallConfiguration = .defaults) {
    transport = InMemoryTransport(acceptor: acceptor)
    source = InMemoryConnectionSource(transport: transport)
    self.client = ClientCallExecutor(source: source, configuration: client)
  }

  func get(_ text: String, metadata: Metadata = [:], options: CallOptions = .defaults) async throws -> TestMessage {
    try await client.unary(TestMethods.get, request: TestMessage(text), metadata: metadata, options: options) {
      (response: ClientResponse<TestMessage>) in try response.message
    }
  }
}

/// A value shared between a handler and a test.
final class Box<Value: Sendable>: Sendable {
  private let storage: Mutex<Value>

  init(_ value: Value) {
    storage = Mutex(value)
  }

  var value: Value {
    get { storage.withLock { $0 } }
    set { storage.withLock { $0 = newValue } }
  }

  func update<R>(_ body: (inout Value) -> R) -> R {
    storage.withLock { body(&$0) }
  }
}

/// Records the events of a raw stream.
final class RecordingDelegate: HTTPStreamDelegate {
  enum Event: Equatable {
    case headers([HTTPField], endStream: Bool)
    case data([UInt8], endStream: Bool)
    case trailers([HTTPField])
    case closed(HTTPStreamCloseReason)
  }

  let events = Box<[Event]>([])
  let closed: XCTestExpectation

  init(closed: XCTestExpectation) {
    self.closed = closed
  }

  func stream(_ stream: any HTTPStream, didReceiveHeaders fields: [HTTPField], endStream: Bool) {
    events.update { $0.append(.headers(fields, endStream: endStream)) }
  }

  func stream(_ stream: any HTTPStream, didReceiveData bytes: [UInt8], endStream: Bool) {
    stream.consume(bytes.count)
    events.update { $0.append(.data(bytes, endStream: endStream)) }
  }

  func stream(_ stream: any HTTPStream, didReceiveTrailers fields: [HTTPField]) {
    events.update { $0.append(.trailers(fields)) }
  }

  func streamDidBecomeWritable(_ stream: any HTTPStream) {}

  func stream(_ stream: any HTTPStream, didCloseWith reason: HTTPStreamCloseReason) {
    events.update { $0.append(.closed(reason)) }
    closed.fulfill()
  }

  /// The fields of the first headers event.
  var firstHeaders: [HTTPField]? {
    for event in events.value {
      if case .headers(let fields, _) = event { return fields }
    }
    return nil
  }
}

/// An acceptor that responds to every stream with fixed headers, or resets it.
struct ScriptedAcceptor: HTTPServerStreamAcceptor {
  enum Script: Sendable {
    case respond([HTTPField], endStream: Bool)
    /// Response headers, body bytes, then trailers.
    case respondWithBody([HTTPField], body: [UInt8], trailers: [HTTPField])
    case reset(HTTPStreamErrorCode)
  }

  let script: Script

  func acceptStream(
    _ stream: any HTTPStream, requestHeaders: [HTTPField], endStream: Bool, connection: HTTPConnectionInfo
  ) -> any HTTPStreamDelegate {
    switch script {
    case .respond(let fields, let end): stream.writeHeaders(fields, endStream: end)
    case .respondWithBody(let fields, let body, let trailers):
      stream.writeHeaders(fields, endStream: false)
      stream.writeData(body, endStream: false)
      stream.writeTrailers(trailers)
    case .reset(let code): stream.reset(code)
    }
    return DiscardingDelegate()
  }
}

final class DiscardingDelegate: HTTPStreamDelegate {
  func stream(_ stream: any HTTPStream, didReceiveHeaders fields: [HTTPField], endStream: Bool) {}
  func stream(_ stream: any HTTPStream, didReceiveData bytes: [UInt8], endStream: Bool) { stream.consume(bytes.count) }
  func stream(_ stream: any HTTPStream, didReceiveTrailers fields: [HTTPField]) {}
  func streamDidBecomeWritable(_ stream: any HTTPStream) {}
  func stream(_ stream: any HTTPStream, didCloseWith reason: HTTPStreamCloseReason) {}
}

/// Waits until `condition` holds, checking after each scheduler turn, for at most `limit` checks.
func waitUntil(_ limit: Int = 20_000, _ condition: () -> Bool) async -> Bool {
  for _ in 0..<limit {
    if condition() { return true }
    try? await Task.sleep(for: .milliseconds(1))
  }
  return condition()
}

/// Runs `body` and returns the RPCError it throws, failing the test when it throws none.
func expectRPCError(
  _ body: () async throws -> Void, file: StaticString = #filePath, line: UInt = #line
) async -> RPCError? {
  do {
    try await body()
    XCTFail("expected an RPCError", file: file, line: line)
    return nil
  } catch let error as RPCError {
    return error
  } catch {
    XCTFail("expected an RPCError, got \(error)", file: file, line: line)
    return nil
  }
}
