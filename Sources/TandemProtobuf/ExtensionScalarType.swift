/// One value of a scalar or enum extension field: its wire type and how it is read, sized and written
/// without its tag. The conforming types name the proto types (`ProtobufInt32` is `int32`,
/// `ProtobufSInt32` is `sint32`) because several proto types share one Swift type.
public protocol ExtensionScalarType: Sendable {
  associatedtype Value: Sendable & Hashable

  static var wireType: WireType { get }

  /// Reads one value. Returns nil when the value is not stored, which only closed enums do,
  /// because they keep an undefined number in `unknownFields` as a varint field numbered `fieldNumber`.
  static func decodeValue(
    from decoder: inout WireDecoder, fieldNumber: Int, unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError) -> Value?

  /// Encoded size of `value` without its tag.
  static func size(of value: Value) -> Int

  /// Writes `value` without its tag.
  static func write(_ value: Value, to encoder: inout WireEncoder)
}

extension ExtensionScalarType {
  /// `true` for every type except `string` and `bytes`, whose repeated fields cannot be packed.
  public static var isPackable: Bool { wireType != .lengthDelimited }

  static func tag(fieldNumber: Int) -> UInt64 {
    UInt64(fieldNumber << 3 | Int(wireType.rawValue))
  }

  static func tagSize(fieldNumber: Int) -> Int {
    WireFormat.varintSize(tag(fieldNumber: fieldNumber))
  }
}

/// The proto type `double`.
public enum ProtobufDouble: ExtensionScalarType {
  public static var wireType: WireType { .fixed64 }

  public static func decodeValue(
    from decoder: inout WireDecoder, fieldNumber: Int, unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError) -> Double? {
    try decoder.decodeDouble()
  }

  public static func size(of _: Double) -> Int { 8 }

  public static func write(_ value: Double, to encoder: inout WireEncoder) { encoder.writeDouble(value) }
}

/// The proto type `float`.
public enum ProtobufFloat: ExtensionScalarType {
  public static var wireType: WireType { .fixed32 }

  public static func decodeValue(
    from decoder: inout WireDecoder, fieldNumber: Int, unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError) -> Float? {
    try decoder.decodeFloat()
  }

  public static func size(of _: Float) -> Int { 4 }

  public static func write(_ value: Float, to encoder: inout WireEncoder) { encoder.writeFloat(value) }
}

/// The proto type `int64`.
public enum ProtobufInt64: ExtensionScalarType {
  public static var wireType: WireType { .varint }

  public static func decodeValue(
    from decoder: inout WireDecoder, fieldNumber: Int, unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError) -> Int64? {
    try decoder.decodeInt64()
  }

  public static func size(of value: Int64) -> Int { WireFormat.int64Size(value) }

  public static func write(_ value: Int64, to encoder: inout WireEncoder) { encoder.writeInt64(value) }
}

/// The proto type `uint64`.
public enum ProtobufUInt64: ExtensionScalarType {
  public static var wireType: WireType { .varint }

  public static func decodeValue(
    from decoder: inout WireDecoder, fieldNumber: Int, unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError) -> UInt64? {
    try decoder.decodeUInt64()
  }

  public static func size(of value: UInt64) -> Int { WireFormat.uint64Size(value) }

  public static func write(_ value: UInt64, to encoder: inout WireEncoder) { encoder.writeUInt64(value) }
}

/// The proto type `int32`.
public enum ProtobufInt32: ExtensionScalarType {
  public static var wireType: WireType { .varint }

  public static func decodeValue(
    from decoder: inout WireDecoder, fieldNumber: Int, unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError) -> Int32? {
    try decoder.decodeInt32()
  }

  public static func size(of value: Int32) -> Int { WireFormat.int32Size(value) }

  public static func write(_ value: Int32, to encoder: inout WireEncoder) { encoder.writeInt32(value) }
}

/// The proto type `fixed64`.
public enum ProtobufFixed64: ExtensionScalarType {
  public static var wireType: WireType { .fixed64 }

  public static func decodeValue(
    from decoder: inout WireDecoder, fieldNumber: Int, unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError) -> UInt64? {
    try decoder.decodeFixed64()
  }

  public static func size(of _: UInt64) -> Int { 8 }

  public static func write(_ value: UInt64, to encoder: inout WireEncoder) { encoder.writeFixed64(value) }
}

/// The proto type `fixed32`.
public enum ProtobufFixed32: ExtensionScalarType {
  public static var wireType: WireType { .fixed32 }

  public static func decodeValue(
    from decoder: inout WireDecoder, fieldNumber: Int, unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError) -> UInt32? {
    try decoder.decodeFixed32()
  }

  public static func size(of _: UInt32) -> Int { 4 }

  public static func write(_ value: UInt32, to encoder: inout WireEncoder) { encoder.writeFixed32(value) }
}

