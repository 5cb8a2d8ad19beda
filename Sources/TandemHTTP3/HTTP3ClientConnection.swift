import Glibc
import Synchronization
import TandemHTTP
import TandemIO

/// A client's HTTP/3 connection over QUIC: every request on its own QUIC stream.
///
/// Requests beyond the server's stream limit wait for more credit (MAX_STREAMS) instead of
/// failing. A request whose stream is opened with `isSafeToReplay` goes out in 0-RTT when a
/// session ticket for the server is cached. When the server rejects the early data, the
/// request is sent again after the handshake, so the caller does not notice.
public final class HTTP3ClientConnection: HTTPClientConnection, Sendable {
  let connection: QUICConnection

  /// The loop that runs this connection.
  public var eventLoop: EventLoop { connection.eventLoop }

  public var version: HTTPVersion { .http3 }

  public var isAcceptingStreams: Bool { connection.acceptingStreams.load(ordering: .acquiring) }

  init(connection: QUICConnection, delegate: (any HTTPClientConnectionDelegate)?) {
    self.connection = connection
    connection.clientDelegate = delegate
    connection.clientConnection = self
  }

  deinit {
    // Streams still running keep the QUIC connection alive; it closes after the last one.
    let connection = self.connection
    connection.eventLoop.execute { connection.beginGracefulShutdown() }
  }

