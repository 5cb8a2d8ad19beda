/// Settings shared by every call a ``ServerCallAcceptor`` serves.
public struct ServerCallConfiguration: Sendable, Hashable {
  /// The largest request message accepted. Default: 4 MiB (4,194,304 bytes). A larger
  /// message ends the call with ``StatusCode/resourceExhausted``.
  public var maxReceiveMessageBytes: Int
  /// The largest response message sent. Default: `nil`, no limit beyond the framing's
  /// 4 GiB - 1. A handler that writes a larger message ends its call with
  /// ``StatusCode/resourceExhausted``.
  public var maxSendMessageBytes: Int?
  /// The bytes of complete request messages a call buffers before it stops returning
  /// flow-control credit to the client. Credit for a message the handler has not taken is
  /// returned only while less than this is buffered, so a call buffers at most this much,
  /// plus the stream's flow-control window, plus one partial message.
  /// Default: 65,536 bytes; 0 returns credit only as the handler takes messages.
  public var maxBufferedInboundBytes: Int
  /// Whether handlers run on the event loop that owns their connection, so reading requests
  /// and writing responses need no thread hop. Default: `true`. Set it to `false` when
  /// handlers do long blocking or CPU-heavy work, because that work would delay every other
  /// connection on the same loop. Handlers then run on Swift's global concurrent executor.
  public var runsHandlersOnEventLoop: Bool

  /// The defaults listed on each property.
  public static var defaults: ServerCallConfiguration { ServerCallConfiguration() }

  /// Creates a configuration; each parameter defaults to the value documented on its property.
  public init(
    maxReceiveMessageBytes: Int = 4 * 1024 * 1024,
    maxSendMessageBytes: Int? = nil,
    maxBufferedInboundBytes: Int = 64 * 1024,
    runsHandlersOnEventLoop: Bool = true
  ) {
    self.runsHandlersOnEventLoop = runsHandlersOnEventLoop
    self.maxReceiveMessageBytes = maxReceiveMessageBytes
    self.maxSendMessageBytes = maxSendMessageBytes
    self.maxBufferedInboundBytes = maxBufferedInboundBytes
  }
}
