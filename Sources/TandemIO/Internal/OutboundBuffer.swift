#if canImport(Glibc)
import Glibc
#endif

/// Bytes waiting to be written, as a queue of chunks.
///
/// Small writes are copied into the tail chunk (up to ``chunkCapacity`` bytes each), so a
/// hundred small writes become one iovec. A large write gets a chunk of its own.
struct OutboundBuffer {
  /// Target size of a coalescing chunk: 64 KiB.
  static let chunkCapacity = 64 * 1024

  private var chunks: [[UInt8]] = []
  /// Bytes of `chunks[0]` already written.
  private var headOffset = 0

  /// Bytes waiting.
  private(set) var count = 0

  var isEmpty: Bool { count == 0 }

  mutating func append(_ bytes: UnsafeRawBufferPointer) {
    guard !bytes.isEmpty else { return }
    count += bytes.count
    let lastIndex = chunks.count - 1
    if lastIndex >= 0, chunks[lastIndex].count + bytes.count <= Self.chunkCapacity {
      chunks[lastIndex].append(contentsOf: bytes)
      return
    }
    var chunk: [UInt8] = []
    // A small write starts a 16 KiB chunk that later small writes fill.
    chunk.reserveCapacity(max(bytes.count, Self.chunkCapacity / 4))
    chunk.append(contentsOf: bytes)
    chunks.append(chunk)
  }

  /// Appends `byteCount` bytes that `fill` writes into the new space; `fill` returns how many
  /// it wrote, at most `byteCount`.
  mutating func append(byteCount: Int, fill: (UnsafeMutableRawBufferPointer) -> Int) {
    guard byteCount > 0 else { return }
    var chunk = [UInt8](repeating: 0, count: byteCount)
    let written = chunk.withUnsafeMutableBytes { fill($0) }
    guard written > 0 else { return }
    chunk.removeLast(byteCount - min(written, byteCount))
    count += chunk.count
    chunks.append(chunk)
  }

  /// Calls `body` with up to `maxVectors` iovecs over the waiting bytes, then drops the
  /// bytes that `body` reports written.
  ///
  /// `body` returns the number of bytes written, or a negative value on error, which is
  /// passed through unchanged.
  mutating func withIOVectors(maxVectors: Int, _ body: (UnsafeBufferPointer<iovec>) -> Int) -> Int {
    let vectorCount = min(chunks.count, maxVectors)
    let written = withUnsafeTemporaryAllocation(of: iovec.self, capacity: max(vectorCount, 1)) { vectors -> Int in
      return fillVectors(vectors, count: vectorCount, index: 0, body: body)
    }
    if written > 0 {
      consume(written)
    }
    return written
  }

  /// Pins each chunk in turn and fills `vectors`, then calls `body` with all of them.
  private func fillVectors(
    _ vectors: UnsafeMutableBufferPointer<iovec>, count: Int, index: Int,
    body: (UnsafeBufferPointer<iovec>) -> Int
  ) -> Int {
    if index == count {
      return body(UnsafeBufferPointer(start: vectors.baseAddress, count: count))
    }
    return chunks[index].withUnsafeBytes { bytes -> Int in
      let offset = index == 0 ? headOffset : 0
      vectors[index] = iovec(
        iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress! + offset),
        iov_len: bytes.count - offset)
      return fillVectors(vectors, count: count, index: index + 1, body: body)
    }
  }

  private mutating func consume(_ written: Int) {
    var remaining = written
    count -= written
    var dropped = 0
    while remaining > 0 {
      let available = chunks[dropped].count - headOffset
      if remaining >= available {
        remaining -= available
        headOffset = 0
        dropped += 1
      } else {
        headOffset += remaining
        remaining = 0
      }
    }
    chunks.removeFirst(dropped)
  }

  mutating func removeAll() {
    chunks.removeAll()
    headOffset = 0
    count = 0
  }
}
