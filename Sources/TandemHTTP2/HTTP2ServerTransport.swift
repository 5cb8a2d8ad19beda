import Synchronization
import TandemHTTP
import TandemIO

/// An HTTP/2 server: plaintext with prior knowledge (h2c), or TLS when a
/// `TLSServerConfiguration` is given, whose ALPN list must contain "h2".
///
/// Each accepted connection runs on one loop of the group. The transport sends its SETTINGS
/// first and passes each complete request HEADERS block to the acceptor. Requests that
/// nghttp2 finds malformed (missing or repeated pseudo-headers, uppercase names, a `te` other
/// than "trailers") get RST_STREAM(PROTOCOL_ERROR) and never reach the acceptor.
public final class HTTP2ServerTransport: HTTPServerTransport, Sendable {
  private struct State {
    var listener: TCPListener?
    var connections: [ObjectIdentifier: HTTP2Session] = [:]
    var started = false
    var shuttingDown = false
    var listenerClosed = false
    var waiters: [CheckedContinuation<Void, Never>] = []
    var alternativeService: String?
  }

  /// The host to bind, such as "0.0.0.0", "::" or "127.0.0.1".
  public let host: String
  /// The port to bind; 0 picks a free one that ``start(acceptor:)`` returns.
  public let port: Int
  /// The loops that run the connections.
  public let group: EventLoopGroup
  /// TLS settings, or `nil` for plaintext h2c.
  public let tls: TLSServerConfiguration?
  /// The settings of every connection.
  public let configuration: HTTP2Configuration
  /// The destination of connection events and caught errors; default ``HTTPTransportLogger/disabled``.
  public let logger: HTTPTransportLogger

  private let state = Mutex(State())

  /// Creates a transport; nothing is bound until ``start(acceptor:)``.
  ///
  /// - Parameters:
  ///   - tls: `nil` for plaintext. With TLS, the configuration's ALPN list must offer "h2";
  ///     a connection that negotiates another protocol is closed.
  ///   - configuration: defaults to 100 concurrent streams, 16 KiB header lists, 1 MiB
  ///     stream and 8 MiB connection windows (see ``HTTP2Configuration``).
  ///   - logger: where connection events are logged; default ``HTTPTransportLogger/disabled``.
  public init(
    host: String, port: Int, group: EventLoopGroup, tls: TLSServerConfiguration? = nil,
    configuration: HTTP2Configuration = HTTP2Configuration(), logger: HTTPTransportLogger = .disabled
  ) {
    self.logger = logger
    self.host = host
    self.port = port
    self.group = group
    self.tls = tls
    self.configuration = configuration
  }

  /// The `Alt-Svc` field value (RFC 7838) added to every response's headers, or `nil` for none
  /// (the default). A server that also serves HTTP/3 sets it to `h3=":PORT"; ma=SECONDS`, so
  /// that clients learn about QUIC. Connections accepted after the change use the new value.
  public var alternativeService: String? {
    get { state.withLock { $0.alternativeService } }
    set { state.withLock { $0.alternativeService = newValue } }
  }

  /// Binds and starts accepting connections.
  ///
  /// - Returns: the bound port.
  /// - Throws: ``HTTP2ConfigurationError`` for an invalid configuration or a TLS ALPN list
  ///   without "h2",
  ///   ``HTTPTransportError`` with kind `.connectionUnavailable` when called twice or after
  ///   shutdown began, and TandemIO's `IOError` when binding fails.
  public func start(acceptor: any HTTPServerStreamAcceptor) async throws -> Int {
    try configuration.validate()
    if let tls, !tls.alpn.contains("h2") {
      throw HTTP2ConfigurationError(message: "the TLS ALPN list \(tls.alpn) does not contain \"h2\", which HTTP/2 over TLS requires")
    }
    try state.withLock { state in
      guard !state.started, !state.shuttingDown else {
        throw HTTPTransportError(.connectionUnavailable, "HTTP2ServerTransport.start was called twice or after shutdown began")
      }
      state.started = true
    }
    let configuration = self.configuration
    let listener: TCPListener
    do {
      listener = try bind(configuration: configuration, acceptor: acceptor)
    } catch {
      // A transport that never listened has nothing to wait for.
      state.withLock { $0.started = false }
      throw error
    }
    let shutDownEarly = state.withLock { state -> Bool in
      state.listener = listener
      return state.shuttingDown
    }
    if shutDownEarly {
      listener.close()
      finishListener()
    }
    return listener.port
  }

