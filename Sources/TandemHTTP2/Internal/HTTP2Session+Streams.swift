import CNGHTTP2
import TandemHTTP
import TandemIO

/// Stream operations. Each runs on the event loop, called by ``HTTP2Stream`` or the client.
extension HTTP2Session {
  func startClientStream(_ stream: HTTP2Stream, fields: [HTTPField], endStream: Bool) {
    guard let nghttp2, !isTornDown else {
      finishUnstartedStream(stream, reason: .connectionClosed(detail: "the connection closed before the stream started"))
      return
    }
    if shutdownState != .open || peerGoAwayLastStreamID != nil {
      let reason: HTTPStreamCloseReason =
        peerGoAwayLastStreamID != nil
        ? .refusedByGoAway : .connectionClosed(detail: "the connection is closing and takes no new streams")
      finishUnstartedStream(stream, reason: reason)
      return
    }
    // The server replies to a larger header list with 431 or a reset, so it is not sent.
    // NOTE: a request submitted before the server's SETTINGS arrive, such as the first one on a
    // new connection, is not checked, because the limit is unknown then.
    let listSize = HeaderBlock.listSize(of: fields)
    if let limit = peerMaxHeaderListSize, listSize > limit {
      lastStreamFailure =
        "stream not started: the request header list is \(listSize) bytes, above the server's SETTINGS_MAX_HEADER_LIST_SIZE of \(limit) bytes"
      finishUnstartedStream(stream, reason: .resetLocally(.internalError))
      return
    }

    var provider = makeDataProvider(for: stream)
    let id = headerBlock.withNameValuePairs(fields) { nva, count in
      if endStream {
        return nghttp2_submit_request(nghttp2, nil, nva, count, nil, nil)
      }
      return nghttp2_submit_request(nghttp2, nil, nva, count, &provider, nil)
    }
    guard id > 0 else {
      if id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE.rawValue {
        // All 2^30 client stream IDs are spent: finish the open streams, then close.
        beginGracefulShutdown()
      }
      finishUnstartedStream(
        stream, reason: .connectionClosed(detail: "HTTP/2 could not open a stream: \(nghttp2ErrorText(Int(id)))"))
      return
    }
    stream.assignID(id)
    streams[id] = stream
    stream.headersSent = true
    if endStream {
      stream.outboundEnded = true
    } else {
      stream.hasDataProvider = true
    }
    cancelIdleTimer()
    markDirty()
  }

  /// The SETTINGS_MAX_HEADER_LIST_SIZE the peer announced, or `nil` before its SETTINGS
  /// arrive or when it announced none. nghttp2 1.52 reports both cases as UINT32_MAX.
  var peerMaxHeaderListSize: Int? {
    guard let nghttp2 else { return nil }
    let limit = nghttp2_session_get_remote_settings(nghttp2, NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE)
    return limit == UInt32.max ? nil : Int(limit)
  }

  /// Closes a client stream that never got a wire ID.
  private func finishUnstartedStream(_ stream: HTTP2Stream, reason: HTTPStreamCloseReason) {
    guard !stream.isClosed else { return }
    stream.isClosed = true
    let delegate = stream.delegate
    stream.delegate = nil
    delegate?.stream(stream, didCloseWith: reason)
  }

  func submitHeaders(for stream: HTTP2Stream, fields: [HTTPField], endStream: Bool) {
    guard let nghttp2, !stream.isClosed, stream.localResetCode == nil else { return }
    let fields = extraResponseFields.isEmpty ? fields : fields + extraResponseFields
    guard role == .server, !stream.headersSent else {
      // NOTE: a client sends its headers in openStream, and a second HEADERS block before
      // the body has no meaning in gRPC, so such a call is ignored.
      return
    }
    if let problem = HeaderBlock.firstInvalidField(in: fields) {
      failStream(stream, because: "response \(problem)")
      return
    }
    stream.headersSent = true
    let result: Int32
    if endStream {
      stream.outboundEnded = true
      stream.finalHeadersSubmitted = true
      result = headerBlock.withNameValuePairs(fields) { nva, count in
        nghttp2_submit_response(nghttp2, stream.id, nva, count, nil)
      }
    } else {
      var provider = makeDataProvider(for: stream)
      stream.hasDataProvider = true
      result = headerBlock.withNameValuePairs(fields) { nva, count in
        nghttp2_submit_response(nghttp2, stream.id, nva, count, &provider)
      }
    }
    if result != 0 {
      failStream(stream, because: "submitting response headers failed: \(nghttp2ErrorText(Int(result)))")
      return
    }
    markDirty()
  }

