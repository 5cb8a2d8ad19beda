/// Reads gRPC length-prefixed messages from DATA bytes.
///
/// DATA boundaries have no relation to message boundaries: one chunk may hold the end of one
/// message, several whole messages and the start of another. The deframer keeps at most one
/// partial message, and checks a message's length against ``maxMessageBytes`` as soon as its
/// 5-byte prefix is complete, before it buffers any of the payload.
public struct GRPCMessageDeframer: Sendable {
  /// The largest message payload accepted.
  public let maxMessageBytes: Int

  /// The `grpc-encoding` the peer declared, or `nil` when it declared none or `identity`.
  /// Tandem implements no decompression, so a compressed message is an error either way;
  /// the encoding only appears in the error message.
  public let encoding: String?

  private var prefix: [UInt8] = []
  private var payload: [UInt8] = []
  private var expectedLength: Int = -1

  /// Creates a deframer that accepts payloads up to `maxMessageBytes` bytes.
  public init(maxMessageBytes: Int, encoding: String? = nil) {
    self.maxMessageBytes = maxMessageBytes
    self.encoding = encoding
  }

  /// Whether a partial message is buffered, meaning the stream must not end here.
  public var hasPartialMessage: Bool {
    !prefix.isEmpty || expectedLength >= 0
  }

  /// Appends the payload of every message that `chunk` completes to `messages`.
  ///
  /// - Throws: ``RPCError`` with ``StatusCode/resourceExhausted`` when a message is larger
  ///   than ``maxMessageBytes``, or with ``StatusCode/internalError`` when the compressed
  ///   flag is 1 (no compression is negotiated) or any value other than 0 or 1. Messages
  ///   completed before the bad prefix are already in `messages`. After an error the stream is
  ///   broken and the deframer must not be used again.
  public mutating func process(_ chunk: [UInt8], into messages: inout [[UInt8]]) throws(RPCError) {
    var index = 0
    let count = chunk.count
    while index < count {
      if expectedLength < 0 {
        // Reading a prefix. Fast path: the whole prefix is inside this chunk.
        if prefix.isEmpty && count - index >= GRPCMessageFramer.prefixLength {
          let length = try checkPrefix(
            flag: chunk[index], chunk[index + 1], chunk[index + 2], chunk[index + 3], chunk[index + 4])
          index += GRPCMessageFramer.prefixLength
          if count - index >= length {
            messages.append(Array(chunk[index..<(index + length)]))
            index += length
          } else {
            expectedLength = length
            payload.reserveCapacity(length)
            payload.append(contentsOf: chunk[index..<count])
            index = count
          }
          continue
        }
        let needed = GRPCMessageFramer.prefixLength - prefix.count
        let available = min(needed, count - index)
        prefix.append(contentsOf: chunk[index..<(index + available)])
        index += available
        if prefix.count < GRPCMessageFramer.prefixLength { break }
        let length = try checkPrefix(flag: prefix[0], prefix[1], prefix[2], prefix[3], prefix[4])
        prefix.removeAll(keepingCapacity: true)
        expectedLength = length
        payload.reserveCapacity(length)
      }

      // Reading a payload.
      let needed = expectedLength - payload.count
      let available = min(needed, count - index)
      payload.append(contentsOf: chunk[index..<(index + available)])
      index += available
      if payload.count == expectedLength {
        messages.append(payload)
        payload = []
        expectedLength = -1
      }
    }
  }

  private func checkPrefix(flag: UInt8, _ b1: UInt8, _ b2: UInt8, _ b3: UInt8, _ b4: UInt8) throws(RPCError) -> Int {
    switch flag {
    case 0:
      break
    case 1:
      if let encoding {
        throw RPCError(
          code: .internalError,
          message: "Received a message compressed with grpc-encoding '\(encoding)', which Tandem does not support"
        )
      }
      throw RPCError(
        code: .internalError,
        message: "Received a message with compressed flag 1, but no grpc-encoding was negotiated"
      )
    default:
      throw RPCError(code: .internalError, message: "Received a message with invalid compressed flag \(flag); expected 0 or 1")
    }
    let length = Int(b1) << 24 | Int(b2) << 16 | Int(b3) << 8 | Int(b4)
    if length > maxMessageBytes {
      throw RPCError(
        code: .resourceExhausted,
        message: "Received a message of \(length) bytes, larger than the maximum receive size of \(maxMessageBytes) bytes"
      )
    }
    return length
  }
}
