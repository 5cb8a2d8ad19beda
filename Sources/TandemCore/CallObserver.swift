import TandemHTTP

/// Receives the start and the end of each call, and on a server of each connection, for
/// metrics.
///
/// A client's ``ClientCallExecutor`` and a server's ``ServerCallAcceptor`` call it from the
/// threads that run the calls, so implementations must be thread-safe and quick. A server
/// reports only the calls routed to a handler, not the requests it rejects before routing
/// (an unknown method, invalid headers).
public protocol CallObserver: Sendable {
  /// Reports that a call of `method` got its stream on a connection of `version`. A call that
  /// never gets a stream (no connection, or cancelled before) reports only
  /// ``callFinished(_:over:status:duration:sentBytes:receivedBytes:)``.
  func callStarted(_ method: MethodDescriptor, over version: HTTPVersion)

  /// Reports that a call of `method` ended with `status` after `duration`, having sent and
  /// received the given numbers of gRPC message bytes (5-byte frame prefixes included).
  /// `version` is `nil` when the call never got a stream. On a server, `status` is the status
  /// sent to the client, or `CANCELLED` when the client reset the stream first.
  func callFinished(
    _ method: MethodDescriptor, over version: HTTPVersion?, status: StatusCode, duration: Duration, sentBytes: Int,
    receivedBytes: Int)

  /// Reports, on a server, that a connection of `version` can carry calls: after its TLS or
  /// QUIC handshake. The default does nothing.
  func connectionOpened(over version: HTTPVersion)

  /// Reports, on a server, that a connection reported by ``connectionOpened(over:)`` closed.
  /// The default does nothing.
  func connectionClosed(over version: HTTPVersion)
}

extension CallObserver {
  public func connectionOpened(over version: HTTPVersion) {}
  public func connectionClosed(over version: HTTPVersion) {}
}
