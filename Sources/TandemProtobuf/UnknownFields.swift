/// Fields that the decoder did not recognise, kept as raw wire bytes (tags included) in the order
/// they arrived, and written back verbatim after the known fields when the message is encoded.
public struct UnknownFields: Sendable, Hashable {
  /// The raw wire bytes.
  public var bytes: [UInt8]

  @inlinable
  public init() {
    bytes = []
  }

  @inlinable
  public init(bytes: [UInt8]) {
    self.bytes = bytes
  }

  @inlinable
  public var isEmpty: Bool { bytes.isEmpty }

  /// Number of encoded bytes.
  @inlinable
  public var count: Int { bytes.count }

  /// Appends raw wire bytes, which must be complete fields.
  @inlinable
  public mutating func append(_ raw: UnsafeRawBufferPointer) {
    bytes.append(contentsOf: raw.assumingMemoryBound(to: UInt8.self))
  }

  /// Appends one varint field, used for proto2 enum values that the schema does not define.
  public mutating func appendVarint(fieldNumber: Int, value: UInt64) {
    var scratch = [UInt8]()
    Self.appendVarint(UInt64(fieldNumber << 3), to: &scratch)
    Self.appendVarint(value, to: &scratch)
    bytes.append(contentsOf: scratch)
  }

  static func appendVarint(_ value: UInt64, to output: inout [UInt8]) {
    var value = value
    while value >= 0x80 {
      output.append(UInt8(truncatingIfNeeded: value) | 0x80)
      value >>= 7
    }
    output.append(UInt8(value))
  }
}
