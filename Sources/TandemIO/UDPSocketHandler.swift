/// The receiver of a ``UDPSocket``'s datagrams and events. The socket calls it only on its
/// ``UDPSocket/eventLoop``.
public protocol UDPSocketHandler: AnyObject {
  /// Delivers the datagrams that one `recvmmsg` call returned, in arrival order.
  ///
  /// The array contains at least one datagram. Their bytes are valid only during this call.
  func socket(_ socket: UDPSocket, didReceive datagrams: [UDPDatagram])

  /// Reports a queued send that failed after ``UDPSocket/send(_:to:)`` or
  /// ``UDPSocket/send(_:segmentSize:to:)`` had returned. Such a send was queued because the
  /// kernel send buffer was full, and its later attempt failed. Its datagrams are dropped.
  func socket(_ socket: UDPSocket, didFailToSend error: IOError)

  /// Reports that the socket closed: `error` is `nil` after ``UDPSocket/close()``, or names
  /// the failure (a receive error, or the event loop shutting down). No call follows this one.
  func socketDidClose(_ socket: UDPSocket, error: IOError?)

  /// Reports an ICMP error that the kernel queued for an earlier send, such as ECONNREFUSED
  /// for port unreachable. Only connected sockets (``UDPSocket/connect(to:)``) get them.
  /// The default does nothing.
  func socket(_ socket: UDPSocket, didReceiveICMPError error: IOError)
}

extension UDPSocketHandler {
  public func socket(_ socket: UDPSocket, didReceiveICMPError error: IOError) {}
}
