import CQUIC
import TandemHTTP

/// The nghttp3 callback table and the HTTP/3 layer's events.
enum HTTP3Callbacks {
  static let table: nghttp3_callbacks = {
    var callbacks = nghttp3_callbacks()
    callbacks.acked_stream_data = { _, streamID, count, userData, _ in
      QUICConnection.from(userData).didAcknowledgeBody(streamID: streamID, count: Int(count))
      return 0
    }
    callbacks.stream_close = { _, streamID, code, userData, _ in
      QUICConnection.from(userData).didCloseHTTPStream(streamID: streamID, code: code)
      return 0
    }
    callbacks.recv_data = { _, streamID, data, count, userData, _ in
      QUICConnection.from(userData).didReceiveBody(streamID: streamID, data: data, count: count)
      return 0
    }
    callbacks.deferred_consume = { _, streamID, count, userData, _ in
      QUICConnection.from(userData).extendCredit(streamID: streamID, by: count)
      return 0
    }
    callbacks.begin_headers = { _, streamID, userData, _ in
      QUICConnection.from(userData).didBeginHeaders(streamID: streamID)
      return 0
    }
    callbacks.begin_trailers = { _, streamID, userData, _ in
      QUICConnection.from(userData).didBeginHeaders(streamID: streamID)
      return 0
    }
    callbacks.recv_header = { _, streamID, _, name, value, _, userData, _ in
      QUICConnection.from(userData).didReceiveHeaderField(streamID: streamID, name: name!, value: value!)
      return 0
    }
    callbacks.recv_trailer = { _, streamID, _, name, value, _, userData, _ in
      QUICConnection.from(userData).didReceiveHeaderField(streamID: streamID, name: name!, value: value!)
      return 0
    }
    callbacks.end_headers = { _, streamID, fin, userData, _ in
      QUICConnection.from(userData).didEndHeaders(streamID: streamID, endStream: fin != 0)
      return 0
    }
    callbacks.end_trailers = { _, streamID, _, userData, _ in
      QUICConnection.from(userData).didEndTrailers(streamID: streamID)
      return 0
    }
    callbacks.end_stream = { _, streamID, userData, _ in
      QUICConnection.from(userData).didEndStream(streamID: streamID)
      return 0
    }
    callbacks.stop_sending = { _, streamID, code, userData, _ in
      let connection = QUICConnection.from(userData)
      if let conn = connection.conn {
        _ = ngtcp2_conn_shutdown_stream_read(conn, streamID, code)
      }
      return 0
    }
    callbacks.reset_stream = { _, streamID, code, userData, _ in
      let connection = QUICConnection.from(userData)
      if let conn = connection.conn {
        _ = ngtcp2_conn_shutdown_stream_write(conn, streamID, code)
      }
      return 0
    }
    callbacks.shutdown = { _, id, userData in
      QUICConnection.from(userData).didReceiveGoAway(id: id)
      return 0
    }
    return callbacks
  }()

  static let readData: nghttp3_read_data_callback = { _, streamID, vectors, capacity, flags, userData, _ in
    QUICConnection.from(userData).readBody(streamID: streamID, into: vectors!, capacity: capacity, flags: flags!)
  }
}

