import CQUIC
import Glibc
import TandemHTTP
import TandemIO

/// Creating connections, the end of the handshake, session tickets, 0-RTT, address tokens
/// and migration.
extension QUICConnection {
  // MARK: Client

  /// Creates the client's ngtcp2 connection and TLS session; the first write sends the
  /// Initial packet (with 0-RTT data when a ticket allows it).
  func startClient(
    tls: GnuTLSClientContext, verifyName: String, sniName: String?, cache: QUICSessionCache?, cacheKey: String
  ) throws {
    verifiedName = verifyName
    sessionCache = cache
    sessionCacheKey = cacheKey
    clientContext = tls
    let remembered = cache?.entry(for: cacheKey)
    var settings = makeSettings()
    var params = makeTransportParameters()
    var dcid = Self.makeCID(Self.randomBytes(18))
    var scid = Self.makeCID(Self.randomBytes(16))
    Self.setPath(readPath, local: localAddress, remote: remoteAddress)
    var callbacks = QUICCallbacks.table
    var connection: OpaquePointer?
    let token = remembered?.token ?? []
    let result = token.withUnsafeBufferPointer { tokenBytes -> Int32 in
      if !token.isEmpty {
        settings.token = ngtcp2_vec(base: UnsafeMutablePointer(mutating: tokenBytes.baseAddress), len: token.count)
      }
      return ngtcp2_conn_client_new_versioned(
        &connection, &dcid, &scid, &readPath.pointee.path, UInt32(NGTCP2_PROTO_VER_V1), NGTCP2_CALLBACKS_VERSION,
        &callbacks, NGTCP2_SETTINGS_VERSION, &settings, NGTCP2_TRANSPORT_PARAMS_VERSION, &params, nil, userData)
    }
    guard result == 0, let connection else {
      throw HTTPTransportError(.connectFailed, "creating the QUIC connection failed: \(QUICErrorText.ngtcp2(Int(result)))")
    }
    conn = connection

    let ticket = configuration.earlyData ? remembered?.ticket : nil
    let session = try tls.makeSession(
      connectionReference: UnsafeMutableRawPointer(connectionReference), verifyName: verifyName, sniName: sniName,
      resumption: ticket, verificationStorage: &verificationStorage)
    tlsSession = session
    ngtcp2_conn_set_tls_native_handle(connection, UnsafeMutableRawPointer(session))
    if cache != nil {
      gnutls_handshake_set_hook_function(
        session, UInt32(GNUTLS_HANDSHAKE_NEW_SESSION_TICKET.rawValue), Int32(GNUTLS_HOOK_POST)
      ) { session, _, _, _, _ in
        guard let session, let reference = gnutls_session_get_ptr(session) else { return 0 }
        let connReference = reference.assumingMemoryBound(to: ngtcp2_crypto_conn_ref.self)
        guard let pointer = connReference.pointee.user_data else { return 0 }
        Unmanaged<QUICConnection>.fromOpaque(pointer).takeUnretainedValue().didReceiveSessionTicket()
        return 0
      }
    }
    applyKeepalive()

    if ticket != nil, let params = remembered?.transportParameters {
      var early = ngtcp2_transport_params()
      ngtcp2_transport_params_default_versioned(NGTCP2_TRANSPORT_PARAMS_VERSION, &early)
      early.initial_max_stream_data_bidi_local = params.initialMaxStreamDataBidiLocal
      early.initial_max_stream_data_bidi_remote = params.initialMaxStreamDataBidiRemote
      early.initial_max_stream_data_uni = params.initialMaxStreamDataUni
      early.initial_max_data = params.initialMaxData
      early.initial_max_streams_bidi = params.initialMaxStreamsBidi
      early.initial_max_streams_uni = params.initialMaxStreamsUni
      early.active_connection_id_limit = params.activeConnectionIDLimit
      early.max_datagram_frame_size = params.maxDatagramFrameSize
      ngtcp2_conn_set_early_remote_transport_params_versioned(connection, NGTCP2_TRANSPORT_PARAMS_VERSION, &early)
      attemptedEarlyData = true
      if setUpHTTP3() != 0 {
        attemptedEarlyData = false
        if let h3 {
          nghttp3_conn_del(h3)
          self.h3 = nil
        }
        deferredCloseDetail = nil
        pendingApplicationError = nil
      }
    }
    connectionInfo = HTTPConnectionInfo(
      version: .http3, remotePeer: remoteAddress.grpcPeerDescription, localPeer: localAddress.grpcPeerDescription,
      isSecure: true, connectionID: connectionNumber)
  }

