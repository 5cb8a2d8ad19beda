import Synchronization
import TandemIO

/// A plain HTTP/1.1 server that serves a ``PrometheusMetrics`` store for Prometheus to scrape.
///
/// ```swift
/// let metrics = PrometheusMetrics()
/// let server = try await MetricsServer.start(host: "127.0.0.1", port: 9464, metrics: metrics)
/// // ...
/// await server.stop()
/// ```
///
/// Requests and responses:
/// - `GET /metrics` returns `200 OK` with `Content-Type: text/plain; version=0.0.4;
///   charset=utf-8`, a `Content-Length` and ``PrometheusMetrics/render()`` as the body.
///   `HEAD /metrics` returns the same head without the body. A query string is ignored.
/// - Any other path returns `404 Not Found`, and `/metrics` with another method returns
///   `405 Method Not Allowed` with `Allow: GET, HEAD`.
/// - A malformed head (a bad request line, a header line without a colon, obsolete line
///   folding, or an HTTP/1.1 request without exactly one `Host` field) returns
///   `400 Bad Request`. A head longer than ``Configuration/maximumRequestHeadBytes`` (8 KiB)
///   returns `431 Request Header Fields Too Large`, and one that does not complete within
///   ``Configuration/requestHeadTimeout`` (5 s) returns `408 Request Timeout`.
/// - Past ``Configuration/maximumConnections`` (64) open connections, a new connection
///   gets `503 Service Unavailable`.
///
/// Every response carries `Connection: close`, and the server closes the connection after it.
/// There is no TLS, so bind to a loopback or private address, or put a proxy in front.
public final class MetricsServer: Sendable {
  /// The host the server was started on.
  public let host: String

  /// The bound port; with port 0 in ``start(host:port:metrics:group:configuration:)``, the free
  /// port the system picked.
  public let port: Int

  /// The limits in effect.
  public let configuration: Configuration

  private let listener: TCPListener
  private let registry: MetricsConnectionRegistry
  private let group: EventLoopGroup

  private init(
    host: String, listener: TCPListener, registry: MetricsConnectionRegistry, group: EventLoopGroup,
    configuration: Configuration
  ) {
    self.host = host
    self.port = listener.port
    self.listener = listener
    self.registry = registry
    self.group = group
    self.configuration = configuration
  }

  /// Binds to `host` and `port` and starts serving `metrics`.
  ///
  /// - Parameters:
  ///   - host: a numeric address (`127.0.0.1`, `::1`, `0.0.0.0`) or a name, which binds to
  ///     the first address it resolves to.
  ///   - port: 0 through 65535; 0 picks a free port, which ``port`` returns.
  ///   - metrics: the store to render on each request.
  ///   - group: the event loops that run the listener and the connections, default
  ///     `EventLoopGroup.shared`.
  ///   - configuration: the limits, default ``Configuration/defaults``.
  /// - Throws: ``MetricsConfigurationError`` for a configuration out of range, or `IOError`
  ///   naming the address when the port is out of range or resolving, binding or listening
  ///   fails.
  public static func start(
    host: String, port: Int, metrics: PrometheusMetrics, group: EventLoopGroup = .shared,
    configuration: Configuration = .defaults
  ) async throws -> MetricsServer {
    try configuration.validate()
    let registry = MetricsConnectionRegistry(maximumConnections: configuration.maximumConnections)
    let logHandler = configuration.logHandler
    let listener = try TCPListener.bind(
      host: host, port: port, group: group, tls: nil,
      onError: { error in
        logHandler.log(
          level: .warning, message: "metrics server failed to accept a connection", metadata: [("error", "\(error)")])
      },
      makeHandler: { loop in
        MetricsConnectionHandler(loop: loop, registry: registry, metrics: metrics, configuration: configuration)
      })
    let server = MetricsServer(
      host: host, listener: listener, registry: registry, group: group, configuration: configuration)
    logHandler.log(
      level: .info, message: "metrics server started",
      metadata: [("address", listener.localAddress.description), ("path", "/metrics")])
    return server
  }

  /// The number of connections open now, at most ``Configuration/maximumConnections``.
  public var connectionCount: Int {
    registry.count
  }

  /// Stops accepting and closes the open connections.
  ///
  /// Returns once the listening socket is closed and a close is queued for every open
  /// connection. A response still being written is flushed first, so that connection may
  /// stay open a little longer. Calling `stop()` again does nothing more.
  ///
  /// The listening socket closes on its event loop, and `stop()` waits for the group's loops
  /// for at most ``loopWaitLimit`` (1 s). So it also returns when the group was shut down
  /// first, and then the group's shutdown has closed the socket already.
  public func stop() async {
    guard let open = registry.stop() else { return }
    listener.close()
    // TCPListener.close() queues the close on the listener's loop. A no-op queued after it
    // on every loop of the group runs once that close ran, whichever loop owns it.
    await withTaskGroup(of: Void.self) { tasks in
      for loop in group.eventLoops {
        tasks.addTask { await Self.waitForQueuedWork(on: loop, limit: Self.loopWaitLimit) }
      }
    }
    for connection in open {
      connection.closeFromAnyThread()
    }
    configuration.logHandler.log(
      level: .info, message: "metrics server stopped",
      metadata: [("address", listener.localAddress.description), ("closed_connections", String(open.count))])
  }

  /// The maximum time ``stop()`` waits for the event loops: 1 s.
  public static let loopWaitLimit = Duration.seconds(1)

  /// Returns once `loop` ran the work queued on it before this call, or after `limit`. A loop
  /// that shut down drops queued work, so the limit keeps this from waiting forever.
  private static func waitForQueuedWork(on loop: EventLoop, limit: Duration) async {
    let resumer = OneTimeResumer()
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      resumer.set(continuation)
      loop.execute { resumer.resume() }
      let timeout = Task {
        try? await Task.sleep(for: limit)
        resumer.resume()
      }
      resumer.onResume { timeout.cancel() }
    }
  }
}

/// A continuation that the first of several callers resumes; later calls do nothing.
private final class OneTimeResumer: Sendable {
  private struct State {
    var continuation: CheckedContinuation<Void, Never>?
    var isResumed = false
    var onResume: (@Sendable () -> Void)?
  }

  private let state = Mutex(State())

  func set(_ continuation: CheckedContinuation<Void, Never>) {
    state.withLock { $0.continuation = continuation }
  }

  /// Registers `action` to run on the first resume, or at once when that already happened.
  func onResume(_ action: @escaping @Sendable () -> Void) {
    let runNow = state.withLock { state -> Bool in
      if state.isResumed { return true }
      state.onResume = action
      return false
    }
    if runNow { action() }
  }

  func resume() {
    let pending = state.withLock { state -> (CheckedContinuation<Void, Never>?, (@Sendable () -> Void)?)? in
      guard !state.isResumed else { return nil }
      state.isResumed = true
      defer {
        state.continuation = nil
        state.onResume = nil
      }
      return (state.continuation, state.onResume)
    }
    guard let (continuation, action) = pending else { return }
    continuation?.resume()
    action?()
  }
}
