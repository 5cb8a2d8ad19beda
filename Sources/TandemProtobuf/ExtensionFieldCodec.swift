/// The wire encoding of an extension field: how one occurrence decodes, merges into the stored value,
/// and how the stored value is sized and written back. Generated extension descriptors name one of the
/// conforming types below, for example `OptionalExtensionField<ProtobufInt32>` for
/// `optional int32 bar = 100;` or `RepeatedMessageExtensionField<Foo>` for `repeated Foo items = 101;`.
public protocol ExtensionFieldCodec: Sendable {
  associatedtype Value: Sendable & Hashable

  /// `true` when an occurrence with `wireType` belongs to this field. Repeated scalar fields accept
  /// both their own wire type and packed runs.
  static func accepts(_ wireType: WireType) -> Bool

  /// Decodes one occurrence whose `tag` was just read and merges it into `value`, which is nil when the
  /// field is not set yet. Singular scalars take the last value, messages merge, repeated fields
  /// append. A closed-enum number that the schema does not define goes to `unknownFields`.
  static func decode(
    from decoder: inout WireDecoder, tag: FieldTag, into value: inout Value?, unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError)

  /// Returns the encoded size of `value` with tags, recording nested sizes in `sizes` in the order
  /// ``encode(_:fieldNumber:to:)`` reads them.
  static func encodedSize(of value: Value, fieldNumber: Int, into sizes: inout SizeCache) -> Int

  /// Writes `value` with its tags.
  static func encode(_ value: Value, fieldNumber: Int, to encoder: inout WireEncoder)

  /// Appends the paths of required fields that are not set inside `value`, as
  /// ``Message/collectMissingRequiredFields(prefix:into:)`` does.
  static func collectMissingRequiredFields(in value: Value, prefix: String, into paths: inout [String])

  /// `true` for an empty array of a repeated extension, which counts as not set.
  static func isUnset(_ value: Value) -> Bool
}

extension ExtensionFieldCodec {
  public static func collectMissingRequiredFields(in value: Value, prefix: String, into paths: inout [String]) {}

  public static func isUnset(_ value: Value) -> Bool { false }
}


// MARK: Scalars

/// A singular scalar or enum extension.
public struct OptionalExtensionField<Scalar: ExtensionScalarType>: ExtensionFieldCodec {
  public typealias Value = Scalar.Value

  public static func accepts(_ wireType: WireType) -> Bool { wireType == Scalar.wireType }

  public static func decode(
    from decoder: inout WireDecoder, tag: FieldTag, into value: inout Value?, unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError) {
    if let decoded = try Scalar.decodeValue(from: &decoder, fieldNumber: tag.fieldNumber, unknownFields: &unknownFields) {
      value = decoded
    }
  }

  public static func encodedSize(of value: Value, fieldNumber: Int, into sizes: inout SizeCache) -> Int {
    Scalar.tagSize(fieldNumber: fieldNumber) + Scalar.size(of: value)
  }

  public static func encode(_ value: Value, fieldNumber: Int, to encoder: inout WireEncoder) {
    encoder.writeTag(Scalar.tag(fieldNumber: fieldNumber))
    Scalar.write(value, to: &encoder)
  }
}

/// A repeated scalar or enum extension written with one tag per element. Decoding also accepts packed runs.
public struct RepeatedExtensionField<Scalar: ExtensionScalarType>: ExtensionFieldCodec {
  public static func isUnset(_ value: Value) -> Bool { value.isEmpty }

  public typealias Value = [Scalar.Value]

  public static func accepts(_ wireType: WireType) -> Bool {
    wireType == Scalar.wireType || (Scalar.isPackable && wireType == .lengthDelimited)
  }

