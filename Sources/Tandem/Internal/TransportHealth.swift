import Synchronization

/// The process-wide record of each target's transport health, shared by every channel: the
/// QUIC broken mark and the round-trip time last measured.
///
/// A QUIC mark lasts the configured base duration (5 minutes by default) and doubles on each
/// repeat up to the maximum (48 hours). A QUIC success clears it. Marks are kept per target
/// (`host:port`), for at most ``maxTargets`` targets.
final class TransportHealth: Sendable {
  /// The instance every channel uses.
  static let shared = TransportHealth()

  /// The maximum number of targets kept. Beyond it, the least recently updated one is dropped.
  static let maxTargets = 4096

  private struct Entry {
    var brokenUntil: ContinuousClock.Instant?
    var brokenCount = 0
    /// When a QUIC handshake to the target last succeeded.
    var lastQUICSuccess: ContinuousClock.Instant?
    /// The last round-trip time measured over each transport, with when it was measured.
    var roundTripTimes: [ConnectionRace.Transport: (Duration, ContinuousClock.Instant)] = [:]
    var statistics: [ConnectionRace.Transport: TransportStatistics] = [:]
    var updatedAt: ContinuousClock.Instant
  }

  private let entries = Mutex<[String: Entry]>([:])

  /// Returns whether QUIC is marked broken for `target` at `now`.
  func isQUICBroken(_ target: String, now: ContinuousClock.Instant = .now) -> Bool {
    entries.withLock { entries in
      guard let until = entries[target]?.brokenUntil else { return false }
      return now < until
    }
  }

  /// Returns when the QUIC mark of `target` ends, or `nil` when there is none at `now`.
  func quicBrokenUntil(_ target: String, now: ContinuousClock.Instant = .now) -> ContinuousClock.Instant? {
    entries.withLock { entries in
      guard let until = entries[target]?.brokenUntil, now < until else { return nil }
      return until
    }
  }

  /// Marks QUIC broken for `target` and returns how long the mark lasts: `base` for the first
  /// mark, twice the previous duration for each repeat, at most `maximum`. Returns `nil`, and
  /// changes nothing, while an earlier mark lasts: attempts that started before it and fail
  /// afterwards are the same failure, not a repeat. It also returns `nil` for an attempt that
  /// started before the last QUIC success, which shows that the path works again.
  func markQUICBroken(
    _ target: String, base: Duration, maximum: Duration, attemptStarted: ContinuousClock.Instant? = nil,
    now: ContinuousClock.Instant = .now
  ) -> Duration? {
    update(target, now: now) { entry in
      if let until = entry.brokenUntil, now < until { return nil }
      if let attemptStarted, let success = entry.lastQUICSuccess, attemptStarted < success { return nil }
      entry.brokenCount += 1
      var duration = base
      var doublings = 1
      while doublings < entry.brokenCount && duration < maximum {
        duration = duration * 2
        doublings += 1
      }
      duration = min(duration, maximum)
      entry.brokenUntil = now + duration
      return duration
    }
  }

  /// Clears the QUIC mark of `target` and its repeat count, after QUIC worked there.
  func recordQUICSuccess(_ target: String, now: ContinuousClock.Instant = .now) {
    update(target, now: now) { entry in
      entry.brokenUntil = nil
      entry.brokenCount = 0
      entry.lastQUICSuccess = now
    }
  }

  /// Records a round-trip time measured to `target` over `transport`.
  func recordRoundTripTime(
    _ target: String, _ duration: Duration, over transport: ConnectionRace.Transport, now: ContinuousClock.Instant = .now
  ) {
    update(target, now: now) { entry in
      entry.roundTripTimes[transport] = (duration, now)
    }
  }

  /// Returns the round-trip time last measured to `target` over `transport` and when, if any.
  func roundTripTime(
    _ target: String, over transport: ConnectionRace.Transport
  ) -> (duration: Duration, measuredAt: ContinuousClock.Instant)? {
    entries.withLock { entries in
      entries[target]?.roundTripTimes[transport].map { (duration: $0.0, measuredAt: $0.1) }
    }
  }

  /// Returns the round-trip time to `target`: the smaller of the last ones measured over each
  /// transport, if any. A transport with an extra delay of its own, such as QUIC through a
  /// slow UDP path, does not stretch the estimate of the network's round trip.
  func roundTripTime(_ target: String) -> Duration? {
    entries.withLock { entries in
      entries[target]?.roundTripTimes.values.map(\.0).min()
    }
  }

  /// Records a handshake over `transport` to `target` that succeeded after `duration`, or failed.
  func recordHandshake(
    _ target: String, over transport: ConnectionRace.Transport, succeeded: Bool, duration: Duration?,
    now: ContinuousClock.Instant = .now
  ) {
    update(target, now: now) { $0.statistics[transport, default: TransportStatistics()].recordHandshake(succeeded: succeeded, duration: duration) }
  }

  /// Records a finished call over `transport` to `target`.
  func recordCall(
    _ target: String, over transport: ConnectionRace.Transport, latency: Duration, bytes: Int,
    now: ContinuousClock.Instant = .now
  ) {
    update(target, now: now) { $0.statistics[transport, default: TransportStatistics()].recordCall(latency: latency, bytes: bytes, now: now) }
  }

  /// Returns the statistics of `transport` to `target`, if any were recorded.
  func statistics(_ target: String, over transport: ConnectionRace.Transport) -> TransportStatistics? {
    entries.withLock { $0[target]?.statistics[transport] }
  }

  /// Forgets every mark and measurement, for example after the network changed.
  func clear() {
    entries.withLock { $0.removeAll() }
  }

  private func update<Result>(_ target: String, now: ContinuousClock.Instant, _ body: (inout Entry) -> Result) -> Result {
    entries.withLock { entries in
      if entries[target] == nil && entries.count >= Self.maxTargets,
        let oldest = entries.min(by: { $0.value.updatedAt < $1.value.updatedAt })?.key
      {
        entries[oldest] = nil
      }
      var entry = entries[target] ?? Entry(updatedAt: now)
      let result = body(&entry)
      entry.updatedAt = now
      entries[target] = entry
      return result
    }
  }
}
