#if canImport(Glibc)
import Glibc
#endif
import CTandemShims
import Synchronization

/// One thread that waits on epoll and runs the I/O, tasks and timers of the connections it owns.
///
/// Each turn of the loop:
/// 1. waits in `epoll_wait` (level-triggered) for readiness, a wake-up or the next timer;
/// 2. handles the ready sockets;
/// 3. runs the timers whose deadline passed, in deadline order;
/// 4. runs the tasks that ``execute(_:)`` queued before this step began, in order;
/// 5. runs the ``runAtEndOfTurn(_:)`` callbacks until none are left, so callbacks that add
///    callbacks run in the same turn. Channels flush their writes here.
///
/// Sockets are registered level-triggered: a socket that still has unread bytes is reported
/// again in the next turn, so a channel reads a bounded amount per turn and the other
/// connections on the loop get their share.
///
/// Other threads reach the loop only through ``execute(_:)``, which appends to a locked queue
/// and wakes the loop through an eventfd. Everything else is for the loop thread only.
/// The loop also serves as a Swift `SerialExecutor` and `TaskExecutor`: a task started with
/// `Task(executorPreference: loop)`, or an actor whose `unownedExecutor` is the loop, runs its
/// jobs on the loop thread between the other work of a turn (step 4).
public final class EventLoop: @unchecked Sendable {
  /// Size of the buffer that every socket on this loop reads into: 64 KiB.
  static let readBufferSize = 64 * 1024

  enum QueuedWork: Sendable {
    case closure(@Sendable () -> Void)
    case job(UnownedJob)
  }

  struct SharedState {
    var queue: [QueuedWork] = []
    var wakeupPending = false
    var stopped = false
    var shutdownWaiters: [CheckedContinuation<Void, Never>] = []
  }

  let shared = Mutex(SharedState())
  private let threadID = Atomic<UInt>(0)
  let epollFD: Int32
  private let wakeupFD: Int32

  // The state below belongs to the loop thread.
  private var sources: [UInt64: any EventSource] = [:]
  private var nextSourceID: UInt64 = 1
  private var endOfTurn: [() -> Void] = []
  private var timers = TimerHeap()
  private var timerWork: [UInt64: () -> Void] = [:]
  private var nextTimerID: UInt64 = 1
  /// Heap entries whose timer was cancelled; the heap is rebuilt when they are the majority.
  private var cancelledTimerCount = 0
  private var stopRequested = false

  /// The buffer that sockets read into; valid only during a `didRead` call.
  let readBuffer: UnsafeMutableRawBufferPointer
  /// The buffer that TLS channels decrypt into.
  let tlsReadBuffer: UnsafeMutableRawBufferPointer

  /// The registration id of the eventfd; sources get ids from 1 up.
  private static let wakeupID: UInt64 = 0

  /// Starts a loop thread named `name`.
  ///
  /// Stops the process when the kernel refuses an epoll or eventfd descriptor, because a
  /// program without its event loops cannot do anything useful.
  init(name: String) {
    epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
    precondition(epollFD >= 0, "epoll_create1 failed: \(IOError.systemErrorText(errno))")
    wakeupFD = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
    precondition(wakeupFD >= 0, "eventfd failed: \(IOError.systemErrorText(errno))")
    var event = epoll_event()
    event.events = EPOLLIN.rawValue
    event.data.u64 = EventLoop.wakeupID
    let status = epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeupFD, &event)
    precondition(status == 0, "epoll_ctl(ADD eventfd) failed: \(IOError.systemErrorText(errno))")
    readBuffer = .allocate(byteCount: EventLoop.readBufferSize, alignment: 16)
    tlsReadBuffer = .allocate(byteCount: EventLoop.readBufferSize, alignment: 16)

