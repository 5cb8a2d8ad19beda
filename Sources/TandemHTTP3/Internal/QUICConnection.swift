import CQUIC
import Glibc
import Synchronization
import TandemHTTP
import TandemIO

/// The source of ``HTTPConnectionInfo/connectionID`` for HTTP/3 connections.
let nextHTTP3ConnectionID = Atomic<UInt64>(1 << 32)

/// A reusable buffer for one burst of outgoing packets that leave in one `sendmsg` call: at
/// most 64 packets (the UDP GSO segment limit) and at most ``maxBatchBytes`` bytes together.
final class PacketBuffer {
  static let maxPackets = 64
  /// The maximum number of bytes in one GSO send: 65,535 less the IPv4 and UDP headers.
  static let maxBatchBytes = 65_507
  /// The largest single packet written into the buffer.
  let packetCapacity: Int
  let base: UnsafeMutablePointer<UInt8>

  init(packetCapacity: Int) {
    self.packetCapacity = packetCapacity
    base = .allocate(capacity: max(packetCapacity, Self.maxBatchBytes))
  }

  /// Creates a buffer for the packets of connections with `configuration`, large enough for
  /// the loopback payload size too.
  convenience init(for configuration: HTTP3Configuration) {
    self.init(packetCapacity: max(configuration.maxUDPPayloadSize, configuration.loopbackUDPPayloadSize ?? 0))
  }

  deinit {
    base.deallocate()
  }
}

/// One QUIC connection with HTTP/3 on top, client or server: an `ngtcp2_conn` with its GnuTLS
/// session and an `nghttp3_conn`.
///
/// Everything except the atomics runs on `eventLoop`. The C libraries keep unretained
/// pointers to this object, so the server endpoint's table or the client connection object
/// keeps it alive until ``tearDown(detail:)`` has deleted them.
final class QUICConnection: @unchecked Sendable {
  enum Role {
    case client
    case server
  }

  enum ShutdownState {
    case open
    /// The GOAWAY notice went out; the final GOAWAY follows after `goAwayNoticeDelay`.
    case noticeSent
    /// The final GOAWAY went out; the connection closes when its last stream does.
    case goAwaySent
  }

  let role: Role
  let configuration: HTTP3Configuration
  let eventLoop: EventLoop
  let acceptingStreams = Atomic<Bool>(true)
  let connectionNumber: UInt64

  var conn: OpaquePointer?
  var h3: OpaquePointer?
  var tlsSession: gnutls_session_t?
  /// Verification data that GnuTLS reads during the handshake; freed after the session.
  var verificationStorage: UnsafeMutableRawPointer?
  let connectionReference: UnsafeMutablePointer<ngtcp2_crypto_conn_ref>
  let readPath: UnsafeMutablePointer<ngtcp2_path_storage>
  let writePath: UnsafeMutablePointer<ngtcp2_path_storage>
  let packetInfo: UnsafeMutablePointer<ngtcp2_pkt_info>
  let packets: PacketBuffer
  /// Client only: the name the server certificate must match.
  var verifiedName: String?
  /// Whether the connection closed because its path stopped responding (``HTTP3Configuration/maxProbeTimeouts``).
  let pathFailed = Atomic<Bool>(false)
  /// The payload size this connection sends from its first packet on when the peer is on
  /// loopback; `nil` leaves the size to path MTU discovery.
  let loopbackPayloadSize: Int?

  /// The socket that packets go out on (and, for a client, come in on).
  var socket: UDPSocket?
  /// The local address in the current path.
  var localAddress: SocketAddress
  var remoteAddress: SocketAddress