  func enqueueData(for stream: HTTP2Stream, bytes: [UInt8], endStream: Bool, notifyWhenWritable: Bool) {
    guard !stream.isClosed, !stream.outboundEnded, stream.localResetCode == nil else {
      // The stream cannot send any more, so these bytes leave the buffer count at once.
      stream.bufferedBytes.subtract(bytes.count, ordering: .relaxed)
      return
    }
    stream.outbound.append(bytes)
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
    resumeData(for: stream)
    markDirty()
  }

  func submitTrailers(for stream: HTTP2Stream, fields: [HTTPField]) {
    guard nghttp2 != nil, !stream.isClosed, !stream.outboundEnded, stream.localResetCode == nil else { return }
    if let problem = HeaderBlock.firstInvalidField(in: fields) {
      failStream(stream, because: "trailer \(problem)")
      return
    }
    if role == .server && !stream.headersSent {
      // Trailers without response headers form a trailers-only response: one HEADERS frame
      // with END_STREAM.
      submitHeaders(for: stream, fields: fields, endStream: true)
      return
    }
    stream.pendingTrailers = fields
    stream.outboundEnded = true
    resumeData(for: stream)
    markDirty()
  }

  func resetStream(_ stream: HTTP2Stream, code: HTTPStreamErrorCode) {
    guard !stream.isClosed, stream.localResetCode == nil else { return }
    // Trailers written before the reset go out first when no body bytes wait ahead of them,
    // so a gRPC status such as DEADLINE_EXCEEDED reaches the peer before RST_STREAM. nghttp2
    // drops HEADERS queued for a stream it is resetting, so the reset waits for that frame.
    if stream.outbound.isEmpty, stream.id > 0, let nghttp2 {
      if let trailers = stream.pendingTrailers {
        stream.pendingTrailers = nil
        let result = headerBlock.withNameValuePairs(trailers) { nva, fieldCount in
          nghttp2_submit_trailer(nghttp2, stream.id, nva, fieldCount)
        }
        if result == 0 { stream.finalHeadersSubmitted = true }
      }
      if stream.finalHeadersSubmitted && !stream.finalFrameSent {
        stream.localResetCode = code
        stream.resetAfterFinalFrame = code
        markDirty()
        return
      }
    }
    stream.localResetCode = code
    dropOutbound(of: stream)
    guard let nghttp2, stream.id > 0 else {
      finishUnstartedStream(stream, reason: .resetLocally(code))
      return
    }
    let result = nghttp2_submit_rst_stream(nghttp2, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream.id, code.http2Code)
    if result != 0 {
      closeStream(stream, reason: .resetLocally(code))
    }
    markDirty()
  }

  func consume(_ byteCount: Int, on stream: HTTP2Stream) {
    guard let nghttp2, !stream.isClosed else { return }
    let count = min(byteCount, stream.unconsumedBytes)
    guard count > 0 else { return }
    stream.unconsumedBytes -= count
    nghttp2_session_consume(nghttp2, stream.id, count)
    markDirty()
  }

  /// Resets `stream` with INTERNAL_ERROR because this side cannot send what the application
  /// passed, such as a header that HPACK must not carry.
  func failStream(_ stream: HTTP2Stream, because problem: String) {
    lastStreamFailure = "stream \(stream.id): \(problem)"
    logger.log(.warning, "HTTP/2 stream reset because this side cannot send it", logMetadata + [("stream_id", String(stream.id)), ("problem", problem)])
    resetStream(stream, code: .internalError)
  }

  private func dropOutbound(of stream: HTTP2Stream) {
    stream.bufferedBytes.subtract(stream.outbound.count, ordering: .relaxed)
    stream.outbound.removeAll()
    stream.pendingTrailers = nil
    stream.outboundEnded = true
  }

  private func resumeData(for stream: HTTP2Stream) {
    guard stream.hasDataProvider, stream.isDeferred, let nghttp2 else { return }
    stream.isDeferred = false
    nghttp2_session_resume_data(nghttp2, stream.id)
  }

  private func makeDataProvider(for stream: HTTP2Stream) -> nghttp2_data_provider {
    nghttp2_data_provider(
      source: nghttp2_data_source(ptr: Unmanaged.passUnretained(stream).toOpaque()),
      read_callback: HTTP2Callbacks.readData)
  }

