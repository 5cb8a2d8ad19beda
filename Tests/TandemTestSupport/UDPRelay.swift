import Synchronization
import TandemIO

/// A UDP relay between test clients and one target that can drop, reorder, delay and
/// black-hole datagrams, for tests of QUIC over a lossy path.
///
/// The relay listens on a port the kernel picks (``port``). Each client address gets its own
/// upstream socket on the loopback address of the target's family, which sends to the target
/// and carries the target's replies back, so the target gets one peer address per client. The
/// impairments apply per direction and can change while the relay runs. Random decisions come
/// from one generator per direction seeded from `seed`: with the same seed and the same
/// datagram order in a direction, a run makes the same decisions.
///
/// Threads: every method is safe from any thread. Datagrams are handled on the relay's loop.
final class UDPRelay: @unchecked Sendable {
  /// The relay's event loop.
  let eventLoop: EventLoop

  /// Where datagrams from clients go.
  let target: SocketAddress

  /// The address clients send to.
  let address: SocketAddress

  /// The port clients send to.
  var port: Int { address.port }

  /// The maximum number of client addresses served at once; datagrams from further clients
  /// are counted in ``Counters/failed`` and dropped.
  let maxSessions: Int

  private struct Shared {
    var impairments: [Direction: Impairment]
    var counters: [Direction: Counters] = [.toTarget: Counters(), .toClient: Counters()]
  }

  private let shared: Mutex<Shared>

  // The state below belongs to the loop thread.
  private var listener: UDPSocket?
  private var sessions: [SocketAddress: Session] = [:]
  private var generators: [Direction: SeededGenerator]
  private var isClosed = false
  private var socketConfiguration: UDPSocketConfiguration

  /// Starts a relay that forwards to `target`.
  ///
  /// - Parameters:
  ///   - target: the address datagrams from clients go to.
  ///   - host: the numeric address to listen on; default `127.0.0.1`.
  ///   - port: the port to listen on; default 0, a free one (see ``port``).
  ///   - loop: the loop that runs the relay's sockets and timers.
  ///   - seed: the seed of the random decisions; default 1.
  ///   - impairment: the starting impairment of both directions; default none.
  ///   - maxSessions: the maximum number of client addresses, 1 through 1,024; default 64.
  /// - Throws: ``UDPRelayError`` for an impairment or `maxSessions` out of range, and
  ///   ``IOError`` when the listening socket cannot be bound.
  init(
    target: SocketAddress, host: String = "127.0.0.1", port: Int = 0, on loop: EventLoop, seed: UInt64 = 1,
    impairment: Impairment = Impairment(), maxSessions: Int = 64
  ) throws {
    try impairment.validate()
    guard (1...1024).contains(maxSessions) else {
      throw UDPRelayError.invalidSetting(name: "maxSessions", value: "\(maxSessions)", allowed: "1...1024")
    }
    eventLoop = loop
    self.target = target
    self.maxSessions = maxSessions
    shared = Mutex(Shared(impairments: [.toTarget: impairment, .toClient: impairment]))
    generators = [
      .toTarget: SeededGenerator(seed: seed),
      .toClient: SeededGenerator(seed: seed ^ 0x5DEE_CE66_D1CE_4E5B),
    ]
    // QUIC datagrams on loopback can be larger than the default 2,048-byte slots.
    var configuration = UDPSocketConfiguration()
    configuration.maxDatagramSize = 65_535
    configuration.receiveBatchSize = 8
    socketConfiguration = configuration

    let listenerHandler = ListenerHandler()
    let listener = try UDPSocket.bind(
      host: host, port: port, on: loop, configuration: configuration, handler: listenerHandler)
    address = listener.localAddress
    self.listener = listener
    listenerHandler.relay = self
  }

  // MARK: Settings and counters

  /// Sets the impairment of `direction`, or of both directions when `direction` is `nil`.
  /// Datagrams that arrive afterwards use it.
  ///
  /// - Throws: ``UDPRelayError/invalidSetting(name:value:allowed:)`` naming the value out of range.
  func setImpairment(_ impairment: Impairment, for direction: Direction? = nil) throws(UDPRelayError) {
    try impairment.validate()
    shared.withLock { state in
      for selected in direction.map({ [$0] }) ?? Direction.allCases {
        state.impairments[selected] = impairment
      }
    }
  }

