import Foundation
import TandemHTTP
import TandemIO
import XCTest

@testable import TandemHTTP3

/// A closed client connection is freed once it has torn down, and not kept allocated by a
/// timer until the connect timeout passes.
final class QUICConnectionLifetimeTests: XCTestCase {
  let group = EventLoopGroup(threadCount: 1)

  /// Longer than any test runs, so a connection that its handshake timer still references
  /// stays allocated for the rest of the test.
  let connectTimeout = Duration.seconds(3600)

  override func tearDown() async throws {
    await group.shutdownGracefully()
  }

  final class WeakConnection: @unchecked Sendable {
    weak var value: QUICConnection?

    init(_ value: QUICConnection) {
      self.value = value
    }
  }

  /// Connects, sends one request, closes the client and drops every reference to it.
  /// Returns a weak reference to the client's QUIC connection, and whether the server
  /// accepted the request in 0-RTT.
  private func connectCallAndClose(
    port: Int, cache: QUICSessionCache?, safeToReplay: Bool
  ) async throws -> (connection: WeakConnection, earlyDataAccepted: Bool) {
    let client = try await HTTP3ClientConnection.connect(
      host: "127.0.0.1", port: port, loop: group.next(), tls: TestCertificate.clientTLS(), sessionCache: cache,
      timeout: connectTimeout)
    let collector = ResponseCollector()
    let stream = try client.openStream(
      requestHeaders: requestHeaders("/echo"), endStream: false, isSafeToReplay: safeToReplay, delegate: collector)
    stream.writeData([1, 2, 3], endStream: true)
    let result = await collector.result()
    XCTAssertEqual(result.closeReason, .finished)
    XCTAssertEqual(result.body, [1, 2, 3])
    let earlyDataAccepted = await client.earlyDataAccepted()
    let weak = WeakConnection(client.connection)
    client.close()
    return (weak, earlyDataAccepted)
  }

  /// Waits up to 10 seconds for the weakly held connection to be freed.
  private func isFreed(_ weak: WeakConnection) async -> Bool {
    for _ in 0..<500 where weak.value != nil {
      try? await Task.sleep(for: .milliseconds(20))
    }
    return weak.value == nil
  }

  func testClosedConnectionIsFreed() async throws {
    let server = try await TestHTTP3Server.start(group: group)

    let (weak, _) = try await connectCallAndClose(port: server.port, cache: nil, safeToReplay: false)

    let freed = await isFreed(weak)
    XCTAssertTrue(freed, "the closed QUIC connection is still allocated 10 s after close()")
    await server.stop()
  }

  func testClosedEarlyDataConnectionIsFreed() async throws {
    let server = try await TestHTTP3Server.start(group: group)
    let cache = QUICSessionCache()
    let (first, _) = try await connectCallAndClose(port: server.port, cache: cache, safeToReplay: false)
    for _ in 0..<200 where !cache.hasTicket(serverName: "localhost", port: server.port) {
      try await Task.sleep(for: .milliseconds(10))
    }
    XCTAssertTrue(cache.hasTicket(serverName: "localhost", port: server.port), "the server should send a session ticket")

    // With a ticket, connect returns before the handshake completes and the request goes out
    // in 0-RTT.
    let (second, earlyDataAccepted) = try await connectCallAndClose(port: server.port, cache: cache, safeToReplay: true)
    XCTAssertTrue(earlyDataAccepted, "the server should accept the 0-RTT request")

    let firstFreed = await isFreed(first)
    XCTAssertTrue(firstFreed, "the first QUIC connection is still allocated 10 s after close()")
    let secondFreed = await isFreed(second)
    XCTAssertTrue(secondFreed, "the 0-RTT QUIC connection is still allocated 10 s after close()")
    await server.stop()
  }
}
