extension Google_Protobuf_Duration {
  /// Creates a duration of `seconds` plus `nanos`, which must have the same sign unless one is zero.
  ///
  /// - Throws: ``WellKnownTypeError/Kind/durationOutOfRange(seconds:nanos:)`` beyond
  ///   +-315,576,000,000 seconds, for `nanos` beyond +-999,999,999, or for opposite signs.
  public init(seconds: Int64, nanos: Int32 = 0) throws(WellKnownTypeError) {
    guard JSONWellKnownForms.isValidDuration(seconds: seconds, nanos: nanos) else {
      throw WellKnownTypeError(kind: .durationOutOfRange(seconds: seconds, nanos: nanos))
    }
    self.init()
    self.seconds = seconds
    self.nanos = nanos
  }

  /// Creates a duration from a `Swift.Duration`, truncated toward zero to whole nanoseconds.
  ///
  /// - Throws: ``WellKnownTypeError/Kind/durationOutOfRange(seconds:nanos:)`` beyond
  ///   +-315,576,000,000 seconds.
  public init(_ duration: Swift.Duration) throws(WellKnownTypeError) {
    let components = duration.components
    // The whole duration in attoseconds fits an Int128, and Int128 division truncates toward zero.
    let totalNanos = (Int128(components.seconds) * 1_000_000_000_000_000_000 + Int128(components.attoseconds))
      / 1_000_000_000
    let seconds = totalNanos / 1_000_000_000
    let nanos = totalNanos % 1_000_000_000
    guard seconds.magnitude <= UInt128(JSONWellKnownForms.maxDurationSeconds) else {
      throw WellKnownTypeError(kind: .durationOutOfRange(seconds: Int64(clamping: seconds), nanos: Int32(nanos)))
    }
    try self.init(seconds: Int64(seconds), nanos: Int32(nanos))
  }

  /// The duration as a `Swift.Duration` (exact: `Swift.Duration` resolves attoseconds).
  public var duration: Swift.Duration {
    .seconds(seconds) + .nanoseconds(Int64(nanos))
  }
}
