/// The special JSON forms of the well-known types, called by their generated `encodeJSON(to:)`.
extension JSONMessageEncoder {
  /// Writes a `Timestamp` as an RFC 3339 string in UTC, for example `"1972-01-01T10:00:20.021Z"`.
  ///
  /// - Throws: ``JSONEncodingError/Kind/timestampOutOfRange(seconds:nanos:)`` outside
  ///   0001-01-01T00:00:00Z ... 9999-12-31T23:59:59.999999999Z or for `nanos` outside 0 ... 999,999,999.
  public mutating func writeTimestamp(seconds: Int64, nanos: Int32) throws(JSONEncodingError) {
    guard JSONWellKnownForms.isValidTimestamp(seconds: seconds, nanos: nanos) else {
      throw error(.timestampOutOfRange(seconds: seconds, nanos: nanos))
    }
    writeString(JSONWellKnownForms.formatTimestamp(seconds: seconds, nanos: nanos))
  }

  /// Writes a `Duration` as seconds with an `s` suffix, for example `"-1.5s"` written as `"-1.500s"`.
  ///
  /// - Throws: ``JSONEncodingError/Kind/durationOutOfRange(seconds:nanos:)`` beyond
  ///   +-315,576,000,000 seconds, for `nanos` beyond +-999,999,999, or for opposite signs.
  public mutating func writeDuration(seconds: Int64, nanos: Int32) throws(JSONEncodingError) {
    guard JSONWellKnownForms.isValidDuration(seconds: seconds, nanos: nanos) else {
      throw error(.durationOutOfRange(seconds: seconds, nanos: nanos))
    }
    writeString(JSONWellKnownForms.formatDuration(seconds: seconds, nanos: nanos))
  }

  /// Writes a `FieldMask` as one string of lowerCamelCase paths joined by commas.
  ///
  /// - Throws: ``JSONEncodingError/Kind/invalidFieldMaskPath(_:)`` for a path with an upper-case
  ///   letter or a `_` not followed by a lower-case letter.
  public mutating func writeFieldMask(paths: [String]) throws(JSONEncodingError) {
    var converted: [String] = []
    converted.reserveCapacity(paths.count)
    for path in paths {
      guard let camel = JSONWellKnownForms.camelCasePath(path) else {
        throw error(.invalidFieldMaskPath(path))
      }
      converted.append(camel)
    }
    writeString(converted.joined(separator: ","))
  }

  /// Writes the number of a `Value`.
  ///
  /// - Throws: ``JSONEncodingError/Kind/nonFiniteValue(_:)`` for NaN and infinities, which would
  ///   read back as strings.
  public mutating func writeValueNumber(_ value: Double) throws(JSONEncodingError) {
    guard value.isFinite else {
      throw error(.nonFiniteValue(value))
    }
    writeDouble(value)
  }
}
