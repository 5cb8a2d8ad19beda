#if canImport(Glibc)
import Glibc
#endif
import CTandemShims
import Synchronization

/// A listening TCP socket that hands each accepted connection to a new handler.
///
/// The listening socket lives on one loop of the group. Each accepted connection is pinned
/// to the group's next loop in round-robin order, where it gets its handler from
/// `makeHandler` and, with TLS, runs its handshake before `channelActive`.
public final class TCPListener: Sendable {
  /// The port the socket is bound to; with port 0 in ``bind(host:port:group:tls:backlog:onError:makeHandler:)``,
  /// the free port the kernel picked.
  public let port: Int

  /// The bound address.
  public let localAddress: SocketAddress

  private let acceptor: UncheckedSendable<Acceptor>
  let loop: EventLoop

  private init(port: Int, localAddress: SocketAddress, acceptor: Acceptor, loop: EventLoop) {
    self.port = port
    self.localAddress = localAddress
    self.acceptor = UncheckedSendable(acceptor)
    self.loop = loop
  }

  /// Binds to `host` and `port` and starts accepting.
  ///
  /// - Parameters:
  ///   - host: a numeric IPv4 or IPv6 address (`0.0.0.0`, `::`, `127.0.0.1`, `::1`) or a name,
  ///     which binds to the first address it resolves to. `::` also accepts IPv4 unless the
  ///     system sets `net.ipv6.bindv6only`.
  ///   - port: 0 through 65535; 0 picks a free port, which ``port`` returns.
  ///   - group: the loops that connections are spread over.
  ///   - tls: `nil` for plaintext, or the server certificate, key and ALPN list.
  ///   - backlog: the listen(2) backlog, default 256 (the kernel caps it at `somaxconn`).
  ///   - onError: called with the errors that reach no handler: failed `accept` calls and
  ///     failed server TLS handshakes (``TLSError``), on the loop where they happen. Default
  ///     `nil` drops them.
  ///   - makeHandler: called on the connection's loop for each accepted connection.
  /// - Throws: ``IOError`` naming the address when resolving, `socket`, `bind` or `listen` fails.
  public static func bind(
    host: String, port: Int, group: EventLoopGroup, tls: TLSServerConfiguration?,
    backlog: Int = 256,
    onError: (@Sendable (any Error) -> Void)? = nil,
    makeHandler: @escaping @Sendable (EventLoop) -> any ByteStreamHandler
  ) throws -> TCPListener {
    guard (0...Int(Int32.max)).contains(backlog) else {
      throw IOError(
        operation: "listen", address: "\(host):\(port)", errnoCode: nil,
        reason: "backlog \(backlog) is outside 0...\(Int32.max)")
    }
    let address = try SocketAddress.resolve(host: host, port: port)[0]
    let fd = socket(address.domain, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else {
      throw IOError(operation: "socket", address: address.description, errno: errno)
    }
    _ = SocketOptions.setInt(fd, level: SOL_SOCKET, option: SO_REUSEADDR, value: 1)
    let bound = address.withSockAddr { Glibc.bind(fd, $0, $1) }
    guard bound == 0 else {
      let code = errno
      Glibc.close(fd)
      throw IOError(operation: "bind", address: address.description, errno: code)
    }
    guard listen(fd, Int32(backlog)) == 0 else {
      let code = errno
      Glibc.close(fd)
      throw IOError(operation: "listen", address: address.description, errno: code)
    }
    let local = SocketAddress.of(fd: fd, peer: false) ?? address

    let loop = group.next()
    let acceptor = Acceptor(fd: fd, loop: loop, group: group, tls: tls, onError: onError, makeHandler: makeHandler)
    let listener = TCPListener(port: local.port, localAddress: local, acceptor: acceptor, loop: loop)
    let box = UncheckedSendable(acceptor)
    loop.execute { box.value.start() }
    return listener
  }

  /// Stops accepting and closes the listening socket. Open connections stay open.
  /// Safe from any thread; the socket closes on its loop shortly after.
  public func close() {
    let box = acceptor
    loop.execute { box.value.stop() }
  }
}

/// The loop-side half of a listener.
final class Acceptor: EventSource {
  /// Connections accepted per readiness event before other work on the loop gets a turn.
  static let maxAcceptsPerEvent = 64
  /// Pause after the process ran out of descriptors (EMFILE, ENFILE), so a level-triggered
  /// listener does not spin.
  static let descriptorExhaustionPause = Duration.milliseconds(100)

