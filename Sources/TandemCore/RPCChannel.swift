import TandemProtobuf

/// The entry points that generated clients call to run RPCs. ``ClientCallExecutor``
/// implements them, and `Tandem.Channel` forwards to one.
///
/// Every failure reaches the caller as an ``RPCError``: single-response calls pass a failed
/// ``ClientResponse`` to `onResponse`, whose ``ClientResponse/message`` throws it, and
/// ``ResponseStream`` throws it from iteration.
public protocol RPCChannel: Sendable {
  /// Runs a unary call and passes its response to `onResponse`, returning what that returns.
  func unary<Request: Message, Response: Message, Result: Sendable>(
    _ method: MethodDescriptor,
    request: Request,
    metadata: Metadata,
    options: CallOptions,
    onResponse: @escaping @Sendable (ClientResponse<Response>) async throws -> Result
  ) async throws -> Result

  /// Runs a client-streaming call: `requestProducer` writes the requests and the call
  /// half-closes when it returns.
  func clientStreaming<Request: Message, Response: Message, Result: Sendable>(
    _ method: MethodDescriptor,
    metadata: Metadata,
    options: CallOptions,
    requestProducer: @escaping @Sendable (RequestWriter<Request>) async throws -> Void,
    onResponse: @escaping @Sendable (ClientResponse<Response>) async throws -> Result
  ) async throws -> Result

  /// Returns the responses of a server-streaming call, which starts when iteration starts.
  func serverStreaming<Request: Message, Response: Message>(
    _ method: MethodDescriptor,
    request: Request,
    metadata: Metadata,
    options: CallOptions
  ) -> ResponseStream<Response>

  /// Returns the responses of a bidirectional-streaming call, which starts when iteration
  /// starts. `requestProducer` then runs in its own task, and the call half-closes when it returns.
  func bidirectionalStreaming<Request: Message, Response: Message>(
    _ method: MethodDescriptor,
    metadata: Metadata,
    options: CallOptions,
    requestProducer: @escaping @Sendable (RequestWriter<Request>) async throws -> Void
  ) -> ResponseStream<Response>
}