  /// Turns dropping of every datagram on or off in both directions, keeping the other settings.
  func setBlackHole(_ isOn: Bool) {
    shared.withLock { state in
      for direction in Direction.allCases {
        state.impairments[direction]?.blackHole = isOn
      }
    }
  }

  /// Returns the impairment of `direction`.
  func impairment(for direction: Direction) -> Impairment {
    shared.withLock { $0.impairments[direction] ?? Impairment() }
  }

  /// Returns the counts of `direction` so far.
  func counters(for direction: Direction) -> Counters {
    shared.withLock { $0.counters[direction] ?? Counters() }
  }

  fileprivate func count(_ direction: Direction, _ update: (inout Counters) -> Void) {
    shared.withLock { state in
      update(&state.counters[direction, default: Counters()])
    }
  }

  // MARK: Closing

  /// Closes the listening socket and every upstream socket, and returns once the loop has
  /// done so. Held datagrams are dropped and counted in ``Counters/failed`` at once. Delayed
  /// ones are dropped when their timer fires, and counted then if the loop still runs.
  func close() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      eventLoop.execute {
        self.closeOnLoop()
        continuation.resume()
      }
    }
  }

  private func closeOnLoop() {
    guard !isClosed else { return }
    isClosed = true
    listener?.close()
    listener = nil
    for session in sessions.values {
      for direction in Direction.allCases {
        if let heldDatagram = session.heldDatagrams.removeValue(forKey: direction) {
          heldDatagram.timer.cancel()
          count(direction) { $0.failed += 1 }
        }
      }
      session.upstream?.close()
    }
    sessions.removeAll()
  }

  // MARK: Datagrams

  fileprivate func receiveFromClients(_ datagrams: [UDPDatagram]) {
    guard !isClosed else { return }
    for datagram in datagrams {
      guard let session = session(for: datagram.remoteAddress) else {
        count(.toTarget) {
          $0.received += 1
          $0.failed += 1
        }
        continue
      }
      process(datagram.bytes, direction: .toTarget, session: session)
    }
  }

  fileprivate func receiveFromTarget(_ datagrams: [UDPDatagram], session: Session) {
    guard !isClosed else { return }
    for datagram in datagrams where datagram.remoteAddress == target {
      process(datagram.bytes, direction: .toClient, session: session)
    }
  }

  /// Returns the session of `client`, creating it with a new upstream socket, or `nil` when
  /// the session limit is reached or the socket cannot be bound.
  private func session(for client: SocketAddress) -> Session? {
    if let session = sessions[client] {
      return session
    }
    guard sessions.count < maxSessions else { return nil }
    let session = Session(client: client, relay: self)
    let upstreamHost = target.family == .ipv6 ? "::1" : "127.0.0.1"
    do {
      session.upstream = try UDPSocket.bind(
        host: upstreamHost, port: 0, on: eventLoop, configuration: socketConfiguration, handler: session)
    } catch {
      return nil
    }
    sessions[client] = session
    return session
  }

  /// Applies the impairment of `direction` to one datagram and sends it on, now or later.
  private func process(_ bytes: UnsafeRawBufferPointer, direction: Direction, session: Session) {
    let settings = impairment(for: direction)
    // Both numbers are drawn for every datagram, so the decision for the Nth datagram of a
    // direction depends only on the seed and N, even when the settings change.
    let dropDraw = generators[direction, default: SeededGenerator(seed: 0)].nextUnit()
    let reorderDraw = generators[direction, default: SeededGenerator(seed: 0)].nextUnit()
    count(direction) { counters in
      counters.received += 1
      if counters.firstSize == 0 { counters.firstSize = bytes.count }
      counters.largestSize = max(counters.largestSize, bytes.count)
    }

    if settings.blackHole {
      count(direction) { $0.blackHoled += 1 }
      return
    }
    if dropDraw < settings.dropProbability {
      count(direction) { $0.dropped += 1 }
      return
    }
    if let heldDatagram = session.heldDatagrams.removeValue(forKey: direction) {
      // This datagram overtakes the held one, which follows it at once.
      heldDatagram.timer.cancel()
      deliver(bytes, direction: direction, session: session, delay: settings.delay)
      heldDatagram.bytes.withUnsafeBytes { deliver($0, direction: direction, session: session, delay: settings.delay) }
      return
    }
    if reorderDraw < settings.reorderProbability {
      count(direction) { $0.reordered += 1 }
      let copy = [UInt8](bytes)
      let timer = eventLoop.scheduleTimer(after: settings.maxHold) { [weak self, weak session] in
        guard let self, let session, let heldDatagram = session.heldDatagrams.removeValue(forKey: direction) else { return }
        heldDatagram.bytes.withUnsafeBytes {
          self.deliver($0, direction: direction, session: session, delay: self.impairment(for: direction).delay)
        }
      }
      session.heldDatagrams[direction] = HeldDatagram(bytes: copy, timer: timer)
      return
    }
    deliver(bytes, direction: direction, session: session, delay: settings.delay)
  }

  private func deliver(_ bytes: UnsafeRawBufferPointer, direction: Direction, session: Session, delay: Duration) {
    guard delay > .zero else {
      send(bytes, direction: direction, session: session)
      return
    }
    count(direction) { $0.delayed += 1 }
    let copy = [UInt8](bytes)
    eventLoop.scheduleTimer(after: delay) { [weak self, weak session] in
      guard let self else { return }
      guard let session, !self.isClosed else {
        self.count(direction) { $0.failed += 1 }
        return
      }
      copy.withUnsafeBytes { self.send($0, direction: direction, session: session) }
    }
  }

  private func send(_ bytes: UnsafeRawBufferPointer, direction: Direction, session: Session) {
    let socket: UDPSocket?
    let destination: SocketAddress
    switch direction {
    case .toTarget:
      socket = session.upstream
      destination = target
    case .toClient:
      socket = listener
      destination = session.client
    }
    // Counted before the send, so a test that has received the datagram reads the new count.
    count(direction) { $0.forwarded += 1 }
    do {
      guard let socket else {
        throw IOError(
          operation: "send", address: destination.description, errnoCode: nil, reason: "the relay socket is closed")
      }
      try socket.send(bytes, to: destination)
    } catch {
      count(direction) {
        $0.forwarded -= 1
        $0.failed += 1
      }
    }
  }
}

