/// The facts a server has about the connection that carried a stream.
public struct HTTPConnectionInfo: Sendable, Hashable {
  /// The HTTP version of the connection.
  public var version: HTTPVersion
  /// The peer in gRPC's address syntax: `ipv4:127.0.0.1:50051` or `ipv6:[::1]:50051`.
  public var remotePeer: String
  /// This side's address, in the same syntax.
  public var localPeer: String
  /// Whether TLS protects the connection.
  public var isSecure: Bool
  /// A process-unique connection number for logs.
  public var connectionID: UInt64

  public init(version: HTTPVersion, remotePeer: String, localPeer: String, isSecure: Bool, connectionID: UInt64) {
    self.version = version
    self.remotePeer = remotePeer
    self.localPeer = localPeer
    self.isSecure = isSecure
    self.connectionID = connectionID
  }
}

/// Receives the streams that peers open on a server transport.
public protocol HTTPServerStreamAcceptor: Sendable {
  /// Called on the connection's event loop when a peer opens a stream with its request
  /// headers. Returns the delegate for the stream's later events. `endStream` is `true`
  /// when the request headers also ended the peer's side of the stream.
  func acceptStream(
    _ stream: any HTTPStream,
    requestHeaders: [HTTPField],
    endStream: Bool,
    connection: HTTPConnectionInfo
  ) -> any HTTPStreamDelegate

  /// Called on the connection's event loop when a connection can carry streams: after the TLS
  /// handshake and ALPN for HTTP/2, after the QUIC handshake for HTTP/3. The default does
  /// nothing.
  func connectionOpened(_ connection: HTTPConnectionInfo)

  /// Called once on the connection's event loop when a connection that was reported by
  /// ``connectionOpened(_:)`` has closed. The default does nothing.
  func connectionClosed(_ connection: HTTPConnectionInfo)
}

extension HTTPServerStreamAcceptor {
  public func connectionOpened(_ connection: HTTPConnectionInfo) {}
  public func connectionClosed(_ connection: HTTPConnectionInfo) {}
}

/// A listening HTTP/2 or HTTP/3 server.
public protocol HTTPServerTransport: AnyObject, Sendable {
  /// Binds and starts accepting connections, passing every new stream to `acceptor`.
  ///
  /// - Returns: the bound port, which differs from the configured one when that was 0.
  /// - Throws: when binding or listening fails.
  func start(acceptor: any HTTPServerStreamAcceptor) async throws -> Int

  /// Stops accepting connections and sends GOAWAY on every open connection. Each
  /// connection closes once its streams have finished.
  func beginGracefulShutdown()

  /// Resets every open stream and closes every connection now.
  func closeNow()

  /// Waits until the listener and every connection are closed.
  func waitUntilClosed() async
}

/// Receives connection-level events of a client connection.
public protocol HTTPClientConnectionDelegate: AnyObject, Sendable {
  /// The peer sent GOAWAY. Streams the peer did not process are closed with
  /// ``HTTPStreamCloseReason/refusedByGoAway``; the connection takes no new streams.
  func connectionDidReceiveGoAway(_ connection: any HTTPClientConnection, errorCode: HTTPStreamErrorCode)

  /// The connection closed. `detail` describes the cause (peer closed, I/O error, protocol error, idle).
  func connectionDidClose(_ connection: any HTTPClientConnection, detail: String)

  /// Reports the unparsed `value` of a response's `Alt-Svc` field (RFC 7838), for the first such
  /// response of the connection and again when the value changes. The default implementation
  /// does nothing.
  func connection(_ connection: any HTTPClientConnection, didReceiveAlternativeService value: String)
}

extension HTTPClientConnectionDelegate {
  public func connection(_ connection: any HTTPClientConnection, didReceiveAlternativeService value: String) {}
}

/// An established client connection that carries many concurrent streams.
public protocol HTTPClientConnection: AnyObject, Sendable {
  /// The HTTP version of the connection.
  var version: HTTPVersion { get }

  /// Whether the connection still takes new streams (not closed and no GOAWAY received).
  var isAcceptingStreams: Bool { get }

  /// Opens a stream and sends the request headers. A stream beyond the peer's concurrent
  /// stream limit waits in the transport until an earlier one finishes.
  ///
  /// - Throws: ``HTTPTransportError`` when the connection no longer takes streams.
  func openStream(
    requestHeaders: [HTTPField],
    endStream: Bool,
    delegate: any HTTPStreamDelegate
  ) throws -> any HTTPStream

  /// Opens a stream like ``openStream(requestHeaders:endStream:delegate:)``. When
  /// `isSafeToReplay` is true, a transport with early data (QUIC 0-RTT) may send the request
  /// before its handshake completes. The default ignores the flag.
  func openStream(
    requestHeaders: [HTTPField],
    endStream: Bool,
    isSafeToReplay: Bool,
    delegate: any HTTPStreamDelegate
  ) throws -> any HTTPStream

  /// Sends GOAWAY and closes once open streams finish.
  func close()
}

extension HTTPClientConnection {
  public func openStream(
    requestHeaders: [HTTPField],
    endStream: Bool,
    isSafeToReplay: Bool,
    delegate: any HTTPStreamDelegate
  ) throws -> any HTTPStream {
    try openStream(requestHeaders: requestHeaders, endStream: endStream, delegate: delegate)
  }
}

/// Errors of the HTTP transports.
public struct HTTPTransportError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The kind of failure.
  public enum Kind: Sendable, Hashable {
    /// The connection is closed or going away and takes no new streams.
    case connectionUnavailable
    /// Connecting failed: DNS, TCP, TLS handshake or ALPN.
    case connectFailed
    /// The peer broke the protocol.
    case protocolError
    /// A timer expired (connect timeout, keepalive timeout).
    case timedOut
    /// A configuration value is outside its range.
    case invalidConfiguration
  }

  /// The kind of failure.
  public var kind: Kind
  /// A sentence that names what failed and on which value.
  public var message: String

  public init(_ kind: Kind, _ message: String) {
    self.kind = kind
    self.message = message
  }

  public var description: String { message }
}

/// A destination for a transport's log records: connections opened and closed, errors caught
/// inside the transport, and server decisions such as switching to Retry.
///
/// The transport calls it on its event loops, so the sink must be quick and thread-safe.
/// Tandem's `Server` and `Channel` bridge it to their `LogHandler`, which rate-limits repeats.
public struct HTTPTransportLogger: Sendable {
  /// The importance of a record.
  public enum Level: Sendable, Hashable {
    case debug
    case info
    case warning
  }

  private let sink: (@Sendable (Level, String, [(String, String)]) -> Void)?

  /// Creates a logger that passes each record to `sink`.
  public init(_ sink: @escaping @Sendable (_ level: Level, _ message: String, _ metadata: [(String, String)]) -> Void) {
    self.sink = sink
  }

  private init() {
    sink = nil
  }

  /// A logger that drops every record.
  public static let disabled = HTTPTransportLogger()

  /// Records one event with key-value context such as `connection_id` and `peer`.
  public func log(_ level: Level, _ message: String, _ metadata: [(String, String)] = []) {
    sink?(level, message, metadata)
  }
}
