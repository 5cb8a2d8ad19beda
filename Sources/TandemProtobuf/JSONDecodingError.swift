/// Invalid protobuf JSON input: what failed and where.
///
/// ``path`` names the value that failed in JSONPath notation, from the top-level value `$` down
/// through object keys and array indexes, for example `$.scalars.int64Value` or `$.messages[3]`.
public struct JSONDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The rule that the input broke.
  public enum Kind: Sendable, Hashable {
    /// The input is not valid JSON (RFC 8259) at `offset`, the byte offset in the whole input.
    case malformedJSON(offset: Int, reason: String)
    /// The input is larger than ``JSONDecodingOptions/maxInputBytes``.
    case inputTooLarge(size: Int, limit: Int)
    /// Objects and arrays nest deeper than ``JSONDecodingOptions/recursionLimit``.
    case recursionLimitExceeded(limit: Int)
    /// An object has the same key twice.
    case duplicateKey(String)
    /// The message has no field with this JSON name or proto name, and
    /// ``JSONDecodingOptions/ignoreUnknownFields`` is `false`.
    case unknownField(name: String, messageName: String)
    /// One field appears twice in an object, under the same name or under both its JSON name and
    /// its proto name.
    case duplicateField(name: String)
    /// Two members of one oneof are set (to values other than `null`) in the same object.
    case multipleOneofFields(oneof: String)
    /// The JSON type of the value does not fit the field, for example an array for an `int32`.
    case unexpectedType(expected: String, found: String)
    /// `null` where the mapping allows no null: an element of a repeated field, a map value, or
    /// a top-level message other than `google.protobuf.Value`.
    case nullNotAllowed
    /// The value has the right JSON type but cannot be converted, for example `"1.5"` for an
    /// integer, an out-of-range number, invalid base64 or a malformed timestamp.
    case invalidValue(String, expected: String)
    /// A string names no value of the enum, and ``JSONDecodingOptions/ignoreUnknownFields`` is
    /// `false`; or a number is not a value of a closed (proto2) enum.
    case unknownEnumValue(String, enumName: String)
    /// A `google.protobuf.Any` object has no `"@type"` member.
    case missingAnyType
    /// A `google.protobuf.Any` names a type that ``JSONDecodingOptions/typeRegistry`` does not contain.
    case unknownAnyType(String)
  }

  public var kind: Kind
  /// JSONPath of the value that failed, `$` for the top-level value.
  public var path: String

  public init(kind: Kind, path: String) {
    self.kind = kind
    self.path = path
  }

  public var description: String {
    let problem: String
    switch kind {
    case .malformedJSON(let offset, let reason):
      problem = "invalid JSON at byte offset \(offset): \(reason)"
    case .inputTooLarge(let size, let limit):
      problem = "JSON input of \(size) bytes exceeds the limit of \(limit) bytes (JSONDecodingOptions.maxInputBytes)"
    case .recursionLimitExceeded(let limit):
      problem = "JSON objects and arrays nest deeper than the recursion limit of \(limit)"
    case .duplicateKey(let key):
      problem = "duplicate key \"\(key)\""
    case .unknownField(let name, let messageName):
      problem = "\(messageName) has no field named \"\(name)\"; set ignoreUnknownFields to skip it"
    case .duplicateField(let name):
      problem = "field \(name) appears more than once"
    case .multipleOneofFields(let oneof):
      problem = "more than one field of oneof \(oneof) is set"
    case .unexpectedType(let expected, let found):
      problem = "expected \(expected), found \(found)"
    case .nullNotAllowed:
      problem = "null is not allowed here"
    case .invalidValue(let value, let expected):
      problem = "invalid value \(value): expected \(expected)"
    case .unknownEnumValue(let value, let enumName):
      problem = "\(value) is not a value of enum \(enumName)"
    case .missingAnyType:
      problem = "google.protobuf.Any object has no \"@type\" member"
    case .unknownAnyType(let url):
      problem = "type URL \(url) names a message that the JSON type registry does not contain"
    }
    return "\(problem) at \(path)"
  }
}
