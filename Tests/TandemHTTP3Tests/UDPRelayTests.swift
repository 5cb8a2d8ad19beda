import TandemIO
import XCTest

@testable import TandemTestSupport

/// Checks of the test relay with plain UDP sockets on 127.0.0.1: forwarding, sessions, every
/// impairment, seeded repeatability and invalid settings.
final class UDPRelayTests: XCTestCase {
  private var group: EventLoopGroup!
  private var target: LoopbackUDPSocket!
  private var relays: [UDPRelay] = []

  /// A generous wait for datagrams that must arrive; checks never depend on how fast they do.
  private let arrivalTimeout = Duration.seconds(5)
  /// How long to wait for datagrams that must not arrive.
  private let silenceTimeout = Duration.milliseconds(300)

  override func setUp() async throws {
    group = EventLoopGroup(threadCount: 1)
    target = try LoopbackUDPSocket()
  }

  override func tearDown() async throws {
    for relay in relays {
      await relay.close()
    }
    relays = []
    await group.shutdownGracefully()
  }

  private func makeRelay(
    seed: UInt64 = 1, impairment: UDPRelay.Impairment = UDPRelay.Impairment(), maxSessions: Int = 64
  ) throws -> UDPRelay {
    let relay = try UDPRelay(
      target: SocketAddress(ipAddress: "127.0.0.1", port: target.port), on: group.next(), seed: seed,
      impairment: impairment, maxSessions: maxSessions)
    relays.append(relay)
    return relay
  }

  private func datagram(_ index: Int) -> [UInt8] {
    Array("datagram \(index)".utf8)
  }

  private func index(of bytes: [UInt8]) -> Int? {
    Int(String(decoding: bytes, as: UTF8.self).dropFirst("datagram ".count))
  }

  /// Waits, bounded, until `direction` has received `count` datagrams.
  private func waitUntilReceived(_ count: Int, relay: UDPRelay, direction: UDPRelay.Direction = .toTarget) async throws {
    for _ in 0..<500 where relay.counters(for: direction).received < count {
      try await Task.sleep(for: .milliseconds(10))
    }
    XCTAssertEqual(relay.counters(for: direction).received, count, "datagrams that reached the relay")
  }

  // MARK: Forwarding

  func testForwardsBothWays() async throws {
    let relay = try makeRelay()
    let client = try LoopbackUDPSocket()

    for index in 0..<5 {
      try client.send(datagram(index), toPort: relay.port)
      let request = try XCTUnwrap(try target.receive(timeout: arrivalTimeout), "datagram \(index) at the target")
      XCTAssertEqual(request.bytes, datagram(index))
      XCTAssertNotEqual(request.port, client.port, "the target must see the relay's upstream port")

      try target.send(Array("reply \(index)".utf8), toPort: request.port)
      let reply = try XCTUnwrap(try client.receive(timeout: arrivalTimeout), "reply \(index) at the client")
      XCTAssertEqual(reply.bytes, Array("reply \(index)".utf8))
      XCTAssertEqual(reply.port, relay.port, "replies must come from the relay's listening port")
    }

    let toTarget = relay.counters(for: .toTarget)
    XCTAssertEqual(toTarget.received, 5)
    XCTAssertEqual(toTarget.forwarded, 5)
    XCTAssertEqual(toTarget.failed, 0)
    let toClient = relay.counters(for: .toClient)
    XCTAssertEqual(toClient.received, 5)
    XCTAssertEqual(toClient.forwarded, 5)
  }

  func testUpstreamSocketPerClient() throws {
    let relay = try makeRelay()
    let first = try LoopbackUDPSocket()
    let second = try LoopbackUDPSocket()

    try first.send(Array("first".utf8), toPort: relay.port)
    let fromFirst = try XCTUnwrap(try target.receive(timeout: arrivalTimeout))
    try second.send(Array("second".utf8), toPort: relay.port)
    let fromSecond = try XCTUnwrap(try target.receive(timeout: arrivalTimeout))
    XCTAssertEqual(fromFirst.bytes, Array("first".utf8))
    XCTAssertEqual(fromSecond.bytes, Array("second".utf8))
    XCTAssertNotEqual(fromFirst.port, fromSecond.port, "each client needs its own upstream port")

    try target.send(Array("to second".utf8), toPort: fromSecond.port)
    try target.send(Array("to first".utf8), toPort: fromFirst.port)
    XCTAssertEqual(try second.receive(timeout: arrivalTimeout)?.bytes, Array("to second".utf8))
    XCTAssertEqual(try first.receive(timeout: arrivalTimeout)?.bytes, Array("to first".utf8))
  }