  var streams: [Int64: HTTP3Stream] = [:]
  /// Client streams that wait for the handshake, for stream credit, or for a new HTTP/3
  /// connection after rejected early data, in call order.
  var waitingStreams: [HTTP3Stream] = []
  var writableStreams: [HTTP3Stream] = []
  /// Streams whose ``HTTP3Stream/inbound`` bytes wait for ``deliverInbound()``.
  var inboundStreams: [HTTP3Stream] = []
  var writeScheduled = false
  /// Nonzero while ngtcp2 runs, when the connection must not be deleted.
  var callbackDepth = 0
  var deferredCloseDetail: String?
  /// An HTTP/3 error that a callback reported; the connection closes with it.
  var pendingApplicationError: UInt64?
  var isTornDown = false
  var handshakeCompleted = false
  /// Whether the TLS handshake itself failed, which makes GnuTLS' verification result meaningful.
  var tlsHandshakeFailed = false
  var handshakeConfirmed = false
  /// The reason for the latest stream this side reset on its own, for tests and debuggers.
  var lastStreamFailure: String?
  var shutdownState = ShutdownState.open
  var timer: TimerHandle?
  var timerDeadline = UInt64.max
  var goAwayTimer: TimerHandle?
  /// Client only: the timer that closes the connection when the handshake takes longer than
  /// the connect timeout.
  var handshakeTimer: TimerHandle?
  var closeDetail: String?
  /// Server only: whether the acceptor received this connection's opening, so it also
  /// receives the close.
  var reportedOpen = false
  /// The latest failed send, kept for tests and debuggers.
  var lastSendFailure: String?

  // Server side.
  weak var endpoint: QUICServerEndpoint?
  var acceptor: (any HTTPServerStreamAcceptor)?
  var connectionInfo = HTTPConnectionInfo(version: .http3, remotePeer: "", localPeer: "", isSecure: true, connectionID: 0)
  /// The client's original destination connection ID, also a key in the endpoint's table.
  var originalDestinationID: [UInt8] = []
  /// The connection IDs this server connection is known by in the endpoint's table.
  var registeredIDs: Set<[UInt8]> = []
  /// The credentials the TLS session uses; kept as long as the session exists.
  var serverContext: GnuTLSServerContext?
  var tokenSecret: [UInt8] = []

  // Client side.
  weak var clientConnection: HTTP3ClientConnection?
  var clientDelegate: (any HTTPClientConnectionDelegate)?
  /// Called once when the handshake finished (`nil`) or failed.
  var onHandshake: ((Error?) -> Void)?
  /// The credentials the TLS session uses; kept as long as the session exists.
  var clientContext: GnuTLSClientContext?
  var sessionCache: QUICSessionCache?
  var sessionCacheKey = ""
  var attemptedEarlyData = false
  var earlyDataAccepted = false
  var peerGoAwayID: Int64?
  var gracefulCloseRequested = false
  var extraSockets: [UDPSocket] = []

  /// Called once when the connection has closed, with the reason.
  var onClose: ((QUICConnection, String) -> Void)?
  var logger = HTTPTransportLogger.disabled

  /// The key-value context of this connection's log records.
  var logMetadata: [(String, String)] {
    [("connection_id", String(connectionNumber)), ("peer", remoteAddress.description), ("role", role == .server ? "server" : "client")]
  }

  init(
    role: Role, configuration: HTTP3Configuration, eventLoop: EventLoop, socket: UDPSocket?,
    localAddress: SocketAddress, remoteAddress: SocketAddress, packets: PacketBuffer
  ) {
    self.role = role
    self.configuration = configuration
    self.eventLoop = eventLoop
    self.socket = socket
    self.localAddress = localAddress
    self.remoteAddress = remoteAddress
    self.packets = packets
    loopbackPayloadSize = Self.loopbackPayloadSize(configuration: configuration, remote: remoteAddress)
    connectionNumber = nextHTTP3ConnectionID.add(1, ordering: .relaxed).oldValue
    connectionReference = .allocate(capacity: 1)
    readPath = .allocate(capacity: 1)
    writePath = .allocate(capacity: 1)
    packetInfo = .allocate(capacity: 1)
    packetInfo.initialize(to: ngtcp2_pkt_info())
    ngtcp2_path_storage_zero(readPath)
    ngtcp2_path_storage_zero(writePath)
    connectionReference.initialize(
      to: ngtcp2_crypto_conn_ref(
        get_conn: { reference in
          guard let reference, let pointer = reference.pointee.user_data else { return nil }
          return Unmanaged<QUICConnection>.fromOpaque(pointer).takeUnretainedValue().conn
        },
        user_data: nil))
    connectionReference.pointee.user_data = Unmanaged.passUnretained(self).toOpaque()
  }

  deinit {
    releaseLibraries()
    connectionReference.deallocate()
    readPath.deallocate()
    writePath.deallocate()
    packetInfo.deallocate()
  }

  var userData: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

