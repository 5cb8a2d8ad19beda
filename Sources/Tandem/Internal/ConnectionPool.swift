import Synchronization
import TandemCore
import TandemHTTP
import TandemHTTP2
import TandemHTTP3
import TandemIO

/// Keeps one HTTP/2 or HTTP/3 connection to a channel's target and reconnects with backoff.
///
/// Calls ask for a connection with ``connection(deadline:)``. Concurrent callers share one
/// connection attempt. With the hybrid policy one attempt races TCP against QUIC
/// (``ConnectionRace``). After a failed attempt the next one waits for the backoff delay, and
/// calls made meanwhile fail with `UNAVAILABLE` at once.
final class ConnectionPool: HTTPConnectionSource, HTTPClientConnectionDelegate, Sendable {
  /// The `:authority` of every request: the first endpoint's `host:port`.
  let authority: String
  /// The target as the caller wrote it (``ChannelTarget/name``).
  let targetName: String
  let scheme: String

  let target: ChannelTarget
  let security: Channel.Security
  let policy: TransportPolicy.Kind
  let configuration: Channel.Configuration
  /// The TLS settings of TCP and QUIC connections, or `nil` for plaintext. Every connection of
  /// the pool shares them, so the trusted certificates are loaded once, not per connection.
  private let tcpTLS: TLSClientConfiguration?
  private let quicTLS: QUICClientTLSConfiguration?
  private let state = Mutex(State())

  private struct State {
    var connection: (any HTTPClientConnection)?
    var attempt: Task<any HTTPClientConnection, any Error>?
    var attemptNumber: UInt64 = 0
    var consecutiveFailures = 0
    var nextAttemptAllowedAt: ContinuousClock.Instant?
    var lastFailure: String?
    var closed = false
    /// Whether a QUIC connection learned from `Alt-Svc` is being opened.
    var upgrading = false
    /// Whether a look at `Alt-Svc` again is scheduled for when QUIC's broken mark ends.
    var upgradeRetryScheduled = false
    /// Until when Alt-Svc headers are not followed, after QUIC proved clearly slower than TCP.
    var upgradeDeclinedUntil: ContinuousClock.Instant?
    /// QUIC connection attempts in progress, such as the QUIC side of a race.
    var quicAttempts = 0
    /// An `Alt-Svc` value that arrived while a QUIC attempt was in progress, looked at again
    /// when the last one ends, so that one network failure is not tried twice at once.
    var deferredAlternativeService: (connection: any HTTPClientConnection, value: String)?
    /// The open connections and their transports, which the open-connections gauge counts.
    /// Holding them keeps each one able to report its close, because a connection's session
    /// refers to its `HTTPClientConnection` object only weakly.
    var counted: [ObjectIdentifier: (connection: any HTTPClientConnection, transport: ConnectionRace.Transport)] = [:]
    /// The calls waiting for the current attempt, which `close()` fails at once.
    var waiters: [UInt64: OnceContinuation<any HTTPClientConnection>] = [:]
    var nextWaiterID: UInt64 = 0
    /// Connection attempts running in the background, such as the losing side of a race or
    /// an Alt-Svc upgrade, which `close()` cancels after a grace period.
    var backgroundTasks: [UInt64: Task<Void, Never>] = [:]
    var nextBackgroundTaskID: UInt64 = 0
  }

  init(target: ChannelTarget, policy: TransportPolicy.Kind, security: Channel.Security, configuration: Channel.Configuration) {
    self.target = target
    self.policy = policy
    self.security = security
    self.configuration = configuration
    self.authority = target.authority
    self.targetName = target.name
    if case .tls(let trust, let serverName) = security.mode {
      let ioTrust: TLSClientConfiguration.Trust
      switch trust {
      case .systemTrustStore: ioTrust = .systemStore
      case .caFile(let path): ioTrust = .caFile(path)
      case .noVerification: ioTrust = .noVerification
      }
      let name = serverName ?? target.host
      tcpTLS = TLSClientConfiguration(trust: ioTrust, serverName: name, alpn: ["h2"])
      quicTLS = QUICClientTLSConfiguration(trust: ioTrust, serverName: name)
    } else {
      tcpTLS = nil
      quicTLS = nil
    }
    self.scheme = security.isSecure ? "https" : "http"
  }