/// A datagram held back for reordering.
private struct HeldDatagram {
  var bytes: [UInt8]
  var timer: TimerHandle
}

/// One client address and its upstream socket. Loop thread only.
private final class Session: UDPSocketHandler {
  let client: SocketAddress
  weak var relay: UDPRelay?
  var upstream: UDPSocket?
  var heldDatagrams: [UDPRelay.Direction: HeldDatagram] = [:]

  init(client: SocketAddress, relay: UDPRelay) {
    self.client = client
    self.relay = relay
  }

  func socket(_ socket: UDPSocket, didReceive datagrams: [UDPDatagram]) {
    relay?.receiveFromTarget(datagrams, session: self)
  }

  /// Counts a queued send to the target that failed after the kernel buffer had been full.
  func socket(_ socket: UDPSocket, didFailToSend error: IOError) {
    relay?.count(.toTarget) { $0.failed += 1 }
  }

  func socketDidClose(_ socket: UDPSocket, error: IOError?) {}
}

/// Receives the clients' datagrams on the listening socket. Loop thread only.
private final class ListenerHandler: UDPSocketHandler {
  weak var relay: UDPRelay?

  func socket(_ socket: UDPSocket, didReceive datagrams: [UDPDatagram]) {
    relay?.receiveFromClients(datagrams)
  }

  /// Counts a queued send to a client that failed after the kernel buffer had been full.
  func socket(_ socket: UDPSocket, didFailToSend error: IOError) {
    relay?.count(.toClient) { $0.failed += 1 }
  }

  func socketDidClose(_ socket: UDPSocket, error: IOError?) {}
}
