/// A destination for Tandem's metrics: counters, gauges and histograms, each identified by a
/// name and a list of labels.
///
/// Tandem reports the metrics that ``TandemMetric`` lists through this protocol. Use
/// ``PrometheusMetrics`` to keep them in process and serve them with ``MetricsServer``, use
/// ``NoMetrics`` (the default) to drop them, or bridge them to swift-metrics or another backend
/// by conforming a type of your own.
///
/// Names follow the Prometheus conventions: `tandem_` prefix, `_total` for counters, the unit
/// (`_seconds`, `_bytes`) before it. Labels are `(key, value)` pairs, such as
/// `("transport", "quic")`. Their order carries no meaning.
///
/// Tandem calls these methods from event loop threads and from tasks, often once per call or
/// per connection event, so implementations must be thread-safe and should return quickly
/// without blocking.
///
/// ## Bridging to swift-metrics
///
/// Each method maps to one swift-metrics type (swift-metrics 2.4 or later for `Meter`):
///
/// | `MetricsRecorder` method | swift-metrics |
/// | --- | --- |
/// | ``increment(counter:by:labels:)`` | `Counter.increment(by:)` |
/// | ``increment(gauge:by:labels:)`` | `Meter.increment(by:)`, or `Meter.decrement(by:)` for a negative delta |
/// | ``set(gauge:to:labels:)`` | `Meter.set(_:)` (or `Gauge.record(_:)`) |
/// | ``record(histogram:value:labels:)`` | `Recorder.record(_:)` with `aggregate: true`, or `Timer.recordSeconds(_:)` for `_seconds` names |
///
/// The labels become swift-metrics dimensions unchanged:
///
/// ```swift
/// import Metrics
/// import Tandem
///
/// struct SwiftMetricsBridge: MetricsRecorder {
///   func increment(counter name: String, by amount: Int64, labels: [(String, String)]) {
///     Counter(label: name, dimensions: labels).increment(by: amount)
///   }
///
///   func increment(gauge name: String, by delta: Double, labels: [(String, String)]) {
///     let meter = Meter(label: name, dimensions: labels)
///     if delta >= 0 {
///       meter.increment(by: delta)
///     } else {
///       meter.decrement(by: -delta)
///     }
///   }
///
///   func set(gauge name: String, to value: Double, labels: [(String, String)]) {
///     Meter(label: name, dimensions: labels).set(value)
///   }
///
///   func record(histogram name: String, value: Double, labels: [(String, String)]) {
///     Recorder(label: name, dimensions: labels, aggregate: true).record(value)
///   }
/// }
/// ```
///
/// Creating a swift-metrics object goes through the global factory on every call, so a bridge
/// for a busy server caches the objects by name and labels.
public protocol MetricsRecorder: Sendable {
  /// Adds `amount` to a counter, a value that only goes up, such as the number of calls
  /// started.
  ///
  /// - Parameters:
  ///   - name: the metric name, such as `tandem_calls_started_total`.
  ///   - amount: zero or more. A counter never goes down, so a recorder may drop a negative
  ///     amount (``PrometheusMetrics`` drops and counts it).
  ///   - labels: the series' labels, such as `[("transport", "tcp")]`.
  func increment(counter name: String, by amount: Int64, labels: [(String, String)])

  /// Adds `delta` to a gauge, which may be negative, such as +1 and -1 as connections open
  /// and close.
  func increment(gauge name: String, by delta: Double, labels: [(String, String)])

  /// Sets a gauge to `value`, such as the last measured round-trip time.
  func set(gauge name: String, to value: Double, labels: [(String, String)])

  /// Records one observation in a histogram, such as a handshake duration.
  ///
  /// Durations are in seconds, and their metric names end in `_seconds`.
  func record(histogram name: String, value: Double, labels: [(String, String)])
}

extension MetricsRecorder {
  /// Adds `amount` (default 1) to a counter without labels or with the given ones.
  public func increment(counter name: String, by amount: Int64 = 1) {
    increment(counter: name, by: amount, labels: [])
  }

  /// Adds 1 to a counter with `labels`.
  public func increment(counter name: String, labels: [(String, String)]) {
    increment(counter: name, by: 1, labels: labels)
  }
}
