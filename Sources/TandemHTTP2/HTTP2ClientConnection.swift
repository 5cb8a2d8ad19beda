import Synchronization
import TandemHTTP
import TandemIO

/// A client HTTP/2 connection that carries many concurrent streams: plaintext with prior
/// knowledge (h2c) or TLS with ALPN "h2".
///
/// All HTTP/2 work runs on the event loop passed to ``connect(host:port:loop:tls:configuration:delegate:timeout:)``.
/// Methods are safe to call from any thread. Dropping the last reference does not close the
/// connection; call ``close()``.
public final class HTTP2ClientConnection: HTTPClientConnection, Sendable {
  let session: HTTP2Session

  /// The event loop that owns the connection.
  public var eventLoop: EventLoop { session.eventLoop }

  public var version: HTTPVersion { .http2 }

  /// Whether the connection takes new streams: `false` once it closed, received GOAWAY, or
  /// ``close()`` was called.
  public var isAcceptingStreams: Bool { session.acceptingStreams.load(ordering: .acquiring) }

  init(session: HTTP2Session, delegate: (any HTTPClientConnectionDelegate)?) {
    self.session = session
    session.clientDelegate = delegate
    session.clientConnection = self
  }

  /// Connects to `host`:`port`, runs the TLS handshake when `tls` is set, and sends the
  /// HTTP/2 preface and SETTINGS.
  ///
  /// - Parameters:
  ///   - tls: `nil` for plaintext HTTP/2 with prior knowledge. With TLS, the ALPN list should
  ///     offer "h2"; the server must select it.
  ///   - configuration: the connection's settings. The default, `HTTP2Configuration()`, has
  ///     1 MiB stream and 8 MiB connection windows and no keepalive.
  ///   - delegate: receives GOAWAY and close events. The connection keeps a strong reference
  ///     until it closes.
  ///   - timeout: the limit for TCP connect plus TLS handshake. Default 20 seconds.
  ///   - logger: where connection events are logged; default ``HTTPTransportLogger/disabled``.
  /// - Throws: ``HTTP2ConfigurationError`` for an invalid configuration, TandemIO's `IOError`
  ///   or `TLSError` when connecting fails, and ``HTTPTransportError`` with kind `.connectFailed`
  ///   when TLS negotiated an ALPN protocol other than "h2" (the message names it).
  public static func connect(
    host: String,
    port: Int,
    loop: EventLoop,
    tls: TLSClientConfiguration? = nil,
    configuration: HTTP2Configuration = HTTP2Configuration(),
    delegate: (any HTTPClientConnectionDelegate)? = nil,
    timeout: Duration = .seconds(20),
    logger: HTTPTransportLogger = .disabled
  ) async throws -> HTTP2ClientConnection {
    try configuration.validate()
    let session = HTTP2Session(role: .client, configuration: configuration, eventLoop: loop)
    session.logger = logger
    let startFailure = Mutex<HTTPTransportError?>(nil)
    session.onActive = { failure in
      startFailure.withLock { $0 = failure }
    }
    let connection = HTTP2ClientConnection(session: session, delegate: delegate)
    try await TCPConnector.connect(host: host, port: port, on: loop, tls: tls, timeout: timeout, handler: session)
    if let failure = startFailure.withLock({ $0 }) {
      throw failure
    }
    return connection
  }

  /// Opens a stream and submits its request HEADERS, with END_STREAM when `endStream` is set.
  ///
  /// Streams beyond the server's SETTINGS_MAX_CONCURRENT_STREAMS wait inside nghttp2 until an
  /// earlier stream closes. The returned stream's ``HTTPStream/streamID`` is 0 until the loop
  /// has submitted the headers.
  ///
  /// The loop compares the header list size (counted as RFC 9113, section 6.5.2 does) with the
  /// server's SETTINGS_MAX_HEADER_LIST_SIZE when it submits the headers. When the list is
  /// larger, nothing is sent and the stream closes with ``HTTPStreamCloseReason/resetLocally(_:)``
  /// and `.internalError`. Headers submitted before the server's SETTINGS arrive are not checked.
  ///
  /// - Throws: ``HTTPTransportError`` with kind `.connectionUnavailable` when the connection
  ///   no longer takes streams, or `.protocolError` when a header field is invalid for HPACK
  ///   (an uppercase or empty name, or a value with CR, LF or NUL).
  public func openStream(
    requestHeaders: [HTTPField],
    endStream: Bool,
    delegate: any HTTPStreamDelegate
  ) throws -> any HTTPStream {
    guard isAcceptingStreams else {
      throw HTTPTransportError(.connectionUnavailable, "the HTTP/2 connection is closed or going away and takes no new streams")
    }
    if let problem = HeaderBlock.firstInvalidField(in: requestHeaders) {
      throw HTTPTransportError(.protocolError, "cannot send request: \(problem)")
    }
    let stream = HTTP2Stream(session: session, delegate: delegate)
    stream.runOnLoop { $0.session.startClientStream($0, fields: requestHeaders, endStream: endStream) }
    return stream
  }

  /// Sends GOAWAY(NO_ERROR) and closes the connection once its open streams finish.
  public func close() {
    let session = self.session
    session.acceptingStreams.store(false, ordering: .releasing)
    if session.eventLoop.inEventLoop {
      session.beginGracefulShutdown()
    } else {
      session.eventLoop.execute { session.beginGracefulShutdown() }
    }
  }
}