  static func from(_ userData: UnsafeMutableRawPointer?) -> QUICConnection {
    Unmanaged<QUICConnection>.fromOpaque(userData!).takeUnretainedValue()
  }

  /// Returns the UDP payload size for a loopback peer: the smallest of
  /// ``HTTP3Configuration/loopbackUDPPayloadSize``, the loopback route's MTU less the IP and
  /// UDP headers, and 65,507. Returns `nil` when the peer is not on loopback, the setting is
  /// off, the MTU is unknown, or the result would not exceed ``HTTP3Configuration/maxUDPPayloadSize``.
  static func loopbackPayloadSize(configuration: HTTP3Configuration, remote: SocketAddress) -> Int? {
    guard let wanted = configuration.loopbackUDPPayloadSize, remote.isLoopback,
      let mtu = try? UDPSocket.routeMTU(to: remote)
    else { return nil }
    // NOTE: the MTU is read once; if an administrator lowers it during a connection, larger
    // sends fail with EMSGSIZE until the connection times out.
    let headers = remote.family == .ipv4 ? 28 : 48
    let size = min(wanted, mtu - headers, PacketBuffer.maxBatchBytes)
    return size > configuration.maxUDPPayloadSize ? size : nil
  }

  /// Fills `storage` with this connection's local and remote address.
  static func setPath(_ storage: UnsafeMutablePointer<ngtcp2_path_storage>, local: SocketAddress, remote: SocketAddress) {
    local.withSockAddr { localPointer, localLength in
      remote.withSockAddr { remotePointer, remoteLength in
        ngtcp2_path_storage_init(storage, localPointer, localLength, remotePointer, remoteLength, nil)
      }
    }
  }

  // MARK: Transport parameters and settings

  func makeSettings() -> ngtcp2_settings {
    var settings = ngtcp2_settings()
    ngtcp2_settings_default_versioned(NGTCP2_SETTINGS_VERSION, &settings)
    settings.initial_ts = QUICClock.now()
    settings.max_tx_udp_payload_size = configuration.maxUDPPayloadSize
    if let size = loopbackPayloadSize {
      // The loopback MTU is the path MTU, so packets start at full size without discovery.
      settings.max_tx_udp_payload_size = size
      settings.no_tx_udp_payload_size_shaping = 1
      settings.no_pmtud = 1
    }
    settings.handshake_timeout = QUICClock.nanoseconds(configuration.handshakeTimeout)
    settings.max_stream_window = UInt64(configuration.initialStreamWindowSize) * 6
    settings.max_window = UInt64(configuration.connectionWindowSize) * 3
    switch configuration.congestionControl {
    case .cubic: settings.cc_algo = NGTCP2_CC_ALGO_CUBIC
    case .reno: settings.cc_algo = NGTCP2_CC_ALGO_RENO
    case .bbr: settings.cc_algo = NGTCP2_CC_ALGO_BBR
    }
    return settings
  }

  func makeTransportParameters() -> ngtcp2_transport_params {
    var params = ngtcp2_transport_params()
    ngtcp2_transport_params_default_versioned(NGTCP2_TRANSPORT_PARAMS_VERSION, &params)
    let window = UInt64(configuration.initialStreamWindowSize)
    params.initial_max_stream_data_bidi_local = window
    params.initial_max_stream_data_bidi_remote = window
    params.initial_max_stream_data_uni = window
    params.initial_max_data = UInt64(configuration.connectionWindowSize)
    params.initial_max_streams_uni = 3
    params.initial_max_streams_bidi = role == .server ? UInt64(configuration.maxConcurrentStreams) : 0
    params.max_idle_timeout = QUICClock.nanoseconds(configuration.idleTimeout)
    params.active_connection_id_limit = 7
    return params
  }

  func applyKeepalive() {
    guard let conn, let interval = configuration.keepaliveInterval else { return }
    ngtcp2_conn_set_keep_alive_timeout(conn, QUICClock.nanoseconds(interval))
  }

  // MARK: Reading

