extension PrometheusMetrics {
  /// The limits and histogram buckets of a ``PrometheusMetrics`` store.
  ///
  /// The limits bound the memory that label values can take, even when they come from
  /// untrusted input such as a peer's address: at most ``maximumSeries`` series, each with at
  /// most ``maximumLabelsPerSeries`` labels of at most ``maximumLabelValueBytes`` bytes.
  public struct Configuration: Sendable, Hashable {
    /// The maximum number of time series in the store, default 10,000. A counter or gauge
    /// series counts 1, and a histogram series counts one per bucket (`+Inf` included) plus
    /// `_sum` and `_count`, so 17 with the default buckets. Updates that would create a series
    /// past the limit are dropped and counted in `tandem_metrics_dropped_series_total`, and
    /// existing series keep updating. The store's own `tandem_metrics_*` series do not count.
    /// Allowed: 1...1,000,000.
    public var maximumSeries: Int

    /// The maximum number of labels of one series, default 16. Allowed: 0...64.
    public var maximumLabelsPerSeries: Int

    /// The maximum length of one label value in UTF-8 bytes, default 1,024. Allowed:
    /// 1...65,536.
    public var maximumLabelValueBytes: Int

    /// The upper bounds of the histogram buckets, in increasing order, default
    /// ``PrometheusMetrics/defaultHistogramBuckets`` (0.0005 s to 10 s). A `+Inf` bucket
    /// follows them without being listed. Allowed: 1...64 finite values, strictly increasing.
    public var histogramBuckets: [Double]

    /// Bucket bounds for particular histogram names, which take the place of
    /// ``histogramBuckets`` for those names. Default empty. The same rules apply to each list.
    public var histogramBucketsByName: [String: [Double]]

    /// The `# HELP` texts by metric name, default the texts of every ``TandemMetric``. Metrics
    /// without a text render without a `# HELP` line.
    public var help: [String: String]

    /// Creates a configuration; every parameter defaults to the value documented on its
    /// property.
    public init(
      maximumSeries: Int = 10_000,
      maximumLabelsPerSeries: Int = 16,
      maximumLabelValueBytes: Int = 1024,
      histogramBuckets: [Double] = PrometheusMetrics.defaultHistogramBuckets,
      histogramBucketsByName: [String: [Double]] = [:],
      help: [String: String] = PrometheusMetrics.tandemHelpTexts
    ) {
      self.maximumSeries = maximumSeries
      self.maximumLabelsPerSeries = maximumLabelsPerSeries
      self.maximumLabelValueBytes = maximumLabelValueBytes
      self.histogramBuckets = histogramBuckets
      self.histogramBucketsByName = histogramBucketsByName
      self.help = help
    }

    /// The default configuration.
    public static var defaults: Configuration { Configuration() }

    /// Checks every setting against its allowed range.
    ///
    /// - Throws: ``MetricsConfigurationError`` naming the first invalid setting, its value and
    ///   the allowed range.
    public func validate() throws(MetricsConfigurationError) {
      try Self.check("maximumSeries", maximumSeries, in: 1...1_000_000)
      try Self.check("maximumLabelsPerSeries", maximumLabelsPerSeries, in: 0...64)
      try Self.check("maximumLabelValueBytes", maximumLabelValueBytes, in: 1...65_536)
      try Self.checkBuckets(histogramBuckets, setting: "histogramBuckets")
      for (name, buckets) in histogramBucketsByName.sorted(by: { $0.key < $1.key }) {
        guard PrometheusTextFormat.isValidMetricName(name) else {
          throw MetricsConfigurationError(
            setting: "histogramBucketsByName",
            message: "histogramBucketsByName has the key \"\(name)\", which is not a valid metric name "
              + "([a-zA-Z_:][a-zA-Z0-9_:]*)")
        }
        try Self.checkBuckets(buckets, setting: "histogramBucketsByName[\"\(name)\"]")
      }
    }

    private static func check(
      _ setting: String, _ value: Int, in range: ClosedRange<Int>
    ) throws(MetricsConfigurationError) {
      guard range.contains(value) else {
        throw MetricsConfigurationError(
          setting: setting, message: "\(setting) is \(value), expected \(range.lowerBound)...\(range.upperBound)")
      }
    }

    private static func checkBuckets(_ buckets: [Double], setting: String) throws(MetricsConfigurationError) {
      guard (1...64).contains(buckets.count) else {
        throw MetricsConfigurationError(
          setting: setting, message: "\(setting) has \(buckets.count) bounds, expected 1...64")
      }
      for (index, bound) in buckets.enumerated() {
        guard bound.isFinite else {
          throw MetricsConfigurationError(
            setting: setting, message: "\(setting)[\(index)] is \(bound), expected a finite number")
        }
        if index > 0, bound <= buckets[index - 1] {
          throw MetricsConfigurationError(
            setting: setting,
            message: "\(setting)[\(index)] is \(bound), expected more than the previous bound \(buckets[index - 1])")
        }
      }
    }
  }

  /// The default histogram bucket bounds in seconds, sized for RPC latencies and handshakes
  /// from sub-millisecond loopback calls to 10 s: 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
  /// 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5 and 10, then `+Inf`.
  public static let defaultHistogramBuckets: [Double] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
  ]

  /// The `# HELP` texts of the metrics that ``TandemMetric`` lists, by name.
  public static let tandemHelpTexts: [String: String] = Dictionary(
    uniqueKeysWithValues: TandemMetric.allCases.map { ($0.name, $0.help) })
}
