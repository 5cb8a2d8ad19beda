import TandemHTTP

/// Receives the start and the end of each call, for metrics.
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
}
