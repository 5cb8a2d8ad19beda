/// The message types that a `google.protobuf.Any` may contain when it is written as or read from
/// JSON, where the payload is shown as an object instead of bytes.
///
/// The well-known types (`google.protobuf.Timestamp`, `Duration`, `Struct`, the wrappers and the
/// rest) are always included. Register every other type that may appear inside an `Any`:
///
/// ```swift
/// let registry = JSONTypeRegistry([Echo_V1_EchoRequest.self])
/// let json = try message.jsonString(options: JSONEncodingOptions(typeRegistry: registry))
/// ```
public struct JSONTypeRegistry: Sendable {
  private var types: [String: any JSONCodableMessage.Type] = [:]

  /// Creates a registry with the well-known types and `types`.
  public init(_ types: [any JSONCodableMessage.Type] = []) {
    for type in types {
      register(type)
    }
  }

  /// Adds `type`, keyed by its ``Message/protoMessageName``. A later registration of the same
  /// name replaces the earlier one.
  public mutating func register(_ type: any JSONCodableMessage.Type) {
    types[type.protoMessageName] = type
  }

  /// Returns the message type that a type URL names, looked up by the text after its last `/`
  /// (`type.googleapis.com/echo.v1.EchoRequest` -> `echo.v1.EchoRequest`); nil when the registry
  /// does not contain it.
  public func messageType(forTypeURL typeURL: String) -> (any JSONCodableMessage.Type)? {
    let name = Self.messageName(fromTypeURL: typeURL)
    return types[name] ?? Self.wellKnownTypes[name]
  }

  /// Returns the fully qualified message name in a type URL: the text after the last `/`, or the
  /// whole URL when it has none.
  static func messageName(fromTypeURL typeURL: String) -> String {
    guard let slash = typeURL.lastIndex(of: "/") else { return typeURL }
    return String(typeURL[typeURL.index(after: slash)...])
  }

  static let wellKnownTypes: [String: any JSONCodableMessage.Type] = {
    let list: [any JSONCodableMessage.Type] = [
      Google_Protobuf_Any.self, Google_Protobuf_Api.self, Google_Protobuf_BoolValue.self,
      Google_Protobuf_BytesValue.self, Google_Protobuf_DoubleValue.self, Google_Protobuf_Duration.self,
      Google_Protobuf_Empty.self, Google_Protobuf_Enum.self, Google_Protobuf_EnumValue.self,
      Google_Protobuf_Field.self, Google_Protobuf_FieldMask.self, Google_Protobuf_FloatValue.self,
      Google_Protobuf_Int32Value.self, Google_Protobuf_Int64Value.self, Google_Protobuf_ListValue.self,
      Google_Protobuf_Method.self, Google_Protobuf_Mixin.self, Google_Protobuf_Option.self,
      Google_Protobuf_SourceContext.self, Google_Protobuf_StringValue.self, Google_Protobuf_Struct.self,
      Google_Protobuf_Timestamp.self, Google_Protobuf_Type.self, Google_Protobuf_UInt32Value.self,
      Google_Protobuf_UInt64Value.self, Google_Protobuf_Value.self,
    ]
    var table: [String: any JSONCodableMessage.Type] = [:]
    for type in list {
      table[type.protoMessageName] = type
    }
    return table
  }()

  /// Well-known types whose JSON form is not an object of their fields; inside an `Any` that form
  /// goes in a `"value"` member next to `"@type"`.
  static let typesWithSpecialForm: Set<String> = [
    "google.protobuf.Any", "google.protobuf.Duration", "google.protobuf.FieldMask",
    "google.protobuf.ListValue", "google.protobuf.Struct", "google.protobuf.Timestamp",
    "google.protobuf.Value", "google.protobuf.BoolValue", "google.protobuf.BytesValue",
    "google.protobuf.DoubleValue", "google.protobuf.FloatValue", "google.protobuf.Int32Value",
    "google.protobuf.Int64Value", "google.protobuf.StringValue", "google.protobuf.UInt32Value",
    "google.protobuf.UInt64Value",
  ]
}
