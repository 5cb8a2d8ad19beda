import Foundation
import Tandem
import XCTest

final class MetricsPrometheusTests: XCTestCase {
  private let invalidSamples = TandemMetric.invalidSamples.name
  private let droppedSeries = TandemMetric.droppedSeries.name

  private func invalidCount(_ metrics: PrometheusMetrics, reason: String) -> Int64? {
    metrics.counterValue(invalidSamples, labels: [("reason", reason)])
  }

  // MARK: Recording

  func testCounterAddsAndIgnoresLabelOrder() {
    let metrics = PrometheusMetrics()
    metrics.increment(counter: "calls_total", by: 2, labels: [("a", "1"), ("b", "2")])
    metrics.increment(counter: "calls_total", by: 3, labels: [("b", "2"), ("a", "1")])
    metrics.increment(counter: "calls_total", by: 0, labels: [("a", "other")])

    XCTAssertEqual(metrics.counterValue("calls_total", labels: [("a", "1"), ("b", "2")]), 5)
    XCTAssertEqual(metrics.counterValue("calls_total", labels: [("b", "2"), ("a", "1")]), 5)
    XCTAssertEqual(metrics.counterValue("calls_total", labels: [("a", "other")]), 0)
    XCTAssertNil(metrics.counterValue("calls_total"))
    XCTAssertNil(metrics.gaugeValue("calls_total", labels: [("a", "1"), ("b", "2")]))
    XCTAssertEqual(metrics.seriesCount, 2)
  }

  func testCounterRejectsNegativeIncrement() {
    let metrics = PrometheusMetrics()
    metrics.increment(counter: "calls_total", by: 5, labels: [])
    metrics.increment(counter: "calls_total", by: -1, labels: [])

    XCTAssertEqual(metrics.counterValue("calls_total"), 5)
    XCTAssertEqual(invalidCount(metrics, reason: "negative_increment"), 1)
  }

  func testCounterSaturatesAtMaximum() {
    let metrics = PrometheusMetrics()
    metrics.increment(counter: "bytes_total", by: Int64.max - 1, labels: [])
    metrics.increment(counter: "bytes_total", by: 10, labels: [])

    XCTAssertEqual(metrics.counterValue("bytes_total"), Int64.max)
  }

  func testGaugeSetsAndAdds() {
    let metrics = PrometheusMetrics()
    metrics.increment(gauge: "open", by: 1, labels: [("transport", "tcp")])
    metrics.increment(gauge: "open", by: 1, labels: [("transport", "tcp")])
    metrics.increment(gauge: "open", by: -1, labels: [("transport", "tcp")])
    metrics.set(gauge: "rtt_seconds", to: 0.02, labels: [])
    metrics.set(gauge: "rtt_seconds", to: 0.03, labels: [])

    XCTAssertEqual(metrics.gaugeValue("open", labels: [("transport", "tcp")]), 1)
    XCTAssertEqual(metrics.gaugeValue("rtt_seconds"), 0.03)
  }

  func testGaugeKeepsSpecialValuesButRejectsSpecialIncrements() {
    let metrics = PrometheusMetrics()
    metrics.set(gauge: "a", to: .nan, labels: [])
    metrics.set(gauge: "b", to: .infinity, labels: [])
    metrics.set(gauge: "c", to: -.infinity, labels: [])
    metrics.increment(gauge: "d", by: 2, labels: [])
    metrics.increment(gauge: "d", by: .nan, labels: [])
    metrics.increment(gauge: "d", by: .infinity, labels: [])

    XCTAssertEqual(metrics.gaugeValue("d"), 2)
    XCTAssertEqual(invalidCount(metrics, reason: "invalid_value"), 2)
    let text = metrics.render()
    XCTAssertTrue(text.contains("\na NaN\n"), text)
    XCTAssertTrue(text.contains("\nb +Inf\n"), text)
    XCTAssertTrue(text.contains("\nc -Inf\n"), text)
  }

