import EchoProtos
import Synchronization
import Tandem

/// The Echo service as the example implements it, for loopback tests.
struct TestEchoService: Echo_V1_Echo.Service {
  func get(_ request: Echo_V1_EchoRequest, context: ServerContext) async throws -> Echo_V1_EchoResponse {
    echoMetadata(context)
    return .with {
      $0.text = request.text
      $0.payload = request.payload
    }
  }

  func expand(
    _ request: Echo_V1_EchoRequest,
    responses: ResponseWriter<Echo_V1_EchoResponse>,
    context: ServerContext
  ) async throws {
    echoMetadata(context)
    for word in request.text.split(separator: " ") {
      try await responses.write(.with { $0.text = String(word) })
    }
  }

  func collect(_ requests: RequestStream<Echo_V1_EchoRequest>, context: ServerContext) async throws -> Echo_V1_EchoResponse {
    echoMetadata(context)
    var texts: [String] = []
    for try await request in requests {
      texts.append(request.text)
    }
    return .with { $0.text = texts.joined(separator: " ") }
  }

  func update(
    _ requests: RequestStream<Echo_V1_EchoRequest>,
    responses: ResponseWriter<Echo_V1_EchoResponse>,
    context: ServerContext
  ) async throws {
    echoMetadata(context)
    for try await request in requests {
      try await responses.write(.with { $0.text = request.text; $0.payload = request.payload })
    }
  }

  private func echoMetadata(_ context: ServerContext) {
    var echoed = Metadata()
    for (key, value) in context.requestMetadata where key.hasPrefix("x-echo-") {
      switch value {
      case .string(let text): echoed.addString(text, forKey: key)
      case .binary(let bytes): echoed.addBinary(bytes, forKey: key)
      }
    }
    context.initialResponseMetadata = echoed
    context.trailingResponseMetadata = echoed
  }
}

/// What the control service's handlers observed, shared with the test.
final class Observations: Sendable {
  private let state = Mutex(State())

  struct State {
    var deadlines: [ContinuousClock.Instant?] = []
    var cancellations = 0
    var handlerErrors: [String] = []
    var sent = 0
    var received = 0
    var peers: Set<String> = []
  }

  @discardableResult
  func update<T: Sendable>(_ body: (inout State) -> T) -> T { state.withLock { body(&$0) } }
  var snapshot: State { state.withLock { $0 } }
}

/// A hand-registered service for deadlines, cancellation, errors and flow control.
///
/// - `test.Control/Sleep` (unary): sleeps for `payload.count` milliseconds, then returns "slept".
/// - `test.Control/Fail` (unary): throws `RPCError` with the code in `text` when it is a number,
///   or a plain Swift error otherwise.
/// - `test.Control/Flood` (server streaming): writes `payload.count` messages of 64 KiB,
///   counting how many were written.
/// - `test.Control/Drain` (client streaming): reads slowly, one message per 20 ms.
/// - `test.Control/Peer` (unary): records the peer address.
/// - `test.Control/Transport` (unary): returns the HTTP version the call came in on.
struct ControlService: RPCService {
  static let service = "test.Control"
  static let sleep = MethodDescriptor(service: service, method: "Sleep", kind: .unary)
  static let fail = MethodDescriptor(service: service, method: "Fail", kind: .unary)
  static let flood = MethodDescriptor(service: service, method: "Flood", kind: .serverStreaming)
  static let drain = MethodDescriptor(service: service, method: "Drain", kind: .clientStreaming)
  static let peer = MethodDescriptor(service: service, method: "Peer", kind: .unary)
  static let transport = MethodDescriptor(service: service, method: "Transport", kind: .unary)

  struct PlainError: Error, CustomStringConvertible {
    var description: String { "secret internal detail" }
  }

  let observations: Observations

  func registerMethods(with router: inout ServiceRouter) {
    let observations = self.observations
    router.registerUnary(Self.sleep) { (request: Echo_V1_EchoRequest, context: ServerContext) -> Echo_V1_EchoResponse in
      observations.update { $0.deadlines.append(context.deadline) }
      do {
        try await Task.sleep(for: .milliseconds(request.payload.count))
      } catch {
        observations.update { $0.cancellations += 1 }
        throw error
      }
      if context.isCancelled {
        observations.update { $0.cancellations += 1 }
      }
      return .with { $0.text = "slept" }
    }
    router.registerUnary(Self.fail) { (request: Echo_V1_EchoRequest, _: ServerContext) -> Echo_V1_EchoResponse in
      if let number = Int(request.text), let code = StatusCode(rawValue: number) {
        var trailers = Metadata()
        trailers.addString("detail", forKey: "x-failure")
        throw RPCError(code: code, message: "failed on purpose: 100% sure", metadata: trailers)
      }
      throw PlainError()
    }
    router.registerServerStreaming(Self.flood) {
      (request: Echo_V1_EchoRequest, writer: ResponseWriter<Echo_V1_EchoResponse>, _: ServerContext) in
      let chunk = [UInt8](repeating: 7, count: 64 * 1024)
      do {
        for _ in 0..<request.payload.count {
          try await writer.write(.with { $0.payload = chunk })
          observations.update { $0.sent += 1 }
        }
      } catch {
        observations.update { $0.cancellations += 1 }
        throw error
      }
    }
    router.registerClientStreaming(Self.drain) {
      (requests: RequestStream<Echo_V1_EchoRequest>, _: ServerContext) -> Echo_V1_EchoResponse in
      var count = 0
      for try await _ in requests {
        count += 1
        observations.update { $0.received += 1 }
        try await Task.sleep(for: .milliseconds(20))
      }
      return .with { $0.text = String(count) }
    }
    router.registerUnary(Self.peer) { (_: Echo_V1_EchoRequest, context: ServerContext) -> Echo_V1_EchoResponse in
      observations.update { $0.peers.insert(context.remotePeer) }
      return .with { $0.text = context.remotePeer }
    }
    router.registerUnary(Self.transport) { (_: Echo_V1_EchoRequest, context: ServerContext) -> Echo_V1_EchoResponse in
      .with { $0.text = "\(context.transport)" }
    }
  }
}
