import Glibc
import Synchronization

extension EventLoop {
  /// Every event loop of the process that is still alive, for the exit guard.
  private static let live = Mutex<[ObjectIdentifier: WeakEventLoop]>([:])

  private struct WeakEventLoop {
    weak var loop: EventLoop?
  }

  /// Adds `loop` to the loops that the exit guard parks.
  static func registerForExit(_ loop: EventLoop) {
    live.withLock { loops in
      loops = loops.filter { $0.value.loop != nil }
      loops[ObjectIdentifier(loop)] = WeakEventLoop(loop: loop)
    }
  }

  /// Installs, once, a process exit handler that parks every event loop before the exit
  /// handlers registered earlier run.
  ///
  /// C libraries such as OpenSSL free their global state in exit handlers, and GnuTLS in its
  /// library destructor. An event loop that still closes or opens a TLS connection at that
  /// moment, for example for a channel that was closed just before the program ended, then
  /// uses freed memory and the process crashes. Handlers run in the reverse order of
  /// registration, so the guard is installed when the first loop starts. It is installed again
  /// when Tandem first uses OpenSSL (``installExitGuardAfterOpenSSL()``), so that it also runs
  /// before an exit handler that OpenSSL registered for code that started it earlier. The
  /// guard waits at most 100 ms per running loop for the loop to finish its current turn, and
  /// then leaves the loop's thread blocked until the process ends.
  static func installExitGuard() {
    _ = guardAtFirstLoop
  }

  /// Installs the exit guard a second time, once, after OpenSSL started.
  static func installExitGuardAfterOpenSSL() {
    _ = guardAfterOpenSSL
  }

  private static let guardAtFirstLoop: Bool = {
    atexit { EventLoop.parkAllForExit() }
    return true
  }()

  private static let guardAfterOpenSSL: Bool = {
    atexit { EventLoop.parkAllForExit() }
    return true
  }()

  /// Whether the loops are parked already, by the guard's first run.
  private static let parkedForExit = Atomic<Bool>(false)

  private static func parkAllForExit() {
    guard !parkedForExit.exchange(true, ordering: .acquiringAndReleasing) else { return }
    let loops = live.withLock { $0.values.compactMap(\.loop) }
    for loop in loops where !loop.inEventLoop && !loop.hasStopped {
      let parked = Atomic<Bool>(false)
      loop.execute {
        parked.store(true, ordering: .releasing)
        // The thread stays here while the process runs its exit handlers and ends.
        while true {
          pause()
        }
      }
      for _ in 0..<100 where !parked.load(ordering: .acquiring) {
        usleep(1_000)
      }
    }
  }
}
