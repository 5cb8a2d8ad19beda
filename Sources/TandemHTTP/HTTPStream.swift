/// The HTTP version that carries a stream.
public enum HTTPVersion: Sendable, Hashable, CustomStringConvertible {
  /// HTTP/2 over TCP, with or without TLS.
  case http2
  /// HTTP/3 over QUIC.
  case http3

  public var description: String {
    switch self {
    case .http2: return "HTTP/2"
    case .http3: return "HTTP/3"
    }
  }
}

/// A transport-neutral stream error code.
///
/// Each transport maps its wire codes to these cases: HTTP/2 RST_STREAM and GOAWAY codes
/// (RFC 9113, section 7) and HTTP/3 application error codes (RFC 9114, section 8.1), so the
/// gRPC layer applies one mapping to gRPC status codes for both.
public enum HTTPStreamErrorCode: Sendable, Hashable, CustomStringConvertible {
  /// HTTP/2 NO_ERROR (0x0), HTTP/3 H3_NO_ERROR (0x100).
  case noError
  /// HTTP/2 PROTOCOL_ERROR (0x1), HTTP/3 H3_GENERAL_PROTOCOL_ERROR (0x101) and the frame
  /// and message errors.
  case protocolError
  /// HTTP/2 INTERNAL_ERROR (0x2), HTTP/3 H3_INTERNAL_ERROR (0x102).
  case internalError
  /// HTTP/2 FLOW_CONTROL_ERROR (0x3).
  case flowControlError
  /// HTTP/2 REFUSED_STREAM (0x7), HTTP/3 H3_REQUEST_REJECTED (0x10B): the peer did not
  /// process the request, so it is safe to retry.
  case refusedStream
  /// HTTP/2 CANCEL (0x8), HTTP/3 H3_REQUEST_CANCELLED (0x10C).
  case cancel
  /// HTTP/2 ENHANCE_YOUR_CALM (0xB), HTTP/3 H3_EXCESSIVE_LOAD (0x107).
  case enhanceYourCalm
  /// HTTP/2 INADEQUATE_SECURITY (0xC).
  case inadequateSecurity
  /// Any other code, with its value on the wire of `version`.
  case other(UInt64, version: HTTPVersion)

  public var description: String {
    switch self {
    case .noError: return "NO_ERROR"
    case .protocolError: return "PROTOCOL_ERROR"
    case .internalError: return "INTERNAL_ERROR"
    case .flowControlError: return "FLOW_CONTROL_ERROR"
    case .refusedStream: return "REFUSED_STREAM"
    case .cancel: return "CANCEL"
    case .enhanceYourCalm: return "ENHANCE_YOUR_CALM"
    case .inadequateSecurity: return "INADEQUATE_SECURITY"
    case .other(let code, let version): return "\(version) error code 0x\(String(code, radix: 16))"
    }
  }
}

/// The reason a stream ended.
public enum HTTPStreamCloseReason: Sendable, Hashable, CustomStringConvertible {
  /// Both sides finished their halves of the stream.
  case finished
  /// The peer reset the stream with this code.
  case resetByPeer(HTTPStreamErrorCode)
  /// This side reset the stream with ``HTTPStream/reset(_:)``.
  case resetLocally(HTTPStreamErrorCode)
  /// The peer sent GOAWAY with a last stream ID below this stream, so the peer never
  /// processed it and it is safe to retry on another connection.
  case refusedByGoAway
  /// The connection closed or failed before the stream finished. `detail` describes the cause.
  case connectionClosed(detail: String)

  public var description: String {
    switch self {
    case .finished: return "finished"
    case .resetByPeer(let code): return "reset by peer with \(code)"
    case .resetLocally(let code): return "reset locally with \(code)"
    case .refusedByGoAway: return "refused by GOAWAY"
    case .connectionClosed(let detail): return "connection closed: \(detail)"
    }
  }
}

/// One HTTP request-response exchange on an HTTP/2 or HTTP/3 connection.
///
/// Every method is safe to call from any thread: the transport runs the work on the
/// event loop that owns the connection. Writes that arrive in one event-loop turn go to the
/// socket together at the end of that turn.
///
/// Outbound flow control: ``writeData(_:endStream:)`` returns `false` once the bytes buffered
/// for this stream pass the transport's high-water mark. The caller then waits for
/// ``HTTPStreamDelegate/streamDidBecomeWritable(_:)`` before writing more. Bytes written
/// while over the mark are still sent, never dropped.
///
/// Inbound flow control: the transport grants the peer new credit (HTTP/2 WINDOW_UPDATE,
/// QUIC MAX_STREAM_DATA) only for bytes the application reports with ``consume(_:)``, so a
/// slow reader slows its peer instead of growing memory.
public protocol HTTPStream: AnyObject, Sendable {
  /// The stream ID on the wire.
  var streamID: Int64 { get }

  /// The HTTP version of the connection carrying this stream.
  var version: HTTPVersion { get }

  /// Sends the response headers (server side). A client passes its request headers when it
  /// opens the stream instead. With `endStream`, the headers end this side of the stream,
  /// as in a gRPC trailers-only response.
  func writeHeaders(_ fields: [HTTPField], endStream: Bool)

  /// Sends body bytes, optionally ending this side of the stream.
  ///
  /// - Returns: `false` when the stream's buffered outbound bytes are above the high-water
  ///   mark after this write.
  @discardableResult
  func writeData(_ bytes: [UInt8], endStream: Bool) -> Bool

  /// Sends trailers and ends this side of the stream.
  func writeTrailers(_ fields: [HTTPField])

  /// Resets the stream with `code` (HTTP/2 RST_STREAM; HTTP/3 RESET_STREAM and STOP_SENDING).
  /// Buffered outbound bytes are dropped. Calling it on a closed stream does nothing.
  func reset(_ code: HTTPStreamErrorCode)

  /// Reports that the application consumed `byteCount` bytes of received body data, so the
  /// transport can return that much flow-control credit to the peer.
  func consume(_ byteCount: Int)

  /// The executor of the event loop that owns this stream, or `nil` when the transport has
  /// none. A task that runs on it calls the stream's methods without a thread hop.
  var taskExecutor: (any TaskExecutor)? { get }
}

extension HTTPStream {
  public var taskExecutor: (any TaskExecutor)? { nil }
}

/// Receives the events of one stream.
///
/// The transport calls these methods on the event loop that owns the connection, one at a
/// time and in the order the events happened. After ``stream(_:didCloseWith:)`` no other
/// method is called. Implementations must return quickly, because a blocking call stalls
/// every connection on the loop.
public protocol HTTPStreamDelegate: AnyObject, Sendable {
  /// Response headers arrived (client side). `endStream` is `true` for a trailers-only
  /// response, whose single HEADERS block also ends the stream.
  func stream(_ stream: any HTTPStream, didReceiveHeaders fields: [HTTPField], endStream: Bool)

  /// Body bytes arrived. The delegate reports them with ``HTTPStream/consume(_:)`` once the
  /// application has taken them.
  func stream(_ stream: any HTTPStream, didReceiveData bytes: [UInt8], endStream: Bool)

  /// Trailers arrived; the peer's side of the stream is finished.
  func stream(_ stream: any HTTPStream, didReceiveTrailers fields: [HTTPField])

  /// The stream's buffered outbound bytes fell below the low-water mark after a
  /// ``HTTPStream/writeData(_:endStream:)`` call returned `false`.
  func streamDidBecomeWritable(_ stream: any HTTPStream)

  /// The stream ended for `reason`. This is the last call for the stream.
  func stream(_ stream: any HTTPStream, didCloseWith reason: HTTPStreamCloseReason)
}
