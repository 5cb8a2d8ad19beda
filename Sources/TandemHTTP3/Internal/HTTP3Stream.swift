import Synchronization
import TandemHTTP
import TandemIO

/// Outbound bytes handed to nghttp3. They stay at this address until the peer acknowledges
/// them or the stream closes, because ngtcp2 may retransmit them.
struct OutboundChunk {
  /// Small writes share chunks of this many bytes, so that many tiny messages cost one
  /// allocation per chunk instead of one each.
  static let minimumCapacity = 4096

  let base: UnsafeMutableRawPointer
  let capacity: Int
  var count: Int

  init(copying bytes: [UInt8]) {
    let capacity = max(bytes.count, Self.minimumCapacity)
    let base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 1)
    bytes.withUnsafeBytes { base.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
    self.base = base
    self.capacity = capacity
    count = bytes.count
  }

  /// Appends `bytes` when they fit; returns whether they did.
  mutating func append(_ bytes: [UInt8]) -> Bool {
    guard capacity - count >= bytes.count else { return false }
    bytes.withUnsafeBytes { (base + count).copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
    count += bytes.count
    return true
  }

  func free() {
    base.deallocate()
  }
}

/// One request stream of an HTTP/3 connection: a bidirectional QUIC stream.
///
/// The public methods may be called from any thread; they hop onto the connection's loop.
/// Everything else runs on that loop.
final class HTTP3Stream: HTTPStream, @unchecked Sendable {
  let connection: QUICConnection
  let eventLoop: EventLoop

  private let wireID = Atomic<Int64>(-1)
  let bufferedBytes = Atomic<Int>(0)
  private let queuedOperations = Atomic<Int>(0)

  // Loop-only state.
  var id: Int64 = -1
  var delegate: (any HTTPStreamDelegate)?
  /// Client: the request, kept until the stream opens and, for 0-RTT, until early data is
  /// accepted, so that a rejected attempt can be sent again.
  var requestHeaders: [HTTPField] = []
  var requestEndsStream = false
  var allowsEarlyData = false
  var sentInEarlyData = false
  /// Bytes not yet handed to nghttp3.
  var pending: [OutboundChunk] = []
  var pendingHead = 0
  /// Bytes handed to nghttp3 and not yet acknowledged, oldest first.
  var unacked: [OutboundChunk] = []
  var unackedHead = 0
  var ackedInFirstChunk = 0
  var outboundEnded = false
  var pendingTrailers: [HTTPField]?
  var trailersSubmitted = false
  var hasDataReader = false
  var isDeferred = false
  var headersSent = false
  var wantsWritable = false
  var isClosed = false
  var closeReason: HTTPStreamCloseReason?
  var localResetCode: HTTPStreamErrorCode?
  var peerResetCode: UInt64?
  var remoteEnded = false
  var receivedHeaders = false
  var headerFields: [HTTPField] = []
  var headerListSize = 0
  var headerListTooLarge = false
  var unconsumedBytes = 0
  /// Body bytes received in this read pass and not yet handed to the delegate (loop only).
  var inbound: [UInt8] = []

  init(connection: QUICConnection, delegate: (any HTTPStreamDelegate)?) {
    self.connection = connection
    self.eventLoop = connection.eventLoop
    self.delegate = delegate
  }

  func assignID(_ id: Int64) {
    self.id = id
    wireID.store(id, ordering: .releasing)
  }

  var streamID: Int64 { wireID.load(ordering: .acquiring) }

  var version: HTTPVersion { .http3 }

  /// The connection's event loop, which runs tasks on the thread that owns the connection.
  var taskExecutor: (any TaskExecutor)? { eventLoop }

  var hasPendingBytes: Bool { pendingHead < pending.count }

  @inline(__always)
  func runOnLoop(_ operation: @escaping @Sendable (HTTP3Stream) -> Void) {
    if eventLoop.inEventLoop && queuedOperations.load(ordering: .acquiring) == 0 {
      operation(self)
      return
    }
    queuedOperations.add(1, ordering: .acquiringAndReleasing)
    eventLoop.execute { [self] in
      operation(self)
      queuedOperations.subtract(1, ordering: .acquiringAndReleasing)
    }
  }

  func writeHeaders(_ fields: [HTTPField], endStream: Bool) {
    runOnLoop { $0.connection.submitHeaders(for: $0, fields: fields, endStream: endStream) }
  }

