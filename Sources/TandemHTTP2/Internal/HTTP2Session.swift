import CNGHTTP2
import Synchronization
import TandemHTTP
import TandemIO

/// The source of ``HTTPConnectionInfo/connectionID``.
let nextConnectionID = Atomic<UInt64>(1)

/// One HTTP/2 connection, client or server, as the handler of a ``ByteStreamChannel``.
///
/// It wraps an `nghttp2_session` that `nghttp2_session_mem_recv` feeds and
/// `nghttp2_session_mem_send` drains into the channel. Everything except the atomics runs on
/// `eventLoop`; the `@unchecked Sendable` only lets other threads hold a reference and hop
/// onto the loop with it.
final class HTTP2Session: ByteStreamHandler, @unchecked Sendable {
  enum Role {
    case client
    case server
  }

  enum ShutdownState {
    case open
    /// GOAWAY with stream ID 2^31-1 went out; the final GOAWAY follows after a PING round trip.
    case noticeSent
    /// The final GOAWAY went out or was requested; no new streams are accepted.
    case goAwaySent
  }

  /// Frames stop moving from nghttp2 to the channel while the channel contains more than
  /// this many unsent bytes, so a slow socket leaves data in per-stream queues where
  /// `writeData` can report it. Equal to TandemIO's channel high-water mark.
  static let channelBufferLimit = 256 * 1024

  let role: Role
  let configuration: HTTP2Configuration
  /// Server only: fields added to every response's headers, such as `alt-svc`.
  var extraResponseFields: [HTTPField] = []
  let eventLoop: EventLoop
  let acceptingStreams = Atomic<Bool>(true)

  private(set) var channel: (any ByteStreamChannel)?
  var nghttp2: OpaquePointer?
  var streams: [Int32: HTTP2Stream] = [:]
  var headerBlock = HeaderBlock()
  var writableStreams: [HTTP2Stream] = []
  var flushScheduled = false
  /// Nonzero while nghttp2 runs (mem_recv or mem_send), when the session must not be deleted.
  var callbackDepth = 0
  var deferredCloseDetail: String?
  var isTornDown = false
  var shutdownState = ShutdownState.open
  var peerGoAwayLastStreamID: Int32?
  var closedByThisSide = false
  /// The reason for the latest INTERNAL_ERROR reset that this side started on its own.
  var lastStreamFailure: String?

  // Server side.
  var acceptor: (any HTTPServerStreamAcceptor)?
  /// Whether the acceptor received this server connection's opening, so it also receives the close.
  private var reportedOpen = false
  var connectionInfo = HTTPConnectionInfo(version: .http2, remotePeer: "", localPeer: "", isSecure: false, connectionID: 0)
  var logger = HTTPTransportLogger.disabled

  /// The key-value context of this connection's log records.
  var logMetadata: [(String, String)] {
    [
      ("connection_id", String(connectionInfo.connectionID)), ("peer", connectionInfo.remotePeer),
      ("role", role == .server ? "server" : "client"),
    ]
  }

  // Client side.
  weak var clientConnection: HTTP2ClientConnection?
  var clientDelegate: (any HTTPClientConnectionDelegate)?
  /// The last `alt-svc` value reported to ``clientDelegate``.
  var reportedAlternativeService: String?

  /// Called once from `channelActive`, with an error when the connection cannot speak HTTP/2.
  var onActive: ((HTTPTransportError?) -> Void)?
  /// Called once when the connection has closed, with the reason.
  var onClose: ((HTTP2Session, String) -> Void)?

  var keepaliveTimer: TimerHandle?
  var keepaliveTimeoutTimer: TimerHandle?
  var idleTimer: TimerHandle?
  var shutdownTimer: TimerHandle?
  /// Server side: runs until the client's preface and first SETTINGS frame arrive.
  var prefaceTimer: TimerHandle?

  init(role: Role, configuration: HTTP2Configuration, eventLoop: EventLoop) {
    self.role = role
    self.configuration = configuration
    self.eventLoop = eventLoop
  }

  deinit {
    if let nghttp2 {
      nghttp2_session_del(nghttp2)
    }
  }

  // MARK: ByteStreamHandler

