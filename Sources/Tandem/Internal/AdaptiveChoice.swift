/// The choice of ``TransportPolicy/adaptive`` for a new connection to a target, made from the
/// round-trip times last measured over each transport. It does no I/O.
///
/// QUIC is preferred unless its round trip is clearly longer than TCP's (more than 1.5 times
/// TCP's plus 5 ms, which absorbs the handshake's crypto time on short paths) or it is marked
/// broken. A transport without a measurement, or with one older than the probe interval, is
/// probed: both transports start at once, so both handshakes are measured.
struct AdaptiveChoice: Equatable {
  /// The transport that starts first, as in a hybrid race.
  var preferred: ConnectionRace.Transport
  /// Whether both transports start at once, to measure both.
  var probesBoth: Bool
  /// Why, for the metrics' `reason` label: `quic_broken`, `exploring`, `tcp_faster` or
  /// `quic_comparable`, with `_probing` appended when a measurement is refreshed.
  var reason: String

  /// Returns the choice for measurements `quic` and `tcp` (round-trip time and when it was
  /// measured) at `now`.
  static func decide(
    quic: (duration: Duration, measuredAt: ContinuousClock.Instant)?,
    tcp: (duration: Duration, measuredAt: ContinuousClock.Instant)?,
    quicBroken: Bool, probeInterval: Duration, now: ContinuousClock.Instant
  ) -> AdaptiveChoice {
    if quicBroken {
      return AdaptiveChoice(preferred: .tcp, probesBoth: false, reason: "quic_broken")
    }
    guard let quic, let tcp else {
      return AdaptiveChoice(preferred: .quic, probesBoth: true, reason: "exploring")
    }
    let stale = now - quic.measuredAt > probeInterval || now - tcp.measuredAt > probeInterval
    let tcpFaster = quic.duration > tcp.duration * 1.5 + .milliseconds(5)
    let reason = (tcpFaster ? "tcp_faster" : "quic_comparable") + (stale ? "_probing" : "")
    return AdaptiveChoice(preferred: tcpFaster ? .tcp : .quic, probesBoth: stale, reason: reason)
  }
}
