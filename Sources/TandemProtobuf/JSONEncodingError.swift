/// A message that has no protobuf JSON form.
public struct JSONEncodingError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The reason the value cannot be written.
  public enum Kind: Sendable, Hashable {
    /// A `google.protobuf.Timestamp` outside 0001-01-01T00:00:00Z ... 9999-12-31T23:59:59.999999999Z,
    /// or with `nanos` outside 0 ... 999,999,999.
    case timestampOutOfRange(seconds: Int64, nanos: Int32)
    /// A `google.protobuf.Duration` beyond +-315,576,000,000 seconds, with `nanos` beyond
    /// +-999,999,999, or with `seconds` and `nanos` of opposite signs.
    case durationOutOfRange(seconds: Int64, nanos: Int32)
    /// A `google.protobuf.FieldMask` path that does not survive the conversion to lowerCamelCase:
    /// it contains an upper-case letter, or a `_` that is not followed by a lower-case letter.
    case invalidFieldMaskPath(String)
    /// A `google.protobuf.Value` number that is NaN or infinite, which JSON numbers cannot express.
    case nonFiniteValue(Double)
    /// A `google.protobuf.Any` whose type URL names a message that
    /// ``JSONEncodingOptions/typeRegistry`` does not contain.
    case unknownAnyType(String)
    /// A `google.protobuf.Any` whose `value` bytes do not decode as the message its type URL names.
    case invalidAnyValue(typeURL: String, error: ProtobufDecodingError)
  }

  public var kind: Kind
  /// JSONPath of the field whose value failed, for example `$.created.value`.
  public var path: String

  public init(kind: Kind, path: String) {
    self.kind = kind
    self.path = path
  }

  public var description: String {
    let problem: String
    switch kind {
    case .timestampOutOfRange(let seconds, let nanos):
      problem =
        "timestamp seconds \(seconds), nanos \(nanos) is outside the JSON range "
        + "0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z (nanos 0 to 999999999)"
    case .durationOutOfRange(let seconds, let nanos):
      problem =
        "duration seconds \(seconds), nanos \(nanos) is outside +-315576000000 seconds, "
        + "has nanos beyond +-999999999, or has seconds and nanos of opposite signs"
    case .invalidFieldMaskPath(let path):
      problem =
        "field mask path \"\(path)\" has no lowerCamelCase JSON form: it must contain only lower-case "
        + "letters, digits, '.' and '_' followed by a lower-case letter"
    case .nonFiniteValue(let value):
      problem = "google.protobuf.Value number \(value) is not finite; JSON numbers cannot express it"
    case .unknownAnyType(let url):
      problem = "type URL \(url) names a message that the JSON type registry does not contain"
    case .invalidAnyValue(let url, let error):
      problem = "google.protobuf.Any value does not decode as \(url): \(error)"
    }
    return "\(problem) at \(path)"
  }
}
