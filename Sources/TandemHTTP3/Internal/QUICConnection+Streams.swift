import CQUIC
import TandemHTTP

/// Stream operations. Each runs on the event loop, called by ``HTTP3Stream`` or the client.
extension QUICConnection {
  func startClientStream(_ stream: HTTP3Stream) {
    guard !isTornDown, conn != nil else {
      finishUnopenedStream(stream, reason: .connectionClosed(detail: closeDetail ?? "the connection closed before the stream started"))
      return
    }
    if peerGoAwayID != nil {
      finishUnopenedStream(stream, reason: .refusedByGoAway)
      return
    }
    if gracefulCloseRequested {
      finishUnopenedStream(stream, reason: .connectionClosed(detail: "the connection is closing and takes no new streams"))
      return
    }
    waitingStreams.append(stream)
    scheduleWrite()
  }

  /// Opens waiting client streams while the handshake state and the peer's stream limit
  /// allow. Streams beyond the limit wait for MAX_STREAMS instead of failing.
  func openWaitingStreams() {
    guard role == .client, !waitingStreams.isEmpty, let conn, let h3 else { return }
    var opened = 0
    for stream in waitingStreams {
      if stream.isClosed {
        opened += 1
        continue
      }
      if !handshakeCompleted && !(attemptedEarlyData && stream.allowsEarlyData) { break }
      var streamID: Int64 = -1
      let result = ngtcp2_conn_open_bidi_stream(conn, &streamID, nil)
      if result == NGTCP2_ERR_STREAM_ID_BLOCKED { break }
      opened += 1
      guard result == 0 else {
        finishUnopenedStream(stream, reason: .connectionClosed(detail: "QUIC could not open a stream: \(QUICErrorText.ngtcp2(Int(result)))"))
        continue
      }
      stream.assignID(streamID)
      streams[streamID] = stream
      stream.sentInEarlyData = !handshakeCompleted
      stream.headersSent = true
      var reader = nghttp3_data_reader(read_data: HTTP3Callbacks.readData)
      let endsNow = stream.requestEndsStream
      let submitted = HTTP3HeaderList.withNameValuePairs(stream.requestHeaders) { nva, count in
        endsNow
          ? nghttp3_conn_submit_request(h3, streamID, nva, count, nil, nil)
          : nghttp3_conn_submit_request(h3, streamID, nva, count, &reader, nil)
      }
      if submitted != 0 {
        streams[streamID] = nil
        _ = ngtcp2_conn_shutdown_stream(conn, streamID, UInt64(NGHTTP3_H3_REQUEST_CANCELLED))
        finishUnopenedStream(stream, reason: .resetLocally(.internalError))
        continue
      }
      stream.hasDataReader = !endsNow
      if stream.requestEndsStream { stream.outboundEnded = true }
      if handshakeCompleted { stream.requestHeaders = [] }
    }
    if opened > 0 {
      waitingStreams.removeFirst(opened)
    }
  }

  /// Closes a client stream that never got a stream ID.
  func finishUnopenedStream(_ stream: HTTP3Stream, reason: HTTPStreamCloseReason) {
    guard !stream.isClosed else { return }
    stream.isClosed = true
    stream.closeReason = reason
    stream.bufferedBytes.subtract(stream.dropOutbound(), ordering: .relaxed)
    let delegate = stream.delegate
    stream.delegate = nil
    delegate?.stream(stream, didCloseWith: reason)
    checkGracefulFinish()
  }

  func submitHeaders(for stream: HTTP3Stream, fields: [HTTPField], endStream: Bool) {
    guard let h3, !stream.isClosed, stream.localResetCode == nil else { return }
    // NOTE: a client sends its headers when the stream opens; a second block is ignored.
    guard role == .server, !stream.headersSent else { return }
    if let problem = HTTP3HeaderList.firstInvalidField(in: fields) {
      failStream(stream, because: "response \(problem)")
      return
    }
    stream.headersSent = true
    let result: Int32
    if endStream {
      stream.outboundEnded = true
      stream.trailersSubmitted = true
      result = HTTP3HeaderList.withNameValuePairs(fields) { nva, count in
        nghttp3_conn_submit_response(h3, stream.id, nva, count, nil)
      }
    } else {
      var reader = nghttp3_data_reader(read_data: HTTP3Callbacks.readData)
      stream.hasDataReader = true
      result = HTTP3HeaderList.withNameValuePairs(fields) { nva, count in
        nghttp3_conn_submit_response(h3, stream.id, nva, count, &reader)
      }
    }
    if result != 0 {
      failStream(stream, because: "submitting response headers failed: \(QUICErrorText.nghttp3(Int(result)))")
      return
    }
    scheduleWrite()
  }

