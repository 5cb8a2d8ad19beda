import Synchronization

/// A ``MetricsRecorder`` that keeps metrics in memory and renders them in the Prometheus text
/// exposition format 0.0.4, for ``MetricsServer`` or your own HTTP endpoint.
///
/// ```swift
/// let metrics = PrometheusMetrics()
/// let server = try await MetricsServer.start(host: "127.0.0.1", port: 9464, metrics: metrics)
/// // Hand `metrics` to the channels and servers that report to it.
/// ```
///
/// The store is thread-safe: one lock guards it, and ``render()`` formats a copy outside the
/// lock.
///
/// The store drops an update, and counts it, when one of the cases below applies. So invalid
/// input is not fatal, and label values from untrusted input cannot grow the store without
/// bound:
/// - it would create a series past ``Configuration/maximumSeries`` (default 10,000 time
///   series, which render to about 1 MB of text with three short labels each): counted in
///   `tandem_metrics_dropped_series_total`, one per dropped update;
/// - it is invalid: counted in `tandem_metrics_invalid_samples_total` with one of these
///   `reason` labels:
///   - `invalid_name`: a metric name outside `[a-zA-Z_:][a-zA-Z0-9_:]*` or longer than
///     ``maximumNameBytes``.
///   - `reserved_name`: one of the two `tandem_metrics_*` names above.
///   - `invalid_label_name`: a label name outside `[a-zA-Z_][a-zA-Z0-9_]*` or starting with
///     `__`, or `le` on a histogram.
///   - `duplicate_label`, `too_many_labels` and `label_value_too_long`: see
///     ``Configuration/maximumLabelsPerSeries`` and ``Configuration/maximumLabelValueBytes``.
///   - `type_conflict`: a name already used with another type, or a name that a histogram's
///     `_bucket`, `_sum` or `_count` lines would repeat.
///   - `negative_increment`: a counter increment below zero.
///   - `invalid_value`: a gauge increment or histogram observation that is NaN or infinite.
///
/// Label values may contain any characters: rendering escapes backslash, double quote and
/// line feed, the three that the text format 0.0.4 requires escaped. Other control
/// characters, such as carriage return and NUL, are written as they are.
///
/// Histograms take negative observations, as the Prometheus client libraries do, so the
/// `_sum` of a series that receives them can decrease.
public final class PrometheusMetrics: MetricsRecorder {
  /// The maximum length of a metric name in UTF-8 bytes: 256.
  public static let maximumNameBytes = 256

  /// The limits and buckets in effect.
  public let configuration: Configuration

  private let store: Mutex<PrometheusStore>

  /// Creates a store with ``Configuration/defaults``.
  public init() {
    configuration = .defaults
    store = Mutex(PrometheusStore(maximumSeries: configuration.maximumSeries))
  }

  /// Creates a store with `configuration`.
  ///
  /// - Throws: ``MetricsConfigurationError`` when a setting is out of its allowed range, see
  ///   ``Configuration/validate()``.
  public init(configuration: Configuration) throws(MetricsConfigurationError) {
    try configuration.validate()
    self.configuration = configuration
    store = Mutex(PrometheusStore(maximumSeries: configuration.maximumSeries))
  }

  // MARK: Recording

  public func increment(counter name: String, by amount: Int64, labels: [(String, String)]) {
    let checked = check(name: name, labels: labels, kind: .counter)
    store.withLock { store in
      guard let labelSet = store.labelSet(from: checked) else { return }
      guard amount >= 0 else {
        store.countDrop(.negativeIncrement)
        return
      }
      guard store.admit(name: name, kind: .counter, labels: labelSet) else { return }
      PrometheusStore.addSaturating(amount, to: &store.families[name]!.counters[labelSet, default: 0])
    }
  }

