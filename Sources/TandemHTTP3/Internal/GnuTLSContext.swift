import CQUIC
import Glibc
import Synchronization
import TandemIO

/// TLS 1.3 only, AES-GCM first because GnuTLS uses AES-NI for it, and without the TLS 1.3
/// middlebox compatibility mode, which RFC 9001 (section 8.4) forbids for QUIC.
let quicPriorityString =
  "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:"
  + "-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:%DISABLE_TLS13_COMPAT_MODE"

/// The ALPN protocol of HTTP/3.
let h3ALPN: [UInt8] = Array("h3".utf8)

/// Sets ALPN `h3` on a session.
func setH3ALPN(_ session: gnutls_session_t, server: Bool) -> Int32 {
  h3ALPN.withUnsafeBufferPointer { bytes in
    var datum = gnutls_datum_t(data: UnsafeMutablePointer(mutating: bytes.baseAddress), size: UInt32(bytes.count))
    var flags = UInt32(GNUTLS_ALPN_MANDATORY.rawValue)
    if server { flags |= UInt32(GNUTLS_ALPN_SERVER_PRECEDENCE.rawValue) }
    return gnutls_alpn_set_protocols(session, &datum, 1, flags)
  }
}

/// Returns GnuTLS' text for a certificate verification status, such as "The certificate is
/// NOT trusted. The name in the certificate does not match the expected."
func verificationText(_ status: UInt32) -> String {
  var out = gnutls_datum_t()
  guard gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) == 0, let data = out.data else {
    return "verification status 0x\(String(status, radix: 16))"
  }
  let text = String(decoding: UnsafeBufferPointer(start: data, count: Int(out.size)), as: UTF8.self)
  free(data)
  return String(text.reversed().drop(while: { $0.isWhitespace || $0 == "\0" }).reversed())
}

/// Server credentials, the session-ticket key and the 0-RTT anti-replay database, shared by
/// all connections of a configuration.
final class GnuTLSServerContext: @unchecked Sendable {
  let credentials: gnutls_certificate_credentials_t
  let clientCertificates: QUICServerTLSConfiguration.ClientCertificates
  private var ticketKey = gnutls_datum_t()
  let antiReplay: AntiReplayStore

  init(
    certificateChainFile: String, privateKeyFile: String,
    clientCertificates: QUICServerTLSConfiguration.ClientCertificates
  ) throws {
    var credentials: gnutls_certificate_credentials_t?
    var result = gnutls_certificate_allocate_credentials(&credentials)
    guard result == 0, let credentials else {
      throw TLSError(kind: .configuration, message: "allocating GnuTLS credentials failed: \(QUICErrorText.gnutls(result))")
    }
    result = gnutls_certificate_set_x509_key_file(credentials, certificateChainFile, privateKeyFile, GNUTLS_X509_FMT_PEM)
    guard result == 0 else {
      gnutls_certificate_free_credentials(credentials)
      throw TLSError(
        kind: .configuration,
        message: "loading the certificate chain '\(certificateChainFile)' and key '\(privateKeyFile)' failed: \(QUICErrorText.gnutls(result))")
    }
    switch clientCertificates {
    case .none:
      break
    case .optional(let caFile), .required(let caFile):
      let count = gnutls_certificate_set_x509_trust_file(credentials, caFile, GNUTLS_X509_FMT_PEM)
      guard count > 0 else {
        gnutls_certificate_free_credentials(credentials)
        throw TLSError(
          kind: .configuration,
          message: "loading client CA certificates from '\(caFile)' failed: "
            + (count == 0 ? "no certificate found in the file" : QUICErrorText.gnutls(count)))
      }
    }
    self.credentials = credentials
    self.clientCertificates = clientCertificates
    result = gnutls_session_ticket_key_generate(&ticketKey)
    guard result == 0 else {
      gnutls_certificate_free_credentials(credentials)
      throw TLSError(kind: .configuration, message: "generating the session ticket key failed: \(QUICErrorText.gnutls(result))")
    }
    antiReplay = try AntiReplayStore()
  }

  deinit {
    gnutls_certificate_free_credentials(credentials)
    if let data = ticketKey.data {
      memset(data, 0, Int(ticketKey.size))
      free(data)
    }
  }

