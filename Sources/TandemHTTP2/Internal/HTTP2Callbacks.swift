import CNGHTTP2
import TandemHTTP

/// The nghttp2 callbacks, shared by every session. nghttp2 passes the session's unretained
/// ``HTTP2Session`` pointer as `user_data`, and the stream's as the data source pointer.
enum HTTP2Callbacks {
  @inline(__always)
  static func session(_ userData: UnsafeMutableRawPointer?) -> HTTP2Session {
    Unmanaged<HTTP2Session>.fromOpaque(userData!).takeUnretainedValue()
  }

  static let readData: nghttp2_data_source_read_callback = { _, _, buffer, length, flags, source, userData in
    let stream = Unmanaged<HTTP2Stream>.fromOpaque(source!.pointee.ptr!).takeUnretainedValue()
    return session(userData).readData(for: stream, into: buffer!, maxCount: length, flags: flags!)
  }

  /// Created once; nghttp2 copies the table into each session.
  nonisolated(unsafe) static let shared: OpaquePointer = {
    var callbacks: OpaquePointer?
    precondition(nghttp2_session_callbacks_new(&callbacks) == 0, "nghttp2_session_callbacks_new failed: out of memory")
    let table = callbacks!

    nghttp2_session_callbacks_set_on_begin_headers_callback(table) { _, frame, userData in
      session(userData).didBeginHeaders(frame!)
    }
    nghttp2_session_callbacks_set_on_header_callback(table) { _, frame, name, nameCount, value, valueCount, _, userData in
      session(userData).didReceiveHeaderField(
        frame!, name: UnsafeBufferPointer(start: name, count: nameCount),
        value: UnsafeBufferPointer(start: value, count: valueCount))
    }
    nghttp2_session_callbacks_set_on_frame_recv_callback(table) { _, frame, userData in
      session(userData).didReceiveFrame(frame!)
    }
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(table) { _, _, streamID, data, count, userData in
      session(userData).didReceiveDataChunk(streamID: streamID, UnsafeBufferPointer(start: data, count: count))
    }
    nghttp2_session_callbacks_set_on_stream_close_callback(table) { _, streamID, errorCode, userData in
      session(userData).didCloseStream(streamID: streamID, errorCode: errorCode)
    }
    nghttp2_session_callbacks_set_on_frame_send_callback(table) { _, frame, userData in
      session(userData).didSendFrame(frame!)
    }
    nghttp2_session_callbacks_set_on_frame_not_send_callback(table) { _, frame, libraryError, userData in
      session(userData).didNotSendFrame(frame!, libraryError: libraryError)
    }
    return table
  }()
}

extension HTTP2Session {
  /// Finds an open stream: through nghttp2's stream user data for server streams, else in
  /// the `streams` table. Client streams skip the user data because a request still queued
  /// inside nghttp2 is not a stream there yet.
  @inline(__always)
  func stream(for id: Int32) -> HTTP2Stream? {
    if role == .server, let nghttp2, let pointer = nghttp2_session_get_stream_user_data(nghttp2, id) {
      return Unmanaged<HTTP2Stream>.fromOpaque(pointer).takeUnretainedValue()
    }
    return streams[id]
  }