  func enqueueData(for stream: HTTP3Stream, bytes: [UInt8], endStream: Bool, notifyWhenWritable: Bool) {
    guard !stream.isClosed, !stream.outboundEnded, stream.localResetCode == nil else {
      stream.bufferedBytes.subtract(bytes.count, ordering: .relaxed)
      return
    }
    if !bytes.isEmpty {
      stream.appendPending(bytes)
    }
    if endStream {
      stream.outboundEnded = true
    }
    if notifyWhenWritable {
      if stream.bufferedBytes.load(ordering: .relaxed) < configuration.streamLowWaterMark {
        writableStreams.append(stream)
      } else {
        stream.wantsWritable = true
      }
    }
    resumeBody(of: stream)
    scheduleWrite()
  }

  func submitTrailers(for stream: HTTP3Stream, fields: [HTTPField]) {
    guard !stream.isClosed, !stream.outboundEnded, stream.localResetCode == nil else { return }
    if let problem = HTTP3HeaderList.firstInvalidField(in: fields) {
      failStream(stream, because: "trailer \(problem)")
      return
    }
    if role == .server && !stream.headersSent {
      // Trailers without response headers form a trailers-only response: one HEADERS frame
      // and the end of the stream.
      submitHeaders(for: stream, fields: fields, endStream: true)
      finishResponse(of: stream)
      return
    }
    stream.pendingTrailers = fields
    stream.outboundEnded = true
    resumeBody(of: stream)
    finishResponse(of: stream)
    scheduleWrite()
  }

  /// Sends STOP_SENDING with H3_NO_ERROR when a server completed its response while the
  /// request is still open, as gRFC G2 describes.
  private func finishResponse(of stream: HTTP3Stream) {
    guard role == .server, !stream.remoteEnded, let conn, stream.id >= 0 else { return }
    _ = ngtcp2_conn_shutdown_stream_read(conn, stream.id, UInt64(NGHTTP3_H3_NO_ERROR))
  }

  func resetStream(_ stream: HTTP3Stream, code: HTTPStreamErrorCode) {
    guard !stream.isClosed, stream.localResetCode == nil else { return }
    if role == .server && (stream.trailersSubmitted || stream.pendingTrailers != nil) && !stream.hasPendingBytes {
      // The final HEADERS frame is queued: a RESET_STREAM could discard it, so only the
      // request side stops (STOP_SENDING); the response ends with its FIN.
      if !stream.remoteEnded, let conn {
        _ = ngtcp2_conn_shutdown_stream_read(conn, stream.id, code.http3Code)
        scheduleWrite()
      }
      return
    }
    stream.localResetCode = code
    stream.bufferedBytes.subtract(stream.dropPending(), ordering: .relaxed)
    stream.outboundEnded = true
    guard let conn, stream.id >= 0 else {
      if let index = waitingStreams.firstIndex(where: { $0 === stream }) {
        waitingStreams.remove(at: index)
      }
      finishUnopenedStream(stream, reason: .resetLocally(code))
      return
    }
    if let h3 {
      nghttp3_conn_shutdown_stream_write(h3, stream.id)
    }
    _ = ngtcp2_conn_shutdown_stream(conn, stream.id, code.http3Code)
    // The delegate learns now; the QUIC stream closes when the peer has seen both frames.
    notifyClosed(stream, reason: .resetLocally(code))
    scheduleWrite()
  }

  func consume(_ byteCount: Int, on stream: HTTP3Stream) {
    guard !stream.isClosed || stream.unconsumedBytes > 0 else { return }
    let count = min(byteCount, stream.unconsumedBytes)
    guard count > 0, stream.id >= 0 else { return }
    stream.unconsumedBytes -= count
    extendCredit(streamID: stream.id, by: count)
    scheduleWrite()
  }

  /// Resets `stream` with H3_INTERNAL_ERROR because this side cannot send what the
  /// application passed.
  func failStream(_ stream: HTTP3Stream, because problem: String) {
    lastStreamFailure = "stream \(stream.id): \(problem)"
    logger.log(.warning, "HTTP/3 stream reset because this side cannot send it", logMetadata + [("stream_id", String(stream.id)), ("problem", problem)])
    resetStream(stream, code: .internalError)
  }