  /// GnuTLS received a NewSessionTicket: keep it with the server's transport parameters.
  func didReceiveSessionTicket() {
    guard let cache = sessionCache, let tlsSession, let conn else { return }
    var data = gnutls_datum_t()
    guard gnutls_session_get_data2(tlsSession, &data) == 0, let bytes = data.data else { return }
    let ticket = Array(UnsafeBufferPointer(start: bytes, count: Int(data.size)))
    free(bytes)
    var remembered: RememberedTransportParameters?
    if let params = ngtcp2_conn_get_remote_transport_params(conn) {
      let p = params.pointee
      remembered = RememberedTransportParameters(
        initialMaxStreamDataBidiLocal: p.initial_max_stream_data_bidi_local,
        initialMaxStreamDataBidiRemote: p.initial_max_stream_data_bidi_remote,
        initialMaxStreamDataUni: p.initial_max_stream_data_uni, initialMaxData: p.initial_max_data,
        initialMaxStreamsBidi: p.initial_max_streams_bidi, initialMaxStreamsUni: p.initial_max_streams_uni,
        activeConnectionIDLimit: p.active_connection_id_limit, maxDatagramFrameSize: p.max_datagram_frame_size)
    }
    cache.update(sessionCacheKey) {
      $0.ticket = ticket
      $0.transportParameters = remembered
    }
  }

  func didReceiveNewToken(_ token: ngtcp2_vec) {
    guard let cache = sessionCache, let base = token.base, token.len > 0 else { return }
    let bytes = Array(UnsafeBufferPointer(start: base, count: token.len))
    cache.update(sessionCacheKey) { $0.token = bytes }
  }

  /// ngtcp2 discarded the streams sent in 0-RTT: they go out again over 1-RTT.
  func didRejectEarlyData() {
    if let h3 {
      nghttp3_conn_del(h3)
      self.h3 = nil
    }
    let resent = streams.values.filter { $0.sentInEarlyData }.sorted { $0.id < $1.id }
    for stream in resent {
      streams[stream.id] = nil
      stream.rewindUnacknowledged()
      stream.sentInEarlyData = false
      stream.isDeferred = false
      stream.hasDataReader = false
      stream.assignID(-1)
    }
    waitingStreams = resent + waitingStreams
  }

  // MARK: Server

  /// Creates the server's ngtcp2 connection for a client's first Initial packet.
  func startServer(
    header: ngtcp2_pkt_hd, originalDestination: ngtcp2_cid?, tokenValidated: Bool, tls: GnuTLSServerContext,
    resetSecret: [UInt8]
  ) throws {
    var header = header
    serverContext = tls
    var settings = makeSettings()
    if tokenValidated {
      settings.token = header.token
    }
    var params = makeTransportParameters()
    if let originalDestination {
      params.original_dcid = originalDestination
      params.retry_scid = header.dcid
      params.retry_scid_present = 1
    } else {
      params.original_dcid = header.dcid
    }
    let sourceBytes = Self.randomBytes(QUICServerEndpoint.connectionIDLength)
    var source = Self.makeCID(sourceBytes)
    let tokenResult = resetSecret.withUnsafeBufferPointer { secret in
      withUnsafeMutableBytes(of: &params.stateless_reset_token) { token in
        ngtcp2_crypto_generate_stateless_reset_token(
          token.baseAddress!.assumingMemoryBound(to: UInt8.self), secret.baseAddress, secret.count, &source)
      }
    }
    guard tokenResult == 0 else {
      throw HTTPTransportError(.connectFailed, "deriving the stateless reset token failed")
    }
    params.stateless_reset_token_present = 1

    Self.setPath(readPath, local: localAddress, remote: remoteAddress)
    var callbacks = QUICCallbacks.table
    var connection: OpaquePointer?
    let result = ngtcp2_conn_server_new_versioned(
      &connection, &header.scid, &source, &readPath.pointee.path, header.version, NGTCP2_CALLBACKS_VERSION, &callbacks,
      NGTCP2_SETTINGS_VERSION, &settings, NGTCP2_TRANSPORT_PARAMS_VERSION, &params, nil, userData)
    guard result == 0, let connection else {
      throw HTTPTransportError(.connectFailed, "creating the QUIC server connection failed: \(QUICErrorText.ngtcp2(Int(result)))")
    }
    conn = connection

    let session = try tls.makeSession(
      connectionReference: UnsafeMutableRawPointer(connectionReference), earlyData: configuration.earlyData)
    tlsSession = session
    ngtcp2_conn_set_tls_native_handle(connection, UnsafeMutableRawPointer(session))
    applyKeepalive()
    endpoint?.register(sourceBytes, for: self)
    connectionInfo = HTTPConnectionInfo(
      version: .http3, remotePeer: remoteAddress.grpcPeerDescription, localPeer: localAddress.grpcPeerDescription,
      isSecure: true, connectionID: connectionNumber)
  }