  private func bind(configuration: HTTP2Configuration, acceptor: any HTTPServerStreamAcceptor) throws -> TCPListener {
    let logger = self.logger
    return try TCPListener.bind(host: host, port: port, group: group, tls: tls) { [weak self] loop in
      let session = HTTP2Session(role: .server, configuration: configuration, eventLoop: loop)
      session.logger = logger
      if let value = self?.alternativeService {
        session.extraResponseFields = [HTTPField(name: "alt-svc", value: value)]
      }
      session.acceptor = acceptor
      // Registered once HTTP/2 starts, so a connection that fails its TLS handshake
      // never holds up waitUntilClosed.
      session.onActive = { [weak self, unowned session] failure in
        if failure == nil {
          self?.register(session)
        }
      }
      return session
    }
  }

  private func register(_ session: HTTP2Session) {
    let shuttingDown = state.withLock { state -> Bool in
      state.connections[ObjectIdentifier(session)] = session
      return state.shuttingDown
    }
    session.onClose = { [weak self] session, _ in
      self?.unregister(session)
    }
    if shuttingDown {
      // The loop runs this after channelActive, which this call precedes.
      session.eventLoop.execute { session.beginGracefulShutdown() }
    }
  }

  private func unregister(_ session: HTTP2Session) {
    let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
      state.connections[ObjectIdentifier(session)] = nil
      return Self.takeWaitersIfClosed(&state)
    }
    for waiter in waiters { waiter.resume() }
  }

  private func finishListener() {
    let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
      state.listenerClosed = true
      return Self.takeWaitersIfClosed(&state)
    }
    for waiter in waiters { waiter.resume() }
  }

  private static func takeWaitersIfClosed(_ state: inout State) -> [CheckedContinuation<Void, Never>] {
    guard state.shuttingDown, state.listenerClosed || state.listener == nil, state.connections.isEmpty else { return [] }
    let waiters = state.waiters
    state.waiters = []
    return waiters
  }

  /// Closes the listener and starts a graceful GOAWAY on every connection: a notice first,
  /// then the final GOAWAY after one PING round trip or 1 second
  /// (``HTTP2Configuration/gracefulShutdownNoticeDelay``). Each connection closes once its
  /// streams finish. Streams that arrive after the final GOAWAY get REFUSED_STREAM.
  public func beginGracefulShutdown() {
    let (listener, sessions) = state.withLock { state -> (TCPListener?, [HTTP2Session]) in
      state.shuttingDown = true
      return (state.listener, Array(state.connections.values))
    }
    listener?.close()
    finishListener()
    for session in sessions {
      session.eventLoop.execute { session.beginGracefulShutdown() }
    }
  }

  /// Closes the listener, sends GOAWAY on every connection and closes them at once. Open
  /// streams end with ``HTTPStreamCloseReason/connectionClosed(detail:)``.
  public func closeNow() {
    let (listener, sessions) = state.withLock { state -> (TCPListener?, [HTTP2Session]) in
      state.shuttingDown = true
      return (state.listener, Array(state.connections.values))
    }
    listener?.close()
    finishListener()
    for session in sessions {
      session.eventLoop.execute { session.closeNow(detail: "the server closed the connection") }
    }
  }

  /// Returns once shutdown began and the listener and every connection are closed. Returns
  /// at once when the transport never started.
  public func waitUntilClosed() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      let ready = state.withLock { state -> Bool in
        if !state.started { return true }
        if state.shuttingDown, state.listenerClosed, state.connections.isEmpty { return true }
        state.waiters.append(continuation)
        return false
      }
      if ready {
        continuation.resume()
      }
    }
  }
}