  let fd: Int32
  let loop: EventLoop
  let group: EventLoopGroup
  let tls: TLSServerConfiguration?
  let makeHandler: @Sendable (EventLoop) -> any ByteStreamHandler
  let onError: (@Sendable (any Error) -> Void)?
  private var registrationID: UInt64 = 0
  private var isOpen = true
  private var isPaused = false

  init(
    fd: Int32, loop: EventLoop, group: EventLoopGroup, tls: TLSServerConfiguration?,
    onError: (@Sendable (any Error) -> Void)?,
    makeHandler: @escaping @Sendable (EventLoop) -> any ByteStreamHandler
  ) {
    self.onError = onError
    self.fd = fd
    self.loop = loop
    self.group = group
    self.tls = tls
    self.makeHandler = makeHandler
  }

  func start() {
    guard isOpen else { return }
    do {
      registrationID = try loop.register(fd: fd, events: EpollEvents.input, source: self)
    } catch {
      isOpen = false
      Glibc.close(fd)
      onError?(error)
    }
  }

  func stop() {
    guard isOpen else { return }
    isOpen = false
    loop.deregister(fd: fd, id: registrationID)
    Glibc.close(fd)
  }

  func eventLoopWillClose() {
    guard isOpen else { return }
    isOpen = false
    Glibc.close(fd)
  }

  func handleEvents(_ events: UInt32) {
    guard isOpen, !isPaused else { return }
    for _ in 0..<Acceptor.maxAcceptsPerEvent {
      let accepted = tandem_accept4(fd, nil, nil, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
      if accepted >= 0 {
        hand(accepted)
        continue
      }
      let code = errno
      switch code {
      case EAGAIN, EWOULDBLOCK:
        return
      case EINTR, ECONNABORTED, EPROTO:
        continue
      case EMFILE, ENFILE, ENOBUFS, ENOMEM:
        onError?(IOError(operation: "accept", address: SocketAddress.of(fd: fd, peer: false)?.description, errno: code))
        pause()
        return
      default:
        onError?(IOError(operation: "accept", address: SocketAddress.of(fd: fd, peer: false)?.description, errno: code))
        return
      }
    }
  }

  private func pause() {
    isPaused = true
    try? loop.modify(fd: fd, id: registrationID, events: 0)
    loop.scheduleTimer(after: Acceptor.descriptorExhaustionPause) { [self] in
      isPaused = false
      guard isOpen else { return }
      try? loop.modify(fd: fd, id: registrationID, events: EpollEvents.input)
    }
  }

  private func hand(_ fd: Int32) {
    guard let remote = SocketAddress.of(fd: fd, peer: true), let local = SocketAddress.of(fd: fd, peer: false) else {
      // getpeername fails (ENOTCONN) for a connection reset while it waited in the accept
      // queue; no handler is created for it.
      Glibc.close(fd)
      return
    }
    let target = group.next()
    let makeHandler = self.makeHandler
    let tls = self.tls
    let onError = self.onError
    target.execute {
      let channel = SocketChannel(fd: fd, eventLoop: target, remoteAddress: remote, localAddress: local)
      let handler = makeHandler(target)
      if let tls {
        let secure = TLSChannel(
          socket: channel, context: tls.context, role: .server, handler: handler,
          handshakeTimeout: tls.handshakeTimeout)
        secure.onHandshakeComplete = { result in
          if case .failure(let error) = result {
            onError?(error)
          }
        }
        do {
          try channel.activate(handler: secure)
        } catch {
          onError?(error)
        }
      } else {
        do {
          try channel.activate(handler: handler)
        } catch {
          onError?(error)
        }
      }
    }
  }
}
