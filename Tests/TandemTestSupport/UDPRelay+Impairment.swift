extension UDPRelay {
  /// A direction of travel through the relay.
  enum Direction: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// From a client to the target.
    case toTarget
    /// From the target back to a client.
    case toClient

    var description: String {
      switch self {
      case .toTarget: "client to target"
      case .toClient: "target to client"
      }
    }
  }

  /// What the relay does to the datagrams of one direction.
  ///
  /// The checks run in this order for each datagram: black hole, drop, reorder, delay. A
  /// datagram that is held for reordering also gets the delay when it is released.
  struct Impairment: Sendable, Equatable {
    /// The share of datagrams dropped at random, 0 through 1; default 0.
    var dropProbability = 0.0

    /// The share of datagrams held back and sent after the next datagram of the same client
    /// and direction, 0 through 1; default 0. The datagram that follows a held one is never
    /// held itself, so with 1 the order 1 2 3 4 becomes 2 1 4 3.
    var reorderProbability = 0.0

    /// How long a held datagram waits for a next one before it is sent anyway, 1 ms through
    /// 10 s; default 50 ms. Without it the last datagram of a burst would never arrive.
    var maxHold: Duration = .milliseconds(50)

    /// The delay added to every datagram that is sent on, 0 through 10 s; default 0. Applied
    /// to both directions, it adds twice this value to the round-trip time. Datagrams keep
    /// their order while the value stays the same. A value lowered while datagrams wait lets
    /// newer datagrams overtake them.
    var delay: Duration = .zero

    /// When `true`, every datagram is dropped; default `false`.
    var blackHole = false

    init(
      dropProbability: Double = 0, reorderProbability: Double = 0, maxHold: Duration = .milliseconds(50),
      delay: Duration = .zero, blackHole: Bool = false
    ) {
      self.dropProbability = dropProbability
      self.reorderProbability = reorderProbability
      self.maxHold = maxHold
      self.delay = delay
      self.blackHole = blackHole
    }

    /// Throws ``UDPRelayError/invalidSetting(name:value:allowed:)`` for the first value out of range.
    func validate() throws(UDPRelayError) {
      for (name, value) in [("dropProbability", dropProbability), ("reorderProbability", reorderProbability)] {
        guard value.isFinite, (0.0...1.0).contains(value) else {
          throw .invalidSetting(name: name, value: "\(value)", allowed: "0...1")
        }
      }
      guard delay >= .zero, delay <= .seconds(10) else {
        throw .invalidSetting(name: "delay", value: "\(delay)", allowed: "0 seconds...10 seconds")
      }
      guard maxHold >= .milliseconds(1), maxHold <= .seconds(10) else {
        throw .invalidSetting(name: "maxHold", value: "\(maxHold)", allowed: "1 millisecond...10 seconds")
      }
    }
  }

  /// Datagram counts of one direction since the relay started.
  struct Counters: Sendable, Equatable {
    /// Datagrams that arrived at the relay.
    var received = 0
    /// Datagrams handed to the kernel for sending, including reordered and delayed ones.
    var forwarded = 0
    /// Datagrams dropped at random by ``Impairment/dropProbability``.
    var dropped = 0
    /// Datagrams dropped because ``Impairment/blackHole`` was on.
    var blackHoled = 0
    /// Datagrams held back for reordering.
    var reordered = 0
    /// Datagrams sent after ``Impairment/delay``.
    var delayed = 0
    /// Datagrams not sent: the kernel rejected the send, the relay closed while they waited,
    /// or a new client exceeded the session limit.
    var failed = 0
    /// The size of the first datagram that arrived, 0 before any.
    var firstSize = 0
    /// The size of the largest datagram that arrived.
    var largestSize = 0
  }
}

/// An invalid relay setting.
enum UDPRelayError: Error, Equatable, CustomStringConvertible {
  /// A setting outside its range.
  case invalidSetting(name: String, value: String, allowed: String)

  var description: String {
    switch self {
    case .invalidSetting(let name, let value, let allowed):
      "invalid UDPRelay setting \(name) = \(value): it must be in \(allowed)"
    }
  }
}

/// SplitMix64, a small seeded generator, so that a relay's random decisions repeat with the seed.
struct SeededGenerator: RandomNumberGenerator, Sendable {
  private var state: UInt64

  init(seed: UInt64) {
    state = seed
  }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var mixed = state
    mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
    mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
    return mixed ^ (mixed >> 31)
  }

  /// Returns a value in 0..<1 with 53 random bits.
  mutating func nextUnit() -> Double {
    Double(next() >> 11) * 0x1p-53
  }
}
