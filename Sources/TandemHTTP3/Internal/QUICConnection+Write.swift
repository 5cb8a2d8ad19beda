import CQUIC
import Glibc
import TandemIO

/// The write path: packets from ngtcp2 and nghttp3, batched for UDP GSO, and the timer that
/// `ngtcp2_conn_get_expiry` drives.
extension QUICConnection {
  /// Schedules one write pass at the end of this loop turn.
  @inline(__always)
  func scheduleWrite() {
    guard !writeScheduled, !isTornDown else { return }
    writeScheduled = true
    eventLoop.runAtEndOfTurn { [self] in
      writeScheduled = false
      writePackets()
    }
  }

  /// Writes packets until ngtcp2 has nothing more, or the congestion window, the pacer or the
  /// burst limit stops it; then re-arms the timer.
  func writePackets() {
    guard conn != nil, !isTornDown else { return }
    openWaitingStreams()
    guard let conn = self.conn, !isTornDown else { return }
    let now = QUICClock.now()
    // ngtcp2 pads every client datagram that carries an Initial packet to the whole buffer
    // when packets are not shaped to the path MTU (the loopback case). Until the handshake is
    // confirmed and the Initial keys are gone, packets therefore keep the ordinary size.
    let sizeLimit = handshakeConfirmed ? packets.packetCapacity : min(configuration.maxUDPPayloadSize, packets.packetCapacity)
    let payloadLimit = min(Int(ngtcp2_conn_get_max_tx_udp_payload_size(conn)), sizeLimit)
    let quantum = Int(ngtcp2_conn_get_send_quantum(conn))
    let maxPackets = min(PacketBuffer.maxPackets, max(1, quantum / max(payloadLimit, 1)))
    var batchLength = 0
    var batchCount = 0
    var segmentSize = 0
    var vectors = [nghttp3_vec](repeating: nghttp3_vec(), count: 16)
    ngtcp2_path_storage_zero(writePath)
    var batchPath = ngtcp2_path_storage()
    ngtcp2_path_storage_zero(&batchPath)
    var written = 0
    var failure: String?

    func flush() {
      guard batchCount > 0 else { return }
      transmit(count: batchLength, segmentSize: segmentSize, path: &batchPath.path)
      batchLength = 0
      batchCount = 0
      segmentSize = 0
    }

    callbackDepth += 1
    writing: while written < maxPackets {
      var streamID: Int64 = -1
      var fin: Int32 = 0
      var vectorCount = 0
      if let h3, ngtcp2_conn_get_max_data_left(conn) > 0 {
        let count = vectors.withUnsafeMutableBufferPointer {
          nghttp3_conn_writev_stream(h3, &streamID, &fin, $0.baseAddress, $0.count)
        }
        if count < 0 {
          pendingApplicationError = nghttp3_err_infer_quic_app_error_code(Int32(count))
          failure = "HTTP/3 write failed: \(QUICErrorText.nghttp3(Int(count)))"
          break writing
        }
        vectorCount = Int(count)
      }
      var flags = UInt32(NGTCP2_WRITE_STREAM_FLAG_MORE)
      if fin != 0 { flags |= UInt32(NGTCP2_WRITE_STREAM_FLAG_FIN) }
      var accepted: ngtcp2_ssize = -1
      let destination = packets.base + batchLength
      let result = vectors.withUnsafeBufferPointer { buffer in
        buffer.baseAddress!.withMemoryRebound(to: ngtcp2_vec.self, capacity: buffer.count) { vecs in
          ngtcp2_conn_writev_stream_versioned(
            conn, &writePath.pointee.path, NGTCP2_PKT_INFO_VERSION, packetInfo, destination, payloadLimit,
            &accepted, flags, streamID, vectorCount > 0 ? vecs : nil, vectorCount, now)
        }
      }
      if result < 0 {
        switch Int32(result) {
        case NGTCP2_ERR_STREAM_DATA_BLOCKED:
          if let h3 { nghttp3_conn_block_stream(h3, streamID) }
          continue writing
        case NGTCP2_ERR_STREAM_SHUT_WR:
          if let h3 { nghttp3_conn_shutdown_stream_write(h3, streamID) }
          continue writing
        case NGTCP2_ERR_WRITE_MORE:
          if let h3, accepted >= 0 {
            let rv = nghttp3_conn_add_write_offset(h3, streamID, Int(accepted))
            if rv != 0 {
              pendingApplicationError = nghttp3_err_infer_quic_app_error_code(rv)
              failure = "HTTP/3 write offset failed: \(QUICErrorText.nghttp3(Int(rv)))"
              break writing
            }
          }
          continue writing
        default:
          failure = "QUIC write failed: \(QUICErrorText.ngtcp2(Int(result)))"
          var error = ngtcp2_connection_close_error()
          ngtcp2_connection_close_error_default(&error)
          ngtcp2_connection_close_error_set_transport_error_liberr(&error, Int32(result), nil, 0)
          flush()
          callbackDepth -= 1
          sendConnectionClose(error)
          tearDown(detail: failure!)
          return
        }
      }
      if accepted >= 0, streamID >= 0, let h3 {
        let rv = nghttp3_conn_add_write_offset(h3, streamID, Int(accepted))
        if rv != 0 {
          pendingApplicationError = nghttp3_err_infer_quic_app_error_code(rv)
          failure = "HTTP/3 write offset failed: \(QUICErrorText.nghttp3(Int(rv)))"
          break writing
        }
      }
      if result == 0 {
        break writing
      }
      let size = Int(result)
      if batchCount > 0 && (size > segmentSize || !Self.samePath(&batchPath.path, &writePath.pointee.path)) {
        // The packet cannot join the batch: send the batch, then move the packet to the front.
        flush()
        packets.base.update(from: destination, count: size)
      }
      if batchCount == 0 {
        ngtcp2_path_storage_init(
          &batchPath, writePath.pointee.path.local.addr, writePath.pointee.path.local.addrlen,
          writePath.pointee.path.remote.addr, writePath.pointee.path.remote.addrlen, nil)
        segmentSize = size
      }
      batchLength += size
      batchCount += 1
      written += 1
      if size < segmentSize || batchCount == PacketBuffer.maxPackets
        || batchLength + payloadLimit > PacketBuffer.maxBatchBytes
      {
        flush()
      }
    }
    flush()
    callbackDepth -= 1
    if handshakeCompleted {
      // Before the handshake there is no RTT sample, so ngtcp2 would pace at 1.25 x cwnd per
      // 333 ms and hold a flight's next packet for about 20 ms. Handshake flights are small,
      // so they go out unpaced.
      ngtcp2_conn_update_pkt_tx_time(conn, now)
    }
    if let failure {
      deferredCloseDetail = failure
    }
    if deferredCloseDetail != nil || pendingApplicationError != nil {
      closeAfterCallbackFailure()
      return
    }
    notifyWritableStreams()
    armTimer()
  }