  func channelActive(_ channel: any ByteStreamChannel) {
    self.channel = channel
    if let failure = alpnFailure(channel) {
      isTornDown = true
      acceptingStreams.store(false, ordering: .releasing)
      onActive?(failure)
      onActive = nil
      self.channel = nil
      channel.close()
      return
    }

    connectionInfo = HTTPConnectionInfo(
      version: .http2,
      remotePeer: channel.remoteAddress.grpcPeerDescription,
      localPeer: channel.localAddress.grpcPeerDescription,
      isSecure: channel.isSecure,
      connectionID: nextConnectionID.add(1, ordering: .relaxed).oldValue)

    if let failure = createSession() {
      isTornDown = true
      acceptingStreams.store(false, ordering: .releasing)
      onActive?(failure)
      onActive = nil
      self.channel = nil
      channel.close()
      return
    }
    logger.log(.debug, "HTTP/2 connection started", logMetadata + [("tls", channel.isSecure ? "on" : "off")])
    if let acceptor {
      reportedOpen = true
      acceptor.connectionOpened(connectionInfo)
    }
    startPrefaceTimer()
    startKeepalive()
    armIdleTimer()
    onActive?(nil)
    onActive = nil
    flushNow()
  }

  func channel(_ channel: any ByteStreamChannel, didRead bytes: UnsafeRawBufferPointer) {
    guard let nghttp2, !isTornDown, bytes.count > 0 else { return }
    callbackDepth += 1
    let result = nghttp2_session_mem_recv(nghttp2, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), bytes.count)
    callbackDepth -= 1
    if result < 0 {
      // nghttp2 has queued a GOAWAY for most of these errors: send it, then close.
      let detail = "HTTP/2 protocol error: \(nghttp2ErrorText(result))"
      deferredCloseDetail = detail
      flushNow()
      tearDown(detail: detail)
      return
    }
    flushNow()
  }

  func channelWritable(_ channel: any ByteStreamChannel) {
    flushNow()
  }

  func channelInactive(_ channel: any ByteStreamChannel, error: (any Error)?) {
    let detail: String
    if let error {
      detail = "connection failed: \(error)"
    } else if closedByThisSide {
      detail = "the connection was closed by this side"
    } else {
      detail = "the peer closed the connection"
    }
    self.channel = nil
    tearDown(detail: detail)
  }

  // MARK: Setup

  private func alpnFailure(_ channel: any ByteStreamChannel) -> HTTPTransportError? {
    guard channel.isSecure else { return nil }
    switch (channel.negotiatedALPN, role) {
    case ("h2", _):
      return nil
    case (nil, .server):
      // A client that sends no ALPN may still speak HTTP/2; the preface check decides.
      return nil
    case (nil, .client):
      return HTTPTransportError(.connectFailed, "TLS negotiated no ALPN protocol, but HTTP/2 requires \"h2\"")
    case (let other?, _):
      return HTTPTransportError(.connectFailed, "TLS negotiated ALPN protocol \"\(other)\", but HTTP/2 requires \"h2\"")
    }
  }

  private func createSession() -> HTTPTransportError? {
    var option: OpaquePointer?
    guard nghttp2_option_new(&option) == 0, let option else {
      return HTTPTransportError(.connectFailed, "nghttp2_option_new failed: out of memory")
    }
    defer { nghttp2_option_del(option) }
    // Window credit goes back only when the application consumes bytes (see `consume`).
    nghttp2_option_set_no_auto_window_update(option, 1)
    if role == .client {
      // Until the server's SETTINGS arrive, assume gRPC's usual limit instead of unlimited.
      nghttp2_option_set_peer_max_concurrent_streams(option, 100)
    }

    var session: OpaquePointer?
    let userData = Unmanaged.passUnretained(self).toOpaque()
    let result: Int32
    switch role {
    case .client: result = nghttp2_session_client_new2(&session, HTTP2Callbacks.shared, userData, option)
    case .server: result = nghttp2_session_server_new2(&session, HTTP2Callbacks.shared, userData, option)
    }
    guard result == 0, let session else {
      return HTTPTransportError(.connectFailed, "creating the nghttp2 session failed: \(nghttp2ErrorText(Int(result)))")
    }
    nghttp2 = session

    var settings: [nghttp2_settings_entry] = [
      .init(settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue), value: UInt32(configuration.maxConcurrentStreams)),
      .init(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue), value: UInt32(configuration.initialStreamWindowSize)),
      .init(settings_id: Int32(NGHTTP2_SETTINGS_MAX_FRAME_SIZE.rawValue), value: UInt32(configuration.maxFrameSize)),
      .init(settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue), value: UInt32(configuration.maxHeaderListSize)),
    ]
    if role == .client {
      settings.append(.init(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0))
    }
    let settingsResult = nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), settings, settings.count)
    guard settingsResult == 0 else {
      return HTTPTransportError(.connectFailed, "submitting HTTP/2 SETTINGS failed: \(nghttp2ErrorText(Int(settingsResult)))")
    }
    let windowResult = nghttp2_session_set_local_window_size(
      session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, Int32(configuration.connectionWindowSize))
    guard windowResult == 0 else {
      return HTTPTransportError(.connectFailed, "setting the HTTP/2 connection window failed: \(nghttp2ErrorText(Int(windowResult)))")
    }
    return nil
  }

  // MARK: Writing

  /// Schedules one flush at the end of this loop turn. Inside nghttp2 calls it does nothing,
  /// because `channel(_:didRead:)` and `flushNow` send again when nghttp2 returns.
  @inline(__always)
  func markDirty() {
    guard callbackDepth == 0, !flushScheduled, !isTornDown else { return }
    flushScheduled = true
    eventLoop.runAtEndOfTurn { [self] in
      flushNow()
    }
  }

  /// Moves every frame nghttp2 has ready into the channel, stopping early while the channel's
  /// buffer is full, then notifies the delegates of streams that drained below the low-water mark.
  func flushNow() {
    flushScheduled = false
    guard let nghttp2, let channel, !isTornDown else { return }
    callbackDepth += 1
    var failure: Int?
    sending: while true {
      // Stopping only above the limit guarantees the channel's later `channelWritable`,
      // which TandemIO sends after its buffer went above 256 KiB.
      while channel.pendingWriteBytes <= Self.channelBufferLimit {
        var data: UnsafePointer<UInt8>?
        let count = nghttp2_session_mem_send(nghttp2, &data)
        if count < 0 {
          failure = count
          break sending
        }
        if count == 0 { break }
        channel.write(UnsafeRawBufferPointer(start: data, count: count))
      }
      if writableStreams.isEmpty { break }
      let ready = writableStreams
      writableStreams.removeAll(keepingCapacity: true)
      for stream in ready where !stream.isClosed {
        stream.delegate?.streamDidBecomeWritable(stream)
      }
    }
    callbackDepth -= 1

    if let failure {
      tearDown(detail: "HTTP/2 send failed: \(nghttp2ErrorText(failure))")
    } else if let detail = deferredCloseDetail {
      tearDown(detail: detail)
    } else if nghttp2_session_want_read(nghttp2) == 0 && nghttp2_session_want_write(nghttp2) == 0 {
      // GOAWAY was sent or received and the last stream finished.
      closedByThisSide = true
      tearDown(detail: "the connection finished after GOAWAY")
    }
  }

  // MARK: Closing

  /// Closes every stream with `.connectionClosed(detail:)`, deletes the nghttp2 session and
  /// closes the channel. Inside an nghttp2 callback it waits until nghttp2 returns.
  func tearDown(detail: String) {
    guard !isTornDown else { return }
    if callbackDepth > 0 {
      if deferredCloseDetail == nil { deferredCloseDetail = detail }
      return
    }
    isTornDown = true
    logger.log(.debug, "HTTP/2 connection closed", logMetadata + [("open_streams", String(streams.count)), ("reason", detail)])
    acceptingStreams.store(false, ordering: .releasing)
    keepaliveTimer?.cancel()
    keepaliveTimeoutTimer?.cancel()
    idleTimer?.cancel()
    shutdownTimer?.cancel()
    prefaceTimer?.cancel()
    prefaceTimer = nil

    let open = streams.values.sorted { $0.id < $1.id }
    for stream in open {
      closeStream(stream, reason: .connectionClosed(detail: detail))
    }
    streams.removeAll()
    writableStreams.removeAll()
    if let nghttp2 {
      nghttp2_session_del(nghttp2)
      self.nghttp2 = nil
    }
    if let channel {
      closedByThisSide = true
      self.channel = nil
      channel.close()
    }
    if let onActive {
      self.onActive = nil
      onActive(HTTPTransportError(.connectFailed, "the connection closed before HTTP/2 started: \(detail)"))
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

  /// Sends GOAWAY with NO_ERROR, closes every stream and the connection now.
  func closeNow(detail: String) {
    guard !isTornDown else { return }
    if let nghttp2 {
      nghttp2_session_terminate_session(nghttp2, NGHTTP2_NO_ERROR.rawValue)
      acceptingStreams.store(false, ordering: .releasing)
      shutdownState = .goAwaySent
      deferredCloseDetail = detail
      flushNow()
    }
    closedByThisSide = true
    tearDown(detail: detail)
  }
}
