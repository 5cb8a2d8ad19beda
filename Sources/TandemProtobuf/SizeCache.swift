/// Sizes computed by the size pass of an encode, reused by the write pass so that no size is
/// computed twice.
///
/// The size pass (`Message.encodedSize(into:)`) visits fields in the same order as the write pass
/// (`Message.encode(to:)`). Each time it meets a value whose length prefix depends on a nested
/// computation (a sub-message, a map entry, a packed repeated field of varints) it reserves a slot
/// before computing the nested size, which gives pre-order. The write pass reads the slots back in
/// the same pre-order with ``WireEncoder/nextCachedSize()``. Each message is therefore sized once,
/// and encoding costs time linear in the output size at any nesting depth.
public struct SizeCache: Sendable {
  @usableFromInline var sizes: [Int] = []
  @usableFromInline var readIndex = 0
  /// The nesting depth of the message being sized.
  @usableFromInline var depth = 0
  /// Whether a message nested deeper than ``maxDepth``; the size pass then stops descending and
  /// the encode fails with ``ProtobufEncodingError/Kind/nestingTooDeep(limit:)``.
  @usableFromInline var depthExceeded = false

  /// The deepest nesting of sub-messages and groups that encodes: 500 levels below the top-level
  /// message. Deeper recursion could overflow a thread's stack.
  public static let maxDepth = 500

  /// Enters one nesting level; returns `false` (and marks the cache) beyond ``maxDepth``.
  @inlinable
  mutating func enterNested() -> Bool {
    guard depth < Self.maxDepth else {
      depthExceeded = true
      return false
    }
    depth &+= 1
    return true
  }

  @inlinable
  public init() {}

  /// Number of recorded sizes.
  public var count: Int { sizes.count }

  /// Reserves a slot for a size that is about to be computed; fill it with ``record(_:in:)``.
  @inlinable
  public mutating func reserveSlot() -> Int {
    if sizes.capacity == 0 {
      // One allocation of 512 bytes covers typical messages instead of growing through 1, 2, 4, 8,
      // 16 and 32 slots. The 1,914-byte medium message of Benchmarks/protobuf records 33 sizes.
      sizes.reserveCapacity(64)
    }
    sizes.append(0)
    return sizes.count - 1
  }

  @inlinable
  public mutating func record(_ size: Int, in slot: Int) {
    sizes[slot] = size
  }

  /// Computes and records the size of `message` and returns the size with its length prefix,
  /// without the tag.
  @inlinable
  public mutating func lengthDelimitedSize<M: Message>(of message: borrowing M) -> Int {
    let slot = reserveSlot()
    guard enterNested() else { return 1 }
    let size = message.encodedSize(into: &self)
    depth &-= 1
    sizes[slot] = size
    return WireFormat.lengthDelimitedSize(size)
  }

  /// Computes and records the size of the message at `message` and returns the size with its length
  /// prefix, as ``lengthDelimitedSize(of:)`` does, without copying the message. The message must stay
  /// valid and unchanged during the call.
  @inlinable
  public mutating func lengthDelimitedSize<M: Message>(ofMessageAt message: UnsafePointer<M>) -> Int {
    let slot = reserveSlot()
    guard enterNested() else { return 1 }
    let size = M.encodedSize(of: message, into: &self)
    depth &-= 1
    sizes[slot] = size
    return WireFormat.lengthDelimitedSize(size)
  }

  /// Computes and records the sizes of repeated sub-messages and returns their total encoded size,
  /// tags (of `tagSize` bytes each) and length prefixes included.
  @inlinable
  public mutating func repeatedMessagesSize<M: Message>(of messages: [M], tagSize: Int) -> Int {
    var total = 0
    guard !messages.isEmpty else { return 0 }
    guard enterNested() else { return 0 }
    defer { depth &-= 1 }
    messages.withUnsafeBufferPointer { buffer in
      guard var element = buffer.baseAddress else { return }
      for _ in 0..<buffer.count {
        let slot = reserveSlot()
        let size = M.encodedSize(of: element, into: &self)
        sizes[slot] = size
        total += tagSize + WireFormat.lengthDelimitedSize(size)
        element += 1
      }
    }
    return total
  }

  /// Returns the size of a group body (without its start and end tags); groups have no length
  /// prefix, so no slot is recorded.
  @inlinable
  public mutating func groupSize<M: Message>(of message: borrowing M) -> Int {
    guard enterNested() else { return 0 }
    defer { depth &-= 1 }
    return message.encodedSize(into: &self)
  }

  @inlinable
  mutating func next() -> Int {
    let index = readIndex
    precondition(index < sizes.count, "encode(to:) read more cached sizes than encodedSize(into:) recorded")
    readIndex = index &+ 1
    // The precondition above already checked the index, so the read skips the array's own check.
    return sizes.withUnsafeBufferPointer { $0[index] }
  }
}
