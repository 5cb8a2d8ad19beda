/// One received UDP datagram, as ``UDPSocketHandler/socket(_:didReceive:)`` delivers it.
///
/// ``bytes`` points into the socket's receive slots and is valid only during that call. Copy
/// the bytes to keep them.
public struct UDPDatagram {
  /// The payload.
  public let bytes: UnsafeRawBufferPointer

  /// The sender.
  public let remoteAddress: SocketAddress

  /// The address the datagram was sent to (from `IP_PKTINFO` or `IPV6_PKTINFO`) with the
  /// socket's port, or `nil` when the kernel reported no packet info. On a socket bound to a
  /// wildcard address it shows which local address the peer used.
  public let localAddress: SocketAddress?

  /// The ECN codepoint, the low two bits of the TOS or traffic class byte (0 Not-ECT,
  /// 1 ECT(1), 2 ECT(0), 3 CE), or `nil` when the kernel did not report it.
  public let ecn: UInt8?
}
