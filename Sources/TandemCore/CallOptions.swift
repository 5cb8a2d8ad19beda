/// Per-call settings a client passes with each call.
public struct CallOptions: Sendable, Hashable {
  /// The time the call may take, measured from its start; `nil` means no deadline.
  /// The client sends it as `grpc-timeout` and fails the call with
  /// ``StatusCode/deadlineExceeded`` when it expires.
  public var timeout: Duration?
  /// The largest response message accepted; `nil` uses the channel's
  /// ``ClientCallConfiguration/maxReceiveMessageBytes`` (4 MiB by default).
  public var maxReceiveMessageBytes: Int?
  /// The largest request message sent; `nil` uses the channel's
  /// ``ClientCallConfiguration/maxSendMessageBytes`` (no limit by default).
  public var maxSendMessageBytes: Int?
  /// Whether the request may be sent again without harm, which allows it to travel in
  /// QUIC 0-RTT data. Defaults to `false`.
  public var safeToReplay: Bool

  /// Options with no deadline, the channel's size limits and no replay.
  public static var defaults: CallOptions { CallOptions() }

  /// Creates options; every parameter defaults to the channel's setting.
  public init(
    timeout: Duration? = nil,
    maxReceiveMessageBytes: Int? = nil,
    maxSendMessageBytes: Int? = nil,
    safeToReplay: Bool = false
  ) {
    self.timeout = timeout
    self.maxReceiveMessageBytes = maxReceiveMessageBytes
    self.maxSendMessageBytes = maxSendMessageBytes
    self.safeToReplay = safeToReplay
  }
}
