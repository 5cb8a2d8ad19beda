/// A failed call: a gRPC status code other than ``StatusCode/ok``, a message and trailing metadata.
///
/// On the server, a handler that throws an `RPCError` ends its call with that code, message
/// and trailing metadata. Any other error thrown by a handler ends the call with
/// ``StatusCode/unknown`` and a generic message, so the error's description never reaches the peer.
/// On the client, every failed call throws an `RPCError`.
public struct RPCError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The status code of the failure.
  public var code: StatusCode
  /// A description for developers. The server sends it percent-encoded in `grpc-message`.
  public var message: String
  /// Trailing metadata sent or received with the status.
  public var metadata: Metadata

  /// Creates an error with `code`, `message` and trailing `metadata`.
  public init(code: StatusCode, message: String, metadata: Metadata = [:]) {
    self.code = code
    self.message = message
    self.metadata = metadata
  }

  public var description: String {
    if message.isEmpty { return "\(code)" }
    return "\(code): \(message)"
  }
}