  /// Fills one DATA frame payload from the stream's queue; nghttp2 calls it through
  /// `HTTP2Callbacks.readData`.
  func readData(
    for stream: HTTP2Stream, into buffer: UnsafeMutablePointer<UInt8>, maxCount: Int,
    flags: UnsafeMutablePointer<UInt32>
  ) -> Int {
    let count = stream.outbound.read(into: buffer, maxCount: maxCount)
    if count > 0 {
      let remaining = stream.bufferedBytes.subtract(count, ordering: .relaxed).newValue
      if stream.wantsWritable && remaining < configuration.streamLowWaterMark {
        stream.wantsWritable = false
        writableStreams.append(stream)
      }
    }
    if stream.outbound.isEmpty && stream.outboundEnded {
      flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
      if let trailers = stream.pendingTrailers, let nghttp2 {
        stream.pendingTrailers = nil
        flags.pointee |= NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
        let result = headerBlock.withNameValuePairs(trailers) { nva, fieldCount in
          nghttp2_submit_trailer(nghttp2, stream.id, nva, fieldCount)
        }
        if result != 0 {
          return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue)
        }
        stream.finalHeadersSubmitted = true
      } else if stream.finalHeadersSubmitted {
        // The trailers went out ahead of this provider when the stream was reset.
        flags.pointee |= NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
      }
      return count
    }
    if count == 0 {
      stream.isDeferred = true
      return Int(NGHTTP2_ERR_DEFERRED.rawValue)
    }
    return count
  }

  /// Ends `stream` with `reason`: returns its unconsumed receive credit to the connection,
  /// drops its outbound bytes and notifies its delegate.
  func closeStream(_ stream: HTTP2Stream, reason: HTTPStreamCloseReason) {
    guard !stream.isClosed else { return }
    stream.isClosed = true
    stream.closeReason = reason
    if streams[stream.id] === stream {
      streams[stream.id] = nil
    }
    if role == .server, let nghttp2 {
      // The table held the only strong reference, so nghttp2 must not keep the pointer.
      nghttp2_session_set_stream_user_data(nghttp2, stream.id, nil)
    }
    if stream.unconsumedBytes > 0, let nghttp2 {
      nghttp2_session_consume_connection(nghttp2, stream.unconsumedBytes)
      stream.unconsumedBytes = 0
    }
    stream.bufferedBytes.subtract(stream.outbound.count, ordering: .relaxed)
    stream.outbound.removeAll()
    stream.pendingTrailers = nil
    stream.pendingData = []
    let delegate = stream.delegate
    stream.delegate = nil
    delegate?.stream(stream, didCloseWith: reason)
    if streams.isEmpty {
      armIdleTimer()
    }
    markDirty()
  }

  /// Maps nghttp2's close code to the reason passed to the delegate.
  func closeReason(for stream: HTTP2Stream, errorCode: UInt32) -> HTTPStreamCloseReason {
    if let code = stream.localResetCode {
      return .resetLocally(code)
    }
    if let peerCode = stream.peerResetCode {
      // RST_STREAM(NO_ERROR) after the peer's END_STREAM only stops our upload early
      // (RFC 9113, section 8.1): the exchange itself finished.
      if peerCode == NGHTTP2_NO_ERROR.rawValue && stream.remoteEnded {
        return .finished
      }
      return .resetByPeer(HTTPStreamErrorCode(http2Code: peerCode))
    }
    if errorCode == NGHTTP2_REFUSED_STREAM.rawValue && role == .client {
      // No RST_STREAM arrived, so nghttp2 refused the stream itself after GOAWAY.
      return .refusedByGoAway
    }
    if errorCode == NGHTTP2_NO_ERROR.rawValue {
      return .finished
    }
    return .resetLocally(HTTPStreamErrorCode(http2Code: errorCode))
  }

  /// Records that a stream's final frame is on the wire, and sends a reset that waited for it.
  func didSendFrame(_ frame: UnsafePointer<nghttp2_frame>) -> Int32 {
    let type = frame.pointee.hd.type
    guard type == UInt8(NGHTTP2_HEADERS.rawValue) || type == UInt8(NGHTTP2_DATA.rawValue),
      frame.pointee.hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0,
      let stream = stream(for: frame.pointee.hd.stream_id)
    else {
      return 0
    }
    stream.finalFrameSent = true
    guard let code = stream.resetAfterFinalFrame, let nghttp2 else { return 0 }
    stream.resetAfterFinalFrame = nil
    // When the peer has also ended its side, the stream is complete and needs no reset.
    if !stream.remoteEnded {
      _ = nghttp2_submit_rst_stream(nghttp2, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream.id, code.http2Code)
      markDirty()
    }
    return 0
  }
}
