import TandemHTTP

/// The server side of the call layer: turns the streams a transport accepts into handler calls.
///
/// For every stream it validates the request headers, finds the handler by `:path` in the
/// ``ServiceRouter``, creates the ``ServerContext`` (its deadline from `grpc-timeout`) and
/// runs the handler in one task per call. Invalid requests get the response gRPC's HTTP/2
/// protocol specifies, and the other streams of the connection are unaffected:
/// - no `:method` or `:path`: the stream is reset with PROTOCOL_ERROR;
/// - a method other than POST: HTTP 405 with `grpc-status` INTERNAL;
/// - a content-type other than `application/grpc` or `application/grpc+proto`: HTTP 415 with
///   `grpc-status` INTERNAL;
/// - an invalid `grpc-timeout`: INTERNAL; a `grpc-encoding` other than `identity`: UNIMPLEMENTED;
/// - an unknown service or method: UNIMPLEMENTED with a message naming the path;
/// - a unary or server-streaming call with zero or several request messages: INTERNAL
///   ("expected one request message"), as grpc-java does.
///
/// Inbound messages wait in a per-call buffer. Flow-control credit goes back to the client
/// only while that buffer contains at most ``ServerCallConfiguration/maxBufferedInboundBytes``,
/// so memory per call stays bounded by that, the stream window and one partial message.
public final class ServerCallAcceptor: HTTPServerStreamAcceptor {
  private let router: ServiceRouter
  private let configuration: ServerCallConfiguration
  private let logger: (@Sendable (String) -> Void)?
  private let observer: (any CallObserver)?

  /// Creates an acceptor.
  ///
  /// - Parameters:
  ///   - router: the handlers to route to.
  ///   - configuration: size and buffer limits; see ``ServerCallConfiguration``.
  ///   - logger: receives one line for every handler error that the client does not see
  ///     in full (any error other than ``RPCError``) and for invalid response metadata.
  ///   - observer: receives the start and end of every call routed to a handler and of every
  ///     connection, for metrics. Default `nil`: none.
  // NOTE: `logger` is a stand-in until the project has its logging protocol.
  public init(
    router: ServiceRouter,
    configuration: ServerCallConfiguration = .defaults,
    logger: (@Sendable (String) -> Void)? = nil,
    observer: (any CallObserver)? = nil
  ) {
    self.router = router
    self.configuration = configuration
    self.logger = logger
    self.observer = observer
  }

  public func acceptStream(
    _ stream: any HTTPStream,
    requestHeaders: [HTTPField],
    endStream: Bool,
    connection: HTTPConnectionInfo
  ) -> any HTTPStreamDelegate {
    let head: ServerStreamStateMachine.RequestHead
    switch ServerStreamStateMachine.receiveRequestHeaders(requestHeaders) {
    case .accept(let accepted):
      head = accepted
    case .reject(let fields):
      stream.writeHeaders(fields, endStream: true)
      return RejectedStreamDelegate()
    case .reset(let code):
      stream.reset(code)
      return RejectedStreamDelegate()
    }

    guard let handler = router.handlers[head.path] else {
      stream.writeHeaders(unimplementedResponse(path: head.path), endStream: true)
      return RejectedStreamDelegate()
    }

    let deadline = head.timeout.map { ContinuousClock.now.advanced(by: $0) }
    let context = ServerContext(
      method: handler.method,
      deadline: deadline,
      requestMetadata: head.metadata,
      remotePeer: connection.remotePeer,
      localPeer: connection.localPeer,
      transport: connection.version)
    let call = ServerCall(
      stream: stream, context: context, handler: handler, configuration: configuration, logger: logger,
      observer: observer)
    observer?.callStarted(handler.method, over: connection.version)
    call.start(requestEnded: endStream)
    return call
  }

  public func connectionOpened(_ connection: HTTPConnectionInfo) {
    observer?.connectionOpened(over: connection.version)
  }

  public func connectionClosed(_ connection: HTTPConnectionInfo) {
    observer?.connectionClosed(over: connection.version)
  }

  private func unimplementedResponse(path: String) -> [HTTPField] {
    let message: String
    let parts = path.split(separator: "/", omittingEmptySubsequences: false)
    if parts.count == 3, parts[0].isEmpty, !parts[1].isEmpty, !parts[2].isEmpty {
      if router.serviceNames.contains(String(parts[1])) {
        message = "Method not found: \(path): service \(parts[1]) has no method \(parts[2])"
      } else {
        message = "Method not found: \(path): unknown service \(parts[1])"
      }
    } else {
      message = "Method not found: \(path): the path is not /service/method"
    }
    return ServerStreamStateMachine.errorResponse(
      httpStatus: "200", status: RPCError(code: .unimplemented, message: message))
  }
}

/// The delegate of a stream that received its final response or a reset at once. It returns the credit of
/// any DATA that still arrives, so the connection's window does not shrink.
final class RejectedStreamDelegate: HTTPStreamDelegate {
  func stream(_ stream: any HTTPStream, didReceiveHeaders fields: [HTTPField], endStream: Bool) {}

  func stream(_ stream: any HTTPStream, didReceiveData bytes: [UInt8], endStream: Bool) {
    stream.consume(bytes.count)
  }

  func stream(_ stream: any HTTPStream, didReceiveTrailers fields: [HTTPField]) {}

  func streamDidBecomeWritable(_ stream: any HTTPStream) {}

  func stream(_ stream: any HTTPStream, didCloseWith reason: HTTPStreamCloseReason) {}
}
