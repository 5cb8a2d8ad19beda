import TandemCore
import TandemHTTP
import TandemIO

/// A client's connection manager for one target: generated clients make their calls through it.
///
/// ```swift
/// let channel = try Channel(target: "127.0.0.1:50051", security: .plaintext)
/// let echo = Echo_V1_Echo.Client(channel: channel)
/// let reply = try await echo.get(.with { $0.text = "hi" })
/// ```
///
/// A channel keeps one HTTP/2 connection (or, with ``TransportPolicy/quic``, one HTTP/3
/// connection over QUIC; with ``TransportPolicy/hybrid(preferred:)``, whichever of the two
/// wins a race) to its target and runs every call on it as a separate stream, so calls from
/// many tasks share it. It connects on the first call. When the
/// connection drops, the next call reconnects. Failed attempts are spaced with exponential
/// backoff (``Configuration/backoff``), and calls made while the channel waits fail with
/// `UNAVAILABLE` at once.
/// A call that the server provably did not process (refused stream or above the GOAWAY
/// stream ID) is retried once on a new connection.
public final class Channel: RPCChannel {
  /// The target as given: `host:port`, `[ipv6]:port`, with a `dns:///` prefix, or a list of
  /// addresses such as `ipv4:10.0.0.1:50051,10.0.0.2:50051` or `ipv6:[::1]:50051,[::2]:50051`.
  /// When a name resolves to several addresses, or a list names several, connections try them
  /// Happy Eyeballs style (RFC 8305). IPv6 and IPv4 alternate, the next address starts 250 ms
  /// after the previous one or at once when it fails, and the first to connect wins.
  public let target: String
  /// The transport policy.
  public let transport: TransportPolicy
  /// Plaintext or TLS, with the trust settings.
  public let security: Security
  /// Timeouts, backoff, limits and logging.
  public let configuration: Configuration

  private let source: any ClosableConnectionSource
  private let executor: ClientCallExecutor

  /// Creates a channel. It connects on the first call.
  ///
  /// - Throws: ``ChannelError`` when `target` is not `host:port` with a port in 1...65535,
  ///   when `transport` is `.quic`, `.hybrid` or `.adaptive` without TLS, or when a value of
  ///   `configuration.http2` or `configuration.http3` is outside its range. The message names
  ///   the value and the range.
  public init(
    target: String,
    transport: TransportPolicy = .tcp,
    security: Security = .plaintext,
    configuration: Configuration = .defaults
  ) throws {
    let parsed = try ChannelTarget(parsing: target)
    switch transport.kind {
    case .tcp:
      break
    case .quic, .hybrid, .adaptive:
      guard security.isSecure else {
        throw ChannelError(
          .transportUnavailable, "transport \(transport) needs TLS, because QUIC always uses it; pass a TLS security such as .caFile(path)")
      }
    }
    do {
      try configuration.http2.validate()
      try configuration.http3.validate()
    } catch {
      throw ChannelError(.invalidConfiguration, "invalid channel configuration: \(error)")
    }
    try configuration.validate()
    self.target = target
    self.transport = transport
    self.security = security
    self.configuration = configuration
    switch configuration.loadBalancing {
    case .pickFirst:
      self.source = ConnectionPool(target: parsed, policy: transport.kind, security: security, configuration: configuration)
    case .roundRobin:
      let policy = transport.kind
      self.source = RoundRobinSource(target: parsed, scheme: security.isSecure ? "https" : "http") { single in
        ConnectionPool(target: single, policy: policy, security: security, configuration: configuration)
      }
    }
    let adaptive = transport.kind == .adaptive
    let observer: (any CallObserver)? =
      configuration.metrics is NoMetrics && !adaptive
      ? nil : CallMetrics(metrics: configuration.metrics, target: parsed.name, recordsStatistics: adaptive)
    self.executor = ClientCallExecutor(source: source, configuration: configuration.calls, observer: observer)
  }

  /// Clears every QUIC broken mark of the process (see ``Configuration/Hybrid``), for example
  /// after the network changed, so that hybrid channels prefer QUIC again where they would.
  public static func clearBrokenTransportMarks() {
    TransportHealth.shared.clear()
  }

  // NOTE: a Channel dropped without close() keeps its open connections until they close on
  // their own (idle timeout or the server), because a connection and its pool refer to each
  // other while it is open.
  /// Closes the connection after its running calls finish. Later calls fail with `UNAVAILABLE`,
  /// and so do calls waiting for a connection. Connection attempts that still run, such as the
  /// losing side of a race, are stopped 1 s later. ``shutdown()`` waits for all of it.
  public func close() {
    source.close()
  }

  /// Closes the channel as ``close()`` does, but stops its connection attempts at once, and
  /// returns once its connections have closed (after their running calls) and its attempts
  /// have ended. A program that exits after it leaves no connection work running on the
  /// event loops.
  public func shutdown() async {
    await source.shutdown()
  }

  public func unary<Request: Message, Response: Message, Result: Sendable>(
    _ method: MethodDescriptor,
    request: Request,
    metadata: Metadata,
    options: CallOptions,
    onResponse: @escaping @Sendable (ClientResponse<Response>) async throws -> Result
  ) async throws -> Result {
    try await executor.unary(method, request: request, metadata: metadata, options: options, onResponse: onResponse)
  }

  public func clientStreaming<Request: Message, Response: Message, Result: Sendable>(
    _ method: MethodDescriptor,
    metadata: Metadata,
    options: CallOptions,
    requestProducer: @escaping @Sendable (RequestWriter<Request>) async throws -> Void,
    onResponse: @escaping @Sendable (ClientResponse<Response>) async throws -> Result
  ) async throws -> Result {
    try await executor.clientStreaming(
      method,
      metadata: metadata,
      options: options,
      requestProducer: requestProducer,
      onResponse: onResponse
    )
  }

  public func serverStreaming<Request: Message, Response: Message>(
    _ method: MethodDescriptor,
    request: Request,
    metadata: Metadata,
    options: CallOptions
  ) -> ResponseStream<Response> {
    executor.serverStreaming(method, request: request, metadata: metadata, options: options)
  }

  public func bidirectionalStreaming<Request: Message, Response: Message>(
    _ method: MethodDescriptor,
    metadata: Metadata,
    options: CallOptions,
    requestProducer: @escaping @Sendable (RequestWriter<Request>) async throws -> Void
  ) -> ResponseStream<Response> {
    executor.bidirectionalStreaming(method, metadata: metadata, options: options, requestProducer: requestProducer)
  }
}

/// A connection source the channel can close: one pool, or one per address.
protocol ClosableConnectionSource: HTTPConnectionSource {
  func close()
  func shutdown() async
}

extension ConnectionPool: ClosableConnectionSource {}
extension RoundRobinSource: ClosableConnectionSource {}
