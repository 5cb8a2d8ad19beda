import TandemProtobuf

/// Writes the response messages of a server-streaming or bidirectional-streaming call.
///
/// `write(_:)` suspends while the stream's outbound buffer is above the transport's
/// high-water mark, so a slow client slows the handler. Write from one task at a time.
public struct ResponseWriter<Message: TandemProtobuf.Message>: Sendable {
  private let writeMessage: @Sendable (Message) async throws(RPCError) -> Void

  init(writeBytes: @escaping @Sendable ([UInt8]) async throws(RPCError) -> Void) {
    self.writeMessage = { message throws(RPCError) in
      try await writeBytes(try encodeMessage(message))
    }
  }

  /// Creates a writer that passes every message to `write`, for example to call a handler
  /// directly in a test.
  public init(write: @escaping @Sendable (Message) async throws(RPCError) -> Void) {
    self.writeMessage = write
  }

  /// Sends `message`. The first message also sends the response headers with
  /// ``ServerContext/initialResponseMetadata``.
  ///
  /// - Throws: ``RPCError``: ``StatusCode/cancelled`` (or the status that ended the call) once
  ///   the call has ended, ``StatusCode/resourceExhausted`` when the message is larger than
  ///   ``ServerCallConfiguration/maxSendMessageBytes``, ``StatusCode/internalError`` when it
  ///   cannot be encoded.
  public func write(_ message: Message) async throws(RPCError) {
    try await writeMessage(message)
  }

  /// Sends every message of `messages` in order.
  public func write(contentsOf messages: some Sequence<Message>) async throws(RPCError) {
    for message in messages { try await write(message) }
  }
}
