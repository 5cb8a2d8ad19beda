/// A QUIC connection ID of at most 20 bytes as a dictionary key, stored inline so that the
/// lookup for each received datagram allocates nothing.
struct ConnectionIDKey: Hashable {
  /// The maximum connection ID length in bytes that QUIC v1 allows (RFC 9000, section 17.2).
  static let maxLength = 20

  private var head: UInt64 = 0
  private var middle: UInt64 = 0
  private var tail: UInt32 = 0
  private var length: UInt8

  /// The key for the `count` bytes at `bytes`; `nil` when `count` exceeds ``maxLength``.
  init?(_ bytes: UnsafePointer<UInt8>, count: Int) {
    guard (0...Self.maxLength).contains(count) else { return nil }
    length = UInt8(count)
    withUnsafeMutableBytes(of: &head) { $0.copyMemory(from: UnsafeRawBufferPointer(start: bytes, count: min(count, 8))) }
    if count > 8 {
      withUnsafeMutableBytes(of: &middle) {
        $0.copyMemory(from: UnsafeRawBufferPointer(start: bytes + 8, count: min(count - 8, 8)))
      }
    }
    if count > 16 {
      withUnsafeMutableBytes(of: &tail) { $0.copyMemory(from: UnsafeRawBufferPointer(start: bytes + 16, count: count - 16)) }
    }
  }

  /// The key for `bytes`; `nil` when it is longer than ``maxLength``.
  init?(_ bytes: [UInt8]) {
    guard let key = bytes.withUnsafeBufferPointer({ buffer -> ConnectionIDKey? in
      guard let base = buffer.baseAddress else {
        var empty: UInt8 = 0
        return ConnectionIDKey(&empty, count: 0)
      }
      return ConnectionIDKey(base, count: buffer.count)
    }) else { return nil }
    self = key
  }
}