  /// Connects to an HTTP/3 server.
  ///
  /// Returns after the handshake completed, or, when a cached session ticket allows 0-RTT,
  /// as soon as the first packet is out, so that requests marked safe to replay travel in the
  /// first flight.
  ///
  /// - Parameters:
  ///   - host: a numeric address or a name, resolved with `getaddrinfo`; the first address is used.
  ///   - port: the server's UDP port.
  ///   - loop: the loop that runs the connection.
  ///   - tls: trust, server name and client certificate.
  ///   - configuration: connection settings.
  ///   - sessionCache: where tickets, transport parameters and tokens are kept, default
  ///     ``QUICSessionCache/shared``; `nil` disables resumption and 0-RTT.
  ///   - delegate: receives GOAWAY and the end of the connection.
  ///   - timeout: the longest the handshake may take, default 20 s (the configuration's
  ///     `handshakeTimeout` also applies).
  ///   - logger: where connection events are logged; default ``HTTPTransportLogger/disabled``.
  ///   - waitsForHandshake: `false` (the default) returns as soon as 0-RTT is possible, so that
  ///     early requests can go out. `true` returns only once the handshake has completed,
  ///     because only that proves the path works, as a race between transports needs.
  /// - Throws: ``HTTPTransportError`` when resolving or the handshake fails or times out,
  ///   ``TLSError`` when the certificate does not verify or a file is invalid, ``IOError``
  ///   when the socket cannot be created.
  public static func connect(
    host: String, port: Int, loop: EventLoop, tls: QUICClientTLSConfiguration,
    configuration: HTTP3Configuration = HTTP3Configuration(),
    sessionCache: QUICSessionCache? = .shared,
    delegate: (any HTTPClientConnectionDelegate)? = nil,
    timeout: Duration = .seconds(20),
    logger: HTTPTransportLogger = .disabled,
    waitsForHandshake: Bool = false
  ) async throws -> HTTP3ClientConnection {
    try configuration.validate()
    let context = try tls.makeContext()
    let remote = try await SocketAddress.resolveInBackground(host: host, port: port)[0]
    let serverName = tls.serverName ?? host
    let isAddress = (try? SocketAddress(ipAddress: serverName, port: 0)) != nil
    let handler = QUICClientSocketHandler()
    let socket = try UDPSocket.bind(
      host: remote.family == .ipv4 ? "0.0.0.0" : "::", port: 0, on: loop, configuration: clientSocketConfiguration,
      handler: handler)
    let quic = QUICConnection(
      role: .client, configuration: configuration, eventLoop: loop, socket: socket, localAddress: socket.localAddress,
      remoteAddress: remote, packets: PacketBuffer(for: configuration))
    handler.connection = quic
    quic.logger = logger
    let client = HTTP3ClientConnection(connection: quic, delegate: delegate)
    let cacheKey = QUICSessionCache.key(serverName: serverName, port: port, address: remote.description)

    // The continuation, until the handshake's outcome or a cancellation resumes it, once.
    let pending = Mutex<(continuation: CheckedContinuation<Void, Error>?, done: Bool)>((nil, false))
    // Resumes the caller unless that happened already, and returns whether this call did.
    let finish: @Sendable (Error?) -> Bool = { error in
      let (first, continuation) = pending.withLock { state -> (Bool, CheckedContinuation<Void, Error>?) in
        guard !state.done else { return (false, nil) }
        state.done = true
        defer { state.continuation = nil }
        return (true, state.continuation)
      }
      if let continuation {
        if let error { continuation.resume(throwing: error) } else { continuation.resume() }
      }
      return first
    }
    let startClient: @Sendable () -> Void = {
      loop.execute {
        quic.onHandshake = { error in _ = finish(error) }
        do {
          try socket.connect(to: remote)
          try quic.startClient(
            tls: context, verifyName: serverName, sniName: isAddress ? nil : serverName, cache: sessionCache,
            cacheKey: cacheKey)
        } catch {
          quic.onHandshake = nil
          quic.tearDown(detail: "\(error)")
          _ = finish(error)
          return
        }
        // The timer keeps a strong reference to `quic`, so the end of the handshake and
        // `tearDown` cancel it. Otherwise a closed connection stays allocated until `timeout`.
        quic.handshakeTimer = loop.scheduleTimer(after: timeout) {
          quic.handshakeTimer = nil
          guard !quic.handshakeCompleted, !quic.isTornDown else { return }
          quic.tearDown(detail: "the QUIC handshake did not finish within \(timeout)")
        }
        quic.writePackets()
        if quic.attemptedEarlyData && !waitsForHandshake {
          // Early data is possible: requests may be sent before the handshake completes.
          _ = finish(nil)
        }
      }
    }
    try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
        let cancelledEarly = pending.withLock { state -> Bool in
          if state.done { return true }
          state.continuation = continuation
          return false
        }
        if cancelledEarly {
          continuation.resume(throwing: CancellationError())
          loop.execute { quic.tearDown(detail: "the connection attempt was cancelled") }
        } else {
          startClient()
        }
      }
    } onCancel: {
      // A cancelled attempt stops at once and frees its socket, instead of running until the
      // handshake timeout. A connection that has already been returned is left alone.
      guard finish(CancellationError()) else { return }
      loop.execute {
        quic.onHandshake = nil
        quic.tearDown(detail: "the connection attempt was cancelled")
      }
    }
    return client
  }

  /// Opens a request stream. The stream opens on the wire once the handshake and the
  /// server's stream limit allow.
  public func openStream(
    requestHeaders: [HTTPField], endStream: Bool, delegate: any HTTPStreamDelegate
  ) throws -> any HTTPStream {
    try openStream(requestHeaders: requestHeaders, endStream: endStream, isSafeToReplay: false, delegate: delegate)
  }

  /// Opens a request stream that may travel in 0-RTT when `isSafeToReplay` is true.
  ///
  /// - Throws: ``HTTPTransportError`` of kind `connectionUnavailable` when the connection is
  ///   closed or going away, or `protocolError` naming a header field HTTP/3 cannot carry.
  public func openStream(
    requestHeaders: [HTTPField], endStream: Bool, isSafeToReplay: Bool, delegate: any HTTPStreamDelegate
  ) throws -> any HTTPStream {
    guard isAcceptingStreams else {
      throw HTTPTransportError(.connectionUnavailable, "the HTTP/3 connection is closed or going away and takes no new streams")
    }
    if let problem = HTTP3HeaderList.firstInvalidField(in: requestHeaders) {
      throw HTTPTransportError(.protocolError, "cannot send request: \(problem)")
    }
    let stream = HTTP3Stream(connection: connection, delegate: delegate)
    stream.requestHeaders = requestHeaders
    stream.requestEndsStream = endStream
    stream.allowsEarlyData = isSafeToReplay && connection.configuration.earlyData
    stream.runOnLoop { $0.connection.startClientStream($0) }
    return stream
  }

  /// Whether the connection closed because its path stopped responding after the handshake:
  /// ``HTTP3Configuration/maxProbeTimeouts`` probe timeouts in a row, as behind a UDP black hole.
  public var closedBecausePathFailed: Bool {
    connection.pathFailed.load(ordering: .relaxed)
  }

  /// Stops new requests, lets the open ones finish, then closes the connection with
  /// CONNECTION_CLOSE (H3_NO_ERROR).
  public func close() {
    let connection = self.connection
    connection.acceptingStreams.store(false, ordering: .releasing)
    connection.eventLoop.execute { connection.beginGracefulShutdown() }
  }

  /// Returns whether the server accepted the connection's 0-RTT data: `false` before the
  /// handshake completes and when no early data was sent.
  public func earlyDataAccepted() async -> Bool {
    let connection = self.connection
    return await withCheckedContinuation { continuation in
      connection.eventLoop.execute { continuation.resume(returning: connection.attemptedEarlyData && connection.earlyDataAccepted) }
    }
  }

  /// Returns whether the TLS session was resumed from a cached ticket.
  public func sessionResumed() async -> Bool {
    let connection = self.connection
    return await withCheckedContinuation { continuation in
      connection.eventLoop.execute { continuation.resume(returning: connection.sessionWasResumed) }
    }
  }

  /// Moves the connection to a new local UDP port, as a client does when its network
  /// changes. Open streams continue on the new path, which the server validates.
  ///
  /// - Throws: ``HTTPTransportError`` when the handshake is not confirmed yet or the server
  ///   disabled migration, ``IOError`` when the new socket cannot be created.
  public func migrateToNewLocalPort() async throws {
    let connection = self.connection
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
      connection.eventLoop.execute {
        do {
          guard let current = connection.socket else {
            throw HTTPTransportError(.connectionUnavailable, "the connection is closed")
          }
          let handler = QUICClientSocketHandler()
          handler.connection = connection
          let host = current.localAddress.family == .ipv4 ? "0.0.0.0" : "::"
          let socket = try UDPSocket.bind(
            host: host, port: 0, on: connection.eventLoop, configuration: clientSocketConfiguration, handler: handler)
          do {
            try socket.connect(to: connection.remoteAddress)
            try connection.migrate(to: socket)
          } catch {
            socket.close()
            throw error
          }
          continuation.resume()
        } catch {
          continuation.resume(throwing: error)
        }
      }
    }
  }

  /// Returns the local address of the connection's current path.
  public func localAddress() async -> SocketAddress {
    let connection = self.connection
    return await withCheckedContinuation { continuation in
      connection.eventLoop.execute { continuation.resume(returning: connection.localAddress) }
    }
  }
}

