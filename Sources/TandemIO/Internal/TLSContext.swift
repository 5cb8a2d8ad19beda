import COpenSSL
import CTandemShims

/// An OpenSSL `SSL_CTX`, built once per configuration and shared by all its connections.
/// OpenSSL 3 allows creating `SSL` objects from one context on many threads at once.
final class TLSContext: @unchecked Sendable {
  let pointer: OpaquePointer

  private init(pointer: OpaquePointer) {
    self.pointer = pointer
  }

  deinit {
    SSL_CTX_free(pointer)
  }

  /// Builds a context with the version range and the library's defaults for both roles.
  static func make(
    server: Bool, minimumVersion: TLSVersion, maximumVersion: TLSVersion?
  ) throws(TLSError) -> TLSContext {
    OpenSSLLibrary.initialize()
    ERR_clear_error()
    guard let pointer = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()) else {
      throw TLSError(kind: .configuration, message: "SSL_CTX_new failed", openSSLReason: OpenSSLErrors.drain())
    }
    let context = TLSContext(pointer: pointer)
    tandem_ssl_ctx_set_default_options(pointer)
    if let maximumVersion, maximumVersion.openSSLValue < minimumVersion.openSSLValue {
      throw TLSError(
        kind: .configuration,
        message: "maximum TLS version \(maximumVersion) is below the minimum \(minimumVersion)")
    }
    guard tandem_ssl_ctx_set_min_proto_version(pointer, minimumVersion.openSSLValue) == 1,
      tandem_ssl_ctx_set_max_proto_version(pointer, maximumVersion?.openSSLValue ?? 0) == 1
    else {
      throw TLSError(
        kind: .configuration, message: "setting the TLS version range failed",
        openSSLReason: OpenSSLErrors.drain())
    }
    return context
  }

  /// ALPN protocol names in wire format: each name prefixed with its length.
  ///
  /// - Throws: ``TLSError`` naming a name that is empty or longer than 255 bytes.
  static func alpnWireFormat(_ protocols: [String]) throws(TLSError) -> [UInt8] {
    var wire: [UInt8] = []
    for name in protocols {
      let bytes = Array(name.utf8)
      guard (1...255).contains(bytes.count) else {
        throw TLSError(
          kind: .configuration,
          message: "ALPN protocol name '\(name)' is \(bytes.count) bytes long; it must be 1 to 255 bytes")
      }
      wire.append(UInt8(bytes.count))
      wire.append(contentsOf: bytes)
    }
    return wire
  }
}

enum OpenSSLErrors {
  /// Empties the thread's OpenSSL error queue and returns its reason strings joined with `; `,
  /// or `nil` when it was empty. The reason codes go to `reasons`.
  static func drain(reasons: inout [Int32]) -> String? {
    var texts: [String] = []
    var buffer = [CChar](repeating: 0, count: 256)
    while true {
      let code = ERR_get_error()
      if code == 0 { break }
      reasons.append(tandem_err_get_reason(code))
      ERR_error_string_n(code, &buffer, buffer.count)
      texts.append(buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
    }
    return texts.isEmpty ? nil : texts.joined(separator: "; ")
  }

  static func drain() -> String? {
    var reasons: [Int32] = []
    return drain(reasons: &reasons)
  }
}
