import TandemCore
import TandemHTTP

/// Reports each call's start, status, duration and bytes to a ``MetricsRecorder``, labeled
/// with the transport and the channel's target, and records finished calls' latency and bytes in
/// ``TransportHealth`` for the adaptive policy. A call that never got a stream is reported with
/// transport `none`.
struct CallMetrics: CallObserver {
  let metrics: any MetricsRecorder
  let target: String
  /// Whether finished calls update ``TransportHealth``'s statistics.
  let recordsStatistics: Bool

  private func labels(_ version: HTTPVersion?) -> [(String, String)] {
    let transport: String
    switch version {
    case .http2: transport = TandemMetric.Transport.tcp
    case .http3: transport = TandemMetric.Transport.quic
    case nil: transport = "none"
    }
    return [(TandemMetric.Label.transport, transport), (TandemMetric.Label.target, target)]
  }

  func callStarted(_ method: MethodDescriptor, over version: HTTPVersion) {
    metrics.increment(counter: TandemMetric.callsStarted.name, by: 1, labels: labels(version))
  }

  func callFinished(
    _ method: MethodDescriptor, over version: HTTPVersion?, status: StatusCode, duration: Duration, sentBytes: Int,
    receivedBytes: Int
  ) {
    if recordsStatistics, let version, status == .ok {
      TransportHealth.shared.recordCall(
        target, over: version == .http3 ? .quic : .tcp, latency: duration, bytes: sentBytes + receivedBytes)
    }
    let labels = labels(version)
    if version == nil {
      // A call that never got a stream reported no start: it counts as started now, so that
      // started and finished calls add up.
      metrics.increment(counter: TandemMetric.callsStarted.name, by: 1, labels: labels)
    }
    metrics.increment(
      counter: TandemMetric.callsFinished.name, by: 1, labels: labels + [(TandemMetric.Label.status, status.description)])
    metrics.record(histogram: TandemMetric.callDuration.name, value: duration.seconds, labels: labels)
    if sentBytes > 0 { metrics.increment(counter: TandemMetric.sentBytes.name, by: Int64(sentBytes), labels: labels) }
    if receivedBytes > 0 {
      metrics.increment(counter: TandemMetric.receivedBytes.name, by: Int64(receivedBytes), labels: labels)
    }
  }
}
