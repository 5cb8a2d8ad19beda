import COpenSSL

/// The process-wide setup of OpenSSL.
public enum OpenSSLLibrary {
  /// Initializes OpenSSL once, without the `atexit` handler that OpenSSL 3 registers by
  /// default. That handler frees OpenSSL's global state when the process exits, while event
  /// loop threads may still be closing TLS connections, and such a thread then crashes inside
  /// libcrypto. Every entry point into OpenSSL in this package calls this first; the flag has
  /// an effect only on the first initialization of the process.
  public static func initialize() {
    _ = initialized
    // When other code started OpenSSL first, its exit handler is registered; a guard installed
    // now runs before it and parks the event loops.
    EventLoop.installExitGuardAfterOpenSSL()
  }

  private static let initialized: Bool = {
    let options = UInt64(OPENSSL_INIT_NO_ATEXIT) | UInt64(OPENSSL_INIT_LOAD_SSL_STRINGS)
      | UInt64(OPENSSL_INIT_LOAD_CRYPTO_STRINGS)
    return OPENSSL_init_ssl(options, nil) == 1
  }()
}
