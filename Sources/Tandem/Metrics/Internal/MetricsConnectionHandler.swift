import Synchronization
import TandemIO

/// The open connections of a ``MetricsServer``, shared by its handlers on every loop.
final class MetricsConnectionRegistry: Sendable {
  private struct State {
    var connections: [ObjectIdentifier: MetricsConnectionHandler] = [:]
    var isStopped = false
    /// Rejections since the last logged one, and when that was.
    var unloggedRejections = 0
    var lastRejectionLog: ContinuousClock.Instant?
  }

  /// The minimum time between two log records of rejected connections: 10 s.
  static let rejectionLogInterval = Duration.seconds(10)

  let maximumConnections: Int
  private let state = Mutex(State())

  init(maximumConnections: Int) {
    self.maximumConnections = maximumConnections
  }

  var count: Int {
    state.withLock { $0.connections.count }
  }

  /// Adds `handler`; returns `false` when the server is stopping or at its connection limit.
  func register(_ handler: MetricsConnectionHandler) -> Bool {
    state.withLock { state in
      guard !state.isStopped, state.connections.count < maximumConnections else { return false }
      state.connections[ObjectIdentifier(handler)] = handler
      return true
    }
  }

  /// Counts a rejected connection and returns the number of rejections to log, this one
  /// included, when a log record is due. A record is due for the first rejection and then at
  /// most once per ``rejectionLogInterval``. Otherwise it returns `nil`.
  func countRejection(now: ContinuousClock.Instant = .now) -> Int? {
    state.withLock { state in
      state.unloggedRejections += 1
      if let last = state.lastRejectionLog, now - last < Self.rejectionLogInterval { return nil }
      state.lastRejectionLog = now
      defer { state.unloggedRejections = 0 }
      return state.unloggedRejections
    }
  }

  func unregister(_ handler: MetricsConnectionHandler) {
    _ = state.withLock { $0.connections.removeValue(forKey: ObjectIdentifier(handler)) }
  }

  /// Rejects further connections and returns the open ones; `nil` when already stopped.
  func stop() -> [MetricsConnectionHandler]? {
    state.withLock { state in
      guard !state.isStopped else { return nil }
      state.isStopped = true
      return Array(state.connections.values)
    }
  }
}

/// One connection of a ``MetricsServer``: reads a request head, writes one response, closes.
///
/// `@unchecked Sendable` because the registry hands it to ``MetricsServer/stop()``, which
/// reaches it only through ``closeFromAnyThread()``; every other method runs on `loop`.
final class MetricsConnectionHandler: ByteStreamHandler, @unchecked Sendable {
  let loop: EventLoop
  private let registry: MetricsConnectionRegistry
  private let metrics: PrometheusMetrics
  private let requestHeadTimeout: Duration
  private let logHandler: any LogHandler
  private var parser: MetricsRequestParser
  private var channel: (any ByteStreamChannel)?
  private var timer: TimerHandle?
  private var isRegistered = false
  /// Whether a response was written or the connection is closing, so nothing more is sent.
  private var isDone = false

  init(
    loop: EventLoop, registry: MetricsConnectionRegistry, metrics: PrometheusMetrics,
    configuration: MetricsServer.Configuration
  ) {
    self.loop = loop
    self.registry = registry
    self.metrics = metrics
    self.requestHeadTimeout = configuration.requestHeadTimeout
    self.logHandler = configuration.logHandler
    self.parser = MetricsRequestParser(maximumHeadBytes: configuration.maximumRequestHeadBytes)
  }

  func channelActive(_ channel: any ByteStreamChannel) {
    self.channel = channel
    guard registry.register(self) else {
      if let rejected = registry.countRejection() {
        logHandler.log(
          level: .warning, message: "metrics server rejected connections: at the connection limit or stopping",
          metadata: [
            ("peer", channel.remoteAddress.description), ("limit", String(registry.maximumConnections)),
            ("rejected_since_last_record", String(rejected)),
          ])
      }
      send(.serviceUnavailable)
      return
    }
    isRegistered = true
    timer = loop.scheduleTimer(after: requestHeadTimeout) { [weak self] in
      guard let self else { return }
      self.timer = nil
      if case .respond(let response) = self.parser.timedOut() {
        self.send(response)
      }
    }
  }

  func channel(_ channel: any ByteStreamChannel, didRead bytes: UnsafeRawBufferPointer) {
    guard !isDone, case .respond(let response) = parser.receive(bytes) else { return }
    send(response)
  }

  func channelWritable(_ channel: any ByteStreamChannel) {}

  func channelInactive(_ channel: any ByteStreamChannel, error: (any Error)?) {
    timer?.cancel()
    timer = nil
    self.channel = nil
    if isRegistered {
      isRegistered = false
      registry.unregister(self)
    }
  }

  /// Closes the connection from any thread; used when the server stops.
  func closeFromAnyThread() {
    loop.execute { [self] in
      timer?.cancel()
      timer = nil
      isDone = true
      channel?.close()
    }
  }

  /// Writes `response`, then closes.
  private func send(_ response: MetricsResponse) {
    timer?.cancel()
    timer = nil
    guard !isDone, let channel else { return }
    isDone = true
    switch response {
    case .metrics(let includeBody):
      // NOTE: rendering runs on this event loop thread and takes time in proportion to the
      // series count, which delays the other connections on this loop meanwhile.
      var body = metrics.render()
      var head = MetricsResponse.head(
        statusLine: response.statusLine, contentType: PrometheusTextFormat.contentType, contentLength: body.utf8.count)
      head.withUTF8 { channel.write(UnsafeRawBufferPointer($0)) }
      if includeBody {
        body.withUTF8 { channel.write(UnsafeRawBufferPointer($0)) }
      }
    default:
      logHandler.log(
        level: .debug, message: "metrics server rejected a request",
        metadata: [("peer", channel.remoteAddress.description), ("status", response.statusLine)])
      var body = response.errorBody
      let extraHeaders = response == .methodNotAllowed ? "Allow: GET, HEAD\r\n" : ""
      var head = MetricsResponse.head(
        statusLine: response.statusLine, contentType: "text/plain; charset=utf-8", contentLength: body.utf8.count,
        extraHeaders: extraHeaders)
      head.withUTF8 { channel.write(UnsafeRawBufferPointer($0)) }
      body.withUTF8 { channel.write(UnsafeRawBufferPointer($0)) }
    }
    // NOTE: a client that stops reading keeps this connection open, counted against the
    // connection limit, until the kernel reports an error, because ByteStreamChannel has no
    // abort.
    channel.close()
  }
}
