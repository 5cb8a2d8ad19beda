/// Writes gRPC length-prefixed messages: a 1-byte compressed flag, a 4-byte big-endian
/// length, then the message bytes.
///
/// Tandem sends no compressed messages, so the flag is always 0.
public enum GRPCMessageFramer {
  /// The size of the prefix in front of every message.
  public static let prefixLength = 5

  /// Returns `payload` with its 5-byte prefix.
  ///
  /// - Parameter maxMessageBytes: the largest payload allowed, or `nil` for no limit beyond
  ///   the format's own 4 GiB - 1.
  /// - Throws: ``RPCError`` with ``StatusCode/resourceExhausted`` naming the size and the
  ///   limit when `payload` is larger.
  public static func frame(_ payload: [UInt8], maxMessageBytes: Int? = nil) throws(RPCError) -> [UInt8] {
    let limit = min(maxMessageBytes ?? Int(UInt32.max), Int(UInt32.max))
    if payload.count > limit {
      throw RPCError(
        code: .resourceExhausted,
        message: "Message of \(payload.count) bytes is larger than the maximum send size of \(limit) bytes"
      )
    }
    let length = UInt32(payload.count)
    return [UInt8](unsafeUninitializedCapacity: payload.count + prefixLength) { buffer, initialized in
      buffer[0] = 0
      buffer[1] = UInt8(truncatingIfNeeded: length >> 24)
      buffer[2] = UInt8(truncatingIfNeeded: length >> 16)
      buffer[3] = UInt8(truncatingIfNeeded: length >> 8)
      buffer[4] = UInt8(truncatingIfNeeded: length)
      payload.withUnsafeBufferPointer { source in
        if let base = source.baseAddress, let target = buffer.baseAddress {
          (target + prefixLength).initialize(from: base, count: source.count)
        }
      }
      initialized = payload.count + prefixLength
    }
  }
}