  public func increment(gauge name: String, by delta: Double, labels: [(String, String)]) {
    let checked = check(name: name, labels: labels, kind: .gauge)
    store.withLock { store in
      guard let labelSet = store.labelSet(from: checked) else { return }
      guard delta.isFinite else {
        store.countDrop(.invalidValue)
        return
      }
      guard store.admit(name: name, kind: .gauge, labels: labelSet) else { return }
      store.families[name]!.gauges[labelSet, default: 0] += delta
    }
  }

  /// Sets a gauge to `value`. NaN and infinities are kept and render as `NaN`, `+Inf` and
  /// `-Inf`.
  public func set(gauge name: String, to value: Double, labels: [(String, String)]) {
    let checked = check(name: name, labels: labels, kind: .gauge)
    store.withLock { store in
      guard let labelSet = store.labelSet(from: checked) else { return }
      guard store.admit(name: name, kind: .gauge, labels: labelSet) else { return }
      store.families[name]!.gauges[labelSet] = value
    }
  }

  /// Counts `value` in the first bucket whose upper bound is at least `value` (the `le`
  /// semantics of Prometheus), and adds it to the series' sum and count.
  public func record(histogram name: String, value: Double, labels: [(String, String)]) {
    let checked = check(name: name, labels: labels, kind: .histogram)
    let bounds = configuration.histogramBucketsByName[name] ?? configuration.histogramBuckets
    store.withLock { store in
      guard let labelSet = store.labelSet(from: checked) else { return }
      guard value.isFinite else {
        store.countDrop(.invalidValue)
        return
      }
      guard store.admit(name: name, kind: .histogram, labels: labelSet, bounds: bounds) else { return }
      // Copy only the bounds: a copy of the family would make the update below copy its
      // whole dictionary.
      let familyBounds = store.families[name]!.bounds
      store.families[name]!.histograms[labelSet, default: PrometheusHistogramState(boundCount: familyBounds.count)]
        .observe(value, bounds: familyBounds)
    }
  }

  // MARK: Reading

  /// The observations of one histogram series, with cumulative bucket counts as Prometheus
  /// renders them.
  public struct HistogramSnapshot: Sendable, Hashable {
    /// The finite bucket upper bounds, in increasing order; the `+Inf` bucket is not listed.
    public var upperBounds: [Double]
    /// Observations at or below each bound in ``upperBounds``, one entry per bound.
    public var cumulativeCounts: [UInt64]
    /// The sum of all observations.
    public var sum: Double
    /// The number of observations, which is also the count of the `+Inf` bucket.
    public var count: UInt64
  }

  /// The value of one series.
  public enum Value: Sendable, Hashable {
    /// A counter's total.
    case counter(Int64)
    /// A gauge's current value.
    case gauge(Double)
    /// A histogram's observations.
    case histogram(HistogramSnapshot)
  }

  /// One series and its value.
  public struct Series: Sendable {
    /// The labels as `(name, value)` pairs, sorted by name.
    public var labels: [(String, String)]
    /// The value.
    public var value: Value
  }

  /// The number of time series that updates created, at most
  /// ``Configuration/maximumSeries``: one per counter or gauge series, and for a histogram
  /// series one per bucket (`+Inf` included) plus `_sum` and `_count`. The store's own
  /// `tandem_metrics_*` series are not included.
  public var seriesCount: Int {
    store.withLock { $0.seriesCount }
  }

  /// Returns the value of a counter series, or `nil` when no update created it or when `name`
  /// is a metric of another type. The order of `labels` does not matter.
  public func counterValue(_ name: String, labels: [(String, String)] = []) -> Int64? {
    guard let labelSet = lookupKey(labels) else { return nil }
    return store.withLock { $0.families[name]?.counters[labelSet] }
  }

  /// Returns the value of a gauge series, or `nil` when no update created it or when `name`
  /// is a metric of another type.
  public func gaugeValue(_ name: String, labels: [(String, String)] = []) -> Double? {
    guard let labelSet = lookupKey(labels) else { return nil }
    return store.withLock { $0.families[name]?.gauges[labelSet] }
  }

