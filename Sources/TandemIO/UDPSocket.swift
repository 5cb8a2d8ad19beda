#if canImport(Glibc)
import Glibc
#endif
import CTandemShims

/// A nonblocking UDP socket on one event loop.
///
/// Reads use `recvmmsg`, up to ``UDPSocketConfiguration/receiveBatchSize`` datagrams per call
/// into slots that the socket reuses, and up to 4 calls (``maxReceiveCallsPerEvent``) per
/// readiness event so other sockets on the loop get their turn. Each datagram carries its
/// sender, its destination address (packet info) and its ECN bits.
///
/// Sends go to the kernel at once: ``send(_:to:)`` for one datagram, and
/// ``send(_:segmentSize:to:)`` for a batch of equally sized datagrams to one destination in
/// one `sendmsg` with UDP GSO. When the kernel send buffer is full (EAGAIN), the socket
/// copies the datagrams into a queue and sends them when epoll reports EPOLLOUT.
///
/// Threads: ``bind(host:port:on:configuration:handler:)`` and ``close()`` are safe from any
/// thread. Sends and the state properties are for the loop thread only. The handler is called
/// on the loop thread and the socket keeps a strong reference to it until it has closed. The
/// loop keeps the socket alive while it is open, so call ``close()`` to release both.
public final class UDPSocket: @unchecked Sendable {
  /// `recvmmsg` calls per readiness event.
  static let maxReceiveCallsPerEvent = 4

  enum State {
    case binding
    case open
    case closed
  }

  /// The loop that owns the socket.
  public let eventLoop: EventLoop

  /// The bound address; with port 0 in ``bind(host:port:on:configuration:handler:)``, the
  /// port the kernel picked.
  public let localAddress: SocketAddress

  /// The settings the socket was bound with.
  public let configuration: UDPSocketConfiguration

  /// The `SO_RCVBUF` size the kernel granted, in bytes (as `getsockopt` reports it, which
  /// includes the kernel's doubling).
  public let receiveBufferSize: Int

  /// The `SO_SNDBUF` size the kernel granted, in bytes (as `getsockopt` reports it).
  public let sendBufferSize: Int

  let fd: Int32

  // The state below belongs to the loop thread.
  var state = State.binding
  var handler: (any UDPSocketHandler)?
  private var registrationID: UInt64 = 0
  private let receiveBatch: UDPReceiveBatch
  private var received: [UDPDatagram] = []
  var pending = UDPSendQueue()
  var waitingForWritable = false

  /// Received datagrams dropped because they were larger than
  /// ``UDPSocketConfiguration/maxDatagramSize``. Loop thread only.
  public private(set) var truncatedDatagramCount = 0

  /// Whether batch sends use UDP GSO. It turns `false` for good after the kernel rejects a
  /// GSO send with EIO or EINVAL. Loop thread only.
  public internal(set) var usesSegmentationOffload = true

  /// Test hook: makes every GSO send fail with EIO before it reaches the kernel.
  var simulatesSegmentationOffloadFailure = false
  /// Test hook: makes this many of the next `sendmsg` calls fail with EAGAIN before they
  /// reach the kernel, as if the send buffer were full.
  var simulatedWouldBlockCount = 0
  /// `sendmsg` calls so far, GSO and plain.
  var sendCallCount = 0
  /// Received buffers that UDP GRO coalesced from several datagrams.
  var coalescedBufferCount: Int { receiveBatch.coalescedBufferCount }

  private init(
    fd: Int32, eventLoop: EventLoop, localAddress: SocketAddress, configuration: UDPSocketConfiguration,
    receiveBufferSize: Int, sendBufferSize: Int, handler: any UDPSocketHandler
  ) {
    self.fd = fd
    self.eventLoop = eventLoop
    self.localAddress = localAddress
    self.configuration = configuration
    self.receiveBufferSize = receiveBufferSize
    self.sendBufferSize = sendBufferSize
    self.handler = handler
    receiveBatch = UDPReceiveBatch(
      slotCount: configuration.receiveBatchSize, slotSize: configuration.receiveSlotSize, localPort: localAddress.port)
    received.reserveCapacity(configuration.receiveBatchSize)
  }

  deinit {
    // A socket whose registration never ran (its loop had stopped) still owns the descriptor.
    if state == .binding {
      Glibc.close(fd)
    }
  }

