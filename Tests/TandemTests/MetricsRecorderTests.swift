import Synchronization
import Tandem
import XCTest

/// Stand-ins with the shape of swift-metrics' `Counter`, `Meter` and `Recorder` (the
/// initializers and methods the bridge in the `MetricsRecorder` documentation calls), so the
/// bridge below compiles and runs without the swift-metrics package.
private enum StandInMetrics {
  struct Event: Equatable {
    var type: String
    var label: String
    var dimensions: [String]
    var operation: String
    var value: Double
  }

  static let events = Mutex<[Event]>([])

  static func append(_ type: String, _ label: String, _ dimensions: [(String, String)], _ operation: String, _ value: Double) {
    let event = Event(
      type: type, label: label, dimensions: dimensions.map { "\($0.0)=\($0.1)" }, operation: operation, value: value)
    events.withLock { $0.append(event) }
  }

  final class Counter {
    let label: String
    let dimensions: [(String, String)]
    init(label: String, dimensions: [(String, String)] = []) {
      self.label = label
      self.dimensions = dimensions
    }
    func increment<DataType: BinaryInteger>(by amount: DataType) {
      append("Counter", label, dimensions, "increment", Double(amount))
    }
  }

  final class Meter {
    let label: String
    let dimensions: [(String, String)]
    init(label: String, dimensions: [(String, String)] = []) {
      self.label = label
      self.dimensions = dimensions
    }
    func set<DataType: BinaryFloatingPoint>(_ value: DataType) {
      append("Meter", label, dimensions, "set", Double(value))
    }
    func increment<DataType: BinaryFloatingPoint>(by amount: DataType) {
      append("Meter", label, dimensions, "increment", Double(amount))
    }
    func decrement<DataType: BinaryFloatingPoint>(by amount: DataType) {
      append("Meter", label, dimensions, "decrement", Double(amount))
    }
  }

  final class Recorder {
    let label: String
    let dimensions: [(String, String)]
    let aggregate: Bool
    init(label: String, dimensions: [(String, String)] = [], aggregate: Bool = true) {
      self.label = label
      self.dimensions = dimensions
      self.aggregate = aggregate
    }
    func record<DataType: BinaryFloatingPoint>(_ value: DataType) {
      append("Recorder", label, dimensions, aggregate ? "record aggregated" : "record", Double(value))
    }
  }
}

private typealias Counter = StandInMetrics.Counter
private typealias Meter = StandInMetrics.Meter
private typealias Recorder = StandInMetrics.Recorder

/// The bridge from the `MetricsRecorder` documentation, word for word.
private struct SwiftMetricsBridge: MetricsRecorder {
  func increment(counter name: String, by amount: Int64, labels: [(String, String)]) {
    Counter(label: name, dimensions: labels).increment(by: amount)
  }

  func increment(gauge name: String, by delta: Double, labels: [(String, String)]) {
    let meter = Meter(label: name, dimensions: labels)
    if delta >= 0 {
      meter.increment(by: delta)
    } else {
      meter.decrement(by: -delta)
    }
  }

  func set(gauge name: String, to value: Double, labels: [(String, String)]) {
    Meter(label: name, dimensions: labels).set(value)
  }

  func record(histogram name: String, value: Double, labels: [(String, String)]) {
    Recorder(label: name, dimensions: labels, aggregate: true).record(value)
  }
}

final class MetricsRecorderTests: XCTestCase {
  func testBridgeMapsEachMethodToItsType() {
    StandInMetrics.events.withLock { $0.removeAll() }
    let recorder: any MetricsRecorder = SwiftMetricsBridge()
    let labels = [(TandemMetric.Label.transport, TandemMetric.Transport.quic), (TandemMetric.Label.target, "example.com:443")]

    recorder.increment(counter: TandemMetric.callsStarted.name, by: 3, labels: labels)
    recorder.increment(gauge: TandemMetric.connectionsOpen.name, by: 1, labels: labels)
    recorder.increment(gauge: TandemMetric.connectionsOpen.name, by: -1, labels: labels)
    recorder.set(gauge: TandemMetric.roundTripTime.name, to: 0.012, labels: labels)
    recorder.record(histogram: TandemMetric.handshakeDuration.name, value: 0.25, labels: labels)

    let dimensions = ["transport=quic", "target=example.com:443"]
    let expected: [StandInMetrics.Event] = [
      .init(type: "Counter", label: "tandem_calls_started_total", dimensions: dimensions, operation: "increment", value: 3),
      .init(type: "Meter", label: "tandem_connections_open", dimensions: dimensions, operation: "increment", value: 1),
      .init(type: "Meter", label: "tandem_connections_open", dimensions: dimensions, operation: "decrement", value: 1),
      .init(type: "Meter", label: "tandem_rtt_seconds", dimensions: dimensions, operation: "set", value: 0.012),
      .init(
        type: "Recorder", label: "tandem_handshake_duration_seconds", dimensions: dimensions, operation: "record aggregated",
        value: 0.25),
    ]
    let events = StandInMetrics.events.withLock { $0 }
    XCTAssertEqual(events.count, expected.count)
    for (event, expectedEvent) in zip(events, expected) {
      XCTAssertEqual(event, expectedEvent)
    }
  }

