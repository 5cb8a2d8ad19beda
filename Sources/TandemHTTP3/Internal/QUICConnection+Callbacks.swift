import CQUIC
import Glibc

/// The ngtcp2 callback table. Every application callback finds its ``QUICConnection`` in
/// `user_data`; the cryptographic ones are ngtcp2's own GnuTLS helpers.
enum QUICCallbacks {
  static let table: ngtcp2_callbacks = {
    var callbacks = ngtcp2_callbacks()
    callbacks.client_initial = ngtcp2_crypto_client_initial_cb
    callbacks.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb
    callbacks.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb
    callbacks.encrypt = ngtcp2_crypto_encrypt_cb
    callbacks.decrypt = ngtcp2_crypto_decrypt_cb
    callbacks.hp_mask = ngtcp2_crypto_hp_mask_cb
    callbacks.recv_retry = ngtcp2_crypto_recv_retry_cb
    callbacks.update_key = ngtcp2_crypto_update_key_cb
    callbacks.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb
    callbacks.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb
    callbacks.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb
    callbacks.version_negotiation = ngtcp2_crypto_version_negotiation_cb

    callbacks.handshake_completed = { _, userData in
      QUICConnection.from(userData).didCompleteHandshake()
    }
    callbacks.recv_stream_data = { _, flags, streamID, _, data, count, userData, _ in
      QUICConnection.from(userData).didReceiveStreamData(streamID: streamID, data: data, count: count, flags: flags)
    }
    callbacks.acked_stream_data_offset = { _, streamID, _, count, userData, _ in
      QUICConnection.from(userData).didAcknowledgeStreamData(streamID: streamID, count: count)
    }
    callbacks.stream_close = { _, flags, streamID, code, userData, _ in
      QUICConnection.from(userData).didCloseQUICStream(streamID: streamID, flags: flags, code: code)
    }
    callbacks.stream_reset = { _, streamID, _, code, userData, _ in
      QUICConnection.from(userData).didReceiveStreamReset(streamID: streamID, code: code)
    }
    callbacks.stream_stop_sending = { _, streamID, _, userData, _ in
      QUICConnection.from(userData).didStopReading(streamID: streamID)
    }
    callbacks.extend_max_local_streams_bidi = { _, _, userData in
      QUICConnection.from(userData).scheduleWrite()
      return 0
    }
    callbacks.extend_max_remote_streams_bidi = { _, maxStreams, userData in
      let connection = QUICConnection.from(userData)
      if let h3 = connection.h3 {
        nghttp3_conn_set_max_client_streams_bidi(h3, maxStreams)
      }
      return 0
    }
    callbacks.extend_max_stream_data = { _, streamID, _, userData, _ in
      let connection = QUICConnection.from(userData)
      if let h3 = connection.h3 {
        _ = nghttp3_conn_unblock_stream(h3, streamID)
      }
      return 0
    }
    callbacks.rand = { destination, count, _ in
      guard let destination else { return }
      _ = gnutls_rnd(GNUTLS_RND_RANDOM, destination, count)
    }
    callbacks.get_new_connection_id = { _, cid, token, length, userData in
      QUICConnection.from(userData).makeConnectionID(cid!, token: token!, length: length)
    }
    callbacks.remove_connection_id = { _, cid, userData in
      let connection = QUICConnection.from(userData)
      if let cid, let endpoint = connection.endpoint {
        endpoint.unregister(QUICConnection.bytes(of: cid), for: connection)
      }
      return 0
    }
    callbacks.recv_rx_key = { _, level, userData in
      let connection = QUICConnection.from(userData)
      guard level == NGTCP2_CRYPTO_LEVEL_APPLICATION, connection.role == .client, connection.h3 == nil else { return 0 }
      return connection.setUpHTTP3()
    }
    callbacks.recv_tx_key = { _, level, userData in
      let connection = QUICConnection.from(userData)
      guard level == NGTCP2_CRYPTO_LEVEL_APPLICATION, connection.role == .server, connection.h3 == nil else { return 0 }
      return connection.setUpHTTP3()
    }
    callbacks.early_data_rejected = { _, userData in
      QUICConnection.from(userData).didRejectEarlyData()
      return 0
    }
    callbacks.recv_new_token = { _, token, userData in
      guard let token else { return 0 }
      QUICConnection.from(userData).didReceiveNewToken(token.pointee)
      return 0
    }
    callbacks.path_validation = { _, _, path, result, userData in
      QUICConnection.from(userData).didValidatePath(path, succeeded: result == NGTCP2_PATH_VALIDATION_RESULT_SUCCESS)
      return 0
    }
    callbacks.handshake_confirmed = { _, userData in
      QUICConnection.from(userData).handshakeConfirmed = true
      return 0
    }
    return callbacks
  }()
}