  /// Binds a UDP socket to `host` and `port` and starts reading on `loop`.
  ///
  /// The socket is registered with the loop at once when called on the loop thread, otherwise
  /// through ``EventLoop/execute(_:)``, so datagrams reach `handler` from the loop's next turn.
  /// Failures of the registration arrive as ``UDPSocketHandler/socketDidClose(_:error:)``.
  ///
  /// - Parameters:
  ///   - host: a numeric IPv4 or IPv6 address (`127.0.0.1`, `::1`, `0.0.0.0`, `::`) or a name,
  ///     which binds to the first address it resolves to.
  ///   - port: 0 through 65535; 0 picks a free port, which ``localAddress`` returns.
  ///   - loop: the loop that reads the socket and calls `handler`.
  ///   - configuration: batch, slot and buffer sizes and UDP GRO; see ``UDPSocketConfiguration``.
  ///   - handler: receives the datagrams and events.
  /// - Throws: ``IOError`` naming the address when a configuration value is out of range, or
  ///   when resolving, `socket`, `setsockopt` or `bind` fails (EADDRINUSE for a port in use).
  public static func bind(
    host: String, port: Int, on loop: EventLoop,
    configuration: UDPSocketConfiguration = UDPSocketConfiguration(),
    handler: any UDPSocketHandler
  ) throws -> UDPSocket {
    try configuration.validate(address: "\(host):\(port)")
    let address = try SocketAddress.resolve(host: host, port: port)[0]
    let fd = socket(
      address.domain, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else {
      throw IOError(operation: "socket", address: address.description, errno: errno)
    }
    do {
      try configure(fd: fd, address: address, configuration: configuration)
    } catch {
      Glibc.close(fd)
      throw error
    }
    let bound = address.withSockAddr { Glibc.bind(fd, $0, $1) }
    guard bound == 0 else {
      let code = errno
      Glibc.close(fd)
      throw IOError(operation: "bind", address: address.description, errno: code)
    }
    let local = SocketAddress.of(fd: fd, peer: false) ?? address

    let udpSocket = UDPSocket(
      fd: fd, eventLoop: loop, localAddress: local, configuration: configuration,
      receiveBufferSize: Int(SocketOptions.getInt(fd, level: SOL_SOCKET, option: SO_RCVBUF) ?? 0),
      sendBufferSize: Int(SocketOptions.getInt(fd, level: SOL_SOCKET, option: SO_SNDBUF) ?? 0),
      handler: handler)
    if loop.inEventLoop {
      udpSocket.register()
    } else {
      loop.execute { udpSocket.register() }
    }
    return udpSocket
  }

  /// Sets the buffer sizes, packet info, ECN reporting and GRO on a new socket.
  private static func configure(
    fd: Int32, address: SocketAddress, configuration: UDPSocketConfiguration
  ) throws(IOError) {
    let options: [(String, Int32, Int)] = [
      ("SO_RCVBUF", SO_RCVBUF, configuration.receiveBufferSize),
      ("SO_SNDBUF", SO_SNDBUF, configuration.sendBufferSize),
    ]
    for (name, option, value) in options {
      guard SocketOptions.setInt(fd, level: SOL_SOCKET, option: option, value: Int32(value)) else {
        throw IOError(operation: "setsockopt(\(name))", address: address.description, errno: errno)
      }
    }
    let infoStatus = tandem_udp_enable_receive_info(fd, address.domain)
    guard infoStatus == 0 else {
      throw IOError(operation: "setsockopt(packet info)", address: address.description, errno: -infoStatus)
    }
    if configuration.dontFragment {
      let status = tandem_udp_set_dont_fragment(fd, address.domain)
      guard status == 0 else {
        throw IOError(operation: "setsockopt(IP_MTU_DISCOVER)", address: address.description, errno: -status)
      }
    }
    if configuration.receiveOffload {
      let groStatus = tandem_udp_enable_gro(fd)
      guard groStatus == 0 else {
        throw IOError(operation: "setsockopt(UDP_GRO)", address: address.description, errno: -groStatus)
      }
    }
  }

  private func register() {
    guard state == .binding else { return }
    do {
      var events = EpollEvents.input
      if waitingForWritable { events |= EpollEvents.output }
      registrationID = try eventLoop.register(fd: fd, events: events, source: self)
    } catch {
      state = .closed
      Glibc.close(fd)
      pending.removeAll()
      let handler = self.handler
      self.handler = nil
      handler?.socketDidClose(
        self, error: IOError(operation: "register", address: localAddress.description, errnoCode: error.errnoCode, reason: error.reason))
      return
    }
    state = .open
  }

  /// Connects the socket to `peer`, so that the kernel reports ICMP errors for it (such as
  /// port unreachable) through ``UDPSocketHandler/socket(_:didReceiveICMPError:)`` and
  /// delivers only that peer's datagrams. Sends to `peer` work as before. Loop thread only.
  ///
  /// - Throws: ``IOError`` naming `peer` when `connect` fails.
  public func connect(to peer: SocketAddress) throws(IOError) {
    eventLoop.assertInEventLoop()
    let result = peer.withSockAddr { Glibc.connect(fd, $0, $1) }
    guard result == 0 else {
      throw IOError(operation: "connect", address: peer.description, errno: errno)
    }
  }

  /// Returns the MTU of the kernel's route to `peer`, in bytes of IP packet: the interface MTU, or a
  /// smaller path MTU the kernel learned from ICMP. Opens a short-lived unbound socket to read
  /// it and sends nothing. On loopback this is the loopback interface's MTU (65,536 by default).
  ///
  /// - Throws: ``IOError`` naming `peer` when the kernel has no route to it.
  public static func routeMTU(to peer: SocketAddress) throws(IOError) -> Int {
    let result = peer.withSockAddr { tandem_udp_route_mtu($0, $1) }
    guard result > 0 else {
      throw IOError(operation: "getsockopt(IP_MTU)", address: peer.description, errno: -result)
    }
    return Int(result)
  }

  /// Closes the socket, drops the queued sends and calls
  /// ``UDPSocketHandler/socketDidClose(_:error:)`` with `nil`. Does nothing when the socket is
  /// already closed. Safe from any thread; off the loop the close happens on the loop shortly after.
  public func close() {
    if eventLoop.inEventLoop {
      finishClose(error: nil)
    } else {
      eventLoop.execute { self.finishClose(error: nil) }
    }
  }

  func finishClose(error: IOError?) {
    switch state {
    case .closed:
      return
    case .binding:
      Glibc.close(fd)
    case .open:
      eventLoop.deregister(fd: fd, id: registrationID)
      Glibc.close(fd)
    }
    state = .closed
    pending.removeAll()
    let handler = self.handler
    self.handler = nil
    handler?.socketDidClose(self, error: error)
  }

  /// Sets the epoll interest: input always, output while sends wait for room.
  func updateInterest() {
    guard state == .open else { return }
    var events = EpollEvents.input
    if waitingForWritable { events |= EpollEvents.output }
    do {
      try eventLoop.modify(fd: fd, id: registrationID, events: events)
    } catch {
      finishClose(
        error: IOError(operation: "epoll_ctl", address: localAddress.description, errnoCode: error.errnoCode, reason: error.reason))
    }
  }

  // MARK: Receiving

  private func readAvailable() {
    for _ in 0..<UDPSocket.maxReceiveCallsPerEvent {
      let count = receiveBatch.receive(fd: fd)
      if count < 0 {
        let code = Int32(-count)
        switch code {
        case EAGAIN, EWOULDBLOCK:
          return
        case _ where UDPSocket.isICMPError(code):
          // An ICMP error for an earlier send, not a broken socket. Connected sockets get them.
          reportICMPError(code)
          if state != .open { return }
          continue
        case ENOBUFS, ENOMEM:
          // A memory shortage reported for one datagram, not a broken socket.
          continue
        default:
          finishClose(error: IOError(operation: "recvmmsg", address: localAddress.description, errno: code))
          return
        }
      }
      received.removeAll(keepingCapacity: true)
      truncatedDatagramCount += receiveBatch.collect(count: count, into: &received)
      if !received.isEmpty {
        handler?.socket(self, didReceive: received)
      }
      guard state == .open, count == receiveBatch.slotCount else { return }
    }
  }
}

extension UDPSocket {
  /// Whether `code` is an errno that the kernel queues for an ICMP error about an earlier send.
  static func isICMPError(_ code: Int32) -> Bool {
    code == ECONNREFUSED || code == EHOSTUNREACH || code == ENETUNREACH
  }

  private func reportICMPError(_ code: Int32) {
    handler?.socket(self, didReceiveICMPError: IOError(operation: "recvmmsg", address: localAddress.description, errno: code))
  }
}

extension UDPSocket: EventSource {
  func handleEvents(_ events: UInt32) {
    guard state == .open else { return }
    if events & EpollEvents.error != 0 {
      // Reading SO_ERROR clears a pending ICMP error, which level-triggered epoll would
      // otherwise report again every turn, so the handler learns of it here.
      let code = SocketOptions.pendingError(fd)
      if UDPSocket.isICMPError(code) {
        reportICMPError(code)
        guard state == .open else { return }
      }
    }
    if events & EpollEvents.output != 0, waitingForWritable {
      flushPending()
    }
    if events & EpollEvents.input != 0, state == .open {
      readAvailable()
    }
  }

  func eventLoopWillClose() {
    guard state != .closed else { return }
    state = .closed
    Glibc.close(fd)
    pending.removeAll()
    let handler = self.handler
    self.handler = nil
    handler?.socketDidClose(
      self,
      error: IOError(
        operation: "close", address: localAddress.description, errnoCode: nil, reason: "the event loop shut down"))
  }
}
