/// A connected byte stream: a TCP socket, or TLS over a TCP socket.
///
/// A channel belongs to one ``EventLoop`` and every method is called on that loop's thread.
/// Writes are buffered and go to the socket together at the end of the loop turn: one
/// `writev` for plaintext, one `SSL_write` pass and one `write` of the ciphertext for TLS.
public protocol ByteStreamChannel: AnyObject {
  /// The loop that owns this channel.
  var eventLoop: EventLoop { get }

  /// The remote address.
  var remoteAddress: SocketAddress { get }

  /// The local address.
  var localAddress: SocketAddress { get }

  /// The protocol that TLS ALPN selected, such as `h2`, or `nil` for plaintext or when the
  /// peer did not negotiate one.
  var negotiatedALPN: String? { get }

  /// Whether TLS protects the channel.
  var isSecure: Bool { get }

  /// Appends `bytes` to the outbound buffer. The channel copies them before returning.
  func write(_ bytes: UnsafeRawBufferPointer)

  /// Bytes written but not yet accepted by the kernel.
  var pendingWriteBytes: Int { get }

  /// Sends what is buffered, then closes. With TLS, sends close_notify first.
  func close()
}

/// The protocol logic on top of a ``ByteStreamChannel``, such as an HTTP/2 session.
///
/// The channel calls these methods on its event loop's thread.
public protocol ByteStreamHandler: AnyObject {
  /// The channel is connected, and for TLS the handshake finished and ALPN is known.
  func channelActive(_ channel: any ByteStreamChannel)

  /// Bytes arrived (decrypted for TLS). The buffer is valid only during the call.
  func channel(_ channel: any ByteStreamChannel, didRead bytes: UnsafeRawBufferPointer)

  /// The outbound buffer fell below the channel's low-water mark after being above its
  /// high-water mark.
  func channelWritable(_ channel: any ByteStreamChannel)

  /// The channel closed. `error` is `nil` for an orderly close by either side.
  func channelInactive(_ channel: any ByteStreamChannel, error: (any Error)?)
}
