import Synchronization
import TandemHTTP
import TandemIO

/// An HTTP/3 server on one UDP socket: QUIC v1 with TLS 1.3 and ALPN `h3`, each request on
/// its own QUIC stream.
///
/// Every connection of the transport runs on the event loop that reads the socket, taken
/// from `group` by ``start(acceptor:)``. The transport replies to packets of unknown versions
/// with version negotiation and to unknown short-header packets with stateless resets (at
/// most 100 a second). It sends Retry packets as ``HTTP3Configuration/addressValidation`` sets.
public final class HTTP3ServerTransport: HTTPServerTransport, Sendable {
  private struct State {
    var endpoint: QUICServerEndpoint?
    var started = false
    var shuttingDown = false
    var closed = false
    var waiters: [CheckedContinuation<Void, Never>] = []
  }

  /// The address the socket binds to.
  public let host: String
  /// The requested port; 0 picks a free one, which ``start(acceptor:)`` returns.
  public let port: Int
  /// The loops to take the socket's loop from.
  public let group: EventLoopGroup
  /// The certificate and key.
  public let tls: QUICServerTLSConfiguration
  /// Connection settings.
  public let configuration: HTTP3Configuration
  /// Socket settings; see ``defaultSocketConfiguration``.
  public let socketConfiguration: UDPSocketConfiguration
  /// The destination of connection events and caught errors; default ``HTTPTransportLogger/disabled``.
  public let logger: HTTPTransportLogger

  /// The server's default socket settings: UDP GRO on, 16 receive slots of 64 KiB each
  /// (1 MiB), and 4 MiB socket buffers requested, as QUIC at high rates needs.
  public static var defaultSocketConfiguration: UDPSocketConfiguration {
    var configuration = UDPSocketConfiguration()
    configuration.receiveOffload = true
    configuration.dontFragment = true
    configuration.receiveBatchSize = 16
    return configuration
  }

  private let state = Mutex(State())

  /// Creates a transport; nothing binds until ``start(acceptor:)``.
  public init(
    host: String, port: Int, group: EventLoopGroup, tls: QUICServerTLSConfiguration,
    configuration: HTTP3Configuration = HTTP3Configuration(),
    socketConfiguration: UDPSocketConfiguration = HTTP3ServerTransport.defaultSocketConfiguration,
    logger: HTTPTransportLogger = .disabled
  ) {
    self.logger = logger
    self.host = host
    self.port = port
    self.group = group
    self.tls = tls
    self.configuration = configuration
    self.socketConfiguration = socketConfiguration
  }

  /// Binds the UDP socket and starts serving.
  ///
  /// - Returns: the bound port.
  /// - Throws: ``HTTPTransportError`` for an invalid configuration or a second start, or
  ///   ``IOError`` when the socket cannot bind (EADDRINUSE for a port in use).
  public func start(acceptor: any HTTPServerStreamAcceptor) async throws -> Int {
    try configuration.validate()
    try state.withLock { state in
      guard !state.started, !state.shuttingDown else {
        throw HTTPTransportError(.connectionUnavailable, "HTTP3ServerTransport.start was called twice or after shutdown began")
      }
      state.started = true
    }
    let loop = group.next()
    let endpoint = QUICServerEndpoint(
      configuration: configuration, eventLoop: loop, tls: tls.context, acceptor: acceptor, logger: logger)
    endpoint.onClosed = { [weak self] in self?.didClose() }
    let socket: UDPSocket
    do {
      socket = try UDPSocket.bind(host: host, port: port, on: loop, configuration: socketConfiguration, handler: endpoint)
    } catch {
      state.withLock { $0.started = false }
      throw error
    }
    let shutDownEarly = state.withLock { state -> Bool in
      state.endpoint = endpoint
      return state.shuttingDown
    }
    loop.execute {
      endpoint.socket = socket
      if shutDownEarly { endpoint.beginGracefulShutdown() }
    }
    return socket.localAddress.port
  }

  /// Sends GOAWAY on every connection, stops accepting new ones, and closes each connection
  /// when its last request finishes. ``waitUntilClosed()`` returns after that.
  public func beginGracefulShutdown() {
    let endpoint = state.withLock { state -> QUICServerEndpoint? in
      state.shuttingDown = true
      return state.endpoint
    }
    guard let endpoint else {
      didClose()
      return
    }
    endpoint.eventLoop.execute { endpoint.beginGracefulShutdown() }
  }

  /// Closes every connection now with CONNECTION_CLOSE (H3_NO_ERROR) and the socket.
  public func closeNow() {
    let endpoint = state.withLock { state -> QUICServerEndpoint? in
      state.shuttingDown = true
      return state.endpoint
    }
    guard let endpoint else {
      didClose()
      return
    }
    endpoint.eventLoop.execute { endpoint.closeNow() }
  }

  /// Returns once shutdown has begun and the socket and every connection have closed, or at
  /// once when the transport never started.
  public func waitUntilClosed() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      let ready = state.withLock { state -> Bool in
        if !state.started || state.closed { return true }
        state.waiters.append(continuation)
        return false
      }
      if ready { continuation.resume() }
    }
  }

  /// Returns the number of open QUIC connections, read on the transport's loop.
  public func connectionCount() async -> Int {
    guard let endpoint = state.withLock({ $0.endpoint }) else { return 0 }
    return await withCheckedContinuation { continuation in
      endpoint.eventLoop.execute { continuation.resume(returning: endpoint.connectionCount) }
    }
  }

  /// Returns the counts of replies sent without a connection (Retry, version negotiation and
  /// stateless reset), read on the transport's loop.
  public func statelessCounters() async -> (retries: Int, versionNegotiations: Int, statelessResets: Int) {
    guard let endpoint = state.withLock({ $0.endpoint }) else { return (0, 0, 0) }
    return await withCheckedContinuation { continuation in
      endpoint.eventLoop.execute {
        continuation.resume(
          returning: (endpoint.retriesSent, endpoint.versionNegotiationsSent, endpoint.statelessResetsSent))
      }
    }
  }

  private func didClose() {
    let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
      state.closed = true
      let waiters = state.waiters
      state.waiters = []
      return waiters
    }
    for waiter in waiters { waiter.resume() }
  }
}
