/// Datagrams waiting for room in the kernel send buffer, oldest first.
struct UDPSendQueue {
  /// One queued send: `bytes` split into datagrams of `segmentSize` bytes (the last may be
  /// shorter), all to `destination`.
  struct Entry {
    var bytes: [UInt8]
    var segmentSize: Int
    var destination: SocketAddress
  }

  private var entries: [Entry] = []
  private var head = 0
  /// Payload bytes queued.
  private(set) var byteCount = 0

  var isEmpty: Bool { head == entries.count }

  var first: Entry? { isEmpty ? nil : entries[head] }

  mutating func append(_ entry: Entry) {
    entries.append(entry)
    byteCount += entry.bytes.count
  }

  mutating func removeFirst() {
    byteCount -= entries[head].bytes.count
    head += 1
    if head == entries.count {
      entries.removeAll(keepingCapacity: true)
      head = 0
    } else if head > 64, head * 2 > entries.count {
      entries.removeFirst(head)
      head = 0
    }
  }

  /// Drops the first `count` bytes of the oldest entry, after the kernel took that many.
  mutating func consumeFirst(_ count: Int) {
    entries[head].bytes.removeFirst(count)
    byteCount -= count
  }

  mutating func removeAll() {
    entries.removeAll()
    head = 0
    byteCount = 0
  }
}
