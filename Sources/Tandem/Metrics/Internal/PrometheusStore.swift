/// One label of a series.
struct PrometheusLabel: Hashable, Sendable {
  var name: String
  var value: String
}

/// The labels of one series, sorted by name with no name twice, so that the same labels in a
/// different order find the same series.
struct PrometheusLabelSet: Hashable, Sendable, Comparable {
  var labels: [PrometheusLabel]

  static let empty = PrometheusLabelSet(labels: [])

  /// Orders by the first differing label name, then value; a prefix sorts first.
  static func < (lhs: PrometheusLabelSet, rhs: PrometheusLabelSet) -> Bool {
    for (left, right) in zip(lhs.labels, rhs.labels) {
      if left.name != right.name { return left.name < right.name }
      if left.value != right.value { return left.value < right.value }
    }
    return lhs.labels.count < rhs.labels.count
  }

  var pairs: [(String, String)] { labels.map { ($0.name, $0.value) } }
}

/// Why an update was dropped: the values of the `reason` label of
/// `tandem_metrics_invalid_samples_total`.
enum PrometheusDropReason: String, Error, CaseIterable {
  case invalidName = "invalid_name"
  case reservedName = "reserved_name"
  case invalidLabelName = "invalid_label_name"
  case duplicateLabel = "duplicate_label"
  case tooManyLabels = "too_many_labels"
  case labelValueTooLong = "label_value_too_long"
  case typeConflict = "type_conflict"
  case negativeIncrement = "negative_increment"
  case invalidValue = "invalid_value"
}

/// The observations of one histogram series.
struct PrometheusHistogramState: Sendable {
  /// Observations per bucket, not cumulative; the last entry is the `+Inf` bucket.
  var bucketCounts: [UInt64]
  var sum: Double = 0
  var count: UInt64 = 0

  init(boundCount: Int) {
    bucketCounts = Array(repeating: 0, count: boundCount + 1)
  }

  /// Counts `value` in the first bucket whose upper bound is at least `value`.
  mutating func observe(_ value: Double, bounds: [Double]) {
    var index = bounds.count
    for (position, bound) in bounds.enumerated() where value <= bound {
      index = position
      break
    }
    bucketCounts[index] &+= 1
    count &+= 1
    sum += value
  }
}

/// The series of one metric name, all of one kind.
struct PrometheusFamily: Sendable {
  let kind: TandemMetric.Kind
  /// The histogram bucket bounds; empty for other kinds.
  let bounds: [Double]
  var counters: [PrometheusLabelSet: Int64] = [:]
  var gauges: [PrometheusLabelSet: Double] = [:]
  var histograms: [PrometheusLabelSet: PrometheusHistogramState] = [:]

  init(kind: TandemMetric.Kind, bounds: [Double]) {
    self.kind = kind
    self.bounds = bounds
  }

  var isEmpty: Bool { counters.isEmpty && gauges.isEmpty && histograms.isEmpty }

  func contains(_ labels: PrometheusLabelSet) -> Bool {
    switch kind {
    case .counter: return counters[labels] != nil
    case .gauge: return gauges[labels] != nil
    case .histogram: return histograms[labels] != nil
    }
  }
}

/// The state behind ``PrometheusMetrics``' lock. It does no I/O and never grows past the
/// configured series limit, apart from its own two `tandem_metrics_*` families, whose series
/// are bounded by ``PrometheusDropReason``.
struct PrometheusStore: Sendable {
  static let droppedSeriesName = TandemMetric.droppedSeries.name
  static let invalidSamplesName = TandemMetric.invalidSamples.name
  /// The suffixes a histogram adds to its name when rendered.
  static let histogramSuffixes = ["_bucket", "_sum", "_count"]

  /// The maximum of ``seriesCount``.
  let maximumSeries: Int
  var families: [String: PrometheusFamily] = [:]
  /// The time series that updates created, without the store's own: one per counter or gauge
  /// series, and one per bucket plus `_sum` and `_count` for a histogram series.
  var seriesCount = 0

  init(maximumSeries: Int) {
    self.maximumSeries = maximumSeries
    var dropped = PrometheusFamily(kind: .counter, bounds: [])
    dropped.counters[.empty] = 0
    families[Self.droppedSeriesName] = dropped
    families[Self.invalidSamplesName] = PrometheusFamily(kind: .counter, bounds: [])
  }

  /// Counts an update dropped for `reason` in `tandem_metrics_invalid_samples_total`.
  mutating func countDrop(_ reason: PrometheusDropReason) {
    let labels = PrometheusLabelSet(labels: [PrometheusLabel(name: TandemMetric.Label.reason, value: reason.rawValue)])
    Self.addSaturating(1, to: &families[Self.invalidSamplesName]!.counters[labels, default: 0])
  }

  /// Returns the label set of a checked update, or counts the reason it failed and returns
  /// `nil`.
  mutating func labelSet(from checked: Result<PrometheusLabelSet, PrometheusDropReason>) -> PrometheusLabelSet? {
    switch checked {
    case .success(let labelSet):
      return labelSet
    case .failure(let reason):
      countDrop(reason)
      return nil
    }
  }

  /// Makes room for the series `labels` of `name`: returns `true` when the series exists or
  /// was just allowed, so the caller must insert it. Otherwise counts the drop and returns
  /// `false`. `bounds` are the bucket bounds for a new histogram family.
  mutating func admit(name: String, kind: TandemMetric.Kind, labels: PrometheusLabelSet, bounds: [Double] = []) -> Bool {
    if name == Self.droppedSeriesName || name == Self.invalidSamplesName {
      countDrop(.reservedName)
      return false
    }
    if let family = families[name] {
      guard family.kind == kind else {
        countDrop(.typeConflict)
        return false
      }
      if family.contains(labels) {
        return true
      }
    } else if collidesWithHistogram(name: name, kind: kind) {
      countDrop(.typeConflict)
      return false
    }
    // A histogram series renders as one time series per bucket, `+Inf` included, plus `_sum`
    // and `_count`.
    let weight = kind == .histogram ? (families[name]?.bounds ?? bounds).count + 3 : 1
    guard seriesCount + weight <= maximumSeries else {
      Self.addSaturating(1, to: &families[Self.droppedSeriesName]!.counters[.empty, default: 0])
      return false
    }
    if families[name] == nil {
      families[name] = PrometheusFamily(kind: kind, bounds: kind == .histogram ? bounds : [])
    }
    seriesCount += weight
    return true
  }

  /// Returns whether a new family `name` would render lines with the same name as another
  /// family, because a histogram `x` renders `x_bucket`, `x_sum` and `x_count`.
  private func collidesWithHistogram(name: String, kind: TandemMetric.Kind) -> Bool {
    if kind == .histogram {
      return Self.histogramSuffixes.contains { families[name + $0] != nil }
    }
    for suffix in Self.histogramSuffixes where name.hasSuffix(suffix) {
      let base = String(name.dropLast(suffix.count))
      if families[base]?.kind == .histogram {
        return true
      }
    }
    return false
  }

  /// Adds `amount` to `total`, stopping at `Int64.max` instead of overflowing.
  static func addSaturating(_ amount: Int64, to total: inout Int64) {
    let (sum, overflow) = total.addingReportingOverflow(amount)
    total = overflow ? Int64.max : sum
  }
}
