import CQUIC

/// The QUIC, HTTP/3 and TLS libraries that the HTTP/3 transport builds on, as linked into
/// this binary: ngtcp2 with its GnuTLS crypto helper, nghttp3 and GnuTLS.
///
/// NOTE: the HTTP/3 transport itself is not implemented yet. This type exists so that the
/// module links all four libraries today and a build on a machine that lacks one fails early.
public enum QUICLibraries {
  /// The ngtcp2 version string, such as `0.12.1`.
  public static var ngtcp2Version: String {
    guard let info = ngtcp2_version(0) else { return "unknown" }
    return String(cString: info.pointee.version_str)
  }

  /// The nghttp3 version string, such as `0.8.0`.
  public static var nghttp3Version: String {
    guard let info = nghttp3_version(0) else { return "unknown" }
    return String(cString: info.pointee.version_str)
  }

  /// The GnuTLS version string, such as `3.7.9`.
  public static var gnutlsVersion: String {
    guard let version = gnutls_check_version(nil) else { return "unknown" }
    return String(cString: version)
  }

  /// Whether ngtcp2's GnuTLS crypto helper is linked: configures a throwaway client session.
  public static var cryptoHelperLinked: Bool {
    var session: gnutls_session_t?
    guard gnutls_init(&session, UInt32(GNUTLS_CLIENT)) == 0, let session else { return false }
    defer { gnutls_deinit(session) }
    return ngtcp2_crypto_gnutls_configure_client_session(session) == 0
  }
}
