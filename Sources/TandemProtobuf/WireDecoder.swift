/// Reads the binary wire format from a borrowed buffer. Generated `decodeMessage(from:)` calls
/// ``nextTag()`` in a loop and one `decode…` method per field.
///
/// Every read checks the index against the current limit (the end of the enclosing length-delimited
/// field), so no input can make the decoder read outside the buffer or past a length boundary.
/// A decoder is only valid inside the closure that lent it the buffer.
public struct WireDecoder {
  @usableFromInline let base: UnsafeRawPointer
  /// Index of the next byte to read.
  @usableFromInline var position: Int
  /// End index of the message being decoded.
  @usableFromInline var limit: Int
  /// Nesting level of the message being decoded; the top-level message is level 0.
  @usableFromInline var depth: Int = 0
  /// Field number of the open group, 0 when the current message is not a group.
  @usableFromInline var groupFieldNumber: Int = 0
  /// Index of the last tag returned by ``nextTag()``.
  @usableFromInline var tagStart: Int = 0
  /// Field number of the last tag returned by ``nextTag()``.
  @usableFromInline var currentFieldNumber: Int = 0
  public let options: DecodingOptions

  /// Creates a decoder over `buffer`, which must stay valid while the decoder is used.
  public init(buffer: UnsafeRawBufferPointer, options: DecodingOptions = DecodingOptions()) {
    // An empty buffer may have a nil base address; any non-nil pointer works because nothing is read.
    self.base = buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
    self.position = 0
    self.limit = buffer.count
    self.options = options
  }

  /// Byte offset of the next byte to read, from the start of the input.
  public var offset: Int { position }

  /// `true` when every byte of the current message has been read.
  @inlinable
  public var isAtEnd: Bool { position >= limit }

  // MARK: Errors

  @usableFromInline @inline(never)
  func error(_ kind: ProtobufDecodingError.Kind, at offset: Int) -> ProtobufDecodingError {
    ProtobufDecodingError(kind: kind, offset: offset, fieldPath: currentFieldNumber == 0 ? [] : [currentFieldNumber])
  }

  // MARK: Tags

  /// Returns the next field tag, or `nil` at the end of the current message or at the end-group tag
  /// that closes the current group.
  ///
  /// - Throws: ``ProtobufDecodingError`` for a truncated or over-long varint, field number 0 or above
  ///   2^29 - 1, wire type 6 or 7, an end-group tag that does not close the open group, and input that
  ///   ends inside a group.
  @inlinable
  public mutating func nextTag() throws(ProtobufDecodingError) -> FieldTag? {
    if position >= limit {
      if groupFieldNumber != 0 {
        throw error(.unterminatedGroup(fieldNumber: groupFieldNumber), at: position)
      }
      return nil
    }
    tagStart = position
    let raw = try decodeVarint()
    let number = raw >> 3
    if number == 0 || number > UInt64(WireFormat.maxFieldNumber) {
      currentFieldNumber = 0
      throw error(.invalidFieldNumber(number), at: tagStart)
    }
    currentFieldNumber = Int(number)
    guard let wireType = WireType(rawValue: UInt8(raw & 7)) else {
      throw error(.invalidWireType(UInt8(raw & 7)), at: tagStart)
    }
    if wireType == .endGroup {
      if groupFieldNumber == currentFieldNumber {
        return nil
      }
      if groupFieldNumber == 0 {
        throw error(.unexpectedEndGroup(fieldNumber: currentFieldNumber), at: tagStart)
      }
      throw error(.mismatchedEndGroup(expected: groupFieldNumber, found: currentFieldNumber), at: tagStart)
    }
    return FieldTag(fieldNumber: currentFieldNumber, wireType: wireType)
  }

  // MARK: Primitive reads

  /// Reads a varint of up to 10 bytes. Bits beyond 64 in the 10th byte are dropped, as the reference
  /// runtimes do.
  @inlinable
  public mutating func decodeVarint() throws(ProtobufDecodingError) -> UInt64 {
    guard position < limit else { throw error(.truncated, at: position) }
    let first = base.load(fromByteOffset: position, as: UInt8.self)
    if first < 0x80 {
      position += 1
      return UInt64(first)
    }
    if limit - position >= 2 {
      let second = base.load(fromByteOffset: position + 1, as: UInt8.self)
      if second < 0x80 {
        position += 2
        return UInt64(first & 0x7F) | UInt64(second) << 7
      }
    }
    return try decodeVarintSlow()
  }

