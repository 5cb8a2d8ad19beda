import CQUIC
import TandemHTTP

/// The mapping between transport-neutral stream error codes and HTTP/3 application error
/// codes (RFC 9114, section 8.1). It is chosen so that TandemCore's HTTP/2 status mapping
/// gives gRFC G2's: H3_REQUEST_REJECTED is REFUSED_STREAM (UNAVAILABLE, safe to retry),
/// H3_REQUEST_CANCELLED is CANCEL, H3_EXCESSIVE_LOAD is ENHANCE_YOUR_CALM
/// (RESOURCE_EXHAUSTED), and every other code ends as INTERNAL.
extension HTTPStreamErrorCode {
  init(http3Code code: UInt64) {
    switch code {
    case UInt64(NGHTTP3_H3_NO_ERROR): self = .noError
    case UInt64(NGHTTP3_H3_GENERAL_PROTOCOL_ERROR): self = .protocolError
    case UInt64(NGHTTP3_H3_INTERNAL_ERROR): self = .internalError
    case UInt64(NGHTTP3_H3_REQUEST_REJECTED): self = .refusedStream
    case UInt64(NGHTTP3_H3_REQUEST_CANCELLED): self = .cancel
    case UInt64(NGHTTP3_H3_EXCESSIVE_LOAD): self = .enhanceYourCalm
    default: self = .other(code, version: .http3)
    }
  }

  var http3Code: UInt64 {
    switch self {
    case .noError: return UInt64(NGHTTP3_H3_NO_ERROR)
    case .protocolError, .inadequateSecurity: return UInt64(NGHTTP3_H3_GENERAL_PROTOCOL_ERROR)
    case .internalError, .flowControlError: return UInt64(NGHTTP3_H3_INTERNAL_ERROR)
    case .refusedStream: return UInt64(NGHTTP3_H3_REQUEST_REJECTED)
    case .cancel: return UInt64(NGHTTP3_H3_REQUEST_CANCELLED)
    case .enhanceYourCalm: return UInt64(NGHTTP3_H3_EXCESSIVE_LOAD)
    case .other(let code, let version):
      return version == .http3 ? code : UInt64(NGHTTP3_H3_INTERNAL_ERROR)
    }
  }
}

/// Readable text for ngtcp2 and nghttp3 library error codes.
enum QUICErrorText {
  static func ngtcp2(_ code: Int) -> String {
    guard let text = ngtcp2_strerror(Int32(truncatingIfNeeded: code)) else { return "error \(code)" }
    return "\(String(cString: text)) (\(code))"
  }

  static func nghttp3(_ code: Int) -> String {
    guard let text = nghttp3_strerror(Int32(truncatingIfNeeded: code)) else { return "error \(code)" }
    return "\(String(cString: text)) (\(code))"
  }

  static func gnutls(_ code: Int32) -> String {
    guard let text = gnutls_strerror(code) else { return "GnuTLS error \(code)" }
    return "\(String(cString: text)) (\(code))"
  }
}