    let context = Unmanaged.passRetained(ThreadContext(loop: self, name: name)).toOpaque()
    var thread = pthread_t()
    let created = pthread_create(&thread, nil, { argument in
      let context = Unmanaged<ThreadContext>.fromOpaque(argument!).takeRetainedValue()
      context.loop.runThread(name: context.name)
      return nil
    }, context)
    precondition(created == 0, "pthread_create failed: \(IOError.systemErrorText(created))")
    pthread_detach(thread)
    EventLoop.registerForExit(self)
    EventLoop.installExitGuard()
  }

  /// Whether the loop has stopped and drops new work.
  var hasStopped: Bool {
    shared.withLock { $0.stopped }
  }

  deinit {
    readBuffer.deallocate()
    tlsReadBuffer.deallocate()
  }

  private final class ThreadContext {
    let loop: EventLoop
    let name: String
    init(loop: EventLoop, name: String) {
      self.loop = loop
      self.name = name
    }
  }

  /// Whether the calling thread is this loop's thread.
  public var inEventLoop: Bool {
    let id = threadID.load(ordering: .acquiring)
    return id != 0 && pthread_equal(pthread_t(id), pthread_self()) != 0
  }

  /// Stops the process unless the calling thread is this loop's thread.
  public func assertInEventLoop(file: StaticString = #fileID, line: UInt = #line) {
    precondition(inEventLoop, "called off the event loop thread", file: file, line: line)
  }

  /// Queues `work` to run on the loop thread, after the tasks queued before it.
  ///
  /// Safe from any thread, including the loop thread itself, where the work runs in a later
  /// step of the turn rather than immediately. Work queued after the loop shut down is
  /// dropped.
  public func execute(_ work: @escaping @Sendable () -> Void) {
    enqueue(.closure(work))
  }

  func enqueue(_ work: QueuedWork) {
    let needsWakeup = shared.withLock { state -> Bool in
      guard !state.stopped else { return false }
      state.queue.append(work)
      let needsWakeup = !state.wakeupPending
      state.wakeupPending = true
      return needsWakeup
    }
    // The loop thread checks the queue before it waits, so it needs no wake-up.
    if needsWakeup && !inEventLoop {
      var one: UInt64 = 1
      _ = Glibc.write(wakeupFD, &one, MemoryLayout<UInt64>.size)
    }
  }

  /// Runs `work` on the loop thread after this turn's I/O, timers and tasks and before the
  /// loop waits again. Callbacks run in the order added; callbacks may add more, which run
  /// in the same turn. Loop thread only.
  public func runAtEndOfTurn(_ work: @escaping () -> Void) {
    assertInEventLoop()
    endOfTurn.append(work)
  }

  /// Runs `work` on the loop thread once `after` has passed on the monotonic clock.
  ///
  /// Timers with the same deadline fire in the order they were scheduled. A zero or negative
  /// duration fires in the current or next turn. Loop thread only.
  @discardableResult
  public func scheduleTimer(after: Duration, _ work: @escaping () -> Void) -> TimerHandle {
    assertInEventLoop()
    let id = nextTimerID
    nextTimerID += 1
    let deadline = MonotonicClock.now() &+ MonotonicClock.nanoseconds(after)
    timers.insert(.init(deadline: deadline, id: id))
    timerWork[id] = work
    return TimerHandle(loop: self, id: id)
  }

  /// Entries in the timer heap, cancelled ones included. Loop thread only.
  var timerHeapCount: Int { timers.count }

  func cancelTimer(id: UInt64) {
    guard timerWork.removeValue(forKey: id) != nil else { return }
    cancelledTimerCount += 1
    // Timers that are rescheduled often (idle, keepalive) would otherwise leave an entry
    // each until their deadline passes.
    if cancelledTimerCount > 64, cancelledTimerCount > timers.count / 2 {
      timers.filter { timerWork[$0.id] != nil }
      cancelledTimerCount = 0
    }
  }

  /// Asks the loop to stop after the current turn, and waits until its thread has exited.
  ///
  /// On stopping, the loop closes every socket it owns (their handlers get `channelInactive`
  /// with an ``IOError``), runs the work already queued, and closes its epoll and eventfd
  /// descriptors. Do not call this from a task that runs on this loop, because it would wait
  /// for itself.
  func shutdown() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      let alreadyStopped = shared.withLock { state -> Bool in
        if state.stopped { return true }
        state.shutdownWaiters.append(continuation)
        return false
      }
      if alreadyStopped {
        continuation.resume()
        return
      }
      execute { self.stopRequested = true }
    }
  }

  // MARK: Sources

  /// Adds `fd` to epoll with `events`, dispatching readiness to `source`. Loop thread only.
  ///
  /// - Returns: the registration id that ``modify(fd:id:events:)`` and ``deregister(fd:id:)`` take.
  func register(fd: Int32, events: UInt32, source: any EventSource) throws(IOError) -> UInt64 {
    assertInEventLoop()
    let id = nextSourceID
    nextSourceID += 1
    var event = epoll_event()
    event.events = events
    event.data.u64 = id
    guard epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0 else {
      throw IOError(operation: "epoll_ctl(ADD)", errno: errno)
    }
    sources[id] = source
    return id
  }

  func modify(fd: Int32, id: UInt64, events: UInt32) throws(IOError) {
    var event = epoll_event()
    event.events = events
    event.data.u64 = id
    guard epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event) == 0 else {
      throw IOError(operation: "epoll_ctl(MOD)", errno: errno)
    }
  }

  /// Removes `fd` from epoll. Call before closing the descriptor.
  func deregister(fd: Int32, id: UInt64) {
    var event = epoll_event()
    _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, &event)
    sources[id] = nil
  }

  // MARK: The loop

  private func runThread(name: String) {
    threadID.store(UInt(pthread_self()), ordering: .releasing)
    _ = tandem_set_thread_name(String(name.prefix(15)))

    let capacity: Int32 = 256
    let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: Int(capacity))
    defer { events.deallocate() }

    while !stopRequested {
      let count = epoll_wait(epollFD, events, capacity, waitTimeout())
      if count < 0 {
        if errno == EINTR { continue }
        fatalError("epoll_wait failed: \(IOError.systemErrorText(errno))")
      }
      for index in 0..<Int(count) {
        let event = events[index]
        if event.data.u64 == EventLoop.wakeupID {
          var value: UInt64 = 0
          _ = Glibc.read(wakeupFD, &value, MemoryLayout<UInt64>.size)
        } else if let source = sources[event.data.u64] {
          source.handleEvents(event.events)
        }
      }
      runExpiredTimers()
      runQueuedWork()
      runEndOfTurnCallbacks()
    }
    finishShutdown()
  }

  /// Returns the epoll_wait timeout in milliseconds: 0 when work is waiting, -1 when nothing is due.
  private func waitTimeout() -> Int32 {
    if !endOfTurn.isEmpty { return 0 }
    if shared.withLock({ !$0.queue.isEmpty }) { return 0 }
    while let first = timers.first, timerWork[first.id] == nil {
      _ = timers.removeFirst()
      cancelledTimerCount = max(0, cancelledTimerCount - 1)
    }
    guard let first = timers.first else { return -1 }
    let now = MonotonicClock.now()
    if first.deadline <= now { return 0 }
    // Round up so a timer never fires before its deadline.
    let milliseconds = (first.deadline - now + 999_999) / 1_000_000
    return Int32(min(milliseconds, UInt64(Int32.max)))
  }

  private func runExpiredTimers() {
    guard !timers.isEmpty else { return }
    let now = MonotonicClock.now()
    while let first = timers.first, first.deadline <= now {
      _ = timers.removeFirst()
      if let work = timerWork.removeValue(forKey: first.id) {
        work()
      } else {
        cancelledTimerCount = max(0, cancelledTimerCount - 1)
      }
    }
  }

  private func runQueuedWork() {
    let batch = shared.withLock { state -> [QueuedWork] in
      state.wakeupPending = false
      let batch = state.queue
      state.queue.removeAll(keepingCapacity: true)
      return batch
    }
    for work in batch {
      run(work)
    }
  }

  private func run(_ work: QueuedWork) {
    switch work {
    case .closure(let closure):
      closure()
    case .job(let job):
      job.runSynchronously(isolatedTo: asUnownedSerialExecutor(), taskExecutor: asUnownedTaskExecutor())
    }
  }

  private func runEndOfTurnCallbacks() {
    while !endOfTurn.isEmpty {
      let batch = endOfTurn
      endOfTurn.removeAll()
      for work in batch {
        work()
      }
    }
  }

  private func finishShutdown() {
    let open = sources.values
    sources.removeAll()
    for source in open {
      source.eventLoopWillClose()
    }
    runEndOfTurnCallbacks()
    timerWork.removeAll()
    timers = TimerHeap()

    // Run what was queued before the loop stopped; later work is dropped by `enqueue`.
    let (remaining, waiters) = shared.withLock { state in
      state.stopped = true
      let result = (state.queue, state.shutdownWaiters)
      state.queue.removeAll()
      state.shutdownWaiters.removeAll()
      return result
    }
    for work in remaining {
      run(work)
    }
    runEndOfTurnCallbacks()

    Glibc.close(wakeupFD)
    Glibc.close(epollFD)
    for waiter in waiters {
      waiter.resume()
    }
  }
}

/// A receiver of epoll readiness: a socket, a listener or a pending connect.
protocol EventSource: AnyObject {
  /// Handles the epoll event mask `events` for this source.
  func handleEvents(_ events: UInt32)

  /// Closes the descriptor without deregistering it, because the loop is stopping.
  func eventLoopWillClose()
}