  func testHistogramCountsBoundInclusively() throws {
    let metrics = try PrometheusMetrics(configuration: .init(histogramBuckets: [0.1, 1, 10]))
    for value in [0.05, 0.1, 0.5, 1, 20, -3] {
      metrics.record(histogram: "latency_seconds", value: value, labels: [("method", "Get")])
    }

    let snapshot = try XCTUnwrap(metrics.histogramValue("latency_seconds", labels: [("method", "Get")]))
    XCTAssertEqual(snapshot.upperBounds, [0.1, 1, 10])
    XCTAssertEqual(snapshot.cumulativeCounts, [3, 5, 5])
    XCTAssertEqual(snapshot.count, 6)
    XCTAssertEqual(snapshot.sum, 0.05 + 0.1 + 0.5 + 1 + 20 - 3, accuracy: 1e-9)
  }

  func testHistogramRejectsNonFiniteValues() {
    let metrics = PrometheusMetrics()
    metrics.record(histogram: "latency_seconds", value: 0.2, labels: [])
    metrics.record(histogram: "latency_seconds", value: .nan, labels: [])
    metrics.record(histogram: "latency_seconds", value: .infinity, labels: [])

    XCTAssertEqual(metrics.histogramValue("latency_seconds")?.count, 1)
    XCTAssertEqual(invalidCount(metrics, reason: "invalid_value"), 2)
  }

  func testHistogramDefaultBuckets() {
    XCTAssertEqual(
      PrometheusMetrics.defaultHistogramBuckets, [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10])
    let metrics = PrometheusMetrics()
    metrics.record(histogram: "handshake_seconds", value: 0.003, labels: [])

    let text = metrics.render()
    XCTAssertTrue(text.contains("handshake_seconds_bucket{le=\"0.0005\"} 0\n"), text)
    XCTAssertTrue(text.contains("handshake_seconds_bucket{le=\"0.0025\"} 0\n"), text)
    XCTAssertTrue(text.contains("handshake_seconds_bucket{le=\"0.005\"} 1\n"), text)
    XCTAssertTrue(text.contains("handshake_seconds_bucket{le=\"10\"} 1\n"), text)
    XCTAssertTrue(text.contains("handshake_seconds_bucket{le=\"+Inf\"} 1\n"), text)
    XCTAssertEqual(text.components(separatedBy: "handshake_seconds_bucket").count - 1, 15)
  }

  func testHistogramBucketsByName() throws {
    let metrics = try PrometheusMetrics(configuration: .init(histogramBucketsByName: ["size_bytes": [1024, 65536]]))
    metrics.record(histogram: "size_bytes", value: 2000, labels: [])
    metrics.record(histogram: "other_seconds", value: 2000, labels: [])

    XCTAssertEqual(metrics.histogramValue("size_bytes")?.upperBounds, [1024, 65536])
    XCTAssertEqual(metrics.histogramValue("size_bytes")?.cumulativeCounts, [0, 1])
    XCTAssertEqual(metrics.histogramValue("other_seconds")?.upperBounds, PrometheusMetrics.defaultHistogramBuckets)
  }

  func testConcurrentIncrementsAllCount() async {
    let metrics = PrometheusMetrics()
    await withTaskGroup(of: Void.self) { group in
      for task in 0..<8 {
        group.addTask {
          for _ in 0..<1000 {
            metrics.increment(counter: "calls_total", by: 1, labels: [("transport", task % 2 == 0 ? "tcp" : "quic")])
            metrics.record(histogram: "latency_seconds", value: 0.001, labels: [])
          }
        }
      }
    }

    XCTAssertEqual(metrics.counterValue("calls_total", labels: [("transport", "tcp")]), 4000)
    XCTAssertEqual(metrics.counterValue("calls_total", labels: [("transport", "quic")]), 4000)
    XCTAssertEqual(metrics.histogramValue("latency_seconds")?.count, 8000)
  }

  // MARK: Invalid input

  func testInvalidMetricNamesAreDroppedAndCounted() {
    let metrics = PrometheusMetrics()
    let names = ["", "1abc", "a-b", "a b", "tandem_é", "name{x=\"1\"}", "a\nb", String(repeating: "a", count: 257)]
    for name in names {
      metrics.increment(counter: name, by: 1, labels: [])
      metrics.set(gauge: name, to: 1, labels: [])
      metrics.record(histogram: name, value: 1, labels: [])
    }
    metrics.increment(counter: "ok:name_total", by: 1, labels: [])
    metrics.increment(counter: String(repeating: "a", count: 256), by: 1, labels: [])

    XCTAssertEqual(invalidCount(metrics, reason: "invalid_name"), Int64(names.count * 3))
    XCTAssertEqual(metrics.seriesCount, 2)
    XCTAssertEqual(metrics.counterValue("ok:name_total"), 1)
    let text = metrics.render()
    XCTAssertFalse(text.contains("a-b"), text)
    XCTAssertFalse(text.contains("1abc"), text)
  }

