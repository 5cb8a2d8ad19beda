import CNGHTTP2
import TandemHTTP
import TandemIO

/// GOAWAY, keepalive and idle handling.
extension HTTP2Session {
  /// Starts a graceful server shutdown: a GOAWAY notice with stream ID 2^31-1 and a PING now,
  /// the final GOAWAY with the last processed stream ID once the PING is acknowledged (so
  /// requests already in flight are counted) or after `gracefulShutdownNoticeDelay`. The
  /// connection closes when its last stream finishes.
  func beginGracefulShutdown() {
    guard let nghttp2, !isTornDown, shutdownState == .open else { return }
    acceptingStreams.store(false, ordering: .releasing)
    guard role == .server else {
      sendFinalGoAway()
      return
    }
    shutdownState = .noticeSent
    nghttp2_submit_shutdown_notice(nghttp2)
    nghttp2_submit_ping(nghttp2, UInt8(NGHTTP2_FLAG_NONE.rawValue), nil)
    shutdownTimer = eventLoop.scheduleTimer(after: configuration.gracefulShutdownNoticeDelay) { [self] in
      sendFinalGoAway()
    }
    markDirty()
  }

  /// Sends GOAWAY(NO_ERROR) with the last stream ID this side processed. Streams up to that
  /// ID continue; nghttp2 ignores newer ones and this session refuses them with REFUSED_STREAM.
  func sendFinalGoAway() {
    guard let nghttp2, !isTornDown, shutdownState != .goAwaySent else { return }
    shutdownState = .goAwaySent
    acceptingStreams.store(false, ordering: .releasing)
    shutdownTimer?.cancel()
    shutdownTimer = nil
    let lastStreamID = nghttp2_session_get_last_proc_stream_id(nghttp2)
    nghttp2_submit_goaway(nghttp2, UInt8(NGHTTP2_FLAG_NONE.rawValue), lastStreamID, NGHTTP2_NO_ERROR.rawValue, nil, 0)
    markDirty()
  }

  func didReceiveGoAway(lastStreamID: Int32, errorCode: UInt32) {
    peerGoAwayLastStreamID = min(lastStreamID, peerGoAwayLastStreamID ?? Int32.max)
    acceptingStreams.store(false, ordering: .releasing)
    if role == .client {
      refuseQueuedRequests(above: lastStreamID)
    }
    if let connection = clientConnection, let delegate = clientDelegate {
      delegate.connectionDidReceiveGoAway(connection, errorCode: HTTPStreamErrorCode(http2Code: errorCode))
    }
  }

  /// Closes requests above `lastStreamID` whose HEADERS still wait in nghttp2's queue for a
  /// free concurrency slot. nghttp2 would fail them only once a slot frees, which a
  /// long-running stream can delay without bound. RST_STREAM on such a stream only cancels
  /// the queued HEADERS (nghttp2 1.52 sends nothing for it).
  private func refuseQueuedRequests(above lastStreamID: Int32) {
    guard let nghttp2 else { return }
    let queued = streams.values.filter { $0.id > lastStreamID && nghttp2_session_find_stream(nghttp2, $0.id) == nil }
    for stream in queued.sorted(by: { $0.id < $1.id }) {
      nghttp2_submit_rst_stream(nghttp2, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream.id, NGHTTP2_REFUSED_STREAM.rawValue)
      closeStream(stream, reason: .refusedByGoAway)
    }
  }

  func didReceivePingAcknowledgement() {
    if shutdownState == .noticeSent {
      sendFinalGoAway()
    }
    if keepaliveTimeoutTimer != nil {
      keepaliveTimeoutTimer?.cancel()
      keepaliveTimeoutTimer = nil
      scheduleKeepalive()
    }
  }

  // MARK: Keepalive

  func startKeepalive() {
    scheduleKeepalive()
  }

  private func scheduleKeepalive() {
    guard let interval = configuration.keepaliveInterval, !isTornDown else { return }
    keepaliveTimer = eventLoop.scheduleTimer(after: interval) { [self] in
      sendKeepalivePing()
    }
  }

  private func sendKeepalivePing() {
    guard let nghttp2, !isTornDown else { return }
    keepaliveTimer = nil
    nghttp2_submit_ping(nghttp2, UInt8(NGHTTP2_FLAG_NONE.rawValue), nil)
    let timeout = configuration.keepaliveTimeout
    keepaliveTimeoutTimer = eventLoop.scheduleTimer(after: timeout) { [self] in
      keepaliveTimeoutTimer = nil
      closeNow(detail: "keepalive PING was not acknowledged within \(timeout)")
    }
    markDirty()
  }

  // MARK: Preface

  /// Starts the server's wait for the client preface. nghttp2 checks the preface bytes and
  /// requires SETTINGS as the first frame after them, so the first SETTINGS frame received
  /// (`didReceiveClientSettings`) proves both arrived.
  func startPrefaceTimer() {
    guard role == .server, !isTornDown else { return }
    let timeout = configuration.prefaceTimeout
    prefaceTimer = eventLoop.scheduleTimer(after: timeout) { [self] in
      prefaceTimer = nil
      // No GOAWAY is sent, because a peer that sent no preface may not speak HTTP/2.
      closedByThisSide = true
      tearDown(detail: "the client sent no HTTP/2 preface and SETTINGS within \(timeout)")
    }
  }

  func didReceiveClientSettings() {
    prefaceTimer?.cancel()
    prefaceTimer = nil
  }

  // MARK: Idle

  func armIdleTimer() {
    guard let maxIdle = configuration.maxIdleTime, !isTornDown, idleTimer == nil else { return }
    idleTimer = eventLoop.scheduleTimer(after: maxIdle) { [self] in
      idleTimer = nil
      guard streams.isEmpty else { return }
      acceptingStreams.store(false, ordering: .releasing)
      sendFinalGoAway()
    }
  }

  func cancelIdleTimer() {
    idleTimer?.cancel()
    idleTimer = nil
  }
}
