import Synchronization
import TandemCore
import TandemHTTP

extension ConnectionPool {
  /// Returns the delay before the second transport of a race starts: 1.5 times the round-trip
  /// time to the target (the smaller of the last ones measured over TCP and QUIC), clamped to
  /// 100 ms...2 s, or 300 ms when none is known.
  static func raceDelay(roundTripTime: Duration?) -> Duration {
    guard let roundTripTime else { return .milliseconds(300) }
    return min(max(roundTripTime * 1.5, .milliseconds(100)), .seconds(2))
  }

  /// Races the preferred transport against the other one, Happy Eyeballs style, and returns
  /// the first connection that completes. A connection that completes later is closed, and
  /// QUIC is marked broken for the target when it fails while TCP works.
  ///
  /// - Throws: an ``RPCError`` with `UNAVAILABLE` naming both failures when both transports fail.
  func race(
    preferred: ConnectionRace.Transport, startsBoth: Bool = false, attemptNumber: UInt64
  ) async throws -> any HTTPClientConnection {
    let health = TransportHealth.shared
    let preferredBroken = startsBoth || (preferred == .quic && health.isQUICBroken(targetName))
    let delay = Self.raceDelay(roundTripTime: health.roundTripTime(targetName))
    let runner = RaceRunner(pool: self, preferred: preferred, attemptNumber: attemptNumber)
    return try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { continuation in
        runner.begin(startBoth: preferredBroken, delay: delay, continuation: continuation)
      }
    } onCancel: {
      runner.cancel()
    }
  }
}

/// Runs one ``ConnectionRace``: connects over the transports it starts and performs its actions.
final class RaceRunner: Sendable {
  private let pool: ConnectionPool
  private let preferred: ConnectionRace.Transport
  private let attemptNumber: UInt64
  private let machine: Mutex<ConnectionRace>
  private let connections = Mutex<[ConnectionRace.Transport: any HTTPClientConnection]>([:])
  /// The attempts of the race, which a cancellation before a winner stops at once.
  private let attempts = Mutex<[Task<Void, Never>]>([])
  /// When the QUIC attempt of the race started, to tell a stale failure from a new one.
  private let quicStarted = Mutex<ContinuousClock.Instant?>(nil)
  private let continuation = OnceContinuation<any HTTPClientConnection>()

  init(pool: ConnectionPool, preferred: ConnectionRace.Transport, attemptNumber: UInt64) {
    self.pool = pool
    self.preferred = preferred
    self.attemptNumber = attemptNumber
    self.machine = Mutex(ConnectionRace(preferred: preferred))
  }

  /// Starts the preferred transport (both when `startBoth`), and the other after `delay`; the
  /// outcome resumes `continuation`.
  func begin(
    startBoth: Bool, delay: Duration, continuation: CheckedContinuation<any HTTPClientConnection, any Error>
  ) {
    self.continuation.set(continuation)
    perform(machine.withLock { $0.begin(startBoth: startBoth) })
    guard !startBoth else { return }
    Task {
      try? await Task.sleep(for: delay)
      self.perform(self.machine.withLock { $0.delayElapsed() })
    }
  }

  /// Ends the race when the connection attempt is cancelled, because the channel closed, and
  /// stops its attempts at once: no caller waits for them any more.
  func cancel() {
    perform(machine.withLock { $0.cancel() })
    for attempt in attempts.withLock({ $0 }) {
      attempt.cancel()
    }
  }

  private func start(_ transport: ConnectionRace.Transport) {
    if transport == .quic {
      pool.quicAttemptStarted()
      quicStarted.withLock { $0 = .now }
    }
    // The pool stops the attempt soon after it closes, also after the race has a winner.
    let attempt = pool.runInBackground { [self] in
      // The end is counted after the failure's actions, so a broken mark is in place first.
      defer {
        if transport == .quic { pool.quicAttemptEnded() }
      }
      do {
        let connection = try await pool.connectOnce(transport, provingPath: true)
        connections.withLock { $0[transport] = connection }
        perform(machine.withLock { $0.connected(transport) })
      } catch is CancellationError {
        // The channel closed. Only a QUIC handshake that outlasted a working TCP by the grace
        // period counts. An attempt that shutdown() stopped at once shows nothing about QUIC.
        let elapsed = ContinuousClock.now - (quicStarted.withLock { $0 } ?? .now)
        pool.configuration.logHandler.log(
          level: .debug, message: "connecting over one transport of the race stopped because the channel closed",
          metadata: [("target", pool.targetName), ("transport", "\(transport)")])
        if elapsed >= ConnectionPool.backgroundGracePeriod {
          perform(
            machine.withLock {
              $0.stopped(
                transport, reason: "the QUIC handshake had not finished after \(elapsed.millisecondsText), while TCP connected")
            })
        }
      } catch {
        pool.configuration.logHandler.log(
          level: .info, message: "connecting over one transport of the race failed",
          metadata: [("target", pool.targetName), ("transport", "\(transport)"), ("error", "\(error)")])
        perform(machine.withLock { $0.failed(transport, reason: "\(error)") })
      }
    }
    if let attempt {
      attempts.withLock { $0.append(attempt) }
    }
  }

  private func resume(_ result: Result<any HTTPClientConnection, any Error>) {
    continuation.resume(with: result)
  }

  private func perform(_ actions: [ConnectionRace.Action]) {
    let logger = pool.configuration.logHandler
    let targetName = pool.targetName
    for action in actions {
      switch action {
      case .start(let transport):
        start(transport)
      case .win(let transport):
        // The callers own the winner from here on. The runner lives until the race delay
        // ends, and keeping the winner here would keep a closed connection allocated as long.
        guard let connection = connections.withLock({ $0.removeValue(forKey: transport) }) else { continue }
        pool.recordRaceWon(by: transport, preferred: preferred)
        if transport != preferred {
          logger.log(
            level: .info, message: "the other transport won the race",
            metadata: [("target", targetName), ("attempt", String(attemptNumber)), ("transport", "\(transport)")])
        }
        resume(.success(connection))
      case .close(let transport):
        let connection = connections.withLock { $0.removeValue(forKey: transport) }
        if let connection {
          // A closed loser may never report its close once nothing references it.
          pool.forget(connection)
          connection.close()
        }
      case .fail(let tcp, let quic):
        resume(
          .failure(
            RPCError(
              code: .unavailable, message: "connecting to \(targetName) failed over TCP (\(tcp)) and over QUIC (\(quic))")))
      case .cancel:
        resume(.failure(CancellationError()))
      case .markQUICBroken(let reason):
        pool.markQUICBroken(
          because: "QUIC failed while TCP works", reason: reason, attemptStarted: quicStarted.withLock { $0 })
      case .clearQUICMark:
        TransportHealth.shared.recordQUICSuccess(targetName)
      }
    }
  }
}
