import TandemProtobuf

/// Writes the request messages of a client-streaming or bidirectional-streaming call.
///
/// `write(_:)` suspends while the stream's outbound buffer is above the transport's
/// high-water mark, so the producer runs no faster than the server takes messages.
/// Write from one task at a time.
public struct RequestWriter<Message: TandemProtobuf.Message>: Sendable {
  private let writeMessage: @Sendable (Message) async throws(RPCError) -> Void

  /// Creates a writer that passes every message to `write`, for example to test a request
  /// producer without a server.
  public init(write: @escaping @Sendable (Message) async throws(RPCError) -> Void) {
    self.writeMessage = write
  }

  /// Sends `message`.
  ///
  /// - Throws: ``RPCError``: the call's failure once it has failed,
  ///   ``StatusCode/resourceExhausted`` when the message is larger than the maximum send
  ///   size, ``StatusCode/internalError`` when it cannot be encoded. After the server ended
  ///   the call with OK, messages are dropped without an error.
  public func write(_ message: Message) async throws(RPCError) {
    try await writeMessage(message)
  }

  /// Sends every message of `messages` in order.
  public func write(contentsOf messages: some Sequence<Message>) async throws(RPCError) {
    for message in messages { try await write(message) }
  }
}
