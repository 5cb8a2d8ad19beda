import TandemProtobuf

/// The request messages of a client-streaming or bidirectional-streaming call, as the
/// server handler receives them.
///
/// Iterate it once. Iteration ends when the client half-closes the stream. It throws an
/// ``RPCError``: ``StatusCode/cancelled`` when the client cancelled the call or the deadline
/// passed, ``StatusCode/resourceExhausted`` when a message exceeds
/// ``ServerCallConfiguration/maxReceiveMessageBytes``, and ``StatusCode/internalError`` when a
/// message cannot be decoded or the framing is broken.
///
/// The server returns flow-control credit to the client as the handler takes messages, so a
/// handler that reads slowly slows its client instead of buffering without limit.
public struct RequestStream<Message: TandemProtobuf.Message>: AsyncSequence, Sendable {
  public typealias Element = Message
  public typealias Failure = RPCError

  private let nextBytes: @Sendable () async throws(RPCError) -> [UInt8]?

  init(nextBytes: @escaping @Sendable () async throws(RPCError) -> [UInt8]?) {
    self.nextBytes = nextBytes
  }

  /// Creates a stream that yields `messages` and then ends, for example to call a handler
  /// directly in a test.
  public init(_ messages: [Message]) {
    let iterator = LockedIterator(messages)
    self.nextBytes = { () throws(RPCError) -> [UInt8]? in
      guard let message = iterator.next() else { return nil }
      return try encodeMessage(message)
    }
  }

  public struct AsyncIterator: AsyncIteratorProtocol {
    fileprivate let nextBytes: @Sendable () async throws(RPCError) -> [UInt8]?

    public mutating func next() async throws(RPCError) -> Message? {
      guard let bytes = try await nextBytes() else { return nil }
      return try decodeMessage(Message.self, from: bytes)
    }
  }

  public func makeAsyncIterator() -> AsyncIterator {
    AsyncIterator(nextBytes: nextBytes)
  }
}