  @usableFromInline
  mutating func decodeVarintSlow() throws(ProtobufDecodingError) -> UInt64 {
    let start = position
    var result: UInt64 = 0
    var shift: UInt64 = 0
    var index = position
    if limit - start >= 10 {
      // All 10 bytes a varint may use are inside the limit, so only the length needs checking.
      while index - start < 10 {
        let byte = base.load(fromByteOffset: index, as: UInt8.self)
        index += 1
        if shift < 64 {
          result |= UInt64(byte & 0x7F) << shift
        }
        if byte < 0x80 {
          position = index
          return result
        }
        shift += 7
      }
      throw error(.malformedVarint, at: start)
    }
    while true {
      guard index < limit else { throw error(.truncated, at: start) }
      guard index - start < 10 else { throw error(.malformedVarint, at: start) }
      let byte = base.load(fromByteOffset: index, as: UInt8.self)
      index += 1
      if shift < 64 {
        result |= UInt64(byte & 0x7F) << shift
      }
      if byte < 0x80 {
        position = index
        return result
      }
      shift += 7
    }
  }

  @inlinable
  mutating func decodeFixed32Bits() throws(ProtobufDecodingError) -> UInt32 {
    guard limit - position >= 4 else { throw error(.truncated, at: position) }
    let value = base.loadUnaligned(fromByteOffset: position, as: UInt32.self)
    position += 4
    return UInt32(littleEndian: value)
  }

  @inlinable
  mutating func decodeFixed64Bits() throws(ProtobufDecodingError) -> UInt64 {
    guard limit - position >= 8 else { throw error(.truncated, at: position) }
    let value = base.loadUnaligned(fromByteOffset: position, as: UInt64.self)
    position += 8
    return UInt64(littleEndian: value)
  }

  /// Reads a length prefix and checks that the bytes it covers are inside the current message.
  @inlinable
  public mutating func decodeLength() throws(ProtobufDecodingError) -> Int {
    let start = position
    let length = try decodeVarint()
    if length > UInt64(WireFormat.maxLength) {
      throw error(.lengthTooLarge(length), at: start)
    }
    let remaining = limit - position
    if Int(length) > remaining {
      throw error(.lengthExceedsInput(length: Int(length), remaining: remaining), at: start)
    }
    return Int(length)
  }

  // MARK: Scalars

  @inlinable public mutating func decodeInt32() throws(ProtobufDecodingError) -> Int32 {
    Int32(truncatingIfNeeded: try decodeVarint())
  }
  @inlinable public mutating func decodeInt64() throws(ProtobufDecodingError) -> Int64 {
    Int64(bitPattern: try decodeVarint())
  }
  @inlinable public mutating func decodeUInt32() throws(ProtobufDecodingError) -> UInt32 {
    UInt32(truncatingIfNeeded: try decodeVarint())
  }
  @inlinable public mutating func decodeUInt64() throws(ProtobufDecodingError) -> UInt64 {
    try decodeVarint()
  }
  @inlinable public mutating func decodeSInt32() throws(ProtobufDecodingError) -> Int32 {
    WireFormat.unZigZag32(UInt32(truncatingIfNeeded: try decodeVarint()))
  }
  @inlinable public mutating func decodeSInt64() throws(ProtobufDecodingError) -> Int64 {
    WireFormat.unZigZag64(try decodeVarint())
  }
  @inlinable public mutating func decodeBool() throws(ProtobufDecodingError) -> Bool {
    try decodeVarint() != 0
  }
  /// Reads an enum number: an int32 varint.
  @inlinable public mutating func decodeEnum() throws(ProtobufDecodingError) -> Int32 {
    Int32(truncatingIfNeeded: try decodeVarint())
  }
  @inlinable public mutating func decodeFixed32() throws(ProtobufDecodingError) -> UInt32 {
    try decodeFixed32Bits()
  }
  @inlinable public mutating func decodeSFixed32() throws(ProtobufDecodingError) -> Int32 {
    Int32(bitPattern: try decodeFixed32Bits())
  }
  @inlinable public mutating func decodeFloat() throws(ProtobufDecodingError) -> Float {
    Float(bitPattern: try decodeFixed32Bits())
  }
  @inlinable public mutating func decodeFixed64() throws(ProtobufDecodingError) -> UInt64 {
    try decodeFixed64Bits()
  }
  @inlinable public mutating func decodeSFixed64() throws(ProtobufDecodingError) -> Int64 {
    Int64(bitPattern: try decodeFixed64Bits())
  }
  @inlinable public mutating func decodeDouble() throws(ProtobufDecodingError) -> Double {
    Double(bitPattern: try decodeFixed64Bits())
  }

