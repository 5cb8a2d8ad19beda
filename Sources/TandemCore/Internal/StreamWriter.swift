import Synchronization
import TandemHTTP

/// One operation on an ``HTTPStream``.
enum OutboundOperation: Sendable {
  case headers([HTTPField], endStream: Bool)
  case data([UInt8], endStream: Bool)
  case trailers([HTTPField])
  case reset(HTTPStreamErrorCode)
  case consume(Int)
}

/// Performs a call's stream operations in the order they were enqueued, never while a lock
/// is held, and tracks outbound writability.
///
/// A call enqueues operations while holding its own state lock, which fixes their order,
/// then calls ``drain()`` after releasing it. Only one thread drains at a time. Operations
/// that other threads, or the transport's callbacks during a drain, enqueue meanwhile are
/// performed by the draining thread. Lock order: a call's lock, then this writer's lock; this
/// writer never calls out while holding its lock.
final class StreamWriter: Sendable {
  private struct State {
    var stream: (any HTTPStream)?
    var operations: [OutboundOperation] = []
    var draining = false
    var writable = true
    /// Counts ``streamDidBecomeWritable()`` calls, so a `false` from `writeData` that raced
    /// with a later writability event does not mark the stream blocked again.
    var writabilityEpoch = 0
    var waiters: [CheckedContinuation<Void, any Error>] = []
    var failure: RPCError?
    /// Body bytes enqueued before the stream was attached, which no transport limits yet.
    var bytesBeforeAttach = 0

    var isWritable: Bool {
      writable && (stream != nil || bytesBeforeAttach < StreamWriter.maxBytesBeforeAttach)
    }
  }

  /// The body bytes that writers may enqueue before the stream exists; further writes wait
  /// until it is attached. A client call buffers its requests this way while it connects.
  static let maxBytesBeforeAttach = 65_536

  private let state: Mutex<State>

  init(stream: (any HTTPStream)?) {
    state = Mutex(State(stream: stream))
  }

  /// Sets the stream once it is known; operations enqueued before then wait for it.
  func attach(_ stream: any HTTPStream) {
    let waiters: [CheckedContinuation<Void, any Error>] = state.withLock { state in
      guard state.stream == nil else { return [] }
      state.stream = stream
      guard state.isWritable else { return [] }
      let waiters = state.waiters
      state.waiters.removeAll()
      return waiters
    }
    for waiter in waiters { waiter.resume() }
  }

  func enqueue(_ operation: OutboundOperation) {
    state.withLock { state in
      state.operations.append(operation)
      if state.stream == nil, case .data(let bytes, _) = operation {
        state.bytesBeforeAttach += bytes.count
      }
    }
  }

  /// Performs every enqueued operation unless another thread is already doing so.
  func drain() {
    while true {
      let batch: (stream: any HTTPStream, operations: [OutboundOperation], epoch: Int)? = state.withLock { state in
        guard !state.draining, !state.operations.isEmpty, let stream = state.stream else {
          return nil
        }
        state.draining = true
        let operations = state.operations
        state.operations.removeAll(keepingCapacity: true)
        return (stream, operations, state.writabilityEpoch)
      }
      guard let batch else { return }

      var blocked = false
      for operation in batch.operations {
        switch operation {
        case .headers(let fields, let endStream):
          batch.stream.writeHeaders(fields, endStream: endStream)
        case .data(let bytes, let endStream):
          if !batch.stream.writeData(bytes, endStream: endStream) { blocked = true }
        case .trailers(let fields):
          batch.stream.writeTrailers(fields)
        case .reset(let code):
          batch.stream.reset(code)
        case .consume(let count):
          batch.stream.consume(count)
        }
      }

      let again = state.withLock { state in
        state.draining = false
        if blocked && state.writabilityEpoch == batch.epoch {
          state.writable = false
        }
        return !state.operations.isEmpty
      }
      if !again { return }
    }
  }

  /// Waits until the stream's buffered outbound bytes are below the transport's high-water mark.
  ///
  /// - Throws: the ``RPCError`` passed to ``fail(_:)``.
  func waitUntilWritable() async throws {
    // Fast path without a continuation.
    let ready: Result<Bool, RPCError> = state.withLock { state in
      if let failure = state.failure { return .failure(failure) }
      return .success(state.isWritable)
    }
    switch ready {
    case .failure(let error): throw error
    case .success(true): return
    case .success(false): break
    }
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
      let immediate: Result<Void, RPCError>? = state.withLock { state in
        if let failure = state.failure { return .failure(failure) }
        if state.isWritable { return .success(()) }
        state.waiters.append(continuation)
        return nil
      }
      if let immediate { continuation.resume(with: immediate) }
    }
  }

  /// Records the transport's writability event and wakes waiting writers.
  func streamDidBecomeWritable() {
    let waiters: [CheckedContinuation<Void, any Error>] = state.withLock { state in
      state.writabilityEpoch &+= 1
      state.writable = true
      guard state.isWritable else { return [] }
      let waiters = state.waiters
      state.waiters.removeAll()
      return waiters
    }
    for waiter in waiters { waiter.resume() }
  }

  /// Makes current and later ``waitUntilWritable()`` calls throw `error`. The first error wins.
  func fail(_ error: RPCError) {
    let (waiters, failure) = state.withLock { state in
      if state.failure == nil { state.failure = error }
      let waiters = state.waiters
      state.waiters.removeAll()
      return (waiters, state.failure ?? error)
    }
    for waiter in waiters { waiter.resume(throwing: failure) }
  }
}
