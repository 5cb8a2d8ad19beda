/// Size and ZigZag helpers of the binary wire format, used by generated `encodedSize(into:)`, and
/// the pointer helper of the generated pointer-based encoders.
public enum WireFormat {
  /// Largest field number protobuf allows: 2^29 - 1.
  public static let maxFieldNumber = 536_870_911
  /// Largest length of a length-delimited field and of a whole message: 2^31 - 1 bytes.
  public static let maxLength = 2_147_483_647

  /// Number of bytes of `value` as a varint, 1 through 10.
  @inlinable
  public static func varintSize(_ value: UInt64) -> Int {
    let bits = 64 - (value | 1).leadingZeroBitCount
    return (bits + 6) / 7
  }

  /// Varint size of an int32 or enum value: negative values are sign-extended to 10 bytes.
  @inlinable
  public static func int32Size(_ value: Int32) -> Int {
    varintSize(UInt64(bitPattern: Int64(value)))
  }

  @inlinable
  public static func int64Size(_ value: Int64) -> Int {
    varintSize(UInt64(bitPattern: value))
  }

  @inlinable
  public static func uint32Size(_ value: UInt32) -> Int {
    varintSize(UInt64(value))
  }

  @inlinable
  public static func uint64Size(_ value: UInt64) -> Int {
    varintSize(value)
  }

  @inlinable
  public static func sint32Size(_ value: Int32) -> Int {
    varintSize(UInt64(zigZag32(value)))
  }

  @inlinable
  public static func sint64Size(_ value: Int64) -> Int {
    varintSize(zigZag64(value))
  }

  /// Size of a length prefix plus `length` bytes.
  @inlinable
  public static func lengthDelimitedSize(_ length: Int) -> Int {
    varintSize(UInt64(length)) + length
  }

  /// Size of a string's UTF-8 bytes plus their length prefix.
  @inlinable
  public static func stringSize(_ value: String) -> Int {
    lengthDelimitedSize(value.utf8.count)
  }

  @inlinable
  public static func bytesSize(_ value: [UInt8]) -> Int {
    lengthDelimitedSize(value.count)
  }

  @inlinable
  public static func zigZag32(_ value: Int32) -> UInt32 {
    UInt32(bitPattern: (value << 1) ^ (value >> 31))
  }

  @inlinable
  public static func zigZag64(_ value: Int64) -> UInt64 {
    UInt64(bitPattern: (value << 1) ^ (value >> 63))
  }

  @inlinable
  public static func unZigZag32(_ value: UInt32) -> Int32 {
    Int32(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
  }

  @inlinable
  public static func unZigZag64(_ value: UInt64) -> Int64 {
    Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
  }

  /// Returns a pointer to the value wrapped by the optional at `optional`, or `nil` when the
  /// optional is `nil`.
  ///
  /// Generated `encodedSize(of:into:)` and `encode(_:to:)` read an optional sub-message through it
  /// instead of copying the sub-message. The Swift ABI stores the payload of a single-payload enum
  /// such as `Optional` at offset 0 and any tag bits after it ("Single-Payload Enums" in
  /// docs/ABI/TypeLayout.rst of the Swift repository), so the payload's address is the optional's.
  @inlinable
  public static func wrappedValuePointer<Wrapped>(_ optional: UnsafePointer<Wrapped?>) -> UnsafePointer<Wrapped>? {
    guard case .some = optional.pointee else { return nil }
    return UnsafeRawPointer(optional).assumingMemoryBound(to: Wrapped.self)
  }
}
