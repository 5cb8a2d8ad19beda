import Synchronization

/// A fixed set of ``EventLoop`` threads that connections are spread over.
public final class EventLoopGroup: Sendable {
  /// The loops, one thread each.
  public let eventLoops: [EventLoop]
  private let nextIndex = Atomic<Int>(0)

  /// Starts `threadCount` loop threads, named `tandem-io-0`, `tandem-io-1` and so on.
  ///
  /// - Precondition: `threadCount` is at least 1.
  public init(threadCount: Int = System.coreCount) {
    precondition(threadCount >= 1, "EventLoopGroup threadCount is \(threadCount); it must be at least 1")
    eventLoops = (0..<threadCount).map { EventLoop(name: "tandem-io-\($0)") }
  }

  /// Returns the next loop in round-robin order. Safe from any thread.
  public func next() -> EventLoop {
    let index = nextIndex.wrappingAdd(1, ordering: .relaxed).oldValue
    return eventLoops[Int(UInt(bitPattern: index) % UInt(eventLoops.count))]
  }

  /// Stops every loop and waits until their threads have exited.
  ///
  /// Open sockets are closed and their handlers get `channelInactive` with an ``IOError``.
  /// Calling it again returns once the loops have stopped. Do not call it from a task that
  /// runs on one of this group's loops.
  public func shutdownGracefully() async {
    for loop in eventLoops {
      await loop.shutdown()
    }
  }

  /// A process-wide group with one loop per core, created on first use and never shut down.
  public static let shared = EventLoopGroup()
}
