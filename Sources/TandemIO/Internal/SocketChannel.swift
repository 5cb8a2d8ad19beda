#if canImport(Glibc)
import Glibc
#endif
import CTandemShims

/// A connected TCP socket on one event loop: the plaintext ``ByteStreamChannel``.
///
/// Reads go into the loop's shared 64 KiB buffer and straight to the handler. Writes are
/// copied into an ``OutboundBuffer`` and flushed at the end of the loop turn with one
/// vectored write (more only when there are over 64 chunks). That write is `sendmsg` with
/// `MSG_NOSIGNAL` rather than `writev`, so a closed peer yields EPIPE instead of SIGPIPE.
/// When the kernel takes less, the channel waits for EPOLLOUT and continues from there.
///
/// Closing: ``close()`` and an end of file from the peer both flush what is buffered, then
/// close the descriptor and call `channelInactive(error: nil)`. A reset or another socket
/// error closes at once and passes an ``IOError``. The handler is not called after
/// `channelInactive`; writes after ``close()`` are dropped.
final class SocketChannel: ByteStreamChannel, EventSource {
  /// `channelWritable` fires after the buffer went above 256 KiB and fell to 64 KiB or less.
  static let highWaterMark = 256 * 1024
  static let lowWaterMark = 64 * 1024
  /// iovecs per sendmsg call.
  static let maxVectors = 64
  /// Reads per readiness event, so one busy socket does not starve the others on the loop.
  static let maxReadsPerEvent = 4

  private enum State {
    case idle
    case active
    case closing
    case closed
  }

  let eventLoop: EventLoop
  let fd: Int32
  let remoteAddress: SocketAddress
  let localAddress: SocketAddress
  var negotiatedALPN: String? { nil }
  var isSecure: Bool { false }

  var handler: (any ByteStreamHandler)?
  private var state = State.idle
  private var registrationID: UInt64 = 0
  private var outbound = OutboundBuffer()
  private var flushScheduled = false
  private var waitingForWritable = false
  private var aboveHighWater = false

  /// The number of vectored write calls (sendmsg) so far, for tests of write batching.
  private(set) var writevCallCount = 0

  init(fd: Int32, eventLoop: EventLoop, remoteAddress: SocketAddress, localAddress: SocketAddress) {
    self.fd = fd
    self.eventLoop = eventLoop
    self.remoteAddress = remoteAddress
    self.localAddress = localAddress
  }

  /// Registers with the loop and delivers `channelActive`. On failure closes the descriptor.
  func activate(handler: any ByteStreamHandler) throws(IOError) {
    eventLoop.assertInEventLoop()
    self.handler = handler
    SocketOptions.setNoDelay(fd)
    do {
      registrationID = try eventLoop.register(fd: fd, events: EpollEvents.input, source: self)
    } catch {
      Glibc.close(fd)
      state = .closed
      self.handler = nil
      throw error
    }
    state = .active
    handler.channelActive(self)
  }

  var pendingWriteBytes: Int { outbound.count }

  func write(_ bytes: UnsafeRawBufferPointer) {
    eventLoop.assertInEventLoop()
    guard state == .active, !bytes.isEmpty else { return }
    outbound.append(bytes)
    afterAppend()
  }

  /// Appends up to `byteCount` bytes that `fill` writes in place, for TLS ciphertext.
  func write(byteCount: Int, fill: (UnsafeMutableRawBufferPointer) -> Int) {
    eventLoop.assertInEventLoop()
    guard state == .active || state == .closing else { return }
    outbound.append(byteCount: byteCount, fill: fill)
    afterAppend()
  }

  /// Makes the socket send `channelWritable` once its buffer falls to the low-water mark, as
  /// if it had gone above the high-water mark. The socket checks only when it flushes, so with
  /// an empty buffer no call comes and the caller checks ``pendingWriteBytes`` first.
  func requestWritableNotification() {
    aboveHighWater = true
  }

  private func afterAppend() {
    if outbound.count > SocketChannel.highWaterMark {
      aboveHighWater = true
    }
    scheduleFlush()
  }

  func close() {
    eventLoop.assertInEventLoop()
    guard state == .active else { return }
    beginClosing()
  }

  /// Closes at once without flushing, reporting `error` to the handler.
  func abort(error: (any Error)?) {
    guard state == .active || state == .closing else { return }
    finishClose(error: error)
  }

  private func beginClosing() {
    // NOTE: a peer that stops reading keeps a closing channel open until it resets; there is
    // no close timeout yet.
    state = .closing
    updateInterest()
    scheduleFlush()
  }

