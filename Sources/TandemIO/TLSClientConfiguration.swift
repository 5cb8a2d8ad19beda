import COpenSSL
import CTandemShims
import Synchronization

/// The client side of TLS: which certificates to trust, the server name, ALPN and versions.
///
/// The OpenSSL context is built on the first connect that uses this configuration (or a
/// copy of it) and shared by later connects.
public struct TLSClientConfiguration: Sendable {
  /// The source of trusted root certificates.
  public enum Trust: Sendable, Hashable {
    /// The system store (`SSL_CTX_set_default_verify_paths`, on Debian `/etc/ssl/certs`).
    case systemStore
    /// The PEM certificates in a file.
    case caFile(String)
    /// No verification of the chain or the host name. For tests and `--insecure` only.
    case noVerification
  }

  /// The trusted certificates.
  public let trust: Trust
  /// The name sent in SNI and checked against the certificate, or `nil` to use the host
  /// passed to ``TCPConnector/connect(host:port:on:tls:timeout:handler:)``. An IP address
  /// is checked against the certificate's IP entries and not sent in SNI.
  public let serverName: String?
  /// The ALPN protocols offered, such as `["h2"]`; empty for no ALPN.
  public let alpn: [String]
  /// The lowest TLS version accepted.
  public let minimumVersion: TLSVersion
  /// The highest TLS version offered, `nil` for the highest OpenSSL supports (TLS 1.3).
  public let maximumVersion: TLSVersion?

  private let cache = ContextCache()

  /// Creates a configuration; nothing is loaded until the first connect, which throws
  /// ``TLSError`` when the CA file or an ALPN name is invalid.
  ///
  /// - Parameters:
  ///   - minimumVersion: default TLS 1.2.
  ///   - maximumVersion: default `nil` (TLS 1.3).
  public init(
    trust: Trust, serverName: String?, alpn: [String],
    minimumVersion: TLSVersion = .v1_2, maximumVersion: TLSVersion? = nil
  ) {
    self.trust = trust
    self.serverName = serverName
    self.alpn = alpn
    self.minimumVersion = minimumVersion
    self.maximumVersion = maximumVersion
  }

  private final class ContextCache: Sendable {
    let context = Mutex<TLSContext?>(nil)
  }

  /// Returns the shared context, building it on first use.
  func makeContext() throws(TLSError) -> TLSContext {
    try cache.context.withLock { (cached: inout TLSContext?) throws(TLSError) -> TLSContext in
      if let cached { return cached }
      let built = try buildContext()
      cached = built
      return built
    }
  }

  private func buildContext() throws(TLSError) -> TLSContext {
    let context = try TLSContext.make(server: false, minimumVersion: minimumVersion, maximumVersion: maximumVersion)
    ERR_clear_error()
    switch trust {
    case .systemStore:
      guard SSL_CTX_set_default_verify_paths(context.pointer) == 1 else {
        throw TLSError(
          kind: .configuration, message: "loading the system trust store failed",
          openSSLReason: OpenSSLErrors.drain())
      }
      SSL_CTX_set_verify(context.pointer, SSL_VERIFY_PEER, nil)
    case .caFile(let path):
      guard SSL_CTX_load_verify_locations(context.pointer, path, nil) == 1 else {
        throw TLSError(
          kind: .configuration, message: "loading CA certificates from '\(path)' failed",
          openSSLReason: OpenSSLErrors.drain())
      }
      SSL_CTX_set_verify(context.pointer, SSL_VERIFY_PEER, nil)
    case .noVerification:
      SSL_CTX_set_verify(context.pointer, SSL_VERIFY_NONE, nil)
    }
    if !alpn.isEmpty {
      let wire = try TLSContext.alpnWireFormat(alpn)
      // SSL_CTX_set_alpn_protos returns 0 on success, unlike most OpenSSL calls.
      guard SSL_CTX_set_alpn_protos(context.pointer, wire, UInt32(wire.count)) == 0 else {
        throw TLSError(
          kind: .configuration, message: "setting the client ALPN protocols \(alpn) failed",
          openSSLReason: OpenSSLErrors.drain())
      }
    }
    return context
  }

  var verifiesPeer: Bool {
    if case .noVerification = trust { return false }
    return true
  }
}