extension QUICConnection {
  /// Creates the nghttp3 connection and its control and QPACK streams, once the keys for
  /// application data exist. Returns 0 or an ngtcp2 callback error.
  func setUpHTTP3() -> Int32 {
    guard let conn, h3 == nil else { return 0 }
    guard ngtcp2_conn_get_max_local_streams_uni(conn) >= 3 else {
      deferredCloseDetail = "the peer allows fewer than the 3 unidirectional streams that HTTP/3 needs"
      pendingApplicationError = UInt64(NGHTTP3_H3_STREAM_CREATION_ERROR)
      return NGTCP2_ERR_CALLBACK_FAILURE
    }
    var settings = nghttp3_settings()
    nghttp3_settings_default_versioned(NGHTTP3_SETTINGS_VERSION, &settings)
    settings.max_field_section_size = UInt64(configuration.maxHeaderListSize)
    settings.qpack_max_dtable_capacity = 4096
    settings.qpack_blocked_streams = 100
    var callbacks = HTTP3Callbacks.table
    var connection: OpaquePointer?
    let result: Int32
    switch role {
    case .client:
      result = nghttp3_conn_client_new_versioned(
        &connection, NGHTTP3_CALLBACKS_VERSION, &callbacks, NGHTTP3_SETTINGS_VERSION, &settings, nil, userData)
    case .server:
      result = nghttp3_conn_server_new_versioned(
        &connection, NGHTTP3_CALLBACKS_VERSION, &callbacks, NGHTTP3_SETTINGS_VERSION, &settings, nil, userData)
    }
    guard result == 0, let connection else {
      deferredCloseDetail = "creating the HTTP/3 connection failed: \(QUICErrorText.nghttp3(Int(result)))"
      return NGTCP2_ERR_CALLBACK_FAILURE
    }
    h3 = connection
    if role == .server, let params = ngtcp2_conn_get_local_transport_params(conn) {
      nghttp3_conn_set_max_client_streams_bidi(connection, params.pointee.initial_max_streams_bidi)
    }
    var control: Int64 = -1
    var encoder: Int64 = -1
    var decoder: Int64 = -1
    guard ngtcp2_conn_open_uni_stream(conn, &control, nil) == 0,
      nghttp3_conn_bind_control_stream(connection, control) == 0,
      ngtcp2_conn_open_uni_stream(conn, &encoder, nil) == 0,
      ngtcp2_conn_open_uni_stream(conn, &decoder, nil) == 0,
      nghttp3_conn_bind_qpack_streams(connection, encoder, decoder) == 0
    else {
      deferredCloseDetail = "opening the HTTP/3 control and QPACK streams failed"
      return NGTCP2_ERR_CALLBACK_FAILURE
    }
    return 0
  }

  // MARK: Headers

  func didBeginHeaders(streamID: Int64) {
    let stream: HTTP3Stream
    if let existing = streams[streamID] {
      stream = existing
    } else if role == .server && Self.isClientBidirectional(streamID) {
      stream = HTTP3Stream(connection: self, delegate: nil)
      stream.assignID(streamID)
      streams[streamID] = stream
    } else {
      return
    }
    stream.headerFields = []
    stream.headerFields.reserveCapacity(16)
    stream.headerListSize = 0
    stream.headerListTooLarge = false
  }

  func didReceiveHeaderField(streamID: Int64, name: OpaquePointer, value: OpaquePointer) {
    guard let stream = streams[streamID], !stream.headerListTooLarge else { return }
    let nameBuffer = nghttp3_rcbuf_get_buf(name)
    let valueBuffer = nghttp3_rcbuf_get_buf(value)
    // Counted as in RFC 9114, section 4.2.2: name and value octets plus 32 per field.
    stream.headerListSize += nameBuffer.len + valueBuffer.len + 32
    if stream.headerListSize > configuration.maxHeaderListSize {
      stream.headerListTooLarge = true
      stream.headerFields = []
      return
    }
    stream.headerFields.append(
      HTTPField(
        name: String(decoding: UnsafeBufferPointer(start: nameBuffer.base, count: nameBuffer.len), as: UTF8.self),
        value: String(decoding: UnsafeBufferPointer(start: valueBuffer.base, count: valueBuffer.len), as: UTF8.self)))
  }

  func didEndHeaders(streamID: Int64, endStream: Bool) {
    guard let stream = streams[streamID], !stream.isClosed else { return }
    if endStream { stream.remoteEnded = true }
    if stream.headerListTooLarge {
      rejectOversizedHeaders(on: stream)
      return
    }
    let fields = stream.headerFields
    stream.headerFields = []
    switch role {
    case .server:
      guard !stream.receivedHeaders else { return }
      stream.receivedHeaders = true
      if shutdownState == .goAwaySent || acceptor == nil {
        resetStream(stream, code: .refusedStream)
        return
      }
      let delegate = acceptor!.acceptStream(stream, requestHeaders: fields, endStream: endStream, connection: connectionInfo)
      if let reason = stream.closeReason {
        delegate.stream(stream, didCloseWith: reason)
      } else {
        stream.delegate = delegate
      }
    case .client:
      if !endStream, let status = fields.first(named: ":status"), status.hasPrefix("1") {
        return
      }
      stream.receivedHeaders = true
      stream.delegate?.stream(stream, didReceiveHeaders: fields, endStream: endStream)
    }
  }