  public static func decode(
    from decoder: inout WireDecoder, tag: FieldTag, into value: inout Value?, unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError) {
    var values = value ?? []
    value = nil
    if Scalar.isPackable && tag.wireType == .lengthDelimited {
      try decoder.decodePackedRun { (inner) throws(ProtobufDecodingError) in
        if let decoded = try Scalar.decodeValue(from: &inner, fieldNumber: tag.fieldNumber, unknownFields: &unknownFields) {
          values.append(decoded)
        }
      }
    } else if let decoded = try Scalar.decodeValue(from: &decoder, fieldNumber: tag.fieldNumber, unknownFields: &unknownFields) {
      values.append(decoded)
    }
    value = values
  }

  public static func encodedSize(of value: Value, fieldNumber: Int, into sizes: inout SizeCache) -> Int {
    var total = 0
    for element in value {
      total += Scalar.tagSize(fieldNumber: fieldNumber) + Scalar.size(of: element)
    }
    return total
  }

  public static func encode(_ value: Value, fieldNumber: Int, to encoder: inout WireEncoder) {
    for element in value {
      encoder.writeTag(Scalar.tag(fieldNumber: fieldNumber))
      Scalar.write(element, to: &encoder)
    }
  }
}

/// A repeated scalar or enum extension declared `[packed = true]`: written as one packed run.
/// Decoding also accepts one tag per element.
public struct PackedExtensionField<Scalar: ExtensionScalarType>: ExtensionFieldCodec {
  public static func isUnset(_ value: Value) -> Bool { value.isEmpty }

  public typealias Value = [Scalar.Value]

  public static func accepts(_ wireType: WireType) -> Bool { RepeatedExtensionField<Scalar>.accepts(wireType) }

  public static func decode(
    from decoder: inout WireDecoder, tag: FieldTag, into value: inout Value?, unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError) {
    try RepeatedExtensionField<Scalar>.decode(from: &decoder, tag: tag, into: &value, unknownFields: &unknownFields)
  }

  public static func encodedSize(of value: Value, fieldNumber: Int, into sizes: inout SizeCache) -> Int {
    if value.isEmpty { return 0 }
    let slot = sizes.reserveSlot()
    var payload = 0
    for element in value {
      payload += Scalar.size(of: element)
    }
    sizes.record(payload, in: slot)
    return WireFormat.varintSize(UInt64(fieldNumber << 3 | 2)) + WireFormat.lengthDelimitedSize(payload)
  }

  public static func encode(_ value: Value, fieldNumber: Int, to encoder: inout WireEncoder) {
    if value.isEmpty { return }
    encoder.writeTag(UInt64(fieldNumber << 3 | 2))
    encoder.writeVarint(UInt64(encoder.nextCachedSize()))
    for element in value {
      Scalar.write(element, to: &encoder)
    }
  }
}

// MARK: Messages and groups

/// A singular message extension. Several occurrences merge into one value.
public struct OptionalMessageExtensionField<M: Message>: ExtensionFieldCodec {
  public typealias Value = M

  public static func accepts(_ wireType: WireType) -> Bool { wireType == .lengthDelimited }

  public static func decode(
    from decoder: inout WireDecoder, tag: FieldTag, into value: inout Value?, unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError) {
    var message = value ?? M()
    value = nil
    try decoder.decodeMessage(&message)
    value = message
  }

  public static func encodedSize(of value: Value, fieldNumber: Int, into sizes: inout SizeCache) -> Int {
    WireFormat.varintSize(UInt64(fieldNumber << 3 | 2)) + sizes.lengthDelimitedSize(of: value)
  }

  public static func encode(_ value: Value, fieldNumber: Int, to encoder: inout WireEncoder) {
    encoder.writeTag(UInt64(fieldNumber << 3 | 2))
    encoder.writeMessage(value)
  }

  public static func collectMissingRequiredFields(in value: Value, prefix: String, into paths: inout [String]) {
    value.collectMissingRequiredFields(prefix: prefix, into: &paths)
  }
}

