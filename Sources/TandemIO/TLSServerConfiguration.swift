import COpenSSL
import CTandemShims

/// The server side of TLS: certificate chain, private key, ALPN protocols and versions.
///
/// The OpenSSL context is built once, in ``pem(certificateChainFile:privateKeyFile:alpn:minimumVersion:maximumVersion:handshakeTimeout:)``,
/// and shared by every connection of every listener that uses this configuration.
///
/// ALPN: the server picks the first protocol of its own list that the client offers. A client
/// that offers ALPN but none of the server's protocols is rejected with the
/// `no_application_protocol` alert. A client that offers no ALPN at all is accepted, and
/// its channel reports `negotiatedALPN == nil`; the protocol on top decides what to do then.
public struct TLSServerConfiguration: Sendable {
  /// The ALPN protocols in preference order, such as `["h2"]`.
  public let alpn: [String]
  /// The lowest TLS version accepted.
  public let minimumVersion: TLSVersion
  /// The highest TLS version offered, `nil` for the highest OpenSSL supports (TLS 1.3).
  public let maximumVersion: TLSVersion?
  /// The time an accepted connection has to finish its handshake before it is closed.
  public let handshakeTimeout: Duration

  let context: TLSContext

  /// Loads a certificate chain and a private key from PEM files.
  ///
  /// - Parameters:
  ///   - certificateChainFile: the server certificate first, then the intermediates.
  ///   - privateKeyFile: the key of the server certificate, unencrypted.
  ///   - alpn: ALPN protocol names in preference order, each 1 to 255 bytes; empty for no ALPN.
  ///   - minimumVersion: the lowest version accepted, default TLS 1.2.
  ///   - maximumVersion: the highest version offered, default `nil` (TLS 1.3).
  ///   - handshakeTimeout: the time an accepted connection has to finish the handshake,
  ///     default 10 seconds; then it is closed without reaching the handler.
  /// - Throws: ``TLSError`` of kind `configuration` naming the file and OpenSSL's reason when a
  ///   file is missing or invalid or the key does not match the certificate.
  public static func pem(
    certificateChainFile: String, privateKeyFile: String, alpn: [String],
    minimumVersion: TLSVersion = .v1_2, maximumVersion: TLSVersion? = nil,
    handshakeTimeout: Duration = .seconds(10)
  ) throws -> TLSServerConfiguration {
    guard handshakeTimeout > .zero else {
      throw TLSError(kind: .configuration, message: "TLS handshake timeout \(handshakeTimeout) must be positive")
    }
    let context = try TLSContext.make(server: true, minimumVersion: minimumVersion, maximumVersion: maximumVersion)
    ERR_clear_error()
    guard SSL_CTX_use_certificate_chain_file(context.pointer, certificateChainFile) == 1 else {
      throw TLSError(
        kind: .configuration, message: "loading the certificate chain from '\(certificateChainFile)' failed",
        openSSLReason: OpenSSLErrors.drain())
    }
    guard SSL_CTX_use_PrivateKey_file(context.pointer, privateKeyFile, SSL_FILETYPE_PEM) == 1 else {
      throw TLSError(
        kind: .configuration, message: "loading the private key from '\(privateKeyFile)' failed",
        openSSLReason: OpenSSLErrors.drain())
    }
    guard SSL_CTX_check_private_key(context.pointer) == 1 else {
      throw TLSError(
        kind: .configuration,
        message: "the private key in '\(privateKeyFile)' does not match the certificate in '\(certificateChainFile)'",
        openSSLReason: OpenSSLErrors.drain())
    }
    if !alpn.isEmpty {
      let wire = try TLSContext.alpnWireFormat(alpn)
      guard tandem_ssl_ctx_set_alpn_server_protocols(context.pointer, wire, wire.count) == 1 else {
        throw TLSError(
          kind: .configuration, message: "setting the server ALPN protocols \(alpn) failed",
          openSSLReason: OpenSSLErrors.drain())
      }
    }
    return TLSServerConfiguration(
      alpn: alpn, minimumVersion: minimumVersion, maximumVersion: maximumVersion,
      handshakeTimeout: handshakeTimeout, context: context)
  }
}