  /// Reads a length-delimited UTF-8 string.
  ///
  /// - Throws: ``ProtobufDecodingError/Kind/invalidUTF8`` when the bytes are not valid UTF-8.
  @inlinable
  public mutating func decodeString() throws(ProtobufDecodingError) -> String {
    let length = try decodeLength()
    let start = position
    position += length
    let bytes = UnsafeRawBufferPointer(start: base + start, count: length)
    if let string = Self.makeString(bytes) {
      return string
    }
    throw error(.invalidUTF8, at: start)
  }

  /// Returns the string for `bytes`, or nil when they are not valid UTF-8.
  @usableFromInline
  static func makeString(_ bytes: UnsafeRawBufferPointer) -> String? {
    if bytes.isEmpty { return "" }
    let utf8 = bytes.assumingMemoryBound(to: UInt8.self)
    guard UTF8Validation.isValid(utf8) else { return nil }
    // The input is valid, so this initializer copies it without repairs.
    return String(decoding: utf8, as: UTF8.self)
  }

  /// Reads a length-delimited `bytes` value.
  @inlinable
  public mutating func decodeBytes() throws(ProtobufDecodingError) -> [UInt8] {
    let length = try decodeLength()
    let start = position
    position += length
    return Self.makeBytes(base + start, count: length)
  }

