import Synchronization
import XCTest

@testable import TandemIO

final class EventLoopTests: XCTestCase {
  private var group: EventLoopGroup!

  override func setUp() {
    group = EventLoopGroup(threadCount: 2)
  }

  override func tearDown() async throws {
    await group.shutdownGracefully()
    group = nil
  }

  func testExecuteFromManyThreadsKeepsOrder() async {
    let loop = group.next()
    let log = Locked<[(Int, Int)]>([])
    let done = XCTestExpectation(description: "all work ran")
    let producers = 4
    let perProducer = 500
    let remaining = Locked(producers * perProducer)

    await withTaskGroup(of: Void.self) { tasks in
      for producer in 0..<producers {
        tasks.addTask {
          for sequence in 0..<perProducer {
            loop.execute {
              log.withLock { $0.append((producer, sequence)) }
              let left = remaining.withLock { value -> Int in
                value -= 1
                return value
              }
              if left == 0 {
                done.fulfill()
              }
            }
          }
        }
      }
    }
    await fulfillment(of: [done], timeout: testWaitSeconds)

    let entries = log.withLock { $0 }
    XCTAssertEqual(entries.count, producers * perProducer)
    for producer in 0..<producers {
      let sequences = entries.filter { $0.0 == producer }.map { $0.1 }
      XCTAssertEqual(sequences, Array(0..<perProducer), "producer \(producer) ran out of order")
    }
  }

  func testExecuteFromLoopThreadRuns() async {
    let loop = group.next()
    let done = XCTestExpectation(description: "nested work ran")
    let ranOnLoop = Locked(false)
    loop.execute {
      loop.execute {
        ranOnLoop.withLock { $0 = loop.inEventLoop }
        done.fulfill()
      }
    }
    await fulfillment(of: [done], timeout: testWaitSeconds)
    XCTAssertTrue(ranOnLoop.value)
  }

  func testInEventLoopFalseElsewhere() {
    XCTAssertFalse(group.next().inEventLoop)
  }

  func testEndOfTurnRunsAfterTasksAndDrains() async {
    let loop = group.next()
    let log = Locked<[String]>([])
    let done = XCTestExpectation(description: "next-turn task ran")
    loop.execute {
      log.withLock { $0.append("task") }
      loop.runAtEndOfTurn {
        log.withLock { $0.append("end 1") }
        loop.runAtEndOfTurn {
          log.withLock { $0.append("end 2") }
        }
      }
      loop.execute {
        log.withLock { $0.append("next turn") }
        done.fulfill()
      }
      log.withLock { $0.append("task continues") }
    }
    await fulfillment(of: [done], timeout: testWaitSeconds)
    XCTAssertEqual(log.withLock { $0 }, ["task", "task continues", "end 1", "end 2", "next turn"])
  }

  func testTimersFireInDeadlineOrder() async {
    let loop = group.next()
    let log = Locked<[String]>([])
    let done = XCTestExpectation(description: "last timer fired")
    loop.execute {
      loop.scheduleTimer(after: .milliseconds(30)) { log.withLock { $0.append("30 ms") } }
      loop.scheduleTimer(after: .milliseconds(10)) { log.withLock { $0.append("10 ms") } }
      loop.scheduleTimer(after: .milliseconds(20)) { log.withLock { $0.append("20 ms") } }
      loop.scheduleTimer(after: .zero) { log.withLock { $0.append("0 ms") } }
      loop.scheduleTimer(after: .milliseconds(40)) { done.fulfill() }
    }
    await fulfillment(of: [done], timeout: testWaitSeconds)
    XCTAssertEqual(log.withLock { $0 }, ["0 ms", "10 ms", "20 ms", "30 ms"])
  }

  func testTimerCancelledDoesNotFire() async {
    let loop = group.next()
    let log = Locked<[String]>([])
    let done = XCTestExpectation(description: "later timer fired")
    loop.execute {
      let cancelled = loop.scheduleTimer(after: .milliseconds(5)) { log.withLock { $0.append("cancelled") } }
      loop.scheduleTimer(after: .milliseconds(20)) {
        log.withLock { $0.append("kept") }
        done.fulfill()
      }
      cancelled.cancel()
    }
    await fulfillment(of: [done], timeout: testWaitSeconds)
    XCTAssertEqual(log.withLock { $0 }, ["kept"])
  }

  func testCancelledTimersDoNotAccumulate() async {
    let loop = group.next()
    let heapCount = Locked(-1)
    let done = XCTestExpectation(description: "timers scheduled and cancelled")
    loop.execute {
      for _ in 0..<10_000 {
        loop.scheduleTimer(after: .seconds(3600)) {}.cancel()
      }
      heapCount.withLock { $0 = loop.timerHeapCount }
      done.fulfill()
    }
    await fulfillment(of: [done], timeout: testWaitSeconds)
    XCTAssertLessThanOrEqual(heapCount.value, 200)
  }

  func testTaskExecutorPreferenceRunsOnLoop() async {
    let loop = group.next()
    let onLoop = await Task(executorPreference: loop) {
      loop.inEventLoop
    }.value
    XCTAssertTrue(onLoop)
  }

  func testActorOnLoopExecutorRunsOnLoop() async {
    let loop = group.next()
    let actor = LoopBoundCounter(loop: loop)
    let first = await actor.incrementOnLoop()
    let second = await actor.incrementOnLoop()
    XCTAssertEqual(first, 1)
    XCTAssertEqual(second, 2)
  }

  func testGroupNextIsRoundRobin() {
    let first = group.next()
    let second = group.next()
    let third = group.next()
    XCTAssertFalse(first === second)
    XCTAssertTrue(first === third)
  }

  func testShutdownClosesOpenConnections() async throws {
    let serverGroup = EventLoopGroup(threadCount: 1)
    let accepted = AcceptedConnections()
    let listener = try TCPListener.bind(host: "127.0.0.1", port: 0, group: serverGroup, tls: nil) { _ in
      let record = ConnectionRecord()
      accepted.add(record)
      return RecordingHandler(record: record)
    }
    let client = ConnectionRecord()
    try await TCPConnector.connect(
      host: "127.0.0.1", port: listener.port, on: group.next(), tls: nil, timeout: .seconds(10),
      handler: RecordingHandler(record: client))
    await fulfillment(of: [client.active], timeout: testWaitSeconds)
    while accepted.all.isEmpty {
      await Task.yield()
    }
    let server = accepted.all[0]
    await fulfillment(of: [server.active], timeout: testWaitSeconds)

    await serverGroup.shutdownGracefully()

    await fulfillment(of: [server.inactive, client.inactive], timeout: testWaitSeconds)
    XCTAssertTrue(server.snapshot.inactiveError is IOError)
    XCTAssertNil(client.snapshot.inactiveError)
  }
}

/// An actor whose executor is an event loop.
actor LoopBoundCounter {
  let loop: EventLoop
  private var count = 0

  init(loop: EventLoop) {
    self.loop = loop
  }

  nonisolated var unownedExecutor: UnownedSerialExecutor {
    loop.asUnownedSerialExecutor()
  }

  func incrementOnLoop() -> Int {
    // Fails the test through a crash if the actor ran elsewhere.
    loop.assertInEventLoop()
    count += 1
    return count
  }
}