/// A client socket's settings: UDP GRO on with 8 receive slots of 64 KiB (512 KiB), and 4 MiB
/// socket buffers requested.
let clientSocketConfiguration: UDPSocketConfiguration = {
  var configuration = UDPSocketConfiguration()
  configuration.receiveOffload = true
  configuration.dontFragment = true
  configuration.receiveBatchSize = 8
  return configuration
}()

/// Feeds a client socket's datagrams to its connection.
final class QUICClientSocketHandler: UDPSocketHandler, @unchecked Sendable {
  weak var connection: QUICConnection?

  func socket(_ socket: UDPSocket, didReceive datagrams: [UDPDatagram]) {
    guard let connection else { return }
    for datagram in datagrams {
      connection.receive(datagram.bytes, local: socket.localAddress, remote: datagram.remoteAddress, ecn: datagram.ecn)
      if connection.isTornDown { return }
    }
    connection.deliverInbound()
    connection.scheduleWrite()
  }

  func socket(_ socket: UDPSocket, didFailToSend error: IOError) {}

  func socket(_ socket: UDPSocket, didReceiveICMPError error: IOError) {
    // Port unreachable before the handshake means no QUIC server listens there; later it
    // may be a passing routing problem, which QUIC's timers handle.
    guard let connection, !connection.handshakeCompleted, connection.socket === socket else { return }
    connection.tearDown(detail: "the server's UDP port is unreachable (\(error.reason))")
  }

  func socketDidClose(_ socket: UDPSocket, error: IOError?) {
    guard let connection, let error, connection.socket === socket else { return }
    connection.tearDown(detail: "the UDP socket failed: \(error)")
  }
}