  @inlinable
  static func makeBytes(_ source: UnsafeRawPointer, count: Int) -> [UInt8] {
    if count == 0 { return [] }
    return [UInt8](unsafeUninitializedCapacity: count) { buffer, initializedCount in
      UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: source, byteCount: count)
      initializedCount = count
    }
  }

  // MARK: Packed repeated fields

  /// Reads a packed run (a length-delimited field of concatenated values) and appends each value.
  /// Several runs for the same field append in order.
  @inlinable
  public mutating func decodePacked<T>(
    into values: inout [T],
    elementSize: Int = 0,
    _ decodeElement: (inout WireDecoder) throws(ProtobufDecodingError) -> T
  ) throws(ProtobufDecodingError) {
    let length = try decodeLength()
    let savedLimit = limit
    limit = position + length
    if elementSize > 0 {
      values.reserveCapacity(values.count + length / elementSize)
    } else {
      // Every varint ends in exactly one byte below 0x80, so counting those gives the element count.
      var count = 0
      for index in position..<limit where base.load(fromByteOffset: index, as: UInt8.self) < 0x80 {
        count += 1
      }
      values.reserveCapacity(values.count + count)
    }
    while position < limit {
      values.append(try decodeElement(&self))
    }
    limit = savedLimit
  }

  /// Reads a packed run and calls `body` once per element with the decoder limited to the run.
  @inlinable
  public mutating func decodePackedRun(
    _ body: (inout WireDecoder) throws(ProtobufDecodingError) -> Void
  ) throws(ProtobufDecodingError) {
    let length = try decodeLength()
    let savedLimit = limit
    limit = position + length
    while position < limit {
      try body(&self)
    }
    limit = savedLimit
  }

  @inlinable public mutating func decodePackedInt32(into values: inout [Int32]) throws(ProtobufDecodingError) {
    try decodePacked(into: &values) { (d) throws(ProtobufDecodingError) in try d.decodeInt32() }
  }
  @inlinable public mutating func decodePackedInt64(into values: inout [Int64]) throws(ProtobufDecodingError) {
    try decodePacked(into: &values) { (d) throws(ProtobufDecodingError) in try d.decodeInt64() }
  }
  @inlinable public mutating func decodePackedUInt32(into values: inout [UInt32]) throws(ProtobufDecodingError) {
    try decodePacked(into: &values) { (d) throws(ProtobufDecodingError) in try d.decodeUInt32() }
  }
  @inlinable public mutating func decodePackedUInt64(into values: inout [UInt64]) throws(ProtobufDecodingError) {
    try decodePacked(into: &values) { (d) throws(ProtobufDecodingError) in try d.decodeUInt64() }
  }
  @inlinable public mutating func decodePackedSInt32(into values: inout [Int32]) throws(ProtobufDecodingError) {
    try decodePacked(into: &values) { (d) throws(ProtobufDecodingError) in try d.decodeSInt32() }
  }
  @inlinable public mutating func decodePackedSInt64(into values: inout [Int64]) throws(ProtobufDecodingError) {
    try decodePacked(into: &values) { (d) throws(ProtobufDecodingError) in try d.decodeSInt64() }
  }
  @inlinable public mutating func decodePackedBool(into values: inout [Bool]) throws(ProtobufDecodingError) {
    try decodePacked(into: &values) { (d) throws(ProtobufDecodingError) in try d.decodeBool() }
  }
  @inlinable public mutating func decodePackedEnum(into values: inout [Int32]) throws(ProtobufDecodingError) {
    try decodePacked(into: &values) { (d) throws(ProtobufDecodingError) in try d.decodeEnum() }
  }
  @inlinable public mutating func decodePackedFixed32(into values: inout [UInt32]) throws(ProtobufDecodingError) {
    try decodePacked(into: &values, elementSize: 4) { (d) throws(ProtobufDecodingError) in try d.decodeFixed32() }
  }
  @inlinable public mutating func decodePackedSFixed32(into values: inout [Int32]) throws(ProtobufDecodingError) {
    try decodePacked(into: &values, elementSize: 4) { (d) throws(ProtobufDecodingError) in try d.decodeSFixed32() }
  }
  @inlinable public mutating func decodePackedFloat(into values: inout [Float]) throws(ProtobufDecodingError) {
    try decodePacked(into: &values, elementSize: 4) { (d) throws(ProtobufDecodingError) in try d.decodeFloat() }
  }
  @inlinable public mutating func decodePackedFixed64(into values: inout [UInt64]) throws(ProtobufDecodingError) {
    try decodePacked(into: &values, elementSize: 8) { (d) throws(ProtobufDecodingError) in try d.decodeFixed64() }
  }
  @inlinable public mutating func decodePackedSFixed64(into values: inout [Int64]) throws(ProtobufDecodingError) {
    try decodePacked(into: &values, elementSize: 8) { (d) throws(ProtobufDecodingError) in try d.decodeSFixed64() }
  }
  @inlinable public mutating func decodePackedDouble(into values: inout [Double]) throws(ProtobufDecodingError) {
    try decodePacked(into: &values, elementSize: 8) { (d) throws(ProtobufDecodingError) in try d.decodeDouble() }
  }

  // MARK: Nested messages and groups

  /// Reads a length-delimited sub-message and merges it into `message`, which gives "repeated
  /// occurrences of a singular message field merge" for free.
  ///
  /// - Throws: ``ProtobufDecodingError/Kind/recursionLimitExceeded(limit:)`` when this message would
  ///   nest deeper than ``DecodingOptions/recursionLimit``, and any error of the sub-message with this
  ///   field's number prepended to its field path.
  @inlinable
  public mutating func decodeMessage<M: Message>(_ message: inout M) throws(ProtobufDecodingError) {
    let fieldNumber = currentFieldNumber
    let start = position
    let length = try decodeLength()
    let end = position + length
    try enterNested(at: start)
    let savedLimit = limit
    let savedGroup = groupFieldNumber
    limit = end
    groupFieldNumber = 0
    do {
      try message.decodeMessage(from: &self)
    } catch {
      throw Self.prepend(fieldNumber, to: error)
    }
    limit = savedLimit
    groupFieldNumber = savedGroup
    depth -= 1
    currentFieldNumber = fieldNumber
  }

  /// Reads a proto2 group body up to its end-group tag and merges it into `message`.
  @inlinable
  public mutating func decodeGroup<M: Message>(_ message: inout M) throws(ProtobufDecodingError) {
    let fieldNumber = currentFieldNumber
    try enterNested(at: tagStart)
    let savedGroup = groupFieldNumber
    groupFieldNumber = fieldNumber
    do {
      try message.decodeMessage(from: &self)
    } catch {
      throw Self.prepend(fieldNumber, to: error)
    }
    groupFieldNumber = savedGroup
    depth -= 1
    currentFieldNumber = fieldNumber
  }

  /// Reads a length-delimited map entry by running `body` over its fields. `body` loops over
  /// ``nextTag()``, which returns `nil` at the end of the entry.
  @inlinable
  public mutating func decodeMapEntry(
    _ body: (inout WireDecoder) throws(ProtobufDecodingError) -> Void
  ) throws(ProtobufDecodingError) {
    let fieldNumber = currentFieldNumber
    let start = position
    let length = try decodeLength()
    let end = position + length
    try enterNested(at: start)
    let savedLimit = limit
    let savedGroup = groupFieldNumber
    limit = end
    groupFieldNumber = 0
    do {
      try body(&self)
    } catch {
      throw Self.prepend(fieldNumber, to: error)
    }
    limit = savedLimit
    groupFieldNumber = savedGroup
    depth -= 1
    currentFieldNumber = fieldNumber
  }

  @inlinable
  mutating func enterNested(at offset: Int) throws(ProtobufDecodingError) {
    let limit = min(options.recursionLimit, DecodingOptions.maxRecursionLimit)
    if depth >= limit {
      throw error(.recursionLimitExceeded(limit: limit), at: offset)
    }
    depth += 1
  }

  @usableFromInline @inline(never)
  static func prepend(_ fieldNumber: Int, to error: ProtobufDecodingError) -> ProtobufDecodingError {
    var error = error
    error.fieldPath.insert(fieldNumber, at: 0)
    return error
  }

  // MARK: Unknown fields

  /// Skips the value of the field whose tag ``nextTag()`` just returned, without keeping it.
  @inlinable
  public mutating func skipField(_ tag: FieldTag) throws(ProtobufDecodingError) {
    try skipValue(tag)
  }

  /// Skips the value of the field whose tag ``nextTag()`` just returned and appends the whole field,
  /// tag included, to `unknownFields` unless ``DecodingOptions/discardUnknownFields`` is set.
  @inlinable
  public mutating func skipField(_ tag: FieldTag, into unknownFields: inout UnknownFields) throws(ProtobufDecodingError) {
    let start = tagStart
    try skipValue(tag)
    if !options.discardUnknownFields {
      unknownFields.append(UnsafeRawBufferPointer(start: base + start, count: position - start))
    }
  }

  /// Offset of the tag of the field being decoded; pass it to ``keepField(from:in:)``.
  @inlinable
  public var fieldStartOffset: Int { tagStart }

  /// Appends the bytes from `start` (a ``fieldStartOffset``) to the current position to `unknownFields`,
  /// unless ``DecodingOptions/discardUnknownFields`` is set. Generated code uses it for proto2 enum
  /// numbers that the schema does not define.
  @inlinable
  public func keepField(from start: Int, in unknownFields: inout UnknownFields) {
    if !options.discardUnknownFields {
      unknownFields.append(UnsafeRawBufferPointer(start: base + start, count: position - start))
    }
  }

  /// Appends one varint field to `unknownFields`, unless ``DecodingOptions/discardUnknownFields`` is
  /// set. Generated code uses it for undefined proto2 enum numbers found in a packed run.
  @inlinable
  public func keepVarint(fieldNumber: Int, value: Int32, in unknownFields: inout UnknownFields) {
    if !options.discardUnknownFields {
      unknownFields.appendVarint(fieldNumber: fieldNumber, value: UInt64(bitPattern: Int64(value)))
    }
  }

  /// Skips the value of a field whose tag was just read.
  @usableFromInline
  mutating func skipValue(_ tag: FieldTag) throws(ProtobufDecodingError) {
    switch tag.wireType {
    case .varint:
      _ = try decodeVarint()
    case .fixed64:
      _ = try decodeFixed64Bits()
    case .fixed32:
      _ = try decodeFixed32Bits()
    case .lengthDelimited:
      position += try decodeLength()
    case .startGroup:
      try skipGroup(fieldNumber: tag.fieldNumber)
    case .endGroup:
      // nextTag() never returns end-group tags.
      throw error(.unexpectedEndGroup(fieldNumber: tag.fieldNumber), at: tagStart)
    }
  }

  mutating func skipGroup(fieldNumber: Int) throws(ProtobufDecodingError) {
    try enterNested(at: tagStart)
    let savedGroup = groupFieldNumber
    groupFieldNumber = fieldNumber
    while let inner = try nextTag() {
      try skipValue(inner)
    }
    groupFieldNumber = savedGroup
    depth -= 1
    currentFieldNumber = fieldNumber
  }
}

extension WireDecoder {
  /// Decodes an occurrence of an extension field of the message named `messageName` whose `tag`
  /// ``nextTag()`` just returned. With a descriptor for the field in ``DecodingOptions/extensions``
  /// and a matching wire type, the value merges into `fields`. Any other occurrence is kept in
  /// `unknownFields` byte for byte.
  @inlinable
  public mutating func decodeExtensionField(
    _ tag: FieldTag, messageName: String, into fields: inout ExtensionFieldSet, unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError) {
    if let descriptor = options.extensions.extensionField(messageName: messageName, fieldNumber: tag.fieldNumber),
      descriptor.accepts(tag.wireType)
    {
      try descriptor.decode(from: &self, tag: tag, into: &fields, unknownFields: &unknownFields)
    } else {
      try skipField(tag, into: &unknownFields)
    }
  }
}