/// The proto type `bool`.
public enum ProtobufBool: ExtensionScalarType {
  public static var wireType: WireType { .varint }

  public static func decodeValue(
    from decoder: inout WireDecoder, fieldNumber: Int, unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError) -> Bool? {
    try decoder.decodeBool()
  }

  public static func size(of _: Bool) -> Int { 1 }

  public static func write(_ value: Bool, to encoder: inout WireEncoder) { encoder.writeBool(value) }
}

/// The proto type `string`.
public enum ProtobufString: ExtensionScalarType {
  public static var wireType: WireType { .lengthDelimited }

  public static func decodeValue(
    from decoder: inout WireDecoder, fieldNumber: Int, unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError) -> String? {
    try decoder.decodeString()
  }

  public static func size(of value: String) -> Int { WireFormat.stringSize(value) }

  public static func write(_ value: String, to encoder: inout WireEncoder) { encoder.writeString(value) }
}

/// The proto type `bytes`.
public enum ProtobufBytes: ExtensionScalarType {
  public static var wireType: WireType { .lengthDelimited }

  public static func decodeValue(
    from decoder: inout WireDecoder, fieldNumber: Int, unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError) -> [UInt8]? {
    try decoder.decodeBytes()
  }

  public static func size(of value: [UInt8]) -> Int { WireFormat.bytesSize(value) }

  public static func write(_ value: [UInt8], to encoder: inout WireEncoder) { encoder.writeBytes(value) }
}

/// The proto type `uint32`.
public enum ProtobufUInt32: ExtensionScalarType {
  public static var wireType: WireType { .varint }

  public static func decodeValue(
    from decoder: inout WireDecoder, fieldNumber: Int, unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError) -> UInt32? {
    try decoder.decodeUInt32()
  }

  public static func size(of value: UInt32) -> Int { WireFormat.uint32Size(value) }

  public static func write(_ value: UInt32, to encoder: inout WireEncoder) { encoder.writeUInt32(value) }
}

/// The proto type `sfixed32`.
public enum ProtobufSFixed32: ExtensionScalarType {
  public static var wireType: WireType { .fixed32 }

  public static func decodeValue(
    from decoder: inout WireDecoder, fieldNumber: Int, unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError) -> Int32? {
    try decoder.decodeSFixed32()
  }

  public static func size(of _: Int32) -> Int { 4 }

  public static func write(_ value: Int32, to encoder: inout WireEncoder) { encoder.writeSFixed32(value) }
}

/// The proto type `sfixed64`.
public enum ProtobufSFixed64: ExtensionScalarType {
  public static var wireType: WireType { .fixed64 }

  public static func decodeValue(
    from decoder: inout WireDecoder, fieldNumber: Int, unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError) -> Int64? {
    try decoder.decodeSFixed64()
  }

  public static func size(of _: Int64) -> Int { 8 }

  public static func write(_ value: Int64, to encoder: inout WireEncoder) { encoder.writeSFixed64(value) }
}

/// The proto type `sint32`.
public enum ProtobufSInt32: ExtensionScalarType {
  public static var wireType: WireType { .varint }

  public static func decodeValue(
    from decoder: inout WireDecoder, fieldNumber: Int, unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError) -> Int32? {
    try decoder.decodeSInt32()
  }

  public static func size(of value: Int32) -> Int { WireFormat.sint32Size(value) }

  public static func write(_ value: Int32, to encoder: inout WireEncoder) { encoder.writeSInt32(value) }
}

/// The proto type `sint64`.
public enum ProtobufSInt64: ExtensionScalarType {
  public static var wireType: WireType { .varint }

  public static func decodeValue(
    from decoder: inout WireDecoder, fieldNumber: Int, unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError) -> Int64? {
    try decoder.decodeSInt64()
  }

  public static func size(of value: Int64) -> Int { WireFormat.sint64Size(value) }

  public static func write(_ value: Int64, to encoder: inout WireEncoder) { encoder.writeSInt64(value) }
}

/// A proto enum type. Open (proto3) enums store every number. Closed (proto2) enums keep numbers
/// that the schema does not define in the message's unknown fields, as the reference runtimes do.
public enum ProtobufEnumType<E: ProtobufEnum>: ExtensionScalarType {
  public static var wireType: WireType { .varint }

  public static func decodeValue(
    from decoder: inout WireDecoder, fieldNumber: Int, unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError) -> E? {
    let number = try decoder.decodeEnum()
    if let value = E(rawValue: number) {
      return value
    }
    decoder.keepVarint(fieldNumber: fieldNumber, value: number, in: &unknownFields)
    return nil
  }

  public static func size(of value: E) -> Int { WireFormat.int32Size(value.rawValue) }

  public static func write(_ value: E, to encoder: inout WireEncoder) { encoder.writeEnum(value.rawValue) }
}