  func didBeginHeaders(_ frame: UnsafePointer<nghttp2_frame>) -> Int32 {
    guard frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue) else { return 0 }
    let id = frame.pointee.hd.stream_id
    let stream: HTTP2Stream
    if let existing = self.stream(for: id) {
      stream = existing
    } else if role == .server && frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST {
      guard let nghttp2 else { return 0 }
      if shutdownState == .goAwaySent || isTornDown {
        nghttp2_submit_rst_stream(nghttp2, UInt8(NGHTTP2_FLAG_NONE.rawValue), id, NGHTTP2_REFUSED_STREAM.rawValue)
        return 0
      }
      stream = HTTP2Stream(session: self, delegate: nil)
      stream.assignID(id)
      streams[id] = stream
      // Lets callbacks find the stream without hashing; cleared in closeStream.
      nghttp2_session_set_stream_user_data(nghttp2, id, Unmanaged.passUnretained(stream).toOpaque())
      cancelIdleTimer()
    } else {
      return 0
    }
    stream.headerFields = []
    stream.headerFields.reserveCapacity(16)
    stream.headerListSize = 0
    stream.headerListTooLarge = false
    return 0
  }

  func didReceiveHeaderField(
    _ frame: UnsafePointer<nghttp2_frame>, name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>
  ) -> Int32 {
    guard let stream = stream(for: frame.pointee.hd.stream_id), !stream.headerListTooLarge else { return 0 }
    // RFC 9113, section 6.5.2: each field counts its name and value octets plus 32.
    stream.headerListSize += name.count + value.count + 32
    if stream.headerListSize > configuration.maxHeaderListSize {
      stream.headerListTooLarge = true
      stream.headerFields = []
      return 0
    }
    stream.headerFields.append(
      HTTPField(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self)))
    return 0
  }

  func didReceiveFrame(_ frame: UnsafePointer<nghttp2_frame>) -> Int32 {
    let header = frame.pointee.hd
    switch UInt32(header.type) {
    case NGHTTP2_HEADERS.rawValue:
      guard let stream = stream(for: header.stream_id), !stream.isClosed else { return 0 }
      let endStream = header.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
      if endStream {
        stream.remoteEnded = true
      }
      didReceiveHeaderBlock(on: stream, endStream: endStream)

    case NGHTTP2_DATA.rawValue:
      guard let stream = stream(for: header.stream_id), !stream.isClosed else { return 0 }
      let endStream = header.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
      if endStream {
        stream.remoteEnded = true
      }
      let bytes = stream.pendingData
      stream.pendingData = []
      if !bytes.isEmpty || endStream {
        stream.delegate?.stream(stream, didReceiveData: bytes, endStream: endStream)
      }

    case NGHTTP2_RST_STREAM.rawValue:
      stream(for: header.stream_id)?.peerResetCode = frame.pointee.rst_stream.error_code

    case NGHTTP2_GOAWAY.rawValue:
      didReceiveGoAway(lastStreamID: frame.pointee.goaway.last_stream_id, errorCode: frame.pointee.goaway.error_code)

    case NGHTTP2_SETTINGS.rawValue:
      if role == .server && prefaceTimer != nil {
        didReceiveClientSettings()
      }

    case NGHTTP2_PING.rawValue:
      if header.flags & UInt8(NGHTTP2_FLAG_ACK.rawValue) != 0 {
        didReceivePingAcknowledgement()
      }

    default:
      break
    }
    return 0
  }

  private func didReceiveHeaderBlock(on stream: HTTP2Stream, endStream: Bool) {
    if stream.headerListTooLarge {
      rejectOversizedHeaders(on: stream)
      return
    }
    let fields = stream.headerFields
    stream.headerFields = []

    if stream.receivedHeaders {
      stream.delegate?.stream(stream, didReceiveTrailers: fields)
      return
    }
    switch role {
    case .server:
      stream.receivedHeaders = true
      guard let acceptor else {
        resetStream(stream, code: .refusedStream)
        return
      }
      let delegate = acceptor.acceptStream(stream, requestHeaders: fields, endStream: endStream, connection: connectionInfo)
      if let reason = stream.closeReason {
        // The acceptor's own calls closed the stream before its delegate was known.
        delegate.stream(stream, didCloseWith: reason)
      } else {
        stream.delegate = delegate
      }
    case .client:
      // An informational (1xx) response precedes the real one; gRPC has no use for it.
      if !endStream, let status = fields.first(named: ":status"), status.hasPrefix("1") {
        return
      }
      stream.receivedHeaders = true
      if let value = fields.first(named: "alt-svc"), value != reportedAlternativeService,
        let connection = clientConnection, let clientDelegate
      {
        reportedAlternativeService = value
        clientDelegate.connection(connection, didReceiveAlternativeService: value)
      }
      stream.delegate?.stream(stream, didReceiveHeaders: fields, endStream: endStream)
    }
  }

  /// Rejects a header block above `maxHeaderListSize`: a server replies 431 (RFC 6585) and
  /// never passes the request to the acceptor; a client resets the stream with INTERNAL_ERROR.
  private func rejectOversizedHeaders(on stream: HTTP2Stream) {
    if role == .server && !stream.receivedHeaders {
      stream.receivedHeaders = true
      submitHeaders(for: stream, fields: [HTTPField(name: ":status", value: "431")], endStream: true)
    } else {
      resetStream(stream, code: .internalError)
    }
  }

  func didReceiveDataChunk(streamID: Int32, _ bytes: UnsafeBufferPointer<UInt8>) -> Int32 {
    guard let stream = stream(for: streamID), !stream.isClosed, stream.delegate != nil, stream.localResetCode == nil else {
      // No delegate will consume these bytes, so their window credit is returned now.
      if let nghttp2 {
        nghttp2_session_consume(nghttp2, streamID, bytes.count)
      }
      return 0
    }
    stream.pendingData.append(contentsOf: bytes)
    stream.unconsumedBytes += bytes.count
    return 0
  }

  func didCloseStream(streamID: Int32, errorCode: UInt32) -> Int32 {
    guard let stream = stream(for: streamID) else { return 0 }
    closeStream(stream, reason: closeReason(for: stream, errorCode: errorCode))
    return 0
  }

  func didNotSendFrame(_ frame: UnsafePointer<nghttp2_frame>, libraryError: Int32) -> Int32 {
    guard frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue),
      let stream = stream(for: frame.pointee.hd.stream_id), !stream.isClosed
    else { return 0 }
    if let code = stream.resetAfterFinalFrame, let nghttp2 {
      // The final HEADERS frame failed, so the deferred reset goes out now.
      stream.resetAfterFinalFrame = nil
      _ = nghttp2_submit_rst_stream(nghttp2, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream.id, code.http2Code)
      markDirty()
    } else if let code = stream.localResetCode {
      closeStream(stream, reason: .resetLocally(code))
    } else if role == .client && frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST {
      // The request never left: after GOAWAY it is safe to retry elsewhere.
      // Other failures, such as a header block over the frame limits, would fail again on
      // any connection, so they end the call instead of inviting a retry.
      let reason: HTTPStreamCloseReason =
        peerGoAwayLastStreamID != nil || libraryError == NGHTTP2_ERR_START_STREAM_NOT_ALLOWED.rawValue
        ? .refusedByGoAway
        : .resetLocally(.internalError)
      lastStreamFailure = "stream \(stream.id): HTTP/2 could not send the request headers: \(nghttp2ErrorText(Int(libraryError)))"
      closeStream(stream, reason: reason)
    } else {
      failStream(stream, because: "HTTP/2 could not send headers: \(nghttp2ErrorText(Int(libraryError)))")
    }
    return 0
  }
}
