/// A value that a well-known type cannot hold, or an `Any` that does not contain the requested type.
public struct WellKnownTypeError: Error, Sendable, Hashable, CustomStringConvertible {
  public enum Kind: Sendable, Hashable {
    /// A timestamp outside 0001-01-01T00:00:00Z ... 9999-12-31T23:59:59.999999999Z, or with
    /// `nanos` outside 0 ... 999,999,999.
    case timestampOutOfRange(seconds: Int64, nanos: Int32)
    /// A duration beyond +-315,576,000,000 seconds, with `nanos` beyond +-999,999,999, or with
    /// `seconds` and `nanos` of opposite signs.
    case durationOutOfRange(seconds: Int64, nanos: Int32)
    /// ``Google_Protobuf_Any/unpack(as:options:)`` was asked for `expected`, but the type URL
    /// names `found`.
    case typeMismatch(expected: String, found: String)
    /// The `Any` names the requested type, but its bytes do not decode as it.
    case invalidPayload(ProtobufDecodingError)
  }

  public var kind: Kind

  public init(kind: Kind) {
    self.kind = kind
  }

  public var description: String {
    switch kind {
    case .timestampOutOfRange(let seconds, let nanos):
      return "timestamp seconds \(seconds), nanos \(nanos) is outside 0001-01-01T00:00:00Z ... "
        + "9999-12-31T23:59:59.999999999Z or has nanos outside 0 ... 999999999"
    case .durationOutOfRange(let seconds, let nanos):
      return "duration seconds \(seconds), nanos \(nanos) is beyond +-315576000000 seconds, has nanos beyond "
        + "+-999999999, or has seconds and nanos of opposite signs"
    case .typeMismatch(let expected, let found):
      return "google.protobuf.Any contains \(found), not the requested \(expected)"
    case .invalidPayload(let error):
      return "google.protobuf.Any value does not decode: \(error)"
    }
  }
}
