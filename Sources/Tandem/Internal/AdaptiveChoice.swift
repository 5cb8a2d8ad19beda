/// The choice of ``TransportPolicy/adaptive`` for a new connection to a target, made from what
/// was measured over each transport. It does no I/O.
///
/// QUIC is preferred unless it is marked broken or unreliable, or its calls or round trips are
/// clearly slower than TCP's (more than 1.5 times TCP's plus 10 ms, which absorbs the handshake's
/// crypto time on short paths). A transport without a measurement, or with one older than the
/// probe interval, is probed: both transports start at once, so both handshakes are measured.
struct AdaptiveChoice: Equatable {
  /// The transport that starts first, as in a hybrid race.
  var preferred: ConnectionRace.Transport
  /// Whether both transports start at once, to measure both.
  var probesBoth: Bool
  /// Why, for the metrics' `reason` label: `quic_broken`, `exploring`, `quic_unreliable`,
  /// `tcp_lower_latency`, `tcp_higher_goodput`, `quic_latency_comparable`, `tcp_faster` or
  /// `quic_comparable`, with `_probing` appended when a measurement is refreshed.
  var reason: String

  /// Returns the choice at `now` from the round-trip times last measured over each transport
  /// (with when) and the transports' statistics.
  ///
  /// In order: QUIC marked broken, or failing more than half of its last handshakes (4 or more),
  /// chooses TCP. When both transports carried calls within the probe interval, the call
  /// latencies decide: TCP when QUIC's median is over 1.5 times TCP's plus 10 ms, or when both
  /// moved bulk data and QUIC's goodput is under two thirds of TCP's. Otherwise the round-trip
  /// times decide in the same way. A transport without a measurement, or with one older than the
  /// probe interval, is probed by starting both.
  /// Returns whether a round trip or latency of `duration` is clearly longer than `other`:
  /// more than 1.5 times it plus 10 ms.
  static func isClearlySlower(_ duration: Duration, than other: Duration) -> Bool {
    duration > other * 1.5 + .milliseconds(10)
  }

  static func decide(
    quic: (duration: Duration, measuredAt: ContinuousClock.Instant)?,
    tcp: (duration: Duration, measuredAt: ContinuousClock.Instant)?,
    quicStatistics: TransportStatistics? = nil, tcpStatistics: TransportStatistics? = nil,
    quicBroken: Bool, probeInterval: Duration, now: ContinuousClock.Instant
  ) -> AdaptiveChoice {
    if quicBroken {
      return AdaptiveChoice(preferred: .tcp, probesBoth: false, reason: "quic_broken")
    }
    guard let quic, let tcp else {
      return AdaptiveChoice(preferred: .quic, probesBoth: true, reason: "exploring")
    }
    let stale = now - quic.measuredAt > probeInterval || now - tcp.measuredAt > probeInterval
    let suffix = stale ? "_probing" : ""
    if let quicStatistics, quicStatistics.handshakeCount >= 4, (quicStatistics.handshakeSuccessRate ?? 1) < 0.5 {
      return AdaptiveChoice(preferred: .tcp, probesBoth: stale, reason: "quic_unreliable" + suffix)
    }
    func recent(_ statistics: TransportStatistics?) -> TransportStatistics? {
      guard let statistics, let last = statistics.lastCallAt, now - last <= probeInterval else { return nil }
      return statistics
    }
    if let quicCalls = recent(quicStatistics), let tcpCalls = recent(tcpStatistics),
      let quicMedian = quicCalls.latencyPercentile(0.5), let tcpMedian = tcpCalls.latencyPercentile(0.5)
    {
      if quicMedian > tcpMedian * 1.5 + .milliseconds(10) {
        return AdaptiveChoice(preferred: .tcp, probesBoth: stale, reason: "tcp_lower_latency" + suffix)
      }
      if let quicGoodput = quicCalls.goodput, let tcpGoodput = tcpCalls.goodput, quicGoodput < tcpGoodput * 2 / 3 {
        return AdaptiveChoice(preferred: .tcp, probesBoth: stale, reason: "tcp_higher_goodput" + suffix)
      }
      return AdaptiveChoice(preferred: .quic, probesBoth: stale, reason: "quic_latency_comparable" + suffix)
    }
    let tcpFaster = isClearlySlower(quic.duration, than: tcp.duration)
    let reason = (tcpFaster ? "tcp_faster" : "quic_comparable") + suffix
    return AdaptiveChoice(preferred: tcpFaster ? .tcp : .quic, probesBoth: stale, reason: reason)
  }
}
