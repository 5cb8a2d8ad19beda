#if canImport(Glibc)
import Glibc
#endif
import COpenSSL
import CTandemShims

/// TLS over a ``SocketChannel`` with OpenSSL and a pair of memory BIOs.
///
/// The TLS channel is the socket's handler and the user handler's channel. Ciphertext from the
/// socket goes into the read BIO. Plaintext from the user collects during the turn, and at its
/// end goes through `SSL_write` in records of at most 16 KiB. Then all ciphertext in the write
/// BIO moves to the socket in one append, so the socket flushes it with one writev.
final class TLSChannel: ByteStreamChannel, ByteStreamHandler {
  enum Role {
    case server
    /// `serverName` is sent in SNI (unless it is an IP address) and, when `verify` is set,
    /// checked against the certificate.
    case client(serverName: String, verify: Bool)
  }

  private enum State {
    case idle
    case handshaking
    case active
    case closing
    case closed
  }

  /// Plaintext bytes per SSL_write call: one full TLS record.
  static let recordSize = 16 * 1024

  let socket: SocketChannel
  private let ssl: OpaquePointer
  private let readBIO: OpaquePointer
  private let writeBIO: OpaquePointer
  private let role: Role
  private var handler: (any ByteStreamHandler)?
  private var state = State.idle
  private var plaintext: [UInt8] = []
  private var flushScheduled = false
  private var aboveHighWater = false
  /// The failure to report when the socket closes.
  private var pendingError: (any Error)?
  private(set) var negotiatedALPN: String?
  /// The server-side limit for the handshake; the connector enforces the client's.
  private let handshakeTimeout: Duration?
  private var handshakeTimer: TimerHandle?

  /// Called once: with success after `channelActive` went to the handler, or with the error
  /// when the handshake failed or the socket closed first. Used by the connector.
  var onHandshakeComplete: ((Result<Void, any Error>) -> Void)?

  var eventLoop: EventLoop { socket.eventLoop }
  var remoteAddress: SocketAddress { socket.remoteAddress }
  var localAddress: SocketAddress { socket.localAddress }
  var isSecure: Bool { true }
  var pendingWriteBytes: Int { plaintext.count + socket.pendingWriteBytes }

  /// The negotiated protocol version, such as `TLSv1.3`.
  var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