  /// Returns the observations of a histogram series, or `nil` when no update created it or
  /// when `name` is a metric of another type.
  public func histogramValue(_ name: String, labels: [(String, String)] = []) -> HistogramSnapshot? {
    guard let labelSet = lookupKey(labels) else { return nil }
    let found: (PrometheusHistogramState, [Double])? = store.withLock { store in
      guard let family = store.families[name], let state = family.histograms[labelSet] else { return nil }
      return (state, family.bounds)
    }
    guard let (state, bounds) = found else { return nil }
    return Self.snapshot(state, bounds: bounds)
  }

  /// Returns every series of `name`, sorted by labels; empty when there are none.
  public func series(named name: String) -> [Series] {
    guard let family = store.withLock({ $0.families[name] }) else { return [] }
    switch family.kind {
    case .counter:
      return family.counters.sorted { $0.key < $1.key }.map { Series(labels: $0.key.pairs, value: .counter($0.value)) }
    case .gauge:
      return family.gauges.sorted { $0.key < $1.key }.map { Series(labels: $0.key.pairs, value: .gauge($0.value)) }
    case .histogram:
      return family.histograms.sorted { $0.key < $1.key }.map {
        Series(labels: $0.key.pairs, value: .histogram(Self.snapshot($0.value, bounds: family.bounds)))
      }
    }
  }

  static func snapshot(_ state: PrometheusHistogramState, bounds: [Double]) -> HistogramSnapshot {
    var cumulative: [UInt64] = []
    cumulative.reserveCapacity(bounds.count)
    var running: UInt64 = 0
    for index in bounds.indices {
      running &+= state.bucketCounts[index]
      cumulative.append(running)
    }
    return HistogramSnapshot(upperBounds: bounds, cumulativeCounts: cumulative, sum: state.sum, count: state.count)
  }

  /// Returns a copy of the store, taken under the lock. The dictionaries inside are copied on
  /// write, so the lock is held only while the outer structure is copied.
  func copyStore() -> PrometheusStore {
    store.withLock { $0 }
  }

  // MARK: Validation

  /// Checks the name and labels of an update, before taking the lock, and returns the
  /// canonical label set.
  private func check(
    name: String, labels: [(String, String)], kind: TandemMetric.Kind
  ) -> Result<PrometheusLabelSet, PrometheusDropReason> {
    guard name.utf8.count <= Self.maximumNameBytes, PrometheusTextFormat.isValidMetricName(name) else {
      return .failure(.invalidName)
    }
    guard labels.count <= configuration.maximumLabelsPerSeries else {
      return .failure(.tooManyLabels)
    }
    var sorted: [PrometheusLabel] = []
    sorted.reserveCapacity(labels.count)
    for (labelName, value) in labels {
      guard PrometheusTextFormat.isValidLabelName(labelName), !(kind == .histogram && labelName == "le") else {
        return .failure(.invalidLabelName)
      }
      guard value.utf8.count <= configuration.maximumLabelValueBytes else {
        return .failure(.labelValueTooLong)
      }
      sorted.append(PrometheusLabel(name: labelName, value: value))
    }
    sorted.sort { $0.name < $1.name }
    for index in sorted.indices.dropFirst() where sorted[index].name == sorted[index - 1].name {
      return .failure(.duplicateLabel)
    }
    return .success(PrometheusLabelSet(labels: sorted))
  }

  /// Returns the label set to look a series up by, or `nil` when two labels share a name.
  private func lookupKey(_ labels: [(String, String)]) -> PrometheusLabelSet? {
    let sorted = labels.map { PrometheusLabel(name: $0.0, value: $0.1) }.sorted { $0.name < $1.name }
    for index in sorted.indices.dropFirst() where sorted[index].name == sorted[index - 1].name {
      return nil
    }
    return PrometheusLabelSet(labels: sorted)
  }
}