  /// Creates the TLS session of one server connection. `connectionReference` must point to
  /// an `ngtcp2_crypto_conn_ref` that outlives the session.
  func makeSession(connectionReference: UnsafeMutableRawPointer, earlyData: Bool) throws -> gnutls_session_t {
    var flags = UInt32(GNUTLS_SERVER) | UInt32(GNUTLS_NO_AUTO_SEND_TICKET.rawValue)
      | UInt32(GNUTLS_NO_END_OF_EARLY_DATA.rawValue)
    if earlyData { flags |= UInt32(GNUTLS_ENABLE_EARLY_DATA.rawValue) }
    var session: gnutls_session_t?
    var result = gnutls_init(&session, flags)
    guard result == 0, let session else {
      throw TLSError(kind: .configuration, message: "gnutls_init failed: \(QUICErrorText.gnutls(result))")
    }
    func fail(_ step: String) -> TLSError {
      gnutls_deinit(session)
      return TLSError(kind: .configuration, message: "\(step) failed: \(QUICErrorText.gnutls(result))")
    }
    result = gnutls_priority_set_direct(session, quicPriorityString, nil)
    guard result == 0 else { throw fail("setting the TLS priorities") }
    result = withUnsafeMutablePointer(to: &ticketKey) { gnutls_session_ticket_enable_server(session, $0) }
    guard result == 0 else { throw fail("enabling session tickets") }
    result = ngtcp2_crypto_gnutls_configure_server_session(session)
    guard result == 0 else { throw fail("configuring the QUIC TLS session") }
    if earlyData {
      gnutls_anti_replay_enable(session, antiReplay.handle)
      // RFC 9001, section 4.6.1: a QUIC server that accepts 0-RTT announces exactly this.
      result = gnutls_record_set_max_early_data_size(session, 0xffff_ffff)
      guard result == 0 else { throw fail("setting the early data size") }
    }
    gnutls_session_set_ptr(session, connectionReference)
    result = gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, UnsafeMutableRawPointer(credentials))
    guard result == 0 else { throw fail("setting the credentials") }
    result = setH3ALPN(session, server: true)
    guard result == 0 else { throw fail("setting ALPN h3") }
    switch clientCertificates {
    case .none:
      break
    case .optional:
      gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUEST)
      gnutls_session_set_verify_cert(session, nil, 0)
    case .required:
      gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUIRE)
      gnutls_session_set_verify_cert(session, nil, 0)
    }
    return session
  }
}

/// GnuTLS' 0-RTT anti-replay database: each ClientHello of an early-data attempt may be
/// used once within its ticket's window. A second use of the same entry is refused, which
/// makes GnuTLS reject the early data of that handshake (the handshake itself goes on).
final class AntiReplayStore: @unchecked Sendable {
  /// Entries kept at most; beyond it the oldest expiry times are dropped first, which only
  /// makes replays within the window possible for the dropped entries.
  static let capacity = 100_000

  let handle: gnutls_anti_replay_t
  private let entries = Mutex<[[UInt8]: Int]>([:])

  init() throws {
    var handle: gnutls_anti_replay_t?
    let result = gnutls_anti_replay_init(&handle)
    guard result == 0, let handle else {
      throw TLSError(kind: .configuration, message: "gnutls_anti_replay_init failed: \(QUICErrorText.gnutls(result))")
    }
    self.handle = handle
    gnutls_anti_replay_set_ptr(handle, Unmanaged.passUnretained(self).toOpaque())
    gnutls_anti_replay_set_add_function(handle) { pointer, expiry, key, _ in
      guard let pointer, let key, let data = key.pointee.data else { return 0 }
      let store = Unmanaged<AntiReplayStore>.fromOpaque(pointer).takeUnretainedValue()
      let bytes = Array(UnsafeBufferPointer(start: data, count: Int(key.pointee.size)))
      return store.add(bytes, expiry: Int(expiry)) ? 0 : GNUTLS_E_DB_ENTRY_EXISTS
    }
  }

  deinit {
    gnutls_anti_replay_deinit(handle)
  }

  /// Returns `false` when the entry is already present and not expired.
  func add(_ key: [UInt8], expiry: Int) -> Bool {
    let now = Int(time(nil))
    return entries.withLock { table in
      if let existing = table[key], existing >= now { return false }
      if table.count >= Self.capacity {
        table = table.filter { $0.value >= now }
        if table.count >= Self.capacity {
          let cut = table.values.sorted()[table.count / 2]
          table = table.filter { $0.value > cut }
        }
      }
      table[key] = expiry
      return true
    }
  }
}

/// Client credentials: trusted roots and an optional client certificate.
final class GnuTLSClientContext: @unchecked Sendable {
  let credentials: gnutls_certificate_credentials_t
  let verifies: Bool