  init(
    socket: SocketChannel, context: TLSContext, role: Role, handler: any ByteStreamHandler,
    handshakeTimeout: Duration? = nil
  ) {
    self.socket = socket
    self.role = role
    self.handler = handler
    self.handshakeTimeout = handshakeTimeout
    // NOTE: allocation failures of SSL_new or BIO_new stop the process; they mean the heap is exhausted.
    ssl = SSL_new(context.pointer)!
    readBIO = BIO_new(BIO_s_mem())!
    writeBIO = BIO_new(BIO_s_mem())!
    // The SSL object owns both BIOs from here on.
    SSL_set_bio(ssl, readBIO, writeBIO)
    switch role {
    case .server:
      SSL_set_accept_state(ssl)
    case .client(let serverName, let verify):
      SSL_set_connect_state(ssl)
      let isIPAddress = (try? SocketAddress(ipAddress: serverName, port: 0)) != nil
      if !isIPAddress {
        _ = tandem_ssl_set_tlsext_host_name(ssl, serverName)
      }
      if verify {
        if isIPAddress {
          _ = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName)
        } else {
          _ = SSL_set1_host(ssl, serverName)
        }
      }
    }
  }

  deinit {
    SSL_free(ssl)
  }

  // MARK: ByteStreamHandler (from the socket)

  func channelActive(_ channel: any ByteStreamChannel) {
    state = .handshaking
    if let handshakeTimeout {
      handshakeTimer = eventLoop.scheduleTimer(after: handshakeTimeout) { [self] in
        handshakeTimer = nil
        guard state == .handshaking else { return }
        pendingError = TLSError(
          kind: .handshakeFailed,
          message: "TLS handshake with \(remoteAddress) failed: timed out after \(handshakeTimeout)")
        socket.abort(error: pendingError)
      }
    }
    advanceHandshake()
  }

  func channel(_ channel: any ByteStreamChannel, didRead bytes: UnsafeRawBufferPointer) {
    guard state == .handshaking || state == .active || state == .closing else { return }
    _ = BIO_write(readBIO, bytes.baseAddress, Int32(bytes.count))
    if state == .handshaking {
      advanceHandshake()
    }
    if state == .active || state == .closing {
      readPlaintext()
    }
  }

  func channelWritable(_ channel: any ByteStreamChannel) {
    updateWritability()
  }

  func channelInactive(_ channel: any ByteStreamChannel, error: (any Error)?) {
    let wasHandshaking = state == .handshaking || state == .idle
    state = .closed
    plaintext = []
    let handler = self.handler
    self.handler = nil
    if wasHandshaking {
      let failure =
        pendingError ?? error
        ?? TLSError(
          kind: .handshakeFailed,
          message: "TLS handshake with \(remoteAddress) failed: the connection closed before it finished")
      completeHandshake(.failure(failure))
    } else {
      handler?.channelInactive(self, error: pendingError ?? error)
    }
  }

  // MARK: Handshake

  private func advanceHandshake() {
    ERR_clear_error()
    let result = SSL_do_handshake(ssl)
    if result == 1 {
      finishHandshake()
      return
    }
    let code = SSL_get_error(ssl, result)
    if code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE {
      moveCiphertextToSocket()
      return
    }
    fail(handshakeError())
  }

  private func finishHandshake() {
    var selected: UnsafePointer<UInt8>?
    var length: UInt32 = 0
    SSL_get0_alpn_selected(ssl, &selected, &length)
    if let selected, length > 0 {
      negotiatedALPN = String(decoding: UnsafeBufferPointer(start: selected, count: Int(length)), as: UTF8.self)
    }
    state = .active
    moveCiphertextToSocket()
    handler?.channelActive(self)
    completeHandshake(.success(()))
  }

  private func completeHandshake(_ result: Result<Void, any Error>) {
    handshakeTimer?.cancel()
    handshakeTimer = nil
    let callback = onHandshakeComplete
    onHandshakeComplete = nil
    callback?(result)
  }

  private func handshakeError() -> TLSError {
    var reasons: [Int32] = []
    let reason = OpenSSLErrors.drain(reasons: &reasons)
    let prefix = "TLS handshake with \(remoteAddress) failed"
    let verifyCode = Int32(SSL_get_verify_result(ssl))
    if verifyCode != X509_V_OK, case .client(let serverName, true) = role {
      let verifyText = String(cString: X509_verify_cert_error_string(Int(verifyCode)))
      if verifyCode == X509_V_ERR_HOSTNAME_MISMATCH || verifyCode == X509_V_ERR_IP_ADDRESS_MISMATCH {
        return TLSError(
          kind: .hostnameMismatch,
          message: "\(prefix): the certificate does not match the server name '\(serverName)'",
          openSSLReason: reason, verifyResult: verifyText)
      }
      return TLSError(
        kind: .certificateVerificationFailed, message: "\(prefix): certificate verification failed",
        openSSLReason: reason, verifyResult: verifyText)
    }
    if reasons.contains(SSL_R_NO_APPLICATION_PROTOCOL) || reasons.contains(SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL) {
      return TLSError(
        kind: .noApplicationProtocol, message: "\(prefix): the peers share no ALPN protocol",
        openSSLReason: reason)
    }
    return TLSError(kind: .handshakeFailed, message: prefix, openSSLReason: reason ?? "no reason given")
  }

  // MARK: Reading

  private func readPlaintext() {
    let buffer = eventLoop.tlsReadBuffer
    var filled = 0
    while state == .active || state == .closing {
      ERR_clear_error()
      var count = 0
      let result = SSL_read_ex(ssl, buffer.baseAddress! + filled, buffer.count - filled, &count)
      if result == 1 {
        filled += count
        if filled == buffer.count {
          deliver(buffer, count: filled)
          filled = 0
        }
        continue
      }
      deliver(buffer, count: filled)
      filled = 0
      let code = SSL_get_error(ssl, result)
      switch code {
      case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
        break
      case SSL_ERROR_ZERO_RETURN:
        // close_notify from the peer: send ours and close.
        close()
      default:
        var reasons: [Int32] = []
        let reason = OpenSSLErrors.drain(reasons: &reasons)
        fail(TLSError(kind: .protocolError, message: "TLS read from \(remoteAddress) failed", openSSLReason: reason))
      }
      break
    }
    // Reading can produce output: session tickets, key updates, alerts.
    moveCiphertextToSocket()
  }

  private func deliver(_ buffer: UnsafeMutableRawBufferPointer, count: Int) {
    guard count > 0, state == .active, let handler else { return }
    handler.channel(self, didRead: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
  }

  // MARK: Writing

  func write(_ bytes: UnsafeRawBufferPointer) {
    eventLoop.assertInEventLoop()
    guard state == .active, !bytes.isEmpty else { return }
    plaintext.append(contentsOf: bytes)
    if pendingWriteBytes > SocketChannel.highWaterMark {
      aboveHighWater = true
    }
    guard !flushScheduled else { return }
    flushScheduled = true
    eventLoop.runAtEndOfTurn { [self] in
      flushScheduled = false
      encryptPlaintext()
      moveCiphertextToSocket()
      updateWritability()
    }
  }

  /// Sends `channelWritable` to the handler after this channel went above the high-water
  /// mark and all its bytes, plaintext and ciphertext, fell to the low-water mark.
  ///
  /// The socket's own notification may never come, because the socket can flush its older
  /// ciphertext before this turn's plaintext is encrypted. Then its buffer stays below the mark
  /// although the sum went above it. While plaintext waits, the end-of-turn flush calls this again.
  private func updateWritability() {
    guard aboveHighWater, plaintext.isEmpty else { return }
    if socket.pendingWriteBytes <= SocketChannel.lowWaterMark {
      aboveHighWater = false
      handler?.channelWritable(self)
    } else {
      socket.requestWritableNotification()
    }
  }

  private func encryptPlaintext() {
    guard state == .active || state == .closing, !plaintext.isEmpty else { return }
    let failure: TLSError? = plaintext.withUnsafeBytes { bytes in
      var offset = 0
      while offset < bytes.count {
        let length = min(TLSChannel.recordSize, bytes.count - offset)
        var written = 0
        ERR_clear_error()
        guard SSL_write_ex(ssl, bytes.baseAddress! + offset, length, &written) == 1 else {
          return TLSError(
            kind: .protocolError, message: "TLS write to \(remoteAddress) failed",
            openSSLReason: OpenSSLErrors.drain())
        }
        offset += written
      }
      return nil
    }
    plaintext.removeAll(keepingCapacity: plaintext.capacity <= 1024 * 1024)
    if let failure {
      fail(failure)
    }
  }

  private func moveCiphertextToSocket() {
    let pending = tandem_bio_pending(writeBIO)
    guard pending > 0 else { return }
    socket.write(byteCount: pending) { buffer in
      Int(BIO_read(writeBIO, buffer.baseAddress, Int32(buffer.count)))
    }
  }

  // MARK: Closing

  func close() {
    eventLoop.assertInEventLoop()
    guard state == .active else { return }
    encryptPlaintext()
    guard state == .active else { return }
    state = .closing
    ERR_clear_error()
    _ = SSL_shutdown(ssl)
    moveCiphertextToSocket()
    socket.close()
  }

  /// Sends any alert OpenSSL queued, then closes the socket; the socket's `channelInactive`
  /// reports `error`.
  private func fail(_ error: TLSError) {
    guard pendingError == nil else { return }
    pendingError = error
    moveCiphertextToSocket()
    if state == .active { state = .closing }
    socket.close()
  }
}
