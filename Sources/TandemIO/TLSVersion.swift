import COpenSSL

/// A TLS protocol version that a configuration allows.
public enum TLSVersion: Sendable, Hashable, CustomStringConvertible {
  case v1_2
  case v1_3

  var openSSLValue: Int32 {
    switch self {
    case .v1_2: return TLS1_2_VERSION
    case .v1_3: return TLS1_3_VERSION
    }
  }

  public var description: String {
    switch self {
    case .v1_2: return "TLS 1.2"
    case .v1_3: return "TLS 1.3"
    }
  }
}
