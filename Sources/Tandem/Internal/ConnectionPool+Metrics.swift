import TandemHTTP

extension ConnectionPool {
  /// Returns the labels of a series of this pool's target over `transport`.
  func metricLabels(_ transport: ConnectionRace.Transport) -> [(String, String)] {
    [(TandemMetric.Label.transport, "\(transport)"), (TandemMetric.Label.target, targetName)]
  }

  /// Records a connection that opened over `transport` after `handshake`.
  func recordOpened(_ transport: ConnectionRace.Transport, handshake: Duration, roundTripTime: Duration?) {
    let metrics = configuration.metrics
    let labels = metricLabels(transport)
    metrics.increment(counter: TandemMetric.connectionsOpened.name, by: 1, labels: labels)
    recordOpenChange(transport, by: 1)
    metrics.record(histogram: TandemMetric.handshakeDuration.name, value: handshake.seconds, labels: labels)
    if let roundTripTime {
      metrics.set(gauge: TandemMetric.roundTripTime.name, to: roundTripTime.seconds, labels: labels)
    }
  }

  /// Records a connection attempt over `transport` that failed.
  func recordFailed(_ transport: ConnectionRace.Transport) {
    configuration.metrics.increment(counter: TandemMetric.connectionsFailed.name, by: 1, labels: metricLabels(transport))
  }

  /// Adds `delta` to the open-connections gauge of `transport`.
  func recordOpenChange(_ transport: ConnectionRace.Transport, by delta: Double) {
    configuration.metrics.increment(gauge: TandemMetric.connectionsOpen.name, by: delta, labels: metricLabels(transport))
  }

  /// Records the winner of a race, and a fallback when it is not the preferred transport.
  func recordRaceWon(by winner: ConnectionRace.Transport, preferred: ConnectionRace.Transport) {
    let metrics = configuration.metrics
    metrics.increment(counter: TandemMetric.racesWon.name, by: 1, labels: metricLabels(winner))
    if winner != preferred {
      metrics.increment(counter: TandemMetric.fallbacks.name, by: 1, labels: metricLabels(winner))
    }
  }

  /// Records the choice of the adaptive policy for a new connection, and the figures behind it.
  func recordAdaptiveChoice(_ choice: AdaptiveChoice) {
    let metrics = configuration.metrics
    for transport in [ConnectionRace.Transport.quic, .tcp] {
      guard let statistics = TransportHealth.shared.statistics(targetName, over: transport) else { continue }
      let labels = metricLabels(transport)
      for quantile in [0.5, 0.95] {
        if let latency = statistics.latencyPercentile(quantile) {
          metrics.set(
            gauge: TandemMetric.adaptiveLatency.name, to: latency.seconds,
            labels: labels + [(TandemMetric.Label.quantile, String(quantile))])
        }
      }
      if let goodput = statistics.goodput {
        metrics.set(gauge: TandemMetric.adaptiveGoodput.name, to: goodput, labels: labels)
      }
      if let rate = statistics.handshakeSuccessRate {
        metrics.set(gauge: TandemMetric.adaptiveHandshakeSuccess.name, to: rate, labels: labels)
      }
    }
    metrics.increment(
      counter: TandemMetric.adaptiveDecisions.name, by: 1,
      labels: [
        (TandemMetric.Label.target, targetName), (TandemMetric.Label.chosen, "\(choice.preferred)"),
        (TandemMetric.Label.reason, choice.reason),
      ])
  }

  /// Records that QUIC was marked broken for the target.
  func recordQUICBroken() {
    configuration.metrics.increment(counter: TandemMetric.brokenMarks.name, by: 1, labels: metricLabels(.quic))
  }
}

extension Duration {
  /// The duration in seconds, as a `Double`.
  var seconds: Double {
    let parts = components
    return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
  }
}