  /// Feeds one received datagram to ngtcp2. The caller schedules the write afterwards.
  func receive(_ bytes: UnsafeRawBufferPointer, local: SocketAddress, remote: SocketAddress, ecn: UInt8?) {
    guard let conn, !isTornDown, let base = bytes.baseAddress else { return }
    Self.setPath(readPath, local: local, remote: remote)
    packetInfo.pointee.ecn = UInt32(ecn ?? 0)
    callbackDepth += 1
    let result = ngtcp2_conn_read_pkt_versioned(
      conn, &readPath.pointee.path, NGTCP2_PKT_INFO_VERSION, packetInfo,
      base.assumingMemoryBound(to: UInt8.self), bytes.count, QUICClock.now())
    callbackDepth -= 1
    if result != 0 {
      handleReadFailure(Int(result))
      return
    }
    if deferredCloseDetail != nil || pendingApplicationError != nil {
      closeAfterCallbackFailure()
      return
    }
    scheduleWrite()
  }

  private func handleReadFailure(_ code: Int) {
    switch Int32(code) {
    case NGTCP2_ERR_DRAINING:
      tearDown(detail: peerCloseDetail() ?? "the peer closed the connection")
    case NGTCP2_ERR_DROP_CONN:
      tearDown(detail: "ngtcp2 dropped the connection")
    case NGTCP2_ERR_CRYPTO:
      var error = ngtcp2_connection_close_error()
      ngtcp2_connection_close_error_default(&error)
      let alert = conn.map { ngtcp2_conn_get_tls_alert($0) } ?? 0
      tlsHandshakeFailed = true
      ngtcp2_connection_close_error_set_transport_error_tls_alert(&error, alert, nil, 0)
      sendConnectionClose(error)
      tearDown(detail: tlsFailureDetail(alert: alert))
    default:
      if pendingApplicationError != nil || deferredCloseDetail != nil {
        closeAfterCallbackFailure()
        return
      }
      var error = ngtcp2_connection_close_error()
      ngtcp2_connection_close_error_default(&error)
      ngtcp2_connection_close_error_set_transport_error_liberr(&error, Int32(code), nil, 0)
      sendConnectionClose(error)
      tearDown(detail: "QUIC error: \(QUICErrorText.ngtcp2(code))")
    }
  }

  /// Closes the connection with the HTTP/3 error and detail that a callback or the write
  /// pass recorded.
  func closeAfterCallbackFailure() {
    let code = pendingApplicationError ?? UInt64(NGHTTP3_H3_INTERNAL_ERROR)
    let detail = deferredCloseDetail ?? "HTTP/3 error 0x\(String(code, radix: 16))"
    deferredCloseDetail = nil
    pendingApplicationError = nil
    close(applicationError: code, detail: detail)
  }

  /// Returns the reason the peer gave in its CONNECTION_CLOSE, if it sent one.
  func peerCloseDetail() -> String? {
    guard let conn else { return nil }
    var error = ngtcp2_connection_close_error()
    ngtcp2_conn_get_connection_close_error(conn, &error)
    var reason = ""
    if let text = error.reason, error.reasonlen > 0 {
      reason = ": " + String(decoding: UnsafeBufferPointer(start: text, count: error.reasonlen), as: UTF8.self)
    }
    switch error.type {
    case NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION:
      return "the peer closed the connection with HTTP/3 error 0x\(String(error.error_code, radix: 16))\(reason)"
    case NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_TRANSPORT:
      return "the peer closed the connection with QUIC error 0x\(String(error.error_code, radix: 16))\(reason)"
    default:
      return nil
    }
  }

  /// Describes a failed TLS handshake, with GnuTLS' verification result when that failed.
  func tlsFailureDetail(alert: UInt8) -> String {
    if let tlsSession {
      let status = gnutls_session_get_verify_cert_status(tlsSession)
      if status != 0 {
        return "TLS certificate verification failed: \(verificationText(status))"
      }
    }
    return "the TLS handshake failed with alert \(alert)"
  }

  /// Returns the typed error for a handshake that failed with `detail`.
  func handshakeError(_ detail: String) -> Error {
    if tlsHandshakeFailed, let tlsSession {
      let status = gnutls_session_get_verify_cert_status(tlsSession)
      if status != 0 {
        let mismatch = status & GNUTLS_CERT_UNEXPECTED_OWNER.rawValue != 0
        let problem =
          mismatch
          ? "the server certificate does not match the server name '\(verifiedName ?? "?")'"
          : "the server certificate did not verify"
        return TLSError(
          kind: mismatch ? .hostnameMismatch : .certificateVerificationFailed,
          message: "QUIC handshake with \(remoteAddress) failed: \(problem)",
          verifyResult: verificationText(status))
      }
    }
    return HTTPTransportError(.connectFailed, "QUIC handshake with \(remoteAddress) failed: \(detail)")
  }