  func didEndTrailers(streamID: Int64) {
    guard let stream = streams[streamID], !stream.isClosed else { return }
    stream.remoteEnded = true
    if stream.headerListTooLarge {
      resetStream(stream, code: .internalError)
      return
    }
    let fields = stream.headerFields
    stream.headerFields = []
    deliverInbound(of: stream)
    stream.delegate?.stream(stream, didReceiveTrailers: fields)
  }

  private func rejectOversizedHeaders(on stream: HTTP3Stream) {
    if role == .server && !stream.receivedHeaders {
      stream.receivedHeaders = true
      submitHeaders(for: stream, fields: [HTTPField(name: ":status", value: "431")], endStream: true)
      if !stream.remoteEnded, let conn {
        _ = ngtcp2_conn_shutdown_stream_read(conn, stream.id, UInt64(NGHTTP3_H3_NO_ERROR))
      }
    } else {
      resetStream(stream, code: .internalError)
    }
  }

  // MARK: Body

  /// The maximum number of body bytes gathered for one stream before they go to its delegate.
  static let inboundCoalescingLimit = 64 * 1024

  /// Gathers body bytes: one packet carries about 1.4 KB, and a delegate call per packet would
  /// cost more than the bytes. The gathered bytes go to the delegate when they reach
  /// ``inboundCoalescingLimit``, when the read pass ends (``deliverInbound()``), and before
  /// any other event of the stream.
  func didReceiveBody(streamID: Int64, data: UnsafePointer<UInt8>?, count: Int) {
    guard count > 0, let data else { return }
    guard let stream = streams[streamID], !stream.isClosed, stream.delegate != nil, stream.localResetCode == nil else {
      // No delegate will consume these bytes, so their credit goes back now.
      extendCredit(streamID: streamID, by: count)
      return
    }
    stream.unconsumedBytes += count
    let bytes = UnsafeBufferPointer(start: data, count: count)
    if stream.inbound.isEmpty {
      if count >= Self.inboundCoalescingLimit {
        stream.delegate?.stream(stream, didReceiveData: Array(bytes), endStream: false)
        return
      }
      stream.inbound.reserveCapacity(Self.inboundCoalescingLimit + 2048)
      inboundStreams.append(stream)
    }
    stream.inbound.append(contentsOf: bytes)
    if stream.inbound.count >= Self.inboundCoalescingLimit {
      deliverInbound(of: stream)
    }
  }

  /// Hands every stream's gathered body bytes to its delegate; called at the end of a read pass.
  func deliverInbound() {
    while !inboundStreams.isEmpty {
      let ready = inboundStreams
      inboundStreams.removeAll(keepingCapacity: true)
      for stream in ready {
        deliverInbound(of: stream)
      }
    }
  }

  /// Hands `stream`'s gathered body bytes to its delegate, or returns their credit when no
  /// delegate takes them any more.
  func deliverInbound(of stream: HTTP3Stream) {
    guard !stream.inbound.isEmpty else { return }
    let bytes = stream.inbound
    stream.inbound = []
    guard !stream.isClosed, stream.localResetCode == nil, let delegate = stream.delegate else {
      if !stream.isClosed {
        // A closed stream has returned all its credit already.
        stream.unconsumedBytes -= bytes.count
        extendCredit(streamID: stream.id, by: bytes.count)
      }
      return
    }
    delegate.stream(stream, didReceiveData: bytes, endStream: false)
  }

  func didEndStream(streamID: Int64) {
    guard let stream = streams[streamID], !stream.isClosed else { return }
    deliverInbound(of: stream)
    let alreadyEnded = stream.remoteEnded
    stream.remoteEnded = true
    if !alreadyEnded {
      stream.delegate?.stream(stream, didReceiveData: [], endStream: true)
    }
  }

