#if canImport(Glibc)
import Glibc
#endif
import CTandemShims

extension UDPSocket {
  /// The largest UDP payload, 65,507 bytes: 65,535 minus the 20-byte IPv4 and 8-byte UDP
  /// headers. The same limit applies to IPv6 sends and to a whole GSO batch.
  public static let maxPayloadSize = 65_507

  /// The maximum number of datagrams in one ``send(_:segmentSize:to:)`` call: 64. Every Linux
  /// kernel with UDP GSO accepts 64 segments per `sendmsg`, and recent kernels accept 128.
  public static let maxSegmentCount = 64

  /// The outcome of handing bytes to the kernel.
  private enum Transmission {
    case sent
    /// The kernel send buffer is full; the first `sentBytes` bytes went out.
    case wouldBlock(sentBytes: Int)
    case failed(errno: Int32)
  }

  /// Sends `bytes` as one datagram to `destination`. Loop thread only.
  ///
  /// An empty buffer sends an empty datagram. When the kernel send buffer is full, the socket
  /// copies the datagram and sends it after EPOLLOUT, in order with later sends.
  ///
  /// - Throws: ``IOError`` naming `destination` when the socket is closed, when the address
  ///   family differs from the socket's, or when `bytes` exceeds ``maxPayloadSize``. Also when
  ///   the queue would exceed ``UDPSocketConfiguration/maxPendingSendBytes``, and when `sendmsg`
  ///   fails with an errno other than EAGAIN (such as EMSGSIZE above the path MTU, or ENETUNREACH).
  public func send(_ bytes: UnsafeRawBufferPointer, to destination: SocketAddress) throws(IOError) {
    eventLoop.assertInEventLoop()
    try checkSend(byteCount: bytes.count, destination: destination)
    try submit(bytes, segmentSize: max(bytes.count, 1), destination: destination)
  }

  /// Sends `segments` as consecutive datagrams of `segmentSize` bytes to `destination`; the
  /// last one may be shorter. Loop thread only.
  ///
  /// The batch goes out in one `sendmsg` with a `UDP_SEGMENT` control message (UDP GSO), so
  /// the kernel does the splitting. When the kernel rejects GSO with EIO (no checksum offload
  /// on the egress device) or EINVAL, the socket sends the batch again with one `sendmsg` per
  /// datagram and stops using GSO (see ``usesSegmentationOffload``). When the kernel send
  /// buffer is full, the rest is queued as in ``send(_:to:)``.
  ///
  /// - Throws: ``IOError`` naming `destination` when `segments` is empty or longer than
  ///   ``maxPayloadSize``, when `segmentSize` is outside 1...`segments.count` or makes more than
  ///   ``maxSegmentCount`` datagrams, and in the cases listed for ``send(_:to:)``.
  public func send(_ segments: UnsafeRawBufferPointer, segmentSize: Int, to destination: SocketAddress) throws(IOError) {
    eventLoop.assertInEventLoop()
    guard !segments.isEmpty else {
      throw invalidSend(destination, "the segment buffer is empty")
    }
    try checkSend(byteCount: segments.count, destination: destination)
    guard (1...segments.count).contains(segmentSize) else {
      throw invalidSend(destination, "segmentSize \(segmentSize) is outside 1...\(segments.count) (the buffer size)")
    }
    let segmentCount = (segments.count + segmentSize - 1) / segmentSize
    guard segmentCount <= UDPSocket.maxSegmentCount else {
      throw invalidSend(
        destination,
        "\(segments.count) bytes in segments of \(segmentSize) make \(segmentCount) datagrams; the limit is \(UDPSocket.maxSegmentCount)")
    }
    try submit(segments, segmentSize: segmentSize, destination: destination)
  }

  /// Bytes queued because the kernel send buffer was full. Loop thread only.
  public var pendingSendBytes: Int { pending.byteCount }

  private func checkSend(byteCount: Int, destination: SocketAddress) throws(IOError) {
    guard state != .closed else {
      throw invalidSend(destination, "the socket is closed")
    }
    guard destination.family == localAddress.family else {
      throw invalidSend(
        destination, "the destination is \(destination.family) but the socket is bound to \(localAddress.family)")
    }
    guard byteCount <= UDPSocket.maxPayloadSize else {
      throw invalidSend(destination, "\(byteCount) bytes exceed the UDP limit of \(UDPSocket.maxPayloadSize)")
    }
  }

