/// The state of one Happy Eyeballs race between TCP and QUIC to a target. It returns the
/// actions to take and does no I/O.
///
/// The preferred transport starts first, the other after the race delay or at once when the
/// preferred one fails. The first connection that completes wins, a later one is closed.
/// When QUIC fails while TCP works, QUIC is to be marked broken for the target, even when
/// QUIC fails after TCP has won.
struct ConnectionRace {
  enum Transport: Hashable, CustomStringConvertible {
    case tcp
    case quic

    var other: Transport { self == .tcp ? .quic : .tcp }
    var description: String { self == .tcp ? "tcp" : "quic" }
  }

  enum Action: Equatable {
    /// Start connecting over the transport.
    case start(Transport)
    /// The race is won: hand this transport's connection to the callers.
    case win(Transport)
    /// A connection completed after the race was won: close it.
    case close(Transport)
    /// Both transports failed: fail the callers with both reasons.
    case fail(tcp: String, quic: String)
    /// QUIC failed while TCP works: mark QUIC broken for the target.
    case markQUICBroken(reason: String)
    /// QUIC worked: clear its broken mark.
    case clearQUICMark
    /// The race was cancelled before a winner: fail the callers with a cancellation.
    case cancel
  }

  let preferred: Transport
  private(set) var started: Set<Transport> = []
  private(set) var winner: Transport?
  private var failures: [Transport: String] = [:]
  private var succeeded: Set<Transport> = []
  private var finished = false

  init(preferred: Transport) {
    self.preferred = preferred
  }

  /// Starts the preferred transport, and the other one too when `startBoth` is true (the
  /// preferred one is marked broken).
  mutating func begin(startBoth: Bool) -> [Action] {
    guard !finished else { return [.cancel] }
    started.insert(preferred)
    var actions: [Action] = [.start(preferred)]
    if startBoth {
      started.insert(preferred.other)
      actions.append(.start(preferred.other))
    }
    return actions
  }

  /// Starts the other transport because the race delay passed, unless the race is over.
  mutating func delayElapsed() -> [Action] {
    guard winner == nil, !finished, !started.contains(preferred.other) else { return [] }
    started.insert(preferred.other)
    return [.start(preferred.other)]
  }

  /// `transport` connected.
  mutating func connected(_ transport: Transport) -> [Action] {
    succeeded.insert(transport)
    var actions: [Action] = []
    if transport == .quic { actions.append(.clearQUICMark) }
    if winner == nil && !finished {
      winner = transport
      actions.append(.win(transport))
    } else {
      actions.append(.close(transport))
    }
    if transport == .tcp, let reason = failures[.quic] {
      actions.append(.markQUICBroken(reason: reason))
    }
    return actions
  }

  /// Ends the race without a winner, unless it is over. Connections that complete later are
  /// closed.
  mutating func cancel() -> [Action] {
    guard winner == nil, !finished else { return [] }
    finished = true
    return [.cancel]
  }

  /// `transport`'s attempt was stopped after the channel closed. A QUIC attempt still running
  /// after TCP connected in this race counts as a failure, so QUIC is marked broken: over a
  /// path where TCP works, a QUIC handshake that takes that long is not usable.
  mutating func stopped(_ transport: Transport, reason: String) -> [Action] {
    guard transport == .quic, succeeded.contains(.tcp) else { return [] }
    return failed(.quic, reason: reason)
  }

  /// `transport` failed with `reason`.
  mutating func failed(_ transport: Transport, reason: String) -> [Action] {
    failures[transport] = reason
    var actions: [Action] = []
    if transport == .quic && succeeded.contains(.tcp) {
      actions.append(.markQUICBroken(reason: reason))
    }
    guard winner == nil, !finished else { return actions }
    if !started.contains(transport.other) {
      started.insert(transport.other)
      actions.append(.start(transport.other))
    } else if let tcp = failures[.tcp], let quic = failures[.quic] {
      finished = true
      actions.append(.fail(tcp: tcp, quic: quic))
    }
    return actions
  }
}
