/// The outcome of a call with one response message.
public struct ClientResponse<Message: Sendable>: Sendable {
  /// The metadata of the response headers. It is empty when the call failed before them or
  /// the server sent a trailers-only response.
  public var initialMetadata: Metadata
  /// The metadata of the trailers.
  public var trailingMetadata: Metadata
  /// The response message, or the call's failure.
  public var result: Result<Message, RPCError>

  /// Creates a response.
  public init(initialMetadata: Metadata, trailingMetadata: Metadata, result: Result<Message, RPCError>) {
    self.initialMetadata = initialMetadata
    self.trailingMetadata = trailingMetadata
    self.result = result
  }

  /// The response message.
  ///
  /// - Throws: the ``RPCError`` that ended the call, whose `metadata` is the trailing metadata.
  public var message: Message {
    get throws(RPCError) { try result.get() }
  }
}