  private func scheduleFlush() {
    guard !flushScheduled, !waitingForWritable else { return }
    flushScheduled = true
    eventLoop.runAtEndOfTurn { [self] in
      flushScheduled = false
      flush()
    }
  }

  /// Writes what is buffered; waits for EPOLLOUT when the kernel takes less.
  private func flush() {
    guard state == .active || state == .closing else { return }
    while !outbound.isEmpty {
      var vectorBytes = 0
      let written = outbound.withIOVectors(maxVectors: SocketChannel.maxVectors) { vectors -> Int in
        vectorBytes = vectors.reduce(0) { $0 + $1.iov_len }
        writevCallCount += 1
        // sendmsg is writev with flags: MSG_NOSIGNAL turns SIGPIPE on a closed peer into EPIPE.
        var message = msghdr()
        message.msg_iov = UnsafeMutablePointer(mutating: vectors.baseAddress)
        message.msg_iovlen = vectors.count
        while true {
          let result = sendmsg(fd, &message, Int32(MSG_NOSIGNAL))
          if result < 0 && errno == EINTR { continue }
          return result < 0 ? -Int(errno) : result
        }
      }
      if written < 0 {
        let code = Int32(-written)
        if code == EAGAIN || code == EWOULDBLOCK {
          waitForWritable()
          return
        }
        finishClose(error: IOError(operation: "write", address: remoteAddress.description, errno: code))
        return
      }
      if written < vectorBytes {
        // The send buffer is full, so a second call would only return EAGAIN.
        waitForWritable()
        return
      }
    }
    if waitingForWritable {
      waitingForWritable = false
      updateInterest()
    }
    afterDrain()
  }

  private func afterDrain() {
    if aboveHighWater, outbound.count <= SocketChannel.lowWaterMark {
      aboveHighWater = false
      handler?.channelWritable(self)
    }
    if state == .closing, outbound.isEmpty {
      finishClose(error: nil)
    }
  }

  private func waitForWritable() {
    if !waitingForWritable {
      waitingForWritable = true
      updateInterest()
    }
    // Below the low-water mark already, the handler may write again.
    if aboveHighWater, outbound.count <= SocketChannel.lowWaterMark {
      aboveHighWater = false
      handler?.channelWritable(self)
    }
  }

  private func updateInterest() {
    guard state == .active || state == .closing else { return }
    var events: UInt32 = 0
    if state == .active { events |= EpollEvents.input }
    if waitingForWritable { events |= EpollEvents.output }
    do {
      try eventLoop.modify(fd: fd, id: registrationID, events: events)
    } catch {
      finishClose(error: IOError(operation: "epoll_ctl", address: remoteAddress.description, errnoCode: error.errnoCode, reason: error.reason))
    }
  }

  // MARK: EventSource

  func handleEvents(_ events: UInt32) {
    if events & EpollEvents.output != 0, waitingForWritable {
      waitingForWritable = false
      flush()
      if waitingForWritable == false, state != .closed {
        updateInterest()
      }
    }
    if events & (EpollEvents.input | EpollEvents.hangUp | EpollEvents.error) != 0, state == .active {
      readAvailable()
    } else if events & EpollEvents.error != 0, state == .closing {
      let code = SocketOptions.pendingError(fd)
      finishClose(error: IOError(operation: "write", address: remoteAddress.description, errno: code == 0 ? ECONNRESET : code))
    }
  }

  private func readAvailable() {
    let buffer = eventLoop.readBuffer
    for _ in 0..<SocketChannel.maxReadsPerEvent {
      let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
      if count > 0 {
        handler?.channel(self, didRead: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        guard state == .active, count == buffer.count else { return }
      } else if count == 0 {
        // The peer closed its side: write what is buffered, then close.
        beginClosing()
        return
      } else {
        let code = errno
        if code == EINTR { continue }
        if code == EAGAIN || code == EWOULDBLOCK { return }
        finishClose(error: IOError(operation: "read", address: remoteAddress.description, errno: code))
        return
      }
    }
  }

  func eventLoopWillClose() {
    guard state != .closed else { return }
    state = .closed
    Glibc.close(fd)
    outbound.removeAll()
    let handler = self.handler
    self.handler = nil
    handler?.channelInactive(
      self,
      error: IOError(
        operation: "close", address: remoteAddress.description, errnoCode: nil,
        reason: "the event loop shut down"))
  }

  private func finishClose(error: (any Error)?) {
    guard state != .closed else { return }
    state = .closed
    eventLoop.deregister(fd: fd, id: registrationID)
    Glibc.close(fd)
    outbound.removeAll()
    let handler = self.handler
    self.handler = nil
    handler?.channelInactive(self, error: error)
  }
}
