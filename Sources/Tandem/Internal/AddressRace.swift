/// The state of a Happy Eyeballs race across a target's addresses (RFC 8305): the first
/// address starts, each next one after the attempt delay or at once when the previous attempt
/// fails, and the first connection wins. It returns the actions to take and does no I/O.
struct AddressRace {
  enum Action: Equatable {
    /// Start connecting to the address at this index.
    case start(Int)
    /// The attempt at this index won: hand its connection to the caller.
    case win(Int)
    /// The attempt at this index connected after another won: close it.
    case close(Int)
    /// Every attempt failed.
    case fail
    /// The race was cancelled before a winner: fail the caller with a cancellation.
    case cancel
  }

  let count: Int
  private(set) var next = 0
  private(set) var winner: Int?
  private var failed = 0
  private var finished = false

  init(count: Int) {
    self.count = count
  }

  mutating func begin() -> [Action] {
    guard !finished else { return [.cancel] }
    return startNext()
  }

  /// Ends the race without a winner, unless it is over. Connections that complete later are
  /// closed.
  mutating func cancel() -> [Action] {
    guard winner == nil, !finished else { return [] }
    finished = true
    return [.cancel]
  }

  /// Starts the next address because the attempt delay passed since the last start.
  mutating func delayElapsed() -> [Action] {
    guard winner == nil, !finished else { return [] }
    return startNext()
  }

  mutating func connected(_ index: Int) -> [Action] {
    guard winner == nil, !finished else { return [.close(index)] }
    winner = index
    return [.win(index)]
  }

  mutating func failed(_ index: Int) -> [Action] {
    failed += 1
    guard winner == nil, !finished else { return [] }
    if failed == count {
      finished = true
      return [.fail]
    }
    // RFC 8305, section 5: a failed attempt starts the next one at once.
    return startNext()
  }

  private mutating func startNext() -> [Action] {
    guard next < count else { return [] }
    next += 1
    return [.start(next - 1)]
  }
}