  func testSessionLimitDropsNewClients() async throws {
    let relay = try makeRelay(maxSessions: 1)
    let first = try LoopbackUDPSocket()
    let second = try LoopbackUDPSocket()

    try first.send(Array("first".utf8), toPort: relay.port)
    XCTAssertEqual(try target.receive(timeout: arrivalTimeout)?.bytes, Array("first".utf8))
    try second.send(Array("second".utf8), toPort: relay.port)
    try await waitUntilReceived(2, relay: relay)

    XCTAssertNil(try target.receive(timeout: silenceTimeout), "a client over the limit must not get through")
    XCTAssertEqual(relay.counters(for: .toTarget).failed, 1)
  }

  // MARK: Impairments

  func testDropAllThenNone() async throws {
    let relay = try makeRelay(impairment: UDPRelay.Impairment(dropProbability: 1))
    let client = try LoopbackUDPSocket()

    for index in 0..<10 {
      try client.send(datagram(index), toPort: relay.port)
    }
    try await waitUntilReceived(10, relay: relay)
    XCTAssertNil(try target.receive(timeout: silenceTimeout), "nothing may pass at drop probability 1")
    XCTAssertEqual(relay.counters(for: .toTarget).dropped, 10)
    XCTAssertEqual(relay.counters(for: .toTarget).forwarded, 0)

    try relay.setImpairment(UDPRelay.Impairment(dropProbability: 0))
    try client.send(datagram(10), toPort: relay.port)
    XCTAssertEqual(try target.receive(timeout: arrivalTimeout)?.bytes, datagram(10))
  }

  func testBlackHoleSwitch() async throws {
    let relay = try makeRelay()
    let client = try LoopbackUDPSocket()

    relay.setBlackHole(true)
    XCTAssertTrue(relay.impairment(for: .toClient).blackHole)
    try client.send(datagram(1), toPort: relay.port)
    try await waitUntilReceived(1, relay: relay)
    XCTAssertNil(try target.receive(timeout: silenceTimeout))
    XCTAssertEqual(relay.counters(for: .toTarget).blackHoled, 1)

    relay.setBlackHole(false)
    try client.send(datagram(2), toPort: relay.port)
    XCTAssertEqual(try target.receive(timeout: arrivalTimeout)?.bytes, datagram(2))
  }

  func testDropsOneDirectionOnly() async throws {
    let relay = try makeRelay()
    try relay.setImpairment(UDPRelay.Impairment(dropProbability: 1), for: .toClient)
    let client = try LoopbackUDPSocket()

    try client.send(datagram(1), toPort: relay.port)
    let request = try XCTUnwrap(try target.receive(timeout: arrivalTimeout), "the client-to-target direction is clear")
    try target.send(Array("reply".utf8), toPort: request.port)
    try await waitUntilReceived(1, relay: relay, direction: .toClient)
    XCTAssertNil(try client.receive(timeout: silenceTimeout), "the target-to-client direction drops everything")
    XCTAssertEqual(relay.counters(for: .toClient).dropped, 1)
    XCTAssertEqual(relay.impairment(for: .toTarget), UDPRelay.Impairment())
  }

  func testReorderSwapsPairs() async throws {
    // maxHold is long, so only the next datagram releases a held one.
    let relay = try makeRelay(impairment: UDPRelay.Impairment(reorderProbability: 1, maxHold: .seconds(10)))
    let client = try LoopbackUDPSocket()

    for index in 1...4 {
      try client.send(datagram(index), toPort: relay.port)
    }
    var order: [Int] = []
    for _ in 1...4 {
      let received = try XCTUnwrap(try target.receive(timeout: arrivalTimeout), "after \(order)")
      order.append(try XCTUnwrap(index(of: received.bytes)))
    }
    XCTAssertEqual(order, [2, 1, 4, 3])
    XCTAssertEqual(relay.counters(for: .toTarget).reordered, 2)
    XCTAssertEqual(relay.counters(for: .toTarget).forwarded, 4)
  }

  func testHeldDatagramSentAfterMaxHold() throws {
    let relay = try makeRelay(impairment: UDPRelay.Impairment(reorderProbability: 1, maxHold: .milliseconds(20)))
    let client = try LoopbackUDPSocket()

    try client.send(datagram(1), toPort: relay.port)
    XCTAssertEqual(try target.receive(timeout: arrivalTimeout)?.bytes, datagram(1), "a lone held datagram must still arrive")
    XCTAssertEqual(relay.counters(for: .toTarget).reordered, 1)
  }