  // MARK: Both sides

  func didCompleteHandshake() -> Int32 {
    handshakeCompleted = true
    if role == .server {
      // A server's handshake is confirmed when it completes (RFC 9001, section 4.1.2), and
      // ngtcp2 does not call handshake_confirmed for it.
      handshakeConfirmed = true
    }
    switch role {
    case .client:
      if attemptedEarlyData {
        earlyDataAccepted = tlsSession.map { gnutls_session_get_flags($0) & UInt32(GNUTLS_SFLAGS_EARLY_DATA.rawValue) != 0 } ?? false
        if !earlyDataAccepted, let conn {
          let result = ngtcp2_conn_early_data_rejected(conn)
          guard result == 0 else { return NGTCP2_ERR_CALLBACK_FAILURE }
          if setUpHTTP3() != 0 { return NGTCP2_ERR_CALLBACK_FAILURE }
        }
      }
      for stream in streams.values where stream.sentInEarlyData {
        stream.sentInEarlyData = false
        stream.requestHeaders = []
      }
      handshakeTimer?.cancel()
      handshakeTimer = nil
      if let onHandshake {
        self.onHandshake = nil
        onHandshake(nil)
      }
      scheduleWrite()
    case .server:
      if let acceptor, !reportedOpen {
        reportedOpen = true
        acceptor.connectionOpened(connectionInfo)
      }
      guard let tlsSession, let conn else { return 0 }
      _ = gnutls_session_ticket_send(tlsSession, 1, 0)
      if let endpoint {
        var token = [UInt8](repeating: 0, count: 128)
        let length = endpoint.tokenSecret.withUnsafeBufferPointer { secret in
          remoteAddress.withSockAddr { address, addressLength in
            ngtcp2_crypto_generate_regular_token(
              &token, secret.baseAddress, secret.count, address, addressLength, QUICClock.wallClock())
          }
        }
        if length > 0 {
          _ = ngtcp2_conn_submit_new_token(conn, token, Int(length))
        }
      }
    }
    return 0
  }

  func didValidatePath(_ path: UnsafePointer<ngtcp2_path>?, succeeded: Bool) {
    guard let path, succeeded else { return }
    if role == .server, let remote = SocketAddress(sockaddr: path.pointee.remote.addr) {
      remoteAddress = remote
      connectionInfo.remotePeer = remote.grpcPeerDescription
    }
    if role == .client, let local = SocketAddress(sockaddr: path.pointee.local.addr), local == localAddress {
      // The new path works: the sockets of older paths close.
      for old in extraSockets { old.close() }
      extraSockets.removeAll()
    }
  }

  /// Client: moves the connection to a new local UDP socket, as after a network change.
  /// In-flight streams continue; the server validates the new path.
  func migrate(to newSocket: UDPSocket) throws {
    guard let conn, handshakeConfirmed else {
      throw HTTPTransportError(.connectionUnavailable, "a QUIC connection can migrate only after its handshake is confirmed")
    }
    let path = UnsafeMutablePointer<ngtcp2_path_storage>.allocate(capacity: 1)
    defer { path.deallocate() }
    Self.setPath(path, local: newSocket.localAddress, remote: remoteAddress)
    extraSockets.append(newSocket)
    let result = ngtcp2_conn_initiate_immediate_migration(conn, &path.pointee.path, QUICClock.now())
    guard result == 0 else {
      extraSockets.removeAll { $0 === newSocket }
      throw HTTPTransportError(.connectionUnavailable, "QUIC migration failed: \(QUICErrorText.ngtcp2(Int(result)))")
    }
    // Packets go out on the new path at once; the old socket stays open until it validates.
    let old = socket
    socket = newSocket
    extraSockets.removeAll { $0 === newSocket }
    if let old { extraSockets.append(old) }
    localAddress = newSocket.localAddress
    scheduleWrite()
  }
}

extension QUICConnection {
  /// Whether the TLS session was resumed from a ticket.
  var sessionWasResumed: Bool {
    tlsSession.map { gnutls_session_is_resumed($0) != 0 } ?? false
  }
}
