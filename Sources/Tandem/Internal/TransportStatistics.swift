/// Measurements of one transport to one target, for ``TransportPolicy/adaptive``: handshake
/// success rate and time, call latency and goodput.
struct TransportStatistics: Sendable {
  /// The number of latest call latencies kept for the percentiles.
  static let latencyWindow = 64
  /// The weight of a new sample in the moving averages.
  static let smoothing = 0.2

  /// Handshakes that succeeded and failed, as a moving average of 1 and 0 outcomes.
  private(set) var handshakeSuccessRate: Double?
  private(set) var handshakeCount = 0
  /// A moving average of handshake durations.
  private(set) var handshakeTime: Duration?
  /// The latest call latencies, oldest first.
  private(set) var latencies: [Duration] = []
  /// A moving average of bytes per second of calls that moved at least 64 KiB.
  private(set) var goodput: Double?
  /// When the last call finished.
  private(set) var lastCallAt: ContinuousClock.Instant?

  mutating func recordHandshake(succeeded: Bool, duration: Duration?) {
    handshakeCount += 1
    handshakeSuccessRate = Self.average(handshakeSuccessRate, succeeded ? 1 : 0)
    if let duration {
      handshakeTime = handshakeTime.map { $0 * (1 - Self.smoothing) + duration * Self.smoothing } ?? duration
    }
  }

  mutating func recordCall(latency: Duration, bytes: Int, now: ContinuousClock.Instant) {
    lastCallAt = now
    latencies.append(latency)
    if latencies.count > Self.latencyWindow { latencies.removeFirst(latencies.count - Self.latencyWindow) }
    let seconds = Double(latency.components.seconds) + Double(latency.components.attoseconds) / 1e18
    if bytes >= 64 * 1024, seconds > 0 {
      goodput = Self.average(goodput, Double(bytes) / seconds)
    }
  }

  /// Returns the latency below which `fraction` (0...1) of the kept calls finished, or `nil`
  /// with fewer than 8 calls.
  func latencyPercentile(_ fraction: Double) -> Duration? {
    guard latencies.count >= 8 else { return nil }
    let sorted = latencies.sorted()
    let index = min(sorted.count - 1, Int((Double(sorted.count - 1) * fraction).rounded()))
    return sorted[index]
  }

  private static func average(_ current: Double?, _ sample: Double) -> Double {
    guard let current else { return sample }
    return current * (1 - smoothing) + sample * smoothing
  }
}
