/// A ``MetricsRecorder`` that drops every metric, for use as the default when none is configured.
///
/// Each method is empty, so reporting costs only building the arguments.
public struct NoMetrics: MetricsRecorder {
  /// Creates the recorder.
  public init() {}

  public func increment(counter name: String, by amount: Int64, labels: [(String, String)]) {}

  public func increment(gauge name: String, by delta: Double, labels: [(String, String)]) {}

  public func set(gauge name: String, to value: Double, labels: [(String, String)]) {}

  public func record(histogram name: String, value: Double, labels: [(String, String)]) {}
}
