#if canImport(Glibc)
import Glibc
#endif

/// Opens outgoing TCP connections, optionally with TLS.
public enum TCPConnector {
  /// Connects to `host` and `port` on `loop`, and returns once `handler` got `channelActive`.
  ///
  /// `host` is resolved with `getaddrinfo` (blocking the calling thread while the resolver
  /// works), and the addresses are tried in the resolver's order until one accepts. With TLS,
  /// the handshake (certificate and host name checks, ALPN) must finish as well before the
  /// handler is activated. The handler is called on `loop` only, and not at all when the
  /// connect fails.
  ///
  /// - Parameters:
  ///   - timeout: the limit for the whole attempt: all addresses plus the TLS handshake.
  ///   - tls: `nil` for plaintext.
  /// - Throws: ``IOError`` naming the address when every address failed or the time ran out
  ///   (then `isTimeout` is set). ``TLSError`` when the handshake failed.
  ///   `CancellationError` when the task was cancelled.
  public static func connect(
    host: String, port: Int, on loop: EventLoop, tls: TLSClientConfiguration?,
    timeout: Duration, handler: any ByteStreamHandler
  ) async throws {
    let addresses = try await SocketAddress.resolveInBackground(host: host, port: port)
    var secure: ConnectAttempt.Security?
    if let tls {
      let context = try tls.makeContext()
      var serverName = tls.serverName ?? host
      if serverName.hasPrefix("["), serverName.hasSuffix("]") {
        serverName = String(serverName.dropFirst().dropLast())
      }
      guard !serverName.isEmpty else {
        throw TLSError(kind: .configuration, message: "the TLS server name for \(host):\(port) is empty")
      }
      secure = .init(context: context, serverName: serverName, verify: tls.verifiesPeer)
    }
    let deadline = MonotonicClock.now() &+ MonotonicClock.nanoseconds(timeout)
    let box = UncheckedSendable(
      ConnectAttempt(
        loop: loop, target: "\(host):\(port)", addresses: addresses, deadline: deadline,
        timeout: timeout, security: secure, handler: handler))
    try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        loop.execute { box.value.start(continuation) }
      }
    } onCancel: {
      loop.execute { box.value.cancel() }
    }
  }
}

/// One connect on the loop thread: tries the addresses in turn, then the TLS handshake.
final class ConnectAttempt: EventSource {
  struct Security {
    var context: TLSContext
    var serverName: String
    var verify: Bool
  }

  private let loop: EventLoop
  private let target: String
  private let addresses: [SocketAddress]
  private let deadline: UInt64
  private let timeout: Duration
  private let security: Security?
  private let handler: any ByteStreamHandler

  private var continuation: CheckedContinuation<Void, any Error>?
  private var isCancelled = false
  private var index = 0
  private var fd: Int32 = -1
  private var registrationID: UInt64 = 0
  private var timer: TimerHandle?
  private var failures: [String] = []
  private var lastError: IOError?
  /// The channel once TCP connected, while TLS is still handshaking.
  private var handshakingSocket: SocketChannel?

  init(
    loop: EventLoop, target: String, addresses: [SocketAddress], deadline: UInt64, timeout: Duration,
    security: Security?, handler: any ByteStreamHandler
  ) {
    self.loop = loop
    self.target = target
    self.addresses = addresses
    self.deadline = deadline
    self.timeout = timeout
    self.security = security
    self.handler = handler
  }

  func start(_ continuation: CheckedContinuation<Void, any Error>) {
    guard !isCancelled else {
      continuation.resume(throwing: CancellationError())
      return
    }
    self.continuation = continuation
    let now = MonotonicClock.now()
    let remaining = deadline > now ? deadline - now : 0
    timer = loop.scheduleTimer(after: .nanoseconds(Int64(min(remaining, UInt64(Int64.max))))) { [self] in
      timedOut()
    }
    tryNextAddress()
  }

  /// Cancels the attempt; when `start` has not run yet, it fails as soon as it does.
  func cancel() {
    isCancelled = true
    finish(.failure(CancellationError()))
  }