  // MARK: Closing

  /// Sends CONNECTION_CLOSE with an HTTP/3 error code, then tears the connection down.
  func close(applicationError code: UInt64, detail: String) {
    guard !isTornDown else { return }
    if callbackDepth > 0 {
      pendingApplicationError = code
      if deferredCloseDetail == nil { deferredCloseDetail = detail }
      return
    }
    var error = ngtcp2_connection_close_error()
    ngtcp2_connection_close_error_default(&error)
    ngtcp2_connection_close_error_set_application_error(&error, code, nil, 0)
    sendConnectionClose(error)
    tearDown(detail: detail)
  }

  /// Writes and sends one CONNECTION_CLOSE packet, unless the connection is already closing
  /// or draining.
  func sendConnectionClose(_ error: ngtcp2_connection_close_error) {
    guard let conn, ngtcp2_conn_is_in_closing_period(conn) == 0, ngtcp2_conn_is_in_draining_period(conn) == 0 else {
      return
    }
    var error = error
    ngtcp2_path_storage_zero(writePath)
    let written = ngtcp2_conn_write_connection_close_versioned(
      conn, &writePath.pointee.path, NGTCP2_PKT_INFO_VERSION, packetInfo, packets.base, packets.packetCapacity,
      &error, QUICClock.now())
    guard written > 0 else { return }
    // NOTE: the closing period of RFC 9000, section 10.2.1 is not kept. Later packets of the
    // peer get no repeated CONNECTION_CLOSE; a server replies to them with a stateless reset.
    transmit(count: Int(written), segmentSize: Int(written), path: &writePath.pointee.path)
  }

  /// Closes every stream with `.connectionClosed(detail:)` and deletes the libraries' state.
  func tearDown(detail: String) {
    guard !isTornDown else { return }
    if callbackDepth > 0 {
      if deferredCloseDetail == nil { deferredCloseDetail = detail }
      return
    }
    isTornDown = true
    closeDetail = detail
    logger.log(.debug, "QUIC connection closed", logMetadata + [("open_streams", String(streams.count)), ("reason", detail)])
    acceptingStreams.store(false, ordering: .releasing)
    timer?.cancel()
    timer = nil
    goAwayTimer?.cancel()
    goAwayTimer = nil
    handshakeTimer?.cancel()
    handshakeTimer = nil

    let waiting = waitingStreams
    waitingStreams.removeAll()
    for stream in waiting {
      finishUnopenedStream(stream, reason: .connectionClosed(detail: detail))
    }
    let open = streams.values.sorted { $0.id < $1.id }
    for stream in open {
      closeStream(stream, reason: .connectionClosed(detail: detail))
    }
    streams.removeAll()
    writableStreams.removeAll()
    endpoint?.connectionDidClose(self)
    let handshakeFailure = onHandshake != nil ? handshakeError(detail) : nil
    releaseLibraries()
    if role == .client {
      socket?.close()
      for extra in extraSockets { extra.close() }
      extraSockets.removeAll()
    }
    socket = nil
    if let onHandshake, let handshakeFailure {
      self.onHandshake = nil
      onHandshake(handshakeFailure)
    }
    if let connection = clientConnection, let delegate = clientDelegate {
      delegate.connectionDidClose(connection, detail: detail)
    }
    clientDelegate = nil
    if reportedOpen, let acceptor {
      reportedOpen = false
      acceptor.connectionClosed(connectionInfo)
    }
    acceptor = nil
    if let onClose {
      self.onClose = nil
      onClose(self, detail)
    }
  }

  /// Deletes the nghttp3, ngtcp2 and GnuTLS state, in that order.
  func releaseLibraries() {
    if let h3 {
      nghttp3_conn_del(h3)
      self.h3 = nil
    }
    if let conn {
      ngtcp2_conn_del(conn)
      self.conn = nil
    }
    if let tlsSession {
      gnutls_deinit(tlsSession)
      self.tlsSession = nil
    }
    verificationStorage?.deallocate()
    verificationStorage = nil
  }
}
