import CQUIC
import Synchronization
import TandemIO

/// The server side of QUIC's TLS 1.3 handshake: certificate chain, private key and, for
/// mutual TLS, which client certificates to ask for and trust.
///
/// The GnuTLS credentials are loaded once, in
/// ``pem(certificateChainFile:privateKeyFile:clientCertificates:)``, and shared by every
/// connection of every transport that uses this configuration. ALPN is always `h3`.
public struct QUICServerTLSConfiguration: Sendable {
  /// Whether the server requests a client certificate.
  public enum ClientCertificates: Sendable, Hashable {
    /// No client certificate is requested.
    case none
    /// A certificate is requested and, when the client sends one, verified against the CA
    /// certificates in the PEM file. A client without one is still accepted.
    case optional(caFile: String)
    /// A certificate is required and verified against the CA certificates in the PEM file;
    /// the handshake fails without one.
    case required(caFile: String)
  }

  /// The client certificate policy.
  public let clientCertificates: ClientCertificates

  let context: GnuTLSServerContext

  /// Loads a certificate chain and a private key from PEM files.
  ///
  /// - Parameters:
  ///   - certificateChainFile: the server certificate first, then the intermediates.
  ///   - privateKeyFile: the key of the server certificate, unencrypted.
  ///   - clientCertificates: mutual TLS policy, default ``ClientCertificates/none``.
  /// - Throws: ``TLSError`` of kind `configuration` naming the file and GnuTLS' reason when a
  ///   file is missing or invalid or the key does not match the certificate.
  public static func pem(
    certificateChainFile: String, privateKeyFile: String, clientCertificates: ClientCertificates = .none
  ) throws -> QUICServerTLSConfiguration {
    let context = try GnuTLSServerContext(
      certificateChainFile: certificateChainFile, privateKeyFile: privateKeyFile,
      clientCertificates: clientCertificates)
    return QUICServerTLSConfiguration(clientCertificates: clientCertificates, context: context)
  }
}

/// The client side of QUIC's TLS 1.3 handshake: which certificates to trust, the server name
/// and an optional client certificate. ALPN is always `h3`.
public struct QUICClientTLSConfiguration: Sendable {
  /// The trusted certificates (the same choices as TCP's ``TLSClientConfiguration``).
  public let trust: TLSClientConfiguration.Trust
  /// The name sent in SNI and checked against the certificate, or `nil` to use the host
  /// passed to connect. An IP address is checked against the certificate's IP entries and not
  /// sent in SNI.
  public let serverName: String?
  /// The PEM certificate chain and key presented when the server requests one, or `nil`.
  public let clientCertificate: (chainFile: String, keyFile: String)?

  private let cache = ContextCache()

  /// Creates a configuration; nothing is loaded until the first connect, which throws
  /// ``TLSError`` of kind `configuration` when a file is missing or invalid.
  public init(
    trust: TLSClientConfiguration.Trust, serverName: String? = nil,
    clientCertificate: (chainFile: String, keyFile: String)? = nil
  ) {
    self.trust = trust
    self.serverName = serverName
    self.clientCertificate = clientCertificate
  }

  private final class ContextCache: Sendable {
    let context = Mutex<GnuTLSClientContext?>(nil)
  }

  func makeContext() throws -> GnuTLSClientContext {
    try cache.context.withLock { (cached: inout GnuTLSClientContext?) throws -> GnuTLSClientContext in
      if let cached { return cached }
      let built = try GnuTLSClientContext(trust: trust, clientCertificate: clientCertificate)
      cached = built
      return built
    }
  }
}