extension QUICConnection {
  static func bytes(of cid: UnsafePointer<ngtcp2_cid>) -> [UInt8] {
    withUnsafeBytes(of: cid.pointee.data) { Array($0.prefix(cid.pointee.datalen)) }
  }

  static func makeCID(_ bytes: [UInt8]) -> ngtcp2_cid {
    var cid = ngtcp2_cid()
    bytes.withUnsafeBufferPointer { ngtcp2_cid_init(&cid, $0.baseAddress, $0.count) }
    return cid
  }

  static func randomBytes(_ count: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    _ = bytes.withUnsafeMutableBytes { gnutls_rnd(GNUTLS_RND_RANDOM, $0.baseAddress, count) }
    return bytes
  }

  func makeConnectionID(_ cid: UnsafeMutablePointer<ngtcp2_cid>, token: UnsafeMutablePointer<UInt8>, length: Int) -> Int32 {
    let bytes = Self.randomBytes(length)
    cid.pointee = Self.makeCID(bytes)
    if role == .server, let endpoint {
      let secret = endpoint.statelessResetSecret
      let result = secret.withUnsafeBufferPointer {
        ngtcp2_crypto_generate_stateless_reset_token(token, $0.baseAddress, $0.count, cid)
      }
      guard result == 0 else { return NGTCP2_ERR_CALLBACK_FAILURE }
      endpoint.register(bytes, for: self)
    } else {
      _ = gnutls_rnd(GNUTLS_RND_RANDOM, token, Int(NGTCP2_STATELESS_RESET_TOKENLEN))
    }
    return 0
  }

  func didReceiveStreamData(streamID: Int64, data: UnsafePointer<UInt8>?, count: Int, flags: UInt32) -> Int32 {
    guard let h3 else { return 0 }
    let fin = flags & UInt32(NGTCP2_STREAM_DATA_FLAG_FIN) != 0 ? Int32(1) : 0
    let consumed = nghttp3_conn_read_stream(h3, streamID, data, count, fin)
    if consumed < 0 {
      pendingApplicationError = nghttp3_err_infer_quic_app_error_code(Int32(consumed))
      deferredCloseDetail = "HTTP/3 error on stream \(streamID): \(QUICErrorText.nghttp3(Int(consumed)))"
      return NGTCP2_ERR_CALLBACK_FAILURE
    }
    extendCredit(streamID: streamID, by: Int(consumed))
    return 0
  }

  /// Returns receive credit on a stream and on the connection.
  func extendCredit(streamID: Int64, by count: Int) {
    guard let conn, count > 0 else { return }
    _ = ngtcp2_conn_extend_max_stream_offset(conn, streamID, UInt64(count))
    ngtcp2_conn_extend_max_offset(conn, UInt64(count))
  }

  func didAcknowledgeStreamData(streamID: Int64, count: UInt64) -> Int32 {
    guard let h3 else { return 0 }
    let result = nghttp3_conn_add_ack_offset(h3, streamID, count)
    if result != 0 {
      pendingApplicationError = nghttp3_err_infer_quic_app_error_code(result)
      return NGTCP2_ERR_CALLBACK_FAILURE
    }
    return 0
  }

  func didCloseQUICStream(streamID: Int64, flags: UInt32, code: UInt64) -> Int32 {
    let errorCode = flags & UInt32(NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET) != 0 ? code : UInt64(NGHTTP3_H3_NO_ERROR)
    var known = false
    if let h3 {
      let result = nghttp3_conn_close_stream(h3, streamID, errorCode)
      switch result {
      case 0:
        known = true
      case NGHTTP3_ERR_STREAM_NOT_FOUND:
        break
      default:
        pendingApplicationError = nghttp3_err_infer_quic_app_error_code(result)
        deferredCloseDetail = "HTTP/3 closed a critical stream \(streamID): \(QUICErrorText.nghttp3(Int(result)))"
        return NGTCP2_ERR_CALLBACK_FAILURE
      }
    }
    if !known {
      if role == .server && Self.isClientBidirectional(streamID), let conn {
        ngtcp2_conn_extend_max_streams_bidi(conn, 1)
      }
      if let stream = streams[streamID] {
        closeStream(stream, reason: closeReason(for: stream, code: errorCode))
      }
    }
    return 0
  }

  static func isClientBidirectional(_ streamID: Int64) -> Bool {
    streamID & 0x3 == 0
  }

  func didReceiveStreamReset(streamID: Int64, code: UInt64) -> Int32 {
    if let stream = streams[streamID] {
      stream.peerResetCode = code
    }
    if let h3 {
      _ = nghttp3_conn_shutdown_stream_read(h3, streamID)
    }
    return 0
  }

  func didStopReading(streamID: Int64) -> Int32 {
    if let h3 {
      _ = nghttp3_conn_shutdown_stream_read(h3, streamID)
    }
    return 0
  }
}
