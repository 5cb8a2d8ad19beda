/// Settings of one HTTP/2 connection, client or server.
///
/// The defaults suit gRPC traffic: large receive windows so one stream can fill a fast link,
/// and per-stream send buffers that push back on a writer before memory grows.
public struct HTTP2Configuration: Sendable, Hashable {
  /// SETTINGS_MAX_CONCURRENT_STREAMS that this side announces: how many streams the peer may
  /// open at once. Default 100. A client announces it too, but gRPC servers open no streams.
  public var maxConcurrentStreams: Int

  /// SETTINGS_MAX_HEADER_LIST_SIZE that this side announces and enforces on received header
  /// blocks, in bytes (names plus values plus 32 per field, as RFC 9113 section 6.5.2 counts).
  /// Default 16 KiB (16384). gRPC's own implementations default to 8 KiB.
  public var maxHeaderListSize: Int

  /// SETTINGS_MAX_FRAME_SIZE that this side announces: the largest frame payload it accepts,
  /// in bytes. Default 16 KiB (16384), the protocol minimum; the maximum is 16777215.
  public var maxFrameSize: Int

  /// SETTINGS_INITIAL_WINDOW_SIZE that this side announces: the receive window of each
  /// stream, in bytes. Default 1 MiB (1048576); the maximum is 2147483647.
  public var initialStreamWindowSize: Int

  /// The connection-level receive window, in bytes, set with a WINDOW_UPDATE on stream 0
  /// right after SETTINGS. Default 8 MiB (8388608); the maximum is 2147483647.
  public var connectionWindowSize: Int

  /// Outbound bytes buffered per stream above which ``HTTPStream/writeData(_:endStream:)``
  /// returns `false`. Default 256 KiB (262144).
  public var streamHighWaterMark: Int

  /// Outbound bytes buffered per stream below which a stream that returned `false` from
  /// `writeData` gets ``HTTPStreamDelegate/streamDidBecomeWritable(_:)``. Default 64 KiB (65536).
  public var streamLowWaterMark: Int

  /// The time between keepalive PINGs, or `nil` for no keepalive. Default `nil`.
  public var keepaliveInterval: Duration?

  /// How long to wait for the acknowledgement of a keepalive PING before closing the
  /// connection. Used only with ``keepaliveInterval``. Default 20 seconds.
  public var keepaliveTimeout: Duration

  /// How long a connection may stay without open streams before this side sends GOAWAY and
  /// closes it, or `nil` to keep idle connections. Default `nil`.
  public var maxIdleTime: Duration?

  /// The wait between GOAWAY with the maximum stream ID (the shutdown notice) and the final
  /// GOAWAY during a graceful server shutdown, unless a PING acknowledgement arrives first.
  /// Default 1 second.
  public var gracefulShutdownNoticeDelay: Duration

  /// How long a server connection may stay open before the client's HTTP/2 preface and first
  /// SETTINGS frame have arrived. When the time runs out, the server closes the connection
  /// without a GOAWAY, because a peer that sent no preface may not speak HTTP/2. Clients ignore
  /// it. Default 10 seconds. For TLS connections the time starts after the handshake.
  public var prefaceTimeout: Duration

  /// Creates a configuration. Each parameter defaults to the value stated on its property.
  public init(
    maxConcurrentStreams: Int = 100,
    maxHeaderListSize: Int = 16384,
    maxFrameSize: Int = 16384,
    initialStreamWindowSize: Int = 1 << 20,
    connectionWindowSize: Int = 8 << 20,
    streamHighWaterMark: Int = 256 * 1024,
    streamLowWaterMark: Int = 64 * 1024,
    keepaliveInterval: Duration? = nil,
    keepaliveTimeout: Duration = .seconds(20),
    maxIdleTime: Duration? = nil,
    gracefulShutdownNoticeDelay: Duration = .seconds(1),
    prefaceTimeout: Duration = .seconds(10)
  ) {
    self.maxConcurrentStreams = maxConcurrentStreams
    self.maxHeaderListSize = maxHeaderListSize
    self.maxFrameSize = maxFrameSize
    self.initialStreamWindowSize = initialStreamWindowSize
    self.connectionWindowSize = connectionWindowSize
    self.streamHighWaterMark = streamHighWaterMark
    self.streamLowWaterMark = streamLowWaterMark
    self.keepaliveInterval = keepaliveInterval
    self.keepaliveTimeout = keepaliveTimeout
    self.maxIdleTime = maxIdleTime
    self.gracefulShutdownNoticeDelay = gracefulShutdownNoticeDelay
    self.prefaceTimeout = prefaceTimeout
  }

  /// Checks every value against the limits of RFC 9113 and against each other.
  ///
  /// - Throws: ``HTTP2ConfigurationError`` naming the first invalid value and its limit.
  public func validate() throws(HTTP2ConfigurationError) {
    func check(_ name: String, _ value: Int, _ range: ClosedRange<Int>) throws(HTTP2ConfigurationError) {
      guard range.contains(value) else {
        throw HTTP2ConfigurationError(
          message: "HTTP/2 configuration value \(name) = \(value) is invalid: it must be in \(range.lowerBound)...\(range.upperBound)")
      }
    }
    try check("maxConcurrentStreams", maxConcurrentStreams, 0...Int(Int32.max))
    try check("maxHeaderListSize", maxHeaderListSize, 1...Int(Int32.max))
    try check("maxFrameSize", maxFrameSize, 16384...16_777_215)
    try check("initialStreamWindowSize", initialStreamWindowSize, 0...Int(Int32.max))
    try check("connectionWindowSize", connectionWindowSize, 65535...Int(Int32.max))
    try check("streamHighWaterMark", streamHighWaterMark, 1...Int(Int32.max))
    try check("streamLowWaterMark", streamLowWaterMark, 0...(streamHighWaterMark - 1))
    if let interval = keepaliveInterval, interval <= .zero {
      throw HTTP2ConfigurationError(message: "HTTP/2 configuration value keepaliveInterval = \(interval) is invalid: it must be positive")
    }
    if keepaliveTimeout <= .zero {
      throw HTTP2ConfigurationError(message: "HTTP/2 configuration value keepaliveTimeout = \(keepaliveTimeout) is invalid: it must be positive")
    }
    if let idle = maxIdleTime, idle <= .zero {
      throw HTTP2ConfigurationError(message: "HTTP/2 configuration value maxIdleTime = \(idle) is invalid: it must be positive")
    }
    if prefaceTimeout <= .zero {
      throw HTTP2ConfigurationError(message: "HTTP/2 configuration value prefaceTimeout = \(prefaceTimeout) is invalid: it must be positive")
    }
  }
}

/// An ``HTTP2Configuration`` value outside its allowed range.
public struct HTTP2ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
  /// A sentence naming the value and its limit.
  public var message: String

  public var description: String { message }
}
