/// Settings for writing a message as protobuf JSON.
public struct JSONEncodingOptions: Sendable {
  /// When `true`, fields without presence are written even when they hold their default value:
  /// proto3 scalars and enums without `optional`, repeated fields (as `[]`) and maps (as `{}`).
  /// Fields with presence (messages, `optional`, proto2, oneof members) are written only when set
  /// either way. Default `false`.
  public var alwaysPrintFieldsWithoutPresence: Bool = false
  /// When `true`, object keys are the proto field names (`foo_bar`) instead of the JSON names
  /// (`fooBar`, or the field's `json_name` option). Default `false`.
  public var preserveProtoFieldNames: Bool = false
  /// When `true`, enum values are written as numbers instead of their names. Default `false`.
  public var alwaysPrintEnumsAsInts: Bool = false
  /// Message types that `google.protobuf.Any` values may contain. The well-known types are always
  /// included. Default: only the well-known types.
  public var typeRegistry: JSONTypeRegistry = JSONTypeRegistry()

  public init(
    alwaysPrintFieldsWithoutPresence: Bool = false,
    preserveProtoFieldNames: Bool = false,
    alwaysPrintEnumsAsInts: Bool = false,
    typeRegistry: JSONTypeRegistry = JSONTypeRegistry()
  ) {
    self.alwaysPrintFieldsWithoutPresence = alwaysPrintFieldsWithoutPresence
    self.preserveProtoFieldNames = preserveProtoFieldNames
    self.alwaysPrintEnumsAsInts = alwaysPrintEnumsAsInts
    self.typeRegistry = typeRegistry
  }
}
