/// Complete inbound messages that the application has not taken yet, in arrival order, with
/// the bytes they took on the wire (the 5-byte prefix included) for flow-control credit.
struct InboundMessageQueue {
  private var messages: [[UInt8]] = []
  private var head = 0

  /// The wire bytes of the queued messages, prefixes included.
  private(set) var wireBytes = 0

  /// The number of queued messages.
  var count: Int { messages.count - head }

  mutating func append(_ message: [UInt8]) {
    messages.append(message)
    wireBytes += message.count + GRPCMessageFramer.prefixLength
  }

  /// Removes and returns the oldest message. The caller checks ``count`` first.
  mutating func removeFirst() -> [UInt8] {
    let message = messages[head]
    messages[head] = []
    head += 1
    if head == messages.count {
      messages.removeAll(keepingCapacity: true)
      head = 0
    }
    wireBytes -= message.count + GRPCMessageFramer.prefixLength
    return message
  }
}