  func testDelayKeepsOrder() throws {
    let relay = try makeRelay(impairment: UDPRelay.Impairment(delay: .milliseconds(30)))
    let client = try LoopbackUDPSocket()

    for index in 0..<20 {
      try client.send(datagram(index), toPort: relay.port)
    }
    var order: [Int] = []
    for _ in 0..<20 {
      let received = try XCTUnwrap(try target.receive(timeout: arrivalTimeout), "after \(order)")
      order.append(try XCTUnwrap(index(of: received.bytes)))
    }
    XCTAssertEqual(order, Array(0..<20))
    XCTAssertEqual(relay.counters(for: .toTarget).delayed, 20)
  }

  func testSameSeedSameDrops() async throws {
    let count = 200
    var delivered: [Set<Int>] = []
    for _ in 0..<2 {
      let relay = try makeRelay(seed: 42, impairment: UDPRelay.Impairment(dropProbability: 0.5))
      let client = try LoopbackUDPSocket()
      for index in 0..<count {
        try client.send(datagram(index), toPort: relay.port)
      }
      try await waitUntilReceived(count, relay: relay)
      let counters = relay.counters(for: .toTarget)
      XCTAssertEqual(counters.forwarded + counters.dropped, count)
      var indices = Set<Int>()
      for _ in 0..<counters.forwarded {
        let received = try XCTUnwrap(try target.receive(timeout: arrivalTimeout))
        indices.insert(try XCTUnwrap(index(of: received.bytes)))
      }
      XCTAssertGreaterThan(indices.count, 0, "probability 0.5 must let some datagrams through")
      XCTAssertLessThan(indices.count, count, "probability 0.5 must drop some datagrams")
      delivered.append(indices)
    }
    XCTAssertEqual(delivered[0], delivered[1], "the same seed must drop the same datagrams")
  }

  func testSeededGeneratorRepeats() {
    var first = SeededGenerator(seed: 7)
    var second = SeededGenerator(seed: 7)
    var other = SeededGenerator(seed: 8)
    let firstValues = (0..<8).map { _ in first.next() }
    XCTAssertEqual(firstValues, (0..<8).map { _ in second.next() })
    XCTAssertNotEqual(firstValues, (0..<8).map { _ in other.next() })
    for _ in 0..<1000 {
      XCTAssertTrue((0.0..<1.0).contains(first.nextUnit()))
    }
  }

  // MARK: Settings and closing

  func testInvalidSettingsRejected() throws {
    let relay = try makeRelay()
    let cases: [(UDPRelay.Impairment, String)] = [
      (UDPRelay.Impairment(dropProbability: 1.5), "dropProbability"),
      (UDPRelay.Impairment(dropProbability: -0.1), "dropProbability"),
      (UDPRelay.Impairment(reorderProbability: .nan), "reorderProbability"),
      (UDPRelay.Impairment(delay: .milliseconds(-1)), "delay"),
      (UDPRelay.Impairment(delay: .seconds(11)), "delay"),
      (UDPRelay.Impairment(maxHold: .zero), "maxHold"),
    ]
    for (impairment, name) in cases {
      XCTAssertThrowsError(try relay.setImpairment(impairment), name) { error in
        guard case .invalidSetting(let reportedName, _, _) = error as? UDPRelayError else {
          return XCTFail("expected UDPRelayError.invalidSetting, got \(error)")
        }
        XCTAssertEqual(reportedName, name)
      }
    }
    XCTAssertEqual(relay.impairment(for: .toTarget), UDPRelay.Impairment(), "a rejected setting must not apply")

    XCTAssertThrowsError(try makeRelay(maxSessions: 0)) { error in
      XCTAssertEqual(
        "\(error)", "invalid UDPRelay setting maxSessions = 0: it must be in 1...1024")
    }
  }

  func testCloseStopsForwarding() async throws {
    let relay = try makeRelay()
    let client = try LoopbackUDPSocket()
    try client.send(datagram(1), toPort: relay.port)
    XCTAssertEqual(try target.receive(timeout: arrivalTimeout)?.bytes, datagram(1))

    await relay.close()
    try client.send(datagram(2), toPort: relay.port)
    XCTAssertNil(try target.receive(timeout: silenceTimeout), "a closed relay must not forward")
    XCTAssertEqual(relay.counters(for: .toTarget).received, 1)
  }
}