  func testCounterConveniencesAddOneWithoutLabels() {
    let metrics = PrometheusMetrics()
    metrics.increment(counter: "jobs_total")
    metrics.increment(counter: "jobs_total", by: 4)
    metrics.increment(counter: "jobs_total", labels: [("queue", "a")])

    XCTAssertEqual(metrics.counterValue("jobs_total"), 5)
    XCTAssertEqual(metrics.counterValue("jobs_total", labels: [("queue", "a")]), 1)
  }

  func testNoMetricsAcceptsEveryCall() {
    let recorder: any MetricsRecorder = NoMetrics()
    recorder.increment(counter: "not a valid name", by: -5, labels: [("", "")])
    recorder.increment(gauge: "g", by: .nan, labels: [])
    recorder.set(gauge: "g", to: .infinity, labels: [])
    recorder.record(histogram: "h", value: -1, labels: [])
    recorder.increment(counter: "c")
  }

  func testTandemMetricNamesFollowConventions() {
    for metric in TandemMetric.allCases {
      let name = metric.name
      XCTAssertTrue(name.hasPrefix("tandem_"), name)
      XCTAssertTrue(
        name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 },
        "\(name) has characters outside [a-z0-9_]")
      switch metric.kind {
      case .counter:
        XCTAssertTrue(name.hasSuffix("_total"), name)
      case .gauge, .histogram:
        XCTAssertFalse(name.hasSuffix("_total"), name)
      }
      if metric.kind == .histogram {
        XCTAssertTrue(name.hasSuffix("_seconds"), name)
      }
      XCTAssertFalse(metric.help.isEmpty, name)
      XCTAssertEqual(Set(metric.labelKeys).count, metric.labelKeys.count, "\(name) repeats a label key")
    }
    XCTAssertEqual(Set(TandemMetric.allCases.map(\.name)).count, TandemMetric.allCases.count)
  }

  func testTandemMetricLabelKeys() {
    XCTAssertEqual(TandemMetric.connectionsOpened.labelKeys, ["transport", "target"])
    XCTAssertEqual(TandemMetric.callsFinished.labelKeys, ["transport", "target", "status"])
    XCTAssertEqual(TandemMetric.adaptiveDecisions.labelKeys, ["target", "chosen", "reason"])
    XCTAssertEqual(TandemMetric.connectionsOpen.kind, .gauge)
    XCTAssertEqual(TandemMetric.roundTripTime.kind, .gauge)
    XCTAssertEqual(TandemMetric.handshakeDuration.kind, .histogram)
    XCTAssertEqual(TandemMetric.Transport.tcp, "tcp")
    XCTAssertEqual(TandemMetric.Transport.quic, "quic")
  }

  func testTandemMetricsRecordIntoPrometheus() {
    let metrics = PrometheusMetrics()
    for metric in TandemMetric.allCases where !metric.name.hasPrefix("tandem_metrics_") {
      let labels = metric.labelKeys.map { ($0, "value") }
      switch metric.kind {
      case .counter: metrics.increment(counter: metric.name, by: 1, labels: labels)
      case .gauge: metrics.set(gauge: metric.name, to: 1, labels: labels)
      case .histogram: metrics.record(histogram: metric.name, value: 1, labels: labels)
      }
    }

    let histogramWeight = PrometheusMetrics.defaultHistogramBuckets.count + 3
    let expectedSeries = TandemMetric.allCases.filter { !$0.name.hasPrefix("tandem_metrics_") }
      .map { $0.kind == .histogram ? histogramWeight : 1 }
      .reduce(0, +)
    XCTAssertEqual(metrics.seriesCount, expectedSeries)
    XCTAssertNil(metrics.counterValue(TandemMetric.invalidSamples.name, labels: [("reason", "invalid_name")]))
    let text = metrics.render()
    for metric in TandemMetric.allCases where metric != .invalidSamples {
      XCTAssertTrue(text.contains("# HELP \(metric.name) \(metric.help)\n"), metric.name)
      XCTAssertTrue(text.contains("# TYPE \(metric.name) \(metric.kind.rawValue)\n"), metric.name)
    }
  }
}
