import TandemProtobuf

/// The handlers of a server, keyed by the method's `:path`.
///
/// Registering a second handler for the same path replaces the first.
public struct ServiceRouter: Sendable {
  var handlers: [String: ServerMethodHandler] = [:]
  var serviceNames: Set<String> = []

  /// Creates a router with no methods.
  public init() {}

  /// Creates a router with the methods of every service in `services`.
  public init(services: [any RPCService]) {
    for service in services { service.registerMethods(with: &self) }
  }

  /// The registered methods, in no particular order.
  public var methods: [MethodDescriptor] {
    handlers.values.map(\.method)
  }

  /// Registers a unary method: one request, one response.
  public mutating func registerUnary<Request: Message, Response: Message>(
    _ method: MethodDescriptor,
    handler: @escaping @Sendable (Request, ServerContext) async throws -> Response
  ) {
    add(method) { call, request throws in
      let decoded = try decodeMessage(Request.self, from: request ?? [])
      let response = try await handler(decoded, call.context)
      call.finish(status: nil, finalMessage: try encodeMessage(response))
    }
  }

  /// Registers a server-streaming method: one request, any number of responses.
  public mutating func registerServerStreaming<Request: Message, Response: Message>(
    _ method: MethodDescriptor,
    handler: @escaping @Sendable (Request, ResponseWriter<Response>, ServerContext) async throws -> Void
  ) {
    add(method) { call, request throws in
      let decoded = try decodeMessage(Request.self, from: request ?? [])
      try await handler(decoded, ResponseWriter(writeBytes: call.write), call.context)
    }
  }

  /// Registers a client-streaming method: any number of requests, one response.
  public mutating func registerClientStreaming<Request: Message, Response: Message>(
    _ method: MethodDescriptor,
    handler: @escaping @Sendable (RequestStream<Request>, ServerContext) async throws -> Response
  ) {
    add(method) { call, _ throws in
      let response = try await handler(RequestStream(nextBytes: call.nextRequest), call.context)
      call.finish(status: nil, finalMessage: try encodeMessage(response))
    }
  }

  /// Registers a bidirectional-streaming method: any number of requests and responses.
  public mutating func registerBidirectionalStreaming<Request: Message, Response: Message>(
    _ method: MethodDescriptor,
    handler: @escaping @Sendable (RequestStream<Request>, ResponseWriter<Response>, ServerContext) async throws -> Void
  ) {
    add(method) { call, _ throws in
      try await handler(RequestStream(nextBytes: call.nextRequest), ResponseWriter(writeBytes: call.write), call.context)
    }
  }

  private mutating func add(
    _ method: MethodDescriptor,
    run: @escaping @Sendable (ServerCall, [UInt8]?) async throws -> Void
  ) {
    handlers[method.path] = ServerMethodHandler(method: method, run: run)
    serviceNames.insert(method.service)
  }
}

/// A registered method with its type-erased handler. `run` receives the single request for
/// unary and server-streaming methods and `nil` for the others.
struct ServerMethodHandler: Sendable {
  let method: MethodDescriptor
  let run: @Sendable (ServerCall, [UInt8]?) async throws -> Void
}
