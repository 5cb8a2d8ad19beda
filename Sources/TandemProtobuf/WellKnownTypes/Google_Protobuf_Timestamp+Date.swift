import Foundation

extension Google_Protobuf_Timestamp {
  /// Creates a timestamp of `seconds` and `nanos` since 1970-01-01T00:00:00Z.
  ///
  /// - Throws: ``WellKnownTypeError/Kind/timestampOutOfRange(seconds:nanos:)`` outside
  ///   0001-01-01T00:00:00Z ... 9999-12-31T23:59:59.999999999Z or for `nanos` outside 0 ... 999,999,999.
  public init(seconds: Int64, nanos: Int32 = 0) throws(WellKnownTypeError) {
    guard JSONWellKnownForms.isValidTimestamp(seconds: seconds, nanos: nanos) else {
      throw WellKnownTypeError(kind: .timestampOutOfRange(seconds: seconds, nanos: nanos))
    }
    self.init()
    self.seconds = seconds
    self.nanos = nanos
  }

  /// Creates a timestamp of `date`, rounded to the nearest nanosecond that a `Double` time interval
  /// resolves (about 0.2 microseconds near the present).
  ///
  /// - Throws: ``WellKnownTypeError/Kind/timestampOutOfRange(seconds:nanos:)`` for dates outside
  ///   the years 1 ... 9999.
  public init(date: Date) throws(WellKnownTypeError) {
    let interval = date.timeIntervalSince1970
    guard interval.isFinite, interval >= Double(JSONWellKnownForms.minTimestampSeconds),
      interval < Double(JSONWellKnownForms.maxTimestampSeconds) + 1
    else {
      // Int64(_:) traps outside its range, so far-off dates report the nearest Int64 instead.
      let seconds = interval.magnitude < 9e18 ? Int64(interval) : (interval < 0 ? Int64.min : Int64.max)
      throw WellKnownTypeError(kind: .timestampOutOfRange(seconds: seconds, nanos: 0))
    }
    var seconds = Int64(interval.rounded(.down))
    var nanos = Int32(((interval - Double(seconds)) * 1_000_000_000).rounded())
    if nanos >= 1_000_000_000 {
      seconds += 1
      nanos -= 1_000_000_000
    }
    try self.init(seconds: seconds, nanos: nanos)
  }

  /// The timestamp as a `Date`, which keeps about 0.2 microseconds of precision near the present.
  public var date: Date {
    Date(timeIntervalSince1970: Double(seconds) + Double(nanos) / 1_000_000_000)
  }
}
