import TandemCore
import TandemHTTP

/// Reports each server call's start, status, duration and bytes to a ``MetricsRecorder``,
/// labeled with the transport it came in on and the method's path, and the server's
/// connections opened and open by transport.
struct ServerCallMetrics: CallObserver {
  let metrics: any MetricsRecorder

  private func labels(_ method: MethodDescriptor, _ version: HTTPVersion?) -> [(String, String)] {
    [(TandemMetric.Label.transport, Self.transport(version)), (TandemMetric.Label.method, method.path)]
  }

  func connectionOpened(over version: HTTPVersion) {
    let labels = [(TandemMetric.Label.transport, Self.transport(version))]
    metrics.increment(counter: TandemMetric.serverConnectionsOpened.name, by: 1, labels: labels)
    metrics.increment(gauge: TandemMetric.serverConnectionsOpen.name, by: 1, labels: labels)
  }

  func connectionClosed(over version: HTTPVersion) {
    metrics.increment(
      gauge: TandemMetric.serverConnectionsOpen.name, by: -1, labels: [(TandemMetric.Label.transport, Self.transport(version))])
  }

  private static func transport(_ version: HTTPVersion?) -> String {
    version == .http3 ? TandemMetric.Transport.quic : TandemMetric.Transport.tcp
  }

  func callStarted(_ method: MethodDescriptor, over version: HTTPVersion) {
    metrics.increment(counter: TandemMetric.serverCallsStarted.name, by: 1, labels: labels(method, version))
  }

  func callFinished(
    _ method: MethodDescriptor, over version: HTTPVersion?, status: StatusCode, duration: Duration, sentBytes: Int,
    receivedBytes: Int
  ) {
    let labels = labels(method, version)
    metrics.increment(
      counter: TandemMetric.serverCallsFinished.name, by: 1,
      labels: labels + [(TandemMetric.Label.status, status.description)])
    metrics.record(histogram: TandemMetric.serverCallDuration.name, value: duration.seconds, labels: labels)
    if sentBytes > 0 {
      metrics.increment(counter: TandemMetric.serverSentBytes.name, by: Int64(sentBytes), labels: labels)
    }
    if receivedBytes > 0 {
      metrics.increment(counter: TandemMetric.serverReceivedBytes.name, by: Int64(receivedBytes), labels: labels)
    }
  }
}