  private func timedOut() {
    timer = nil
    let address = index < addresses.count ? addresses[index].description : target
    finish(
      .failure(
        IOError(
          operation: "connect", address: address, errnoCode: nil,
          reason: "timed out after \(timeout)", isTimeout: true)))
  }

  private func tryNextAddress() {
    while continuation != nil, index < addresses.count {
      let address = addresses[index]
      let created = socket(address.domain, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
      guard created >= 0 else {
        record(IOError(operation: "socket", address: address.description, errno: errno))
        continue
      }
      fd = created
      let result = address.withSockAddr { Glibc.connect(created, $0, $1) }
      if result == 0 {
        connected()
        return
      }
      let code = errno
      if code == EINPROGRESS {
        do {
          registrationID = try loop.register(fd: fd, events: EpollEvents.output, source: self)
          return
        } catch {
          closeSocket(registered: false)
          record(error)
          continue
        }
      }
      closeSocket(registered: false)
      record(IOError(operation: "connect", address: address.description, errno: code))
    }
    if continuation != nil {
      finish(.failure(combinedError()))
    }
  }

  private func record(_ error: IOError) {
    lastError = error
    failures.append("\(error.address ?? "?"): \(error.reason)")
    index += 1
  }

  private func combinedError() -> IOError {
    guard failures.count > 1, let lastError else {
      return lastError ?? IOError(operation: "connect", address: target, errnoCode: nil, reason: "no address to try")
    }
    return IOError(
      operation: "connect", address: target, errnoCode: lastError.errnoCode,
      reason: "all \(failures.count) addresses failed: \(failures.joined(separator: "; "))")
  }

  private func closeSocket(registered: Bool) {
    guard fd >= 0 else { return }
    if registered {
      loop.deregister(fd: fd, id: registrationID)
    }
    Glibc.close(fd)
    fd = -1
  }

  func handleEvents(_ events: UInt32) {
    guard continuation != nil, fd >= 0 else { return }
    let code = SocketOptions.pendingError(fd)
    if code != 0 {
      closeSocket(registered: true)
      record(IOError(operation: "connect", address: addresses[index].description, errno: code))
      tryNextAddress()
      return
    }
    loop.deregister(fd: fd, id: registrationID)
    connected()
  }

  func eventLoopWillClose() {
    if fd >= 0 {
      Glibc.close(fd)
      fd = -1
    }
    finish(
      .failure(
        IOError(operation: "connect", address: target, errnoCode: nil, reason: "the event loop shut down")))
  }

  /// TCP is up: build the channel and either activate the handler or start TLS.
  private func connected() {
    let address = addresses[index]
    let local = SocketAddress.of(fd: fd, peer: false) ?? address
    let channel = SocketChannel(fd: fd, eventLoop: loop, remoteAddress: address, localAddress: local)
    // The channel owns the descriptor from here on.
    fd = -1
    guard let security else {
      do {
        try channel.activate(handler: handler)
        finish(.success(()))
      } catch {
        finish(.failure(error))
      }
      return
    }
    handshakingSocket = channel
    let secure = TLSChannel(
      socket: channel, context: security.context,
      role: .client(serverName: security.serverName, verify: security.verify), handler: handler)
    secure.onHandshakeComplete = { [self] result in
      handshakingSocket = nil
      finish(result)
    }
    do {
      try channel.activate(handler: secure)
    } catch {
      finish(.failure(error))
    }
  }

  private func finish(_ result: Result<Void, any Error>) {
    guard let continuation else { return }
    self.continuation = nil
    timer?.cancel()
    timer = nil
    if case .failure(let error) = result {
      closeSocket(registered: registrationID != 0 && fd >= 0)
      // A TLS handshake still running is abandoned without calling the handler.
      if let handshakingSocket {
        self.handshakingSocket = nil
        handshakingSocket.abort(error: error)
      }
    }
    continuation.resume(with: result)
  }
}
