/// A FIFO of byte chunks that keeps each written array as it is, so queueing never copies.
struct ByteQueue {
  private var chunks: [[UInt8]] = []
  private var head = 0
  private var offset = 0

  /// The number of queued bytes.
  private(set) var count = 0

  var isEmpty: Bool { count == 0 }

  mutating func append(_ bytes: [UInt8]) {
    guard !bytes.isEmpty else { return }
    chunks.append(bytes)
    count += bytes.count
  }

  /// Copies up to `maxCount` bytes into `destination`, removes them, and returns how many it copied.
  mutating func read(into destination: UnsafeMutablePointer<UInt8>, maxCount: Int) -> Int {
    var copied = 0
    while copied < maxCount && head < chunks.count {
      let chunk = chunks[head]
      let n = min(maxCount - copied, chunk.count - offset)
      chunk.withUnsafeBufferPointer { source in
        (destination + copied).update(from: source.baseAddress! + offset, count: n)
      }
      copied += n
      offset += n
      if offset == chunk.count {
        head += 1
        offset = 0
      }
    }
    count -= copied
    if head == chunks.count {
      chunks.removeAll(keepingCapacity: true)
      head = 0
    } else if head >= 32 && head * 2 >= chunks.count {
      chunks.removeFirst(head)
      head = 0
    }
    return copied
  }

  mutating func removeAll() {
    chunks.removeAll()
    head = 0
    offset = 0
    count = 0
  }
}