  private func invalidSend(_ destination: SocketAddress, _ reason: String) -> IOError {
    IOError(operation: "send", address: destination.description, errnoCode: nil, reason: reason)
  }

  /// Sends now, or queues behind earlier sends that wait for EPOLLOUT.
  private func submit(_ bytes: UnsafeRawBufferPointer, segmentSize: Int, destination: SocketAddress) throws(IOError) {
    if !pending.isEmpty {
      try enqueue(bytes, segmentSize: segmentSize, destination: destination)
      return
    }
    switch transmit(bytes, segmentSize: segmentSize, destination: destination) {
    case .sent:
      return
    case .wouldBlock(let sentBytes):
      let rest = UnsafeRawBufferPointer(rebasing: bytes[sentBytes...])
      try enqueue(rest, segmentSize: segmentSize, destination: destination)
    case .failed(let code):
      throw IOError(operation: "send", address: destination.description, errno: code)
    }
  }

  private func enqueue(_ bytes: UnsafeRawBufferPointer, segmentSize: Int, destination: SocketAddress) throws(IOError) {
    let limit = configuration.maxPendingSendBytes
    guard pending.byteCount + bytes.count <= limit else {
      throw IOError(
        operation: "send", address: destination.description, errnoCode: EAGAIN,
        reason: "the kernel send buffer is full and the queue holds \(pending.byteCount) bytes; "
          + "\(bytes.count) more would exceed maxPendingSendBytes (\(limit))")
    }
    pending.append(.init(bytes: Array(bytes), segmentSize: segmentSize, destination: destination))
    if !waitingForWritable {
      waitingForWritable = true
      updateInterest()
    }
  }

  /// Sends the queued datagrams after EPOLLOUT, until the queue is empty or the kernel buffer is full.
  func flushPending() {
    while let entry = pending.first {
      let outcome = entry.bytes.withUnsafeBytes {
        transmit($0, segmentSize: entry.segmentSize, destination: entry.destination)
      }
      switch outcome {
      case .sent:
        pending.removeFirst()
      case .wouldBlock(let sentBytes):
        pending.consumeFirst(sentBytes)
        return
      case .failed(let code):
        pending.removeFirst()
        handler?.socket(self, didFailToSend: IOError(operation: "send", address: entry.destination.description, errno: code))
        guard state == .open else { return }
      }
    }
    waitingForWritable = false
    updateInterest()
  }

  /// Hands `bytes` to the kernel: one GSO `sendmsg` when it contains several segments and GSO
  /// works, otherwise one `sendmsg` per segment.
  private func transmit(_ bytes: UnsafeRawBufferPointer, segmentSize: Int, destination: SocketAddress) -> Transmission {
    if bytes.count > segmentSize, usesSegmentationOffload {
      let code = sendOnce(bytes, segmentSize: segmentSize, destination: destination)
      switch code {
      case 0:
        return .sent
      case EAGAIN, EWOULDBLOCK:
        return .wouldBlock(sentBytes: 0)
      case EIO, EINVAL:
        // NOTE: EINVAL also comes from a segment larger than the path MTU, which turns GSO off
        // for this socket although the device supports it.
        usesSegmentationOffload = false
      default:
        return .failed(errno: code)
      }
    }

    var offset = 0
    while offset < bytes.count || (offset == 0 && bytes.isEmpty) {
      let end = min(offset + segmentSize, bytes.count)
      let code = sendOnce(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]), segmentSize: 0, destination: destination)
      switch code {
      case 0:
        break
      case EAGAIN, EWOULDBLOCK:
        return .wouldBlock(sentBytes: offset)
      default:
        return .failed(errno: code)
      }
      if bytes.isEmpty { break }
      offset = end
    }
    return .sent
  }

  /// Calls `sendmsg` once; a nonzero `segmentSize` adds the UDP_SEGMENT control message.
  /// Returns 0 or the errno.
  private func sendOnce(_ bytes: UnsafeRawBufferPointer, segmentSize: Int, destination: SocketAddress) -> Int32 {
    if segmentSize != 0, simulatesSegmentationOffloadFailure {
      return EIO
    }
    if simulatedWouldBlockCount > 0 {
      simulatedWouldBlockCount -= 1
      return EAGAIN
    }
    sendCallCount += 1
    let result = destination.withSockAddr { address, length in
      tandem_udp_sendmsg(fd, address, length, bytes.baseAddress, bytes.count, UInt16(segmentSize))
    }
    return result < 0 ? Int32(-result) : 0
  }
}