  static func samePath(_ a: UnsafePointer<ngtcp2_path>, _ b: UnsafePointer<ngtcp2_path>) -> Bool {
    ngtcp2_path_eq(a, b) != 0
  }

  /// Sends `count` bytes of `packets` as datagrams of `segmentSize` (the last may be shorter)
  /// to the path's remote address, on the socket whose local address is the path's.
  func transmit(count: Int, segmentSize: Int, path: UnsafePointer<ngtcp2_path>) {
    guard let remote = SocketAddress(sockaddr: path.pointee.remote.addr) else { return }
    let socket = socketFor(local: path.pointee.local)
    guard let socket else { return }
    let bytes = UnsafeRawBufferPointer(start: packets.base, count: count)
    do {
      if count <= segmentSize {
        try socket.send(bytes, to: remote)
      } else {
        try socket.send(bytes, segmentSize: segmentSize, to: remote)
      }
    } catch {
      // A full send queue drops these packets; QUIC's loss recovery sends their frames again.
      lastSendFailure = "\(error)"
      logger.log(.debug, "UDP send failed; QUIC will retransmit", logMetadata + [("error", "\(error)")])
    }
  }

  /// The socket for a path's local address: the client's extra sockets after a migration,
  /// otherwise the main one.
  private func socketFor(local: ngtcp2_addr) -> UDPSocket? {
    if !extraSockets.isEmpty, let address = SocketAddress(sockaddr: local.addr) {
      if let match = extraSockets.first(where: { $0.localAddress == address }) { return match }
    }
    return socket
  }

  func notifyWritableStreams() {
    while !writableStreams.isEmpty {
      let ready = writableStreams
      writableStreams.removeAll(keepingCapacity: true)
      for stream in ready where !stream.isClosed {
        stream.delegate?.streamDidBecomeWritable(stream)
      }
    }
  }

  // MARK: Timer

  func armTimer() {
    guard let conn, !isTornDown else { return }
    let expiry = ngtcp2_conn_get_expiry(conn)
    if expiry == timerDeadline, timer != nil { return }
    timer?.cancel()
    timer = nil
    timerDeadline = expiry
    guard expiry != UInt64.max else { return }
    let now = QUICClock.now()
    let delay = expiry > now ? expiry - now : 0
    timer = eventLoop.scheduleTimer(after: .nanoseconds(Int64(min(delay, UInt64(Int64.max))))) { [self] in
      timer = nil
      timerDeadline = UInt64.max
      handleExpiry()
    }
  }

  private func handleExpiry() {
    guard let conn, !isTornDown else { return }
    let result = ngtcp2_conn_handle_expiry(conn, QUICClock.now())
    switch result {
    case 0:
      if handshakeCompleted, let limit = configuration.maxProbeTimeouts {
        var statistics = ngtcp2_conn_stat()
        ngtcp2_conn_get_conn_stat_versioned(conn, NGTCP2_CONN_STAT_VERSION, &statistics)
        if statistics.pto_count >= limit {
          pathFailed.store(true, ordering: .relaxed)
          tearDown(detail: "the path stopped responding: \(statistics.pto_count) probe timeouts in a row")
          return
        }
      }
      writePackets()
    case NGTCP2_ERR_IDLE_CLOSE:
      tearDown(detail: "the connection was idle for longer than its idle timeout")
    case NGTCP2_ERR_HANDSHAKE_TIMEOUT:
      tearDown(detail: "the QUIC handshake did not finish within \(configuration.handshakeTimeout)")
    default:
      var error = ngtcp2_connection_close_error()
      ngtcp2_connection_close_error_default(&error)
      ngtcp2_connection_close_error_set_transport_error_liberr(&error, result, nil, 0)
      sendConnectionClose(error)
      tearDown(detail: "QUIC timer handling failed: \(QUICErrorText.ngtcp2(Int(result)))")
    }
  }
}
