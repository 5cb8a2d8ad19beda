/// A failed TLS handshake, certificate check, ALPN negotiation or TLS configuration.
///
/// The description names the failure and adds OpenSSL's reason string and, for certificate
/// problems, the verification result, for example
/// `TLS handshake with 127.0.0.1:8443 failed: certificate verification failed: hostname mismatch (OpenSSL: certificate verify failed)`.
public struct TLSError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The kind of TLS failure.
  public enum Kind: Sendable, Hashable {
    /// Loading certificates, keys or trust anchors, or building the TLS context failed.
    case configuration
    /// The peer's certificate chain did not verify against the trusted certificates.
    case certificateVerificationFailed
    /// The certificate is valid but names another host or IP address.
    case hostnameMismatch
    /// The two sides share no ALPN protocol (the `no_application_protocol` alert).
    case noApplicationProtocol
    /// Any other handshake failure, such as no shared version or cipher.
    case handshakeFailed
    /// A record failed to decrypt or the peer sent a fatal alert after the handshake.
    case protocolError
  }

  /// The kind of failure.
  public var kind: Kind

  /// The failed step, with the address or file it concerns.
  public var message: String

  /// OpenSSL's reason strings from its error queue (`ERR_error_string_n`), joined with `; `,
  /// or `nil` when the queue was empty.
  public var openSSLReason: String?

  /// The certificate verification result (`X509_verify_cert_error_string`), or `nil` when
  /// verification succeeded or did not run.
  public var verifyResult: String?

  /// Creates an error from its parts.
  public init(kind: Kind, message: String, openSSLReason: String? = nil, verifyResult: String? = nil) {
    self.kind = kind
    self.message = message
    self.openSSLReason = openSSLReason
    self.verifyResult = verifyResult
  }

  public var description: String {
    var text = message
    if let verifyResult {
      text += ": \(verifyResult)"
    }
    if let openSSLReason {
      text += " (OpenSSL: \(openSSLReason))"
    }
    return text
  }
}