  func testInvalidLabelsAreDroppedAndCounted() throws {
    let metrics = try PrometheusMetrics(configuration: .init(maximumLabelsPerSeries: 2, maximumLabelValueBytes: 8))
    metrics.increment(counter: "c_total", by: 1, labels: [("__name__", "x")])
    metrics.increment(counter: "c_total", by: 1, labels: [("a b", "x")])
    metrics.increment(counter: "c_total", by: 1, labels: [("", "x")])
    metrics.increment(counter: "c_total", by: 1, labels: [("1a", "x")])
    metrics.record(histogram: "h_seconds", value: 1, labels: [("le", "1")])
    metrics.increment(counter: "c_total", by: 1, labels: [("a", "1"), ("a", "2")])
    metrics.increment(counter: "c_total", by: 1, labels: [("a", "1"), ("b", "2"), ("c", "3")])
    metrics.increment(counter: "c_total", by: 1, labels: [("a", "123456789")])
    metrics.increment(counter: "c_total", by: 1, labels: [("le", "12345678")])

    XCTAssertEqual(invalidCount(metrics, reason: "invalid_label_name"), 5)
    XCTAssertEqual(invalidCount(metrics, reason: "duplicate_label"), 1)
    XCTAssertEqual(invalidCount(metrics, reason: "too_many_labels"), 1)
    XCTAssertEqual(invalidCount(metrics, reason: "label_value_too_long"), 1)
    XCTAssertEqual(metrics.counterValue("c_total", labels: [("le", "12345678")]), 1)
    XCTAssertEqual(metrics.seriesCount, 1)
  }

  func testTypeConflictsAreDroppedAndCounted() {
    let metrics = PrometheusMetrics()
    metrics.increment(counter: "x_total", by: 1, labels: [])
    metrics.set(gauge: "x_total", to: 1, labels: [])
    metrics.record(histogram: "x_total", value: 1, labels: [])
    metrics.record(histogram: "rpc_seconds", value: 1, labels: [])
    metrics.increment(counter: "rpc_seconds_count", by: 1, labels: [])
    metrics.set(gauge: "rpc_seconds_sum", to: 1, labels: [])
    metrics.set(gauge: "size_bucket", to: 1, labels: [])
    metrics.record(histogram: "size", value: 1, labels: [])

    XCTAssertEqual(invalidCount(metrics, reason: "type_conflict"), 5)
    XCTAssertEqual(metrics.counterValue("x_total"), 1)
    XCTAssertNil(metrics.counterValue("rpc_seconds_count"))
    XCTAssertEqual(metrics.seriesCount, 1 + (PrometheusMetrics.defaultHistogramBuckets.count + 3) + 1)
  }

  func testOwnMetricNamesAreReserved() {
    let metrics = PrometheusMetrics()
    metrics.increment(counter: droppedSeries, by: 100, labels: [])
    metrics.increment(counter: invalidSamples, by: 100, labels: [("reason", "invalid_name")])

    XCTAssertEqual(metrics.counterValue(droppedSeries), 0)
    XCTAssertNil(invalidCount(metrics, reason: "invalid_name"))
    XCTAssertEqual(invalidCount(metrics, reason: "reserved_name"), 2)
  }

  // MARK: Series limit

  func testSeriesLimitDropsNewSeriesOnly() throws {
    let metrics = try PrometheusMetrics(configuration: .init(maximumSeries: 3))
    for index in 0..<5 {
      metrics.increment(counter: "requests_total", by: 1, labels: [("peer", "10.0.0.\(index)")])
    }
    metrics.increment(counter: "requests_total", by: 1, labels: [("peer", "10.0.0.0")])
    metrics.set(gauge: "new_gauge", to: 1, labels: [])

    XCTAssertEqual(metrics.seriesCount, 3)
    XCTAssertEqual(metrics.counterValue(droppedSeries), 3)
    XCTAssertEqual(metrics.counterValue("requests_total", labels: [("peer", "10.0.0.0")]), 2)
    XCTAssertNil(metrics.counterValue("requests_total", labels: [("peer", "10.0.0.3")]))
    XCTAssertNil(metrics.gaugeValue("new_gauge"))
    let text = metrics.render()
    XCTAssertTrue(text.contains("tandem_metrics_dropped_series_total 3\n"), text)
    XCTAssertFalse(text.contains("new_gauge"), text)
  }

