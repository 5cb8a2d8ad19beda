import CNGHTTP2
import TandemHTTP

extension HTTPStreamErrorCode {
  /// Maps an HTTP/2 error code (RFC 9113, section 7) to the transport-neutral code.
  init(http2Code code: UInt32) {
    switch code {
    case NGHTTP2_NO_ERROR.rawValue: self = .noError
    case NGHTTP2_PROTOCOL_ERROR.rawValue: self = .protocolError
    case NGHTTP2_INTERNAL_ERROR.rawValue: self = .internalError
    case NGHTTP2_FLOW_CONTROL_ERROR.rawValue: self = .flowControlError
    case NGHTTP2_REFUSED_STREAM.rawValue: self = .refusedStream
    case NGHTTP2_CANCEL.rawValue: self = .cancel
    case NGHTTP2_ENHANCE_YOUR_CALM.rawValue: self = .enhanceYourCalm
    case NGHTTP2_INADEQUATE_SECURITY.rawValue: self = .inadequateSecurity
    default: self = .other(UInt64(code), version: .http2)
    }
  }

  /// The HTTP/2 error code for this case. An HTTP/3 code or one beyond 32 bits, which HTTP/2
  /// cannot carry, becomes INTERNAL_ERROR.
  var http2Code: UInt32 {
    switch self {
    case .noError: return NGHTTP2_NO_ERROR.rawValue
    case .protocolError: return NGHTTP2_PROTOCOL_ERROR.rawValue
    case .internalError: return NGHTTP2_INTERNAL_ERROR.rawValue
    case .flowControlError: return NGHTTP2_FLOW_CONTROL_ERROR.rawValue
    case .refusedStream: return NGHTTP2_REFUSED_STREAM.rawValue
    case .cancel: return NGHTTP2_CANCEL.rawValue
    case .enhanceYourCalm: return NGHTTP2_ENHANCE_YOUR_CALM.rawValue
    case .inadequateSecurity: return NGHTTP2_INADEQUATE_SECURITY.rawValue
    case .other(let code, let version):
      if version == .http2, let value = UInt32(exactly: code) { return value }
      return NGHTTP2_INTERNAL_ERROR.rawValue
    }
  }
}

/// Returns the text of an nghttp2 library error code, such as "Invalid argument".
func nghttp2ErrorText(_ code: Int) -> String {
  String(cString: nghttp2_strerror(Int32(truncatingIfNeeded: code)))
}