/// A repeated message extension.
public struct RepeatedMessageExtensionField<M: Message>: ExtensionFieldCodec {
  public static func isUnset(_ value: Value) -> Bool { value.isEmpty }

  public typealias Value = [M]

  public static func accepts(_ wireType: WireType) -> Bool { wireType == .lengthDelimited }

  public static func decode(
    from decoder: inout WireDecoder, tag: FieldTag, into value: inout Value?, unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError) {
    var message = M()
    try decoder.decodeMessage(&message)
    var values = value ?? []
    value = nil
    values.append(message)
    value = values
  }

  public static func encodedSize(of value: Value, fieldNumber: Int, into sizes: inout SizeCache) -> Int {
    sizes.repeatedMessagesSize(of: value, tagSize: WireFormat.varintSize(UInt64(fieldNumber << 3 | 2)))
  }

  public static func encode(_ value: Value, fieldNumber: Int, to encoder: inout WireEncoder) {
    encoder.writeRepeatedMessages(value, tag: UInt64(fieldNumber << 3 | 2))
  }

  public static func collectMissingRequiredFields(in value: Value, prefix: String, into paths: inout [String]) {
    for (index, element) in value.enumerated() {
      element.collectMissingRequiredFields(prefix: "\(prefix.dropLast())[\(index)].", into: &paths)
    }
  }
}

/// A singular group extension (`optional group Name = N { ... }` inside `extend`). Several occurrences
/// merge into one value.
public struct OptionalGroupExtensionField<M: Message>: ExtensionFieldCodec {
  public typealias Value = M

  public static func accepts(_ wireType: WireType) -> Bool { wireType == .startGroup }

  public static func decode(
    from decoder: inout WireDecoder, tag: FieldTag, into value: inout Value?, unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError) {
    var message = value ?? M()
    value = nil
    try decoder.decodeGroup(&message)
    value = message
  }

  public static func encodedSize(of value: Value, fieldNumber: Int, into sizes: inout SizeCache) -> Int {
    2 * WireFormat.varintSize(UInt64(fieldNumber << 3)) + sizes.groupSize(of: value)
  }

  public static func encode(_ value: Value, fieldNumber: Int, to encoder: inout WireEncoder) {
    encoder.writeTag(UInt64(fieldNumber << 3 | 3))
    encoder.writeGroup(value, fieldNumber: fieldNumber)
  }

  public static func collectMissingRequiredFields(in value: Value, prefix: String, into paths: inout [String]) {
    value.collectMissingRequiredFields(prefix: prefix, into: &paths)
  }
}

/// A repeated group extension.
public struct RepeatedGroupExtensionField<M: Message>: ExtensionFieldCodec {
  public static func isUnset(_ value: Value) -> Bool { value.isEmpty }

  public typealias Value = [M]

  public static func accepts(_ wireType: WireType) -> Bool { wireType == .startGroup }

  public static func decode(
    from decoder: inout WireDecoder, tag: FieldTag, into value: inout Value?, unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError) {
    var message = M()
    try decoder.decodeGroup(&message)
    var values = value ?? []
    value = nil
    values.append(message)
    value = values
  }

  public static func encodedSize(of value: Value, fieldNumber: Int, into sizes: inout SizeCache) -> Int {
    var total = 0
    for element in value {
      total += 2 * WireFormat.varintSize(UInt64(fieldNumber << 3)) + sizes.groupSize(of: element)
    }
    return total
  }

  public static func encode(_ value: Value, fieldNumber: Int, to encoder: inout WireEncoder) {
    for element in value {
      encoder.writeTag(UInt64(fieldNumber << 3 | 3))
      encoder.writeGroup(element, fieldNumber: fieldNumber)
    }
  }

  public static func collectMissingRequiredFields(in value: Value, prefix: String, into paths: inout [String]) {
    for (index, element) in value.enumerated() {
      element.collectMissingRequiredFields(prefix: "\(prefix.dropLast())[\(index)].", into: &paths)
    }
  }
}