  init(trust: TLSClientConfiguration.Trust, clientCertificate: (chainFile: String, keyFile: String)?) throws {
    var credentials: gnutls_certificate_credentials_t?
    var result = gnutls_certificate_allocate_credentials(&credentials)
    guard result == 0, let credentials else {
      throw TLSError(kind: .configuration, message: "allocating GnuTLS credentials failed: \(QUICErrorText.gnutls(result))")
    }
    switch trust {
    case .systemStore:
      result = gnutls_certificate_set_x509_system_trust(credentials)
      guard result >= 0 else {
        gnutls_certificate_free_credentials(credentials)
        throw TLSError(kind: .configuration, message: "loading the system trust store failed: \(QUICErrorText.gnutls(result))")
      }
      verifies = true
    case .caFile(let path):
      result = gnutls_certificate_set_x509_trust_file(credentials, path, GNUTLS_X509_FMT_PEM)
      guard result > 0 else {
        gnutls_certificate_free_credentials(credentials)
        throw TLSError(
          kind: .configuration,
          message: "loading CA certificates from '\(path)' failed: "
            + (result == 0 ? "no certificate found in the file" : QUICErrorText.gnutls(result)))
      }
      verifies = true
    case .noVerification:
      verifies = false
    }
    if let clientCertificate {
      result = gnutls_certificate_set_x509_key_file(
        credentials, clientCertificate.chainFile, clientCertificate.keyFile, GNUTLS_X509_FMT_PEM)
      guard result == 0 else {
        gnutls_certificate_free_credentials(credentials)
        throw TLSError(
          kind: .configuration,
          message: "loading the client certificate '\(clientCertificate.chainFile)' and key '\(clientCertificate.keyFile)' failed: \(QUICErrorText.gnutls(result))")
      }
    }
    self.credentials = credentials
  }

  deinit {
    gnutls_certificate_free_credentials(credentials)
  }

  /// Creates the TLS session of one client connection. `verifyName` is the DNS name or IP
  /// address that the certificate must match; `sniName` is sent in SNI when not `nil`.
  ///
  /// `verificationStorage` receives memory that must be deallocated after `gnutls_deinit`.
  func makeSession(
    connectionReference: UnsafeMutableRawPointer, verifyName: String, sniName: String?, resumption: [UInt8]?,
    verificationStorage: inout UnsafeMutableRawPointer?
  ) throws -> gnutls_session_t {
    let flags = UInt32(GNUTLS_CLIENT) | UInt32(GNUTLS_ENABLE_EARLY_DATA.rawValue) | UInt32(GNUTLS_NO_END_OF_EARLY_DATA.rawValue)
    var session: gnutls_session_t?
    var result = gnutls_init(&session, flags)
    guard result == 0, let session else {
      throw TLSError(kind: .configuration, message: "gnutls_init failed: \(QUICErrorText.gnutls(result))")
    }
    func fail(_ step: String) -> TLSError {
      gnutls_deinit(session)
      return TLSError(kind: .configuration, message: "\(step) failed: \(QUICErrorText.gnutls(result))")
    }
    result = gnutls_priority_set_direct(session, quicPriorityString, nil)
    guard result == 0 else { throw fail("setting the TLS priorities") }
    result = ngtcp2_crypto_gnutls_configure_client_session(session)
    guard result == 0 else { throw fail("configuring the QUIC TLS session") }
    gnutls_session_set_ptr(session, connectionReference)
    result = gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, UnsafeMutableRawPointer(credentials))
    guard result == 0 else { throw fail("setting the credentials") }
    result = setH3ALPN(session, server: false)
    guard result == 0 else { throw fail("setting ALPN h3") }
    if let sniName {
      result = gnutls_server_name_set(session, GNUTLS_NAME_DNS, sniName, sniName.utf8.count)
      guard result == 0 else { throw fail("setting the server name '\(sniName)'") }
    }
    if verifies {
      if let address = try? SocketAddress(ipAddress: verifyName, port: 0) {
        // GnuTLS matches a name given as text against DNS entries only. An IP address is
        // checked against the IP entries through typed verification data, which must stay
        // valid as long as the session.
        let bytes = address.addressBytes
        let storage = UnsafeMutableRawPointer.allocate(
          byteCount: MemoryLayout<gnutls_typed_vdata_st>.stride + bytes.count, alignment: 16)
        let addressPointer = (storage + MemoryLayout<gnutls_typed_vdata_st>.stride).assumingMemoryBound(to: UInt8.self)
        addressPointer.initialize(from: bytes, count: bytes.count)
        let entry = storage.bindMemory(to: gnutls_typed_vdata_st.self, capacity: 1)
        entry.initialize(to: gnutls_typed_vdata_st(type: GNUTLS_DT_IP_ADDRESS, data: addressPointer, size: UInt32(bytes.count)))
        verificationStorage = storage
        gnutls_session_set_verify_cert2(session, entry, 1, 0)
      } else {
        // GnuTLS keeps the name's pointer, so it lives in storage freed after the session.
        let bytes = Array(verifyName.utf8) + [0]
        let storage = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 1)
        storage.copyMemory(from: bytes, byteCount: bytes.count)
        verificationStorage = storage
        gnutls_session_set_verify_cert(session, storage.assumingMemoryBound(to: CChar.self), 0)
      }
    }
    if let resumption, !resumption.isEmpty {
      // A stale or foreign ticket only costs the resumption: GnuTLS then does a full handshake.
      _ = resumption.withUnsafeBytes { gnutls_session_set_data(session, $0.baseAddress, $0.count) }
    }
    return session
  }
}
