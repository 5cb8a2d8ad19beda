/// Settings shared by every call of a ``ClientCallExecutor``.
public struct ClientCallConfiguration: Sendable, Hashable {
  /// The largest response message accepted, unless ``CallOptions`` overrides it.
  /// Default: 4 MiB (4,194,304 bytes). A larger message fails the call with
  /// ``StatusCode/resourceExhausted``.
  public var maxReceiveMessageBytes: Int
  /// The largest request message sent, unless ``CallOptions`` overrides it. Default: `nil`,
  /// no limit beyond the framing's 4 GiB - 1.
  public var maxSendMessageBytes: Int?
  /// The `user-agent` header. Default: `tandem-swift/0.1`.
  public var userAgent: String
  /// The bytes of complete response messages a call buffers before it stops returning
  /// flow-control credit to the server. Credit for a message the caller has not taken is
  /// returned only while less than this is buffered. Default: 65,536 bytes.
  public var maxBufferedInboundBytes: Int
  /// Whether a call that the server provably did not process is sent once more on a new
  /// connection. That covers a stream refused by GOAWAY or by REFUSED_STREAM before any
  /// response headers, and a connection that rejected the new stream. Default: `true`.
  public var retriesRefusedCalls: Bool
  /// The request bytes a call keeps so it can resend them after a refusal. A call that has
  /// sent more than this before the response headers arrive is not retried.
  /// Default: 65,536 bytes.
  public var maxReplayBufferBytes: Int

  /// The defaults listed on each property.
  public static var defaults: ClientCallConfiguration { ClientCallConfiguration() }

  /// Creates a configuration; each parameter defaults to the value documented on its property.
  public init(
    maxReceiveMessageBytes: Int = 4 * 1024 * 1024,
    maxSendMessageBytes: Int? = nil,
    userAgent: String = "tandem-swift/0.1",
    maxBufferedInboundBytes: Int = 64 * 1024,
    retriesRefusedCalls: Bool = true,
    maxReplayBufferBytes: Int = 64 * 1024
  ) {
    self.maxReceiveMessageBytes = maxReceiveMessageBytes
    self.maxSendMessageBytes = maxSendMessageBytes
    self.userAgent = userAgent
    self.maxBufferedInboundBytes = maxBufferedInboundBytes
    self.retriesRefusedCalls = retriesRefusedCalls
    self.maxReplayBufferBytes = maxReplayBufferBytes
  }
}
