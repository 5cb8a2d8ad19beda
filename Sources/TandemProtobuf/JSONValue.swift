/// A parsed JSON value. Numbers keep their source text so that 64-bit integers convert without
/// the precision loss of a `Double`.
enum JSONValue: Sendable, Hashable {
  case null
  case bool(Bool)
  /// The number exactly as written in the input, for example `-12`, `1.5e3` or `0.0`.
  case number(String)
  case string(String)
  case array([JSONValue])
  /// Members in input order. The parser rejects duplicate keys.
  case object([JSONMember])

  /// The JSON type name used in error messages.
  var typeName: String {
    switch self {
    case .null: "null"
    case .bool: "boolean"
    case .number: "number"
    case .string: "string"
    case .array: "array"
    case .object: "object"
    }
  }
}

/// One `"key": value` member of a JSON object.
struct JSONMember: Sendable, Hashable {
  var key: String
  var value: JSONValue
}
