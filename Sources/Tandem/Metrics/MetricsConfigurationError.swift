/// An invalid ``PrometheusMetrics/Configuration`` or ``MetricsServer/Configuration`` value.
///
/// The message names the setting, the value and the allowed range, such as
/// `maximumSeries is 0, expected 1...1000000`.
public struct MetricsConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The setting that is invalid, such as `maximumSeries`.
  public var setting: String

  /// The problem with the value and the allowed range, such as
  /// `maximumSeries is 0, expected 1...1000000`.
  public var message: String

  /// Creates an error for `setting`.
  public init(setting: String, message: String) {
    self.setting = setting
    self.message = message
  }

  public var description: String { "invalid metrics configuration: \(message)" }
}