  @discardableResult
  func writeData(_ bytes: [UInt8], endStream: Bool) -> Bool {
    let total = bufferedBytes.add(bytes.count, ordering: .relaxed).newValue
    let belowHighWater = total <= connection.configuration.streamHighWaterMark
    runOnLoop {
      $0.connection.enqueueData(for: $0, bytes: bytes, endStream: endStream, notifyWhenWritable: !belowHighWater)
    }
    return belowHighWater
  }

  func writeTrailers(_ fields: [HTTPField]) {
    runOnLoop { $0.connection.submitTrailers(for: $0, fields: fields) }
  }

  func reset(_ code: HTTPStreamErrorCode) {
    runOnLoop { $0.connection.resetStream($0, code: code) }
  }

  func consume(_ byteCount: Int) {
    guard byteCount > 0 else { return }
    runOnLoop { $0.connection.consume(byteCount, on: $0) }
  }

  // MARK: Outbound queue (loop only)

  func appendPending(_ bytes: [UInt8]) {
    if pendingHead > 0 && pendingHead == pending.count {
      pending.removeAll(keepingCapacity: true)
      pendingHead = 0
    }
    // Chunks not yet handed to nghttp3 may still grow.
    if pendingHead < pending.count, pending[pending.count - 1].append(bytes) {
      return
    }
    pending.append(OutboundChunk(copying: bytes))
  }

  func takePending() -> OutboundChunk? {
    guard pendingHead < pending.count else { return nil }
    let chunk = pending[pendingHead]
    pendingHead += 1
    if pendingHead == pending.count {
      pending.removeAll(keepingCapacity: true)
      pendingHead = 0
    }
    unacked.append(chunk)
    return chunk
  }

  /// Frees acknowledged bytes; returns how many were freed.
  func acknowledge(_ count: Int) -> Int {
    var remaining = count
    var freed = 0
    while remaining > 0 && unackedHead < unacked.count {
      let chunk = unacked[unackedHead]
      let left = chunk.count - ackedInFirstChunk
      if remaining >= left {
        remaining -= left
        freed += left
        chunk.free()
        unackedHead += 1
        ackedInFirstChunk = 0
      } else {
        ackedInFirstChunk += remaining
        freed += remaining
        remaining = 0
      }
    }
    if unackedHead == unacked.count {
      unacked.removeAll(keepingCapacity: true)
      unackedHead = 0
    } else if unackedHead > 64 && unackedHead * 2 > unacked.count {
      unacked.removeFirst(unackedHead)
      unackedHead = 0
    }
    return freed
  }

  /// Moves every handed-out but unacknowledged byte back in front of the pending bytes, for
  /// a request that must be sent again after its 0-RTT attempt was rejected.
  func rewindUnacknowledged() {
    guard unackedHead < unacked.count else { return }
    var rewound: [OutboundChunk] = []
    for index in unackedHead..<unacked.count {
      let chunk = unacked[index]
      if index == unackedHead && ackedInFirstChunk > 0 {
        // Rejected early data is never acknowledged, so this branch only guards the invariant.
        let tail = Array(UnsafeRawBufferPointer(start: chunk.base + ackedInFirstChunk, count: chunk.count - ackedInFirstChunk))
        chunk.free()
        rewound.append(OutboundChunk(copying: tail))
      } else {
        rewound.append(chunk)
      }
    }
    unacked.removeAll()
    unackedHead = 0
    ackedInFirstChunk = 0
    pending = rewound + pending[pendingHead...]
    pendingHead = 0
  }

  /// Frees the bytes not yet handed to nghttp3 and the queued trailers; returns how many
  /// bytes were buffered. Handed-out bytes stay, because ngtcp2 may still read them.
  func dropPending() -> Int {
    var dropped = 0
    for index in pendingHead..<pending.count {
      dropped += pending[index].count
      pending[index].free()
    }
    pending.removeAll()
    pendingHead = 0
    pendingTrailers = nil
    return dropped
  }

  /// Frees every outbound byte; returns how many bytes were buffered. Only for a stream that
  /// ngtcp2 has closed or forgotten.
  func dropOutbound() -> Int {
    var dropped = 0
    for index in pendingHead..<pending.count {
      dropped += pending[index].count
      pending[index].free()
    }
    for index in unackedHead..<unacked.count {
      dropped += unacked[index].count - (index == unackedHead ? ackedInFirstChunk : 0)
      unacked[index].free()
    }
    pending.removeAll()
    pendingHead = 0
    unacked.removeAll()
    unackedHead = 0
    ackedInFirstChunk = 0
    pendingTrailers = nil
    return dropped
  }
}