  func connection(deadline: ContinuousClock.Instant?) async throws -> any HTTPClientConnection {
    while true {
      let step = nextStep()
      switch step {
      case .use(let connection):
        return connection
      case .await(let attempt):
        return try await awaitAttempt(attempt, until: deadline)
      case .waitUntil(let instant, let failure):
        // As in gRPC without wait-for-ready, a call made while the channel backs off after a
        // failed attempt fails at once instead of waiting for the next attempt.
        let wait = instant - ContinuousClock.now
        throw unavailable(detail: "\(failure); the next attempt starts in \(wait.millisecondsText)")
      case .closed:
        throw closedError
      }
    }
  }

  /// Waits for a connection attempt until the call's deadline, the cancellation of the calling
  /// task or the channel's close, whichever comes first. The attempt goes on for later calls
  /// when the deadline passes first. Awaiting a task's value cannot be cancelled, so the waits
  /// race through one continuation instead of a task group.
  private func awaitAttempt(
    _ attempt: Task<any HTTPClientConnection, any Error>, until deadline: ContinuousClock.Instant?
  ) async throws -> any HTTPClientConnection {
    let targetName = self.targetName
    let waiter = OnceContinuation<any HTTPClientConnection>()
    let waiterID = state.withLock { state in
      state.nextWaiterID &+= 1
      return state.nextWaiterID
    }
    return try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<any HTTPClientConnection, any Error>) in
        waiter.set(continuation)
        let registered = state.withLock { state -> Bool in
          guard !state.closed else { return false }
          state.waiters[waiterID] = waiter
          return true
        }
        guard registered else {
          waiter.resume(with: .failure(closedError))
          return
        }
        let timer = deadline.map { deadline in
          Task {
            try? await Task.sleep(until: deadline, clock: .continuous)
            let expired = RPCError(code: .deadlineExceeded, message: "the deadline passed while connecting to \(targetName)")
            waiter.resume(with: .failure(expired))
          }
        }
        Task {
          do {
            let connection = try await attempt.value
            waiter.resume(with: .success(connection))
          } catch {
            waiter.resume(with: .failure(self.callError(for: error)))
          }
          timer?.cancel()
          _ = self.state.withLock { $0.waiters.removeValue(forKey: waiterID) }
        }
      }
    } onCancel: {
      waiter.resume(with: .failure(CancellationError()))
    }
  }

  /// Returns the error for a call whose connection attempt failed with `error`: an `RPCError`
  /// unchanged, and any other error as `UNAVAILABLE` naming it.
  private func callError(for error: any Error) -> any Error {
    if let error = error as? RPCError { return error }
    return unavailable(detail: "\(error)")
  }

  private var closedError: RPCError {
    RPCError(code: .unavailable, message: "the channel to \(targetName) is closed")
  }

  /// Marks QUIC broken for the target for the configured duration, counts the mark and logs
  /// `cause` with the failure's `reason`. A failure while a mark lasts, or of an attempt that
  /// started (at `attemptStarted`) before the last QUIC success, only logs.
  func markQUICBroken(because cause: String, reason: String, attemptStarted: ContinuousClock.Instant? = nil) {
    let hybrid = configuration.hybrid
    guard
      let duration = TransportHealth.shared.markQUICBroken(
        targetName, base: hybrid.quicBrokenDuration, maximum: hybrid.maxQUICBrokenDuration,
        attemptStarted: attemptStarted)
    else {
      configuration.logHandler.log(
        level: .debug, message: "\(cause), but QUIC is already marked broken or has worked since the attempt started",
        metadata: [("target", targetName), ("reason", reason)])
      return
    }
    recordQUICBroken()
    configuration.logHandler.log(
      level: .warning, message: "\(cause); QUIC is marked broken for this target",
      metadata: [("target", targetName), ("reason", reason), ("duration", duration.millisecondsText)])
  }

  /// Stops counting `connection` in the open-connections gauge, once.
  func forget(_ connection: any HTTPClientConnection) {
    if let entry = state.withLock({ $0.counted.removeValue(forKey: ObjectIdentifier(connection)) }) {
      recordOpenChange(entry.transport, by: -1)
    }
  }

  /// Returns the current connection when it takes new streams, without connecting.
  func openConnection() -> (any HTTPClientConnection)? {
    state.withLock { state in
      guard !state.closed, let connection = state.connection, connection.isAcceptingStreams else { return nil }
      return connection
    }
  }

  func connectionFailed(_ connection: any HTTPClientConnection) {
    let replaced = state.withLock { state -> Bool in
      guard let current = state.connection, current === connection else { return false }
      state.connection = nil
      return true
    }
    // New calls go to a new connection; this one closes once its running calls finish.
    if replaced { connection.close() }
  }

  func close() {
    close(stoppingAttemptsAt: .now + Self.backgroundGracePeriod)
  }

  /// Closes the pool as `close()` does, stops its connection attempts at once, and returns
  /// once every connection it opened has closed (after its running calls) and every attempt
  /// has ended.
  func shutdown() async {
    close(stoppingAttemptsAt: .now)
    while !isIdle {
      try? await Task.sleep(for: .milliseconds(10))
    }
  }

  /// Whether no connection of the pool is open and no attempt runs.
  private var isIdle: Bool {
    state.withLock { $0.counted.isEmpty && $0.backgroundTasks.isEmpty && $0.attempt == nil }
  }

  private func close(stoppingAttemptsAt stopTime: ContinuousClock.Instant) {
    let (connection, waiters, tasks) = state.withLock { state in
      state.closed = true
      state.attempt?.cancel()
      defer {
        state.connection = nil
        state.waiters = [:]
      }
      return (state.connection, state.waiters.values, state.backgroundTasks.values)
    }
    // Attempts still running in the background get a short grace period, so that the
    // measurement of a losing transport can still complete, and then stop and free their
    // sockets instead of running until their handshake timeout.
    if !tasks.isEmpty {
      Task {
        try? await Task.sleep(until: stopTime, clock: .continuous)
        for task in tasks {
          task.cancel()
        }
      }
    }
    // Calls waiting for a connection fail now, not when the attempt ends.
    for waiter in waiters {
      waiter.resume(with: .failure(closedError))
    }
    connection?.close()
  }

  // MARK: HTTPClientConnectionDelegate

  func connectionDidReceiveGoAway(_ connection: any HTTPClientConnection, errorCode: HTTPStreamErrorCode) {
    configuration.logHandler.log(
      level: .info,
      message: "server sent GOAWAY; new calls will use a new connection",
      metadata: [("target", targetName), ("error_code", "\(errorCode)")]
    )
    connectionFailed(connection)
  }

  func connectionDidClose(_ connection: any HTTPClientConnection, detail: String) {
    forget(connection)
    let racing: Bool
    switch policy {
    case .hybrid, .adaptive: racing = true
    case .tcp, .quic: racing = false
    }
    if racing, (connection as? HTTP3ClientConnection)?.closedBecausePathFailed == true {
      // A black hole after the handshake: new connections start TCP at once while it lasts.
      markQUICBroken(because: "the QUIC path stopped responding", reason: detail)
    }
    let wasCurrent: Bool = state.withLock { state in
      guard let current = state.connection, current === connection else { return false }
      state.connection = nil
      return true
    }
    if wasCurrent {
      configuration.logHandler.log(
        level: .info,
        message: "connection closed; the next call reconnects",
        metadata: [("target", targetName), ("reason", detail)]
      )
    }
  }

  func connection(_ connection: any HTTPClientConnection, didReceiveAlternativeService value: String) {
    guard case .hybrid = policy, connection.version == .http2 else { return }
    guard case .alternatives(let alternatives)? = AlternativeService.parse(value),
      let http3 = alternatives.first(where: { $0.protocolID == "h3" && ($0.host.isEmpty || $0.host == target.host) })
    else { return }
    let deferred = state.withLock { state -> Bool in
      if let until = state.upgradeDeclinedUntil, ContinuousClock.now < until { return true }
      guard state.quicAttempts > 0 else { return false }
      state.deferredAlternativeService = (connection, value)
      return true
    }
    if deferred { return }
    if let until = TransportHealth.shared.quicBrokenUntil(targetName) {
      // Try again when the mark ends, as long as this TCP connection still carries the calls.
      let schedule = state.withLock { state -> Bool in
        guard !state.closed, !state.upgradeRetryScheduled else { return false }
        state.upgradeRetryScheduled = true
        return true
      }
      guard schedule else { return }
      // Weak references: a closed channel or connection is not kept for the mark's length.
      Task { [weak self, weak connection] in
        try? await Task.sleep(until: until, clock: .continuous)
        guard let self, let connection else { return }
        self.state.withLock { $0.upgradeRetryScheduled = false }
        self.connection(connection, didReceiveAlternativeService: value)
      }
      return
    }
    let start = state.withLock { state -> Bool in
      guard !state.closed, !state.upgrading, let current = state.connection, current === connection else { return false }
      state.upgrading = true
      return true
    }
    guard start else { return }
    configuration.logHandler.log(
      level: .info, message: "the server offers HTTP/3 (Alt-Svc); opening a QUIC connection",
      metadata: [("target", targetName), ("port", String(http3.port))])
    runInBackground { await self.upgrade(replacing: connection, port: http3.port) }
  }

  /// Opens a QUIC connection to `port` and moves new calls to it from `tcp`, which closes once
  /// its running calls finish. When QUIC fails, it is marked broken for the target.
  private func upgrade(replacing tcp: any HTTPClientConnection, port: Int) async {
    let logger = configuration.logHandler
    let started = ContinuousClock.now
    quicAttemptStarted()
    defer { quicAttemptEnded() }
    do {
      let quic = try await connectOnce(.quic, port: port, provingPath: true)
      let health = TransportHealth.shared
      if let quicTime = health.roundTripTime(targetName, over: .quic)?.duration,
        let tcpTime = health.roundTripTime(targetName, over: .tcp)?.duration,
        AdaptiveChoice.isClearlySlower(quicTime, than: tcpTime)
      {
        // A working but clearly slower QUIC path would slow the calls down: stay on TCP, and
        // look at Alt-Svc again after the probe interval.
        let retryAt = ContinuousClock.now + configuration.adaptive.probeInterval
        state.withLock { state in
          state.upgrading = false
          state.upgradeDeclinedUntil = retryAt
        }
        forget(quic)
        quic.close()
        logger.log(
          level: .info, message: "the server offers HTTP/3, but QUIC is clearly slower than TCP; new calls stay on TCP",
          metadata: [
            ("target", targetName), ("quic_rtt", quicTime.millisecondsText), ("tcp_rtt", tcpTime.millisecondsText),
            ("retry_in", configuration.adaptive.probeInterval.millisecondsText),
          ])
        return
      }
      let replaced = state.withLock { state -> Bool in
        state.upgrading = false
        guard !state.closed, let current = state.connection, current === tcp else { return false }
        state.connection = quic
        return true
      }
      guard replaced else {
        forget(quic)
        quic.close()
        return
      }
      logger.log(
        level: .info, message: "new calls use QUIC, and the TCP connection closes after its calls",
        metadata: [("target", targetName)])
      tcp.close()
    } catch is CancellationError {
      // The channel closed during the upgrade. As in a race, a QUIC handshake still running
      // after the grace period while TCP carried the calls counts as a failure.
      state.withLock { $0.upgrading = false }
      let elapsed = ContinuousClock.now - started
      if elapsed >= Self.backgroundGracePeriod {
        markQUICBroken(
          because: "QUIC failed while TCP works",
          reason: "the QUIC handshake had not finished after \(elapsed.millisecondsText), while TCP worked",
          attemptStarted: started)
      }
    } catch {
      state.withLock { $0.upgrading = false }
      markQUICBroken(because: "QUIC failed while TCP works", reason: "\(error)", attemptStarted: started)
    }
  }

  // MARK: Connecting

  private enum Step {
    case use(any HTTPClientConnection)
    case await(Task<any HTTPClientConnection, any Error>)
    case waitUntil(ContinuousClock.Instant, failure: String)
    case closed
  }

  private func nextStep() -> Step {
    state.withLock { state in
      if state.closed { return .closed }
      if let connection = state.connection {
        if connection.isAcceptingStreams { return .use(connection) }
        state.connection = nil
      }
      if let attempt = state.attempt { return .await(attempt) }
      if let allowedAt = state.nextAttemptAllowedAt, ContinuousClock.now < allowedAt {
        return .waitUntil(allowedAt, failure: state.lastFailure ?? "the last connection attempt failed")
      }
      state.attemptNumber += 1
      let number = state.attemptNumber
      let attempt = Task { try await self.connect(attemptNumber: number) }
      state.attempt = attempt
      return .await(attempt)
    }
  }

  private func connect(attemptNumber: UInt64) async throws -> any HTTPClientConnection {
    let logger = configuration.logHandler
    logger.log(
      level: .debug,
      message: "connecting",
      metadata: [
        ("target", targetName), ("attempt", String(attemptNumber)), ("transport", TransportPolicy(kind: policy).description),
        ("tls", security.isSecure ? "on" : "off"),
      ]
    )
    do {
      let connection: any HTTPClientConnection
      switch policy {
      case .adaptive:
        let health = TransportHealth.shared
        let choice = AdaptiveChoice.decide(
          quic: health.roundTripTime(targetName, over: .quic), tcp: health.roundTripTime(targetName, over: .tcp),
          quicStatistics: health.statistics(targetName, over: .quic), tcpStatistics: health.statistics(targetName, over: .tcp),
          quicBroken: health.isQUICBroken(targetName), probeInterval: configuration.adaptive.probeInterval, now: .now)
        recordAdaptiveChoice(choice)
        logger.log(
          level: .debug, message: "adaptive transport choice",
          metadata: [
            ("target", targetName), ("preferred", "\(choice.preferred)"), ("probes_both", "\(choice.probesBoth)"),
            ("reason", choice.reason),
          ])
        connection = try await race(preferred: choice.preferred, startsBoth: choice.probesBoth, attemptNumber: attemptNumber)
      case .tcp:
        connection = try await connectOnce(.tcp)
      case .quic:
        connection = try await connectOnce(.quic)
      case .hybrid(let preferQUIC):
        connection = try await race(preferred: preferQUIC ? .quic : .tcp, attemptNumber: attemptNumber)
      }
      let closedMeanwhile = state.withLock { state -> Bool in
        state.attempt = nil
        state.consecutiveFailures = 0
        state.nextAttemptAllowedAt = nil
        state.lastFailure = nil
        if state.closed { return true }
        state.connection = connection
        return false
      }
      if closedMeanwhile {
        connection.close()
        throw closedError
      }
      logger.log(
        level: .debug,
        message: "connected",
        metadata: [("target", targetName), ("attempt", String(attemptNumber)), ("transport", connection.version == .http3 ? "quic" : "tcp")]
      )
      return connection
    } catch {
      let delay: Duration? = state.withLock { state in
        state.attempt = nil
        if state.closed { return nil }
        state.consecutiveFailures += 1
        let base = configuration.backoff.baseDelay(afterFailures: state.consecutiveFailures)
        let spread = configuration.backoff.jitter
        let factor = 1 + Double.random(in: -spread...spread)
        let delay = base * factor
        state.nextAttemptAllowedAt = .now + delay
        state.lastFailure = (error as? RPCError)?.message ?? "\(error)"
        return delay
      }
      guard let delay else {
        logger.log(
          level: .debug, message: "connection attempt stopped because the channel closed",
          metadata: [("target", targetName), ("attempt", String(attemptNumber))])
        throw closedError
      }
      logger.log(
        level: .warning,
        message: "connection attempt failed; calls fail until the backoff ends",
        metadata: [
          ("target", targetName), ("attempt", String(attemptNumber)), ("error", "\(error)"),
          ("backoff", delay.millisecondsText),
        ]
      )
      throw error
    }
  }

  /// Opens one connection over `transport`, and records the round-trip time its handshake
  /// took: one round trip for QUIC, two for TCP with TLS (TCP's, then TLS 1.3's).
  /// With `provingPath`, a QUIC connection returns only after its handshake completed, even
  /// when 0-RTT would allow earlier requests: only a finished handshake shows that the path works.
  func connectOnce(
    _ transport: ConnectionRace.Transport, port: Int? = nil, provingPath: Bool = false
  ) async throws -> any HTTPClientConnection {
    let started = ContinuousClock.now
    do {
      let (connection, roundTripTime) = try await openAny(transport, tls: tcpTLS, port: port, provingPath: provingPath)
      // Every counted connection adds 1 to the open gauge and takes it away once uncounted.
      let key = ObjectIdentifier(connection)
      state.withLock { $0.counted[key] = (connection, transport) }
      recordOpened(transport, handshake: ContinuousClock.now - started, roundTripTime: roundTripTime)
      if roundTripTime != nil {
        // Only a finished handshake (not a 0-RTT early return) shows that the path works.
        TransportHealth.shared.recordHandshake(targetName, over: transport, succeeded: true, duration: ContinuousClock.now - started)
      }
      if !connection.isAcceptingStreams, state.withLock({ $0.counted.removeValue(forKey: key) }) != nil {
        // It closed already, and its close may have come before it was counted.
        recordOpenChange(transport, by: -1)
      }
      return connection
    } catch is CancellationError {
      // Stopped because the channel closed: the transport did not fail.
      throw CancellationError()
    } catch {
      recordFailed(transport)
      TransportHealth.shared.recordHandshake(targetName, over: transport, succeeded: false, duration: nil)
      throw error
    }
  }

  /// The time that connection attempts still running in the background get after `close()`
  /// before they are stopped: 1 s, enough for a handshake on all but the slowest paths.
  static let backgroundGracePeriod = Duration.seconds(1)

  /// Runs `work` in a task that `close()` cancels after ``backgroundGracePeriod``. On a closed
  /// pool, `work` does not run.
  @discardableResult
  func runInBackground(_ work: @escaping @Sendable () async -> Void) -> Task<Void, Never>? {
    state.withLock { state in
      guard !state.closed else { return nil }
      state.nextBackgroundTaskID &+= 1
      let id = state.nextBackgroundTaskID
      // Created under the lock, so the task's removal below always comes after its insertion.
      let task = Task {
        await work()
        _ = self.state.withLock { $0.backgroundTasks.removeValue(forKey: id) }
      }
      state.backgroundTasks[id] = task
      return task
    }
  }

  /// Counts a QUIC attempt that starts; ``quicAttemptEnded()`` ends it once its outcome (a
  /// broken mark, or none) is recorded.
  func quicAttemptStarted() {
    state.withLock { $0.quicAttempts += 1 }
  }

  /// Counts the end of a QUIC attempt, and looks at a deferred `Alt-Svc` value after the last
  /// one.
  func quicAttemptEnded() {
    let deferred = state.withLock { state -> (connection: any HTTPClientConnection, value: String)? in
      state.quicAttempts -= 1
      guard state.quicAttempts == 0 else { return nil }
      defer { state.deferredAlternativeService = nil }
      return state.deferredAlternativeService
    }
    if let deferred {
      connection(deferred.connection, didReceiveAlternativeService: deferred.value)
    }
  }

  /// Opens one connection over `transport` to `host` (a numeric address) and `port`, and returns
  /// it with the round-trip time its handshake showed, if any.
  func open(
    _ transport: ConnectionRace.Transport, tls: TLSClientConfiguration?, host: String, port: Int, provingPath: Bool
  ) async throws -> (any HTTPClientConnection, Duration?) {
    let group = configuration.eventLoopGroup ?? .shared
    let started = ContinuousClock.now
    switch transport {
    case .quic:
      guard let quicTLS else {
        throw ChannelError(.transportUnavailable, "QUIC always uses TLS; the channel is plaintext")
      }
      let connection = try await HTTP3ClientConnection.connect(
        host: host,
        port: port,
        loop: group.next(),
        tls: quicTLS,
        configuration: configuration.http3,
        sessionCache: configuration.quicSessionCache,
        delegate: self,
        timeout: configuration.connectTimeout,
        logger: configuration.logHandler.transportLogger,
        waitsForHandshake: provingPath
      )
      guard provingPath else {
        // The connection may have returned before the handshake, for 0-RTT.
        return (connection, nil)
      }
      let roundTripTime = ContinuousClock.now - started
      TransportHealth.shared.recordRoundTripTime(targetName, roundTripTime, over: .quic)
      TransportHealth.shared.recordQUICSuccess(targetName)
      return (connection, roundTripTime)
    case .tcp:
      let connection = try await HTTP2ClientConnection.connect(
        host: host,
        port: port,
        loop: group.next(),
        tls: tls,
        configuration: configuration.http2,
        delegate: self,
        timeout: configuration.connectTimeout,
        logger: configuration.logHandler.transportLogger
      )
      let elapsed = ContinuousClock.now - started
      let roundTripTime = tls == nil ? elapsed : elapsed / 2
      TransportHealth.shared.recordRoundTripTime(targetName, roundTripTime, over: .tcp)
      return (connection, roundTripTime)
    }
  }

  private func unavailable(detail: String) -> RPCError {
    RPCError(code: .unavailable, message: "no connection to \(targetName): \(detail)")
  }
}
