extension MetricsServer {
  /// The limits of a ``MetricsServer`` and where it logs.
  public struct Configuration: Sendable {
    /// The maximum number of connections open at once, default 64. A connection past the
    /// limit gets `503 Service Unavailable` and is closed. Allowed: 1...10,000.
    public var maximumConnections: Int

    /// The maximum length of a request head (request line, header lines and the final
    /// CRLFCRLF) in bytes, default 8,192 (8 KiB). A longer head gets
    /// `431 Request Header Fields Too Large`. Allowed: 64...1,048,576.
    public var maximumRequestHeadBytes: Int

    /// The time a connection has to send its complete request head, default 5 s. A slower
    /// client gets `408 Request Timeout`. Allowed: 1 ms...10 minutes.
    public var requestHeadTimeout: Duration

    /// The destination of the server's log records: start and stop (`info`), failed accepts
    /// and rejected connections (`warning`), rejected requests (`debug`). Default:
    /// ``StandardErrorLogHandler`` at `info`.
    public var logHandler: any LogHandler

    /// Creates a configuration; every parameter defaults to the value documented on its
    /// property.
    public init(
      maximumConnections: Int = 64,
      maximumRequestHeadBytes: Int = 8192,
      requestHeadTimeout: Duration = .seconds(5),
      logHandler: any LogHandler = StandardErrorLogHandler()
    ) {
      self.maximumConnections = maximumConnections
      self.maximumRequestHeadBytes = maximumRequestHeadBytes
      self.requestHeadTimeout = requestHeadTimeout
      self.logHandler = logHandler
    }

    /// The default configuration.
    public static var defaults: Configuration { Configuration() }

    /// Checks every setting against its allowed range.
    ///
    /// - Throws: ``MetricsConfigurationError`` naming the first invalid setting, its value and
    ///   the allowed range.
    public func validate() throws(MetricsConfigurationError) {
      guard (1...10_000).contains(maximumConnections) else {
        throw MetricsConfigurationError(
          setting: "maximumConnections", message: "maximumConnections is \(maximumConnections), expected 1...10000")
      }
      guard (64...1_048_576).contains(maximumRequestHeadBytes) else {
        throw MetricsConfigurationError(
          setting: "maximumRequestHeadBytes",
          message: "maximumRequestHeadBytes is \(maximumRequestHeadBytes), expected 64...1048576")
      }
      guard requestHeadTimeout >= .milliseconds(1), requestHeadTimeout <= .seconds(600) else {
        throw MetricsConfigurationError(
          setting: "requestHeadTimeout", message: "requestHeadTimeout is \(requestHeadTimeout), expected 1 ms...600 s")
      }
    }
  }
}
