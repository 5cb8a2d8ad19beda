/// Writes the binary wire format into a buffer whose size the size pass computed exactly.
///
/// Generated `encode(to:)` calls one `write…` method per field. Length prefixes of sub-messages,
/// map entries and packed varint fields come from the ``SizeCache`` filled by the size pass, read in
/// the same order with ``nextCachedSize()``. Every write checks the remaining capacity, so a size pass
/// that disagrees with the write pass stops the program instead of writing out of bounds.
public struct WireEncoder {
  @usableFromInline let base: UnsafeMutableRawPointer
  @usableFromInline let capacity: Int
  @usableFromInline var position: Int = 0
  @usableFromInline var sizes: SizeCache

  /// Creates an encoder over `buffer`, which must stay valid while the encoder is used.
  public init(buffer: UnsafeMutableRawBufferPointer, sizes: SizeCache) {
    self.base = buffer.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 1)!
    self.capacity = buffer.count
    self.sizes = sizes
  }

  /// Number of bytes written so far.
  public var count: Int { position }

  @inlinable @inline(__always)
  mutating func reserve(_ count: Int) -> Int {
    // 0 <= position <= capacity always holds, so the wrapping operations cannot overflow.
    let start = position
    precondition(count <= capacity &- start, "encode(to:) wrote more bytes than encodedSize(into:) computed")
    position = start &+ count
    return start
  }

  /// Returns the next size recorded by the size pass.
  @inlinable
  public mutating func nextCachedSize() -> Int {
    sizes.next()
  }

  /// Returns an array of `count` bytes for the encoder to fill.
  ///
  /// `Array(unsafeUninitializedCapacity:)` allocates in a function of the standard library that is
  /// not specialized, which looks up the generic metadata of the storage class on every call (about
  /// 350 instructions in callgrind, Swift 6.3.1). `Array(repeatElement(_:count:))` allocates in code
  /// specialized for `UInt8` in the caller but writes zeros first. It is used up to 4,096 bytes,
  /// where the zeroing is estimated to cost less than the lookup.
  @inlinable
  static func allocateOutput(count: Int) -> [UInt8] {
    if count <= 4096 {
      return Array(repeatElement(0, count: count))
    }
    // The bytes are left uninitialized, which is valid for UInt8. serializedBytes() checks that the
    // encoder, which writes from offset 0 without gaps, wrote all `count` of them.
    return [UInt8](unsafeUninitializedCapacity: count) { _, initializedCount in
      initializedCount = count
    }
  }

  // MARK: Primitive writes

  /// Writes a varint. One-byte values, which include most tags, are written inline.
  @inlinable @inline(__always)
  public mutating func writeVarint(_ value: UInt64) {
    if value < 0x80 {
      let index = reserve(1)
      base.storeBytes(of: UInt8(value), toByteOffset: index, as: UInt8.self)
      return
    }
    writeMultiByteVarint(value)
  }

  @inlinable
  mutating func writeMultiByteVarint(_ value: UInt64) {
    let size = WireFormat.varintSize(value)
    var destination = base + reserve(size)
    var value = value
    while value >= 0x80 {
      destination.storeBytes(of: UInt8(truncatingIfNeeded: value) | 0x80, as: UInt8.self)
      value &>>= 7
      destination += 1
    }
    destination.storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
  }

  /// Writes a tag; generated code passes the precomputed `fieldNumber << 3 | wireType`.
  @inlinable @inline(__always)
  public mutating func writeTag(_ tag: UInt64) {
    writeVarint(tag)
  }

  @inlinable
  public mutating func writeFixed32Bits(_ value: UInt32) {
    let index = reserve(4)
    base.storeBytes(of: value.littleEndian, toByteOffset: index, as: UInt32.self)
  }

  @inlinable
  public mutating func writeFixed64Bits(_ value: UInt64) {
    let index = reserve(8)
    base.storeBytes(of: value.littleEndian, toByteOffset: index, as: UInt64.self)
  }

  /// Copies raw bytes, used for unknown fields.
  @inlinable
  public mutating func writeRaw(_ bytes: UnsafeRawBufferPointer) {
    let count = bytes.count
    guard count > 0, let source = bytes.baseAddress else { return }
    let index = reserve(count)
    let destination = base + index
    if count >= 8 && count <= 16 {
      // Two overlapping 8-byte moves are cheaper than a memcpy call for short strings.
      destination.storeBytes(of: source.loadUnaligned(as: UInt64.self), as: UInt64.self)
      (destination + count - 8).storeBytes(of: (source + count - 8).loadUnaligned(as: UInt64.self), as: UInt64.self)
    } else if count < 8 {
      for offset in 0..<count {
        destination.storeBytes(of: source.load(fromByteOffset: offset, as: UInt8.self), toByteOffset: offset, as: UInt8.self)
      }
    } else {
      destination.copyMemory(from: source, byteCount: count)
    }
  }

  // MARK: Scalars

  @inlinable @inline(__always) public mutating func writeInt32(_ value: Int32) { writeVarint(UInt64(bitPattern: Int64(value))) }
  @inlinable @inline(__always) public mutating func writeInt64(_ value: Int64) { writeVarint(UInt64(bitPattern: value)) }
  @inlinable @inline(__always) public mutating func writeUInt32(_ value: UInt32) { writeVarint(UInt64(value)) }
  @inlinable @inline(__always) public mutating func writeUInt64(_ value: UInt64) { writeVarint(value) }
  @inlinable @inline(__always) public mutating func writeSInt32(_ value: Int32) { writeVarint(UInt64(WireFormat.zigZag32(value))) }
  @inlinable @inline(__always) public mutating func writeSInt64(_ value: Int64) { writeVarint(WireFormat.zigZag64(value)) }
  @inlinable @inline(__always) public mutating func writeBool(_ value: Bool) { writeVarint(value ? 1 : 0) }
  @inlinable @inline(__always) public mutating func writeEnum(_ value: Int32) { writeVarint(UInt64(bitPattern: Int64(value))) }
  @inlinable @inline(__always) public mutating func writeFixed32(_ value: UInt32) { writeFixed32Bits(value) }
  @inlinable @inline(__always) public mutating func writeSFixed32(_ value: Int32) { writeFixed32Bits(UInt32(bitPattern: value)) }
  @inlinable @inline(__always) public mutating func writeFloat(_ value: Float) { writeFixed32Bits(value.bitPattern) }
  @inlinable @inline(__always) public mutating func writeFixed64(_ value: UInt64) { writeFixed64Bits(value) }
  @inlinable @inline(__always) public mutating func writeSFixed64(_ value: Int64) { writeFixed64Bits(UInt64(bitPattern: value)) }
  @inlinable @inline(__always) public mutating func writeDouble(_ value: Double) { writeFixed64Bits(value.bitPattern) }

  /// Writes a string's length prefix and UTF-8 bytes.
  @inlinable
  public mutating func writeString(_ value: String) {
    let written: Void? = value.utf8.withContiguousStorageIfAvailable { utf8 in
      writeVarint(UInt64(utf8.count))
      writeRaw(UnsafeRawBufferPointer(utf8))
    }
    if written == nil {
      // Strings without contiguous UTF-8 storage (bridged or lazily transcoded ones) are copied first.
      let utf8 = Array(value.utf8)
      writeVarint(UInt64(utf8.count))
      utf8.withUnsafeBytes { writeRaw($0) }
    }
  }

  /// Writes a `bytes` value's length prefix and contents.
  @inlinable
  public mutating func writeBytes(_ value: [UInt8]) {
    writeVarint(UInt64(value.count))
    value.withUnsafeBytes { writeRaw($0) }
  }

  // MARK: Messages, groups and packed fields

  /// Writes a sub-message's length prefix (from the size cache) and its fields.
  @inlinable
  public mutating func writeMessage<M: Message>(_ message: borrowing M) {
    writeVarint(UInt64(nextCachedSize()))
    message.encode(to: &self)
  }

  /// Writes the message at `message` with its cached length prefix, as ``writeMessage(_:)`` does,
  /// without copying the message. The message must stay valid and unchanged during the call.
  @inlinable
  public mutating func writeMessage<M: Message>(at message: UnsafePointer<M>) {
    writeVarint(UInt64(nextCachedSize()))
    M.encode(message, to: &self)
  }

  /// Writes repeated sub-messages, each preceded by `tag` and its cached length.
  @inlinable
  public mutating func writeRepeatedMessages<M: Message>(_ messages: [M], tag: UInt64) {
    messages.withUnsafeBufferPointer { buffer in
      guard var element = buffer.baseAddress else { return }
      for _ in 0..<buffer.count {
        writeVarint(tag)
        writeVarint(UInt64(nextCachedSize()))
        M.encode(element, to: &self)
        element += 1
      }
    }
  }

  /// Writes a group body followed by its end-group tag; the caller writes the start-group tag.
  @inlinable
  public mutating func writeGroup<M: Message>(_ message: borrowing M, fieldNumber: Int) {
    message.encode(to: &self)
    writeVarint(UInt64(fieldNumber << 3 | Int(WireType.endGroup.rawValue)))
  }

  /// Writes the length prefix and body of a packed run of varints. The payload size comes from the
  /// size cache, so the capacity is checked once for the whole run.
  @inlinable
  public mutating func writePackedVarints<T>(_ values: [T], _ toVarint: (T) -> UInt64) {
    let payload = nextCachedSize()
    writeVarint(UInt64(payload))
    var index = reserve(payload)
    let end = index + payload
    for value in values {
      var remaining = toVarint(value)
      while remaining >= 0x80 {
        base.storeBytes(of: UInt8(truncatingIfNeeded: remaining) | 0x80, toByteOffset: index, as: UInt8.self)
        remaining >>= 7
        index += 1
      }
      base.storeBytes(of: UInt8(remaining), toByteOffset: index, as: UInt8.self)
      index += 1
    }
    precondition(index == end, "packed run size differs from the size computed by encodedSize(into:)")
  }

  @inlinable public mutating func writePackedInt32(_ values: [Int32]) {
    writePackedVarints(values) { UInt64(bitPattern: Int64($0)) }
  }
  @inlinable public mutating func writePackedInt64(_ values: [Int64]) {
    writePackedVarints(values) { UInt64(bitPattern: $0) }
  }
  @inlinable public mutating func writePackedUInt32(_ values: [UInt32]) {
    writePackedVarints(values) { UInt64($0) }
  }
  @inlinable public mutating func writePackedUInt64(_ values: [UInt64]) {
    writePackedVarints(values) { $0 }
  }
  @inlinable public mutating func writePackedSInt32(_ values: [Int32]) {
    writePackedVarints(values) { UInt64(WireFormat.zigZag32($0)) }
  }
  @inlinable public mutating func writePackedSInt64(_ values: [Int64]) {
    writePackedVarints(values) { WireFormat.zigZag64($0) }
  }
  @inlinable public mutating func writePackedEnum<E: ProtobufEnum>(_ values: [E]) {
    writePackedVarints(values) { UInt64(bitPattern: Int64($0.rawValue)) }
  }

  /// Writes the length prefix and body of a packed run of fixed-width values, whose memory layout
  /// on a little-endian machine is the wire format.
  @inlinable
  public mutating func writePackedFixed<T: FixedWidthInteger>(_ values: [T]) {
    let payload = values.count * MemoryLayout<T>.size
    writeVarint(UInt64(payload))
    #if _endian(little)
      values.withUnsafeBytes { writeRaw($0) }
    #else
      for value in values {
        let index = reserve(MemoryLayout<T>.size)
        base.storeBytes(of: value.littleEndian, toByteOffset: index, as: T.self)
      }
    #endif
  }

  @inlinable public mutating func writePackedBool(_ values: [Bool]) {
    writeVarint(UInt64(values.count))
    let start = reserve(values.count)
    for (offset, value) in values.enumerated() {
      base.storeBytes(of: value ? 1 : 0, toByteOffset: start + offset, as: UInt8.self)
    }
  }
  @inlinable public mutating func writePackedFixed32(_ values: [UInt32]) { writePackedFixed(values) }
  @inlinable public mutating func writePackedSFixed32(_ values: [Int32]) { writePackedFixed(values) }
  @inlinable public mutating func writePackedFixed64(_ values: [UInt64]) { writePackedFixed(values) }
  @inlinable public mutating func writePackedSFixed64(_ values: [Int64]) { writePackedFixed(values) }
  @inlinable public mutating func writePackedFloat(_ values: [Float]) {
    writeVarint(UInt64(values.count * 4))
    #if _endian(little)
      values.withUnsafeBytes { writeRaw($0) }
    #else
      for value in values { writeFixed32Bits(value.bitPattern) }
    #endif
  }
  @inlinable public mutating func writePackedDouble(_ values: [Double]) {
    writeVarint(UInt64(values.count * 8))
    #if _endian(little)
      values.withUnsafeBytes { writeRaw($0) }
    #else
      for value in values { writeFixed64Bits(value.bitPattern) }
    #endif
  }

  /// Writes the unknown fields of a message.
  @inlinable
  public mutating func writeUnknownFields(_ fields: UnknownFields) {
    fields.bytes.withUnsafeBytes { writeRaw($0) }
  }
}
