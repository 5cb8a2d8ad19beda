/// The wire type in the low three bits of a protobuf field tag.
public enum WireType: UInt8, Sendable, Hashable {
  /// int32, int64, uint32, uint64, sint32, sint64, bool and enum.
  case varint = 0
  /// fixed64, sfixed64 and double.
  case fixed64 = 1
  /// string, bytes, embedded messages, map entries and packed repeated fields.
  case lengthDelimited = 2
  /// Start of a proto2 group.
  case startGroup = 3
  /// End of a proto2 group.
  case endGroup = 4
  /// fixed32, sfixed32 and float.
  case fixed32 = 5
}

/// A decoded field tag: the field number and the wire type that precede every field value.
public struct FieldTag: Sendable, Hashable {
  /// Field number, 1 through 536,870,911 (2^29 - 1).
  public var fieldNumber: Int
  public var wireType: WireType

  @inlinable
  public init(fieldNumber: Int, wireType: WireType) {
    self.fieldNumber = fieldNumber
    self.wireType = wireType
  }
}