  func didAcknowledgeBody(streamID: Int64, count: Int) {
    guard let stream = streams[streamID] else { return }
    let freed = stream.acknowledge(count)
    guard freed > 0 else { return }
    let remaining = stream.bufferedBytes.subtract(freed, ordering: .relaxed).newValue
    if stream.wantsWritable && remaining < configuration.streamLowWaterMark {
      stream.wantsWritable = false
      writableStreams.append(stream)
    }
  }

  /// Hands queued body chunks to nghttp3 without copying them again.
  func readBody(
    streamID: Int64, into vectors: UnsafeMutablePointer<nghttp3_vec>, capacity: Int, flags: UnsafeMutablePointer<UInt32>
  ) -> nghttp3_ssize {
    guard let stream = streams[streamID], let h3 else { return nghttp3_ssize(NGHTTP3_ERR_WOULDBLOCK) }
    var count = 0
    while count < capacity, let chunk = stream.takePending() {
      vectors[count] = nghttp3_vec(base: chunk.base.assumingMemoryBound(to: UInt8.self), len: chunk.count)
      count += 1
    }
    if !stream.hasPendingBytes && stream.outboundEnded {
      flags.pointee |= UInt32(NGHTTP3_DATA_FLAG_EOF)
      if let trailers = stream.pendingTrailers {
        stream.pendingTrailers = nil
        flags.pointee |= UInt32(NGHTTP3_DATA_FLAG_NO_END_STREAM)
        let result = HTTP3HeaderList.withNameValuePairs(trailers) { nva, fieldCount in
          nghttp3_conn_submit_trailers(h3, streamID, nva, fieldCount)
        }
        if result != 0 { return nghttp3_ssize(NGHTTP3_ERR_CALLBACK_FAILURE) }
        stream.trailersSubmitted = true
      }
      return count
    }
    if count == 0 {
      stream.isDeferred = true
      return nghttp3_ssize(NGHTTP3_ERR_WOULDBLOCK)
    }
    return count
  }

  // MARK: Closing and GOAWAY

  func didCloseHTTPStream(streamID: Int64, code: UInt64) {
    if role == .server && Self.isClientBidirectional(streamID), let conn {
      ngtcp2_conn_extend_max_streams_bidi(conn, 1)
    }
    guard let stream = streams[streamID] else { return }
    closeStream(stream, reason: closeReason(for: stream, code: code))
  }

  /// Handles the peer's GOAWAY: client streams from `id` on were not processed, so they end
  /// as refused and their calls may go to another connection.
  func didReceiveGoAway(id: Int64) {
    guard role == .client else { return }
    acceptingStreams.store(false, ordering: .releasing)
    let first = peerGoAwayID == nil
    peerGoAwayID = min(peerGoAwayID ?? Int64.max, id)
    let refused = streams.values.filter { $0.id >= id }.sorted { $0.id < $1.id }
    for stream in refused {
      // The caller learns now; the stream stays in the table until QUIC closes it, because
      // ngtcp2 may still read its handed-out bytes.
      stream.localResetCode = .cancel
      stream.bufferedBytes.subtract(stream.dropPending(), ordering: .relaxed)
      if let h3 { nghttp3_conn_shutdown_stream_write(h3, stream.id) }
      if let conn {
        _ = ngtcp2_conn_shutdown_stream(conn, stream.id, UInt64(NGHTTP3_H3_REQUEST_CANCELLED))
      }
      notifyClosed(stream, reason: .refusedByGoAway)
    }
    let waiting = waitingStreams
    waitingStreams.removeAll()
    for stream in waiting {
      finishUnopenedStream(stream, reason: .refusedByGoAway)
    }
    if first, let connection = clientConnection, let delegate = clientDelegate {
      delegate.connectionDidReceiveGoAway(connection, errorCode: .noError)
    }
    gracefulCloseRequested = true
    scheduleWrite()
  }
}