  func testSeriesLimitCountsHistogramLines() throws {
    let metrics = try PrometheusMetrics(configuration: .init(maximumSeries: 9, histogramBuckets: [1]))
    for method in ["A", "B", "C"] {
      metrics.record(histogram: "rpc_seconds", value: 0.5, labels: [("method", method)])
    }
    metrics.set(gauge: "up", to: 1, labels: [])
    metrics.set(gauge: "down", to: 1, labels: [])

    XCTAssertEqual(metrics.seriesCount, 9)
    XCTAssertEqual(metrics.counterValue(droppedSeries), 2)
    XCTAssertEqual(metrics.histogramValue("rpc_seconds", labels: [("method", "B")])?.count, 1)
    XCTAssertNil(metrics.histogramValue("rpc_seconds", labels: [("method", "C")]))
    XCTAssertEqual(metrics.gaugeValue("up"), 1)
    XCTAssertNil(metrics.gaugeValue("down"))
    let sampleLines = metrics.render().split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasPrefix("tandem_metrics_") }
    XCTAssertEqual(sampleLines.count, metrics.seriesCount)
  }

  func testHostileLabelValuesStayBounded() throws {
    let metrics = try PrometheusMetrics(configuration: .init(maximumSeries: 100))
    for index in 0..<5000 {
      metrics.increment(counter: "requests_total", by: 1, labels: [("peer", "attacker-\(index)")])
    }

    XCTAssertEqual(metrics.seriesCount, 100)
    XCTAssertEqual(metrics.counterValue(droppedSeries), 4900)
    XCTAssertEqual(metrics.series(named: "requests_total").count, 100)
  }

  func testDefaultSeriesLimitIsTenThousand() {
    let metrics = PrometheusMetrics()
    XCTAssertEqual(metrics.configuration.maximumSeries, 10_000)
    for index in 0..<10_010 {
      metrics.set(gauge: "g", to: 1, labels: [("i", String(index))])
    }

    XCTAssertEqual(metrics.seriesCount, 10_000)
    XCTAssertEqual(metrics.counterValue(droppedSeries), 10)
  }

  // MARK: Rendering

  func testRenderMatchesGoldenText() throws {
    let configuration = PrometheusMetrics.Configuration(
      histogramBucketsByName: ["rpc_seconds": [0.25, 1]],
      help: ["requests_total": "Requests \\ handled.\nSecond line.", "temperature": "Room temperature."])
    let metrics = try PrometheusMetrics(configuration: configuration)
    metrics.set(gauge: "temperature", to: 21.5, labels: [])
    metrics.increment(counter: "requests_total", by: 2, labels: [("path", "/b"), ("code", "200")])
    metrics.increment(counter: "requests_total", by: 1, labels: [("code", "200"), ("path", "/a")])
    metrics.record(histogram: "rpc_seconds", value: 0.125, labels: [("method", "Get")])
    metrics.record(histogram: "rpc_seconds", value: 0.25, labels: [("method", "Get")])
    metrics.record(histogram: "rpc_seconds", value: 3, labels: [("method", "Get")])

    let expected = """
      # HELP requests_total Requests \\\\ handled.\\nSecond line.
      # TYPE requests_total counter
      requests_total{code="200",path="/a"} 1
      requests_total{code="200",path="/b"} 2
      # TYPE rpc_seconds histogram
      rpc_seconds_bucket{method="Get",le="0.25"} 2
      rpc_seconds_bucket{method="Get",le="1"} 2
      rpc_seconds_bucket{method="Get",le="+Inf"} 3
      rpc_seconds_sum{method="Get"} 3.375
      rpc_seconds_count{method="Get"} 3
      # TYPE tandem_metrics_dropped_series_total counter
      tandem_metrics_dropped_series_total 0
      # HELP temperature Room temperature.
      # TYPE temperature gauge
      temperature 21.5

      """
    XCTAssertEqual(metrics.render(), expected)
  }

  func testRenderIsStableAcrossInsertionOrder() {
    let first = PrometheusMetrics()
    let second = PrometheusMetrics()
    let updates: [(String, String)] = (0..<50).map { ("series_\($0 % 7)_total", "value-\($0)") }
    for (name, value) in updates {
      first.increment(counter: name, by: 1, labels: [("k", value)])
    }
    for (name, value) in updates.reversed() {
      second.increment(counter: name, by: 1, labels: [("k", value)])
    }

    XCTAssertEqual(first.render(), second.render())
    let lines = first.render().split(separator: "\n").filter { $0.hasPrefix("series_0_total") }
    XCTAssertEqual(lines, lines.sorted())
  }

  func testRenderEscapesHostileLabelValues() {
    let metrics = PrometheusMetrics()
    let hostile = "a\\b\"c\nd} 1\n# TYPE evil counter\r\u{0}é"
    metrics.increment(counter: "requests_total", by: 1, labels: [("peer", hostile)])

    let text = metrics.render()
    XCTAssertTrue(text.contains("requests_total{peer=\"a\\\\b\\\"c\\nd} 1\\n# TYPE evil counter\r\u{0}é\"} 1\n"), text)
    XCTAssertFalse(text.contains("\n# TYPE evil counter"), text)
    XCTAssertEqual(metrics.counterValue("requests_total", labels: [("peer", hostile)]), 1)
  }

  func testRenderShowsInvalidSampleReasons() {
    let metrics = PrometheusMetrics()
    metrics.increment(counter: "bad-name", by: 1, labels: [])

    let text = metrics.render()
    XCTAssertTrue(text.contains("# TYPE tandem_metrics_invalid_samples_total counter\n"), text)
    XCTAssertTrue(text.contains("tandem_metrics_invalid_samples_total{reason=\"invalid_name\"} 1\n"), text)
  }

  func testSeriesNamedReturnsSortedValues() {
    let metrics = PrometheusMetrics()
    metrics.increment(counter: "calls_total", by: 2, labels: [("transport", "tcp")])
    metrics.increment(counter: "calls_total", by: 5, labels: [("transport", "quic")])

    let series = metrics.series(named: "calls_total")
    XCTAssertEqual(series.count, 2)
    XCTAssertEqual(series.first?.labels.first?.1, "quic")
    XCTAssertEqual(series.first?.value, .counter(5))
    XCTAssertEqual(series.last?.labels.first?.1, "tcp")
    XCTAssertEqual(series.last?.value, .counter(2))
    XCTAssertTrue(metrics.series(named: "missing").isEmpty)
  }

  // MARK: Configuration

  func testConfigurationRejectsOutOfRangeValues() {
    let cases: [(PrometheusMetrics.Configuration, String)] = [
      (.init(maximumSeries: 0), "maximumSeries"),
      (.init(maximumSeries: 1_000_001), "maximumSeries"),
      (.init(maximumLabelsPerSeries: -1), "maximumLabelsPerSeries"),
      (.init(maximumLabelValueBytes: 0), "maximumLabelValueBytes"),
      (.init(histogramBuckets: []), "histogramBuckets"),
      (.init(histogramBuckets: [1, 1]), "histogramBuckets"),
      (.init(histogramBuckets: [2, 1]), "histogramBuckets"),
      (.init(histogramBuckets: [.nan]), "histogramBuckets"),
      (.init(histogramBuckets: [1, .infinity]), "histogramBuckets"),
      (.init(histogramBucketsByName: ["bad-name": [1]]), "histogramBucketsByName"),
      (.init(histogramBucketsByName: ["good": []]), "histogramBucketsByName[\"good\"]"),
    ]
    for (configuration, setting) in cases {
      XCTAssertThrowsError(try PrometheusMetrics(configuration: configuration)) { error in
        let configurationError = error as? MetricsConfigurationError
        XCTAssertEqual(configurationError?.setting, setting)
        XCTAssertTrue(configurationError?.description.contains(setting) ?? false, "\(error)")
      }
    }
  }

  func testConfigurationErrorNamesValueAndRange() {
    XCTAssertThrowsError(try PrometheusMetrics.Configuration(maximumSeries: 0).validate()) { error in
      XCTAssertEqual("\(error)", "invalid metrics configuration: maximumSeries is 0, expected 1...1000000")
    }
  }
}