  private func resumeBody(of stream: HTTP3Stream) {
    guard stream.hasDataReader, stream.isDeferred, let h3, stream.id >= 0 else { return }
    stream.isDeferred = false
    _ = nghttp3_conn_resume_stream(h3, stream.id)
  }

  /// Tells the delegate once that the stream ended, without forgetting the stream, whose
  /// QUIC state may still need the table.
  func notifyClosed(_ stream: HTTP3Stream, reason: HTTPStreamCloseReason) {
    guard stream.closeReason == nil else { return }
    deliverInbound(of: stream)
    guard stream.closeReason == nil else { return }
    stream.closeReason = reason
    let delegate = stream.delegate
    stream.delegate = nil
    delegate?.stream(stream, didCloseWith: reason)
  }

  /// Ends `stream`: returns its unconsumed credit to the connection, frees its outbound
  /// bytes, removes it from the table and notifies its delegate.
  func closeStream(_ stream: HTTP3Stream, reason: HTTPStreamCloseReason) {
    guard !stream.isClosed else { return }
    deliverInbound(of: stream)
    guard !stream.isClosed else { return }
    stream.isClosed = true
    if streams[stream.id] === stream {
      streams[stream.id] = nil
    }
    if stream.unconsumedBytes > 0, let conn {
      ngtcp2_conn_extend_max_offset(conn, UInt64(stream.unconsumedBytes))
      stream.unconsumedBytes = 0
    }
    stream.bufferedBytes.subtract(stream.dropOutbound(), ordering: .relaxed)
    notifyClosed(stream, reason: reason)
    checkGracefulFinish()
  }

  /// Maps the close of a stream to the reason passed to the delegate.
  func closeReason(for stream: HTTP3Stream, code: UInt64) -> HTTPStreamCloseReason {
    if let local = stream.localResetCode {
      return .resetLocally(local)
    }
    if stream.remoteEnded {
      // The peer's side completed; a STOP_SENDING or reset of our side after that only
      // stopped an upload early (gRFC G2).
      return .finished
    }
    if let peerCode = stream.peerResetCode {
      return .resetByPeer(HTTPStreamErrorCode(http3Code: peerCode))
    }
    if code == UInt64(NGHTTP3_H3_NO_ERROR) {
      return .finished
    }
    return .resetByPeer(HTTPStreamErrorCode(http3Code: code))
  }

  // MARK: Graceful shutdown

  /// Server: GOAWAY notice now, the final GOAWAY after `goAwayNoticeDelay`, then
  /// CONNECTION_CLOSE with H3_NO_ERROR once the last stream has finished.
  func beginGracefulShutdown() {
    guard !isTornDown, shutdownState == .open else { return }
    acceptingStreams.store(false, ordering: .releasing)
    guard let h3, handshakeCompleted else {
      close(applicationError: UInt64(NGHTTP3_H3_NO_ERROR), detail: "the server shut down before the handshake finished")
      return
    }
    switch role {
    case .server:
      _ = nghttp3_conn_submit_shutdown_notice(h3)
      shutdownState = .noticeSent
      goAwayTimer = eventLoop.scheduleTimer(after: configuration.goAwayNoticeDelay) { [self] in
        goAwayTimer = nil
        guard !isTornDown, let h3 = self.h3 else { return }
        _ = nghttp3_conn_shutdown(h3)
        shutdownState = .goAwaySent
        scheduleWrite()
        checkGracefulFinish()
      }
      scheduleWrite()
    case .client:
      gracefulCloseRequested = true
      _ = nghttp3_conn_shutdown(h3)
      scheduleWrite()
      checkGracefulFinish()
    }
  }

  /// Closes the connection once a graceful shutdown has no stream left.
  func checkGracefulFinish() {
    guard !isTornDown, streams.isEmpty, waitingStreams.isEmpty else { return }
    let done: Bool
    switch role {
    case .server: done = shutdownState == .goAwaySent
    case .client: done = gracefulCloseRequested
    }
    guard done else { return }
    if callbackDepth > 0 {
      eventLoop.runAtEndOfTurn { [self] in checkGracefulFinish() }
      return
    }
    // Let the last stream's frames leave before CONNECTION_CLOSE.
    writePackets()
    guard !isTornDown else { return }
    close(applicationError: UInt64(NGHTTP3_H3_NO_ERROR), detail: "the connection finished after GOAWAY")
  }
}
