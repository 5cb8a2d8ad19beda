#if canImport(Glibc)
import Glibc
#endif
import XCTest

@testable import TandemIO

final class TCPTests: XCTestCase {
  private var group: EventLoopGroup!

  override func setUp() {
    group = EventLoopGroup(threadCount: 3)
  }

  override func tearDown() async throws {
    await group.shutdownGracefully()
    group = nil
  }

  private func bindEcho(host: String, accepted: AcceptedConnections? = nil) throws -> TCPListener {
    try TCPListener.bind(host: host, port: 0, group: group, tls: nil) { _ in
      let record = ConnectionRecord()
      accepted?.add(record)
      return RecordingHandler(record: record, echo: true)
    }
  }

  private func echoRoundTrip(host: String, byteCount: Int) async throws {
    let listener = try bindEcho(host: host)
    defer { listener.close() }
    XCTAssertGreaterThan(listener.port, 0)

    let payload = makePayload(count: byteCount)
    let client = ConnectionRecord(expectedByteCount: payload.count)
    try await TCPConnector.connect(
      host: host, port: listener.port, on: group.next(), tls: nil, timeout: .seconds(10),
      handler: RecordingHandler(record: client, greeting: payload))
    await fulfillment(of: [client.receivedAll], timeout: testWaitSeconds)

    let state = client.snapshot
    XCTAssertEqual(state.received.count, payload.count)
    XCTAssertTrue(state.received == payload, "echoed bytes differ from the sent bytes")
    XCTAssertFalse(state.isSecure)
    XCTAssertNil(state.negotiatedALPN)
    XCTAssertEqual(state.callsOffLoop, 0)
  }

  func testEchoOneMiBOverIPv4() async throws {
    try await echoRoundTrip(host: "127.0.0.1", byteCount: 1 << 20)
  }

  func testEchoOneMiBOverIPv6() async throws {
    try await echoRoundTrip(host: "::1", byteCount: 1 << 20)
  }

  func testAddressDescriptions() throws {
    let v4 = try SocketAddress(ipAddress: "127.0.0.1", port: 50051)
    XCTAssertEqual(v4.description, "127.0.0.1:50051")
    XCTAssertEqual(v4.grpcPeerDescription, "ipv4:127.0.0.1:50051")
    let v6 = try SocketAddress(ipAddress: "::1", port: 50051)
    XCTAssertEqual(v6.description, "[::1]:50051")
    XCTAssertEqual(v6.grpcPeerDescription, "ipv6:[::1]:50051")
    XCTAssertEqual(try SocketAddress.resolve(host: "[::1]", port: 1), [try SocketAddress(ipAddress: "::1", port: 1)])
  }

  func testResolveRejectsBadPort() {
    XCTAssertThrowsError(try SocketAddress.resolve(host: "127.0.0.1", port: 70000)) { error in
      XCTAssertTrue("\(error)".contains("70000"), "\(error)")
    }
  }

  func testConnectionsSpreadOverLoops() async throws {
    let accepted = AcceptedConnections()
    let listener = try bindEcho(host: "127.0.0.1", accepted: accepted)
    defer { listener.close() }

    var clients: [ConnectionRecord] = []
    for index in 0..<12 {
      let payload = makePayload(count: 1000, seed: UInt64(index + 1))
      let client = ConnectionRecord(expectedByteCount: payload.count)
      clients.append(client)
      try await TCPConnector.connect(
        host: "127.0.0.1", port: listener.port, on: group.next(), tls: nil, timeout: .seconds(10),
        handler: RecordingHandler(record: client, greeting: payload))
    }
    await fulfillment(of: clients.map(\.receivedAll), timeout: testWaitSeconds)

    let servers = accepted.all
    XCTAssertEqual(servers.count, 12)
    let loops = Set(servers.compactMap { $0.snapshot.loopIdentifier })
    XCTAssertEqual(loops.count, 3, "accepted connections should use every loop of the group")
    for server in servers {
      XCTAssertEqual(server.snapshot.callsOffLoop, 0)
    }
    for (index, client) in clients.enumerated() {
      XCTAssertTrue(client.snapshot.received == makePayload(count: 1000, seed: UInt64(index + 1)))
    }
  }

  func testPeerCloseDeliversInactive() async throws {
    let listener = try TCPListener.bind(host: "127.0.0.1", port: 0, group: group, tls: nil) { _ in
      let handler = RecordingHandler(record: ConnectionRecord())
      handler.onRead = { channel, _ in
        channel.write(UnsafeRawBufferPointer(start: nil, count: 0))
        let reply: [UInt8] = Array("bye".utf8)
        reply.withUnsafeBytes { channel.write($0) }
        channel.close()
      }
      return handler
    }
    defer { listener.close() }

    let client = ConnectionRecord(expectedByteCount: 3)
    try await TCPConnector.connect(
      host: "127.0.0.1", port: listener.port, on: group.next(), tls: nil, timeout: .seconds(10),
      handler: RecordingHandler(record: client, greeting: Array("hello".utf8)))
    await fulfillment(of: [client.receivedAll, client.inactive], timeout: testWaitSeconds)

    let state = client.snapshot
    XCTAssertEqual(state.received, Array("bye".utf8), "bytes written before close() must arrive")
    XCTAssertNil(state.inactiveError)
    XCTAssertEqual(state.inactiveCount, 1)
  }

  func testResetDeliversIOError() async throws {
    let accepted = AcceptedConnections()
    let listener = try TCPListener.bind(host: "127.0.0.1", port: 0, group: group, tls: nil) { _ in
      let record = ConnectionRecord()
      accepted.add(record)
      return RecordingHandler(record: record)
    }
    defer { listener.close() }

    // A blocking client that closes with SO_LINGER 0, which sends a RST.
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    XCTAssertGreaterThanOrEqual(fd, 0)
    let address = try SocketAddress(ipAddress: "127.0.0.1", port: listener.port)
    let connected = address.withSockAddr { Glibc.connect(fd, $0, $1) }
    XCTAssertEqual(connected, 0)
    while accepted.all.isEmpty {
      await Task.yield()
    }
    let server = accepted.all[0]
    await fulfillment(of: [server.active], timeout: testWaitSeconds)
    var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    Glibc.close(fd)

    await fulfillment(of: [server.inactive], timeout: testWaitSeconds)
    let error = try XCTUnwrap(server.snapshot.inactiveError as? IOError)
    XCTAssertEqual(error.errnoCode, ECONNRESET)
    XCTAssertTrue(error.description.contains("127.0.0.1"), error.description)
  }

  func testConnectToClosedPortNamesAddress() async throws {
    let port = try await closedPort(group: group)
    let client = ConnectionRecord()
    do {
      try await TCPConnector.connect(
        host: "127.0.0.1", port: port, on: group.next(), tls: nil, timeout: .seconds(10),
        handler: RecordingHandler(record: client))
      XCTFail("connect to a closed port succeeded")
    } catch let error as IOError {
      XCTAssertEqual(error.errnoCode, ECONNREFUSED)
      XCTAssertTrue(error.description.contains("127.0.0.1:\(port)"), error.description)
      XCTAssertFalse(error.isTimeout)
    }
    XCTAssertEqual(client.snapshot.activeCount, 0)
    XCTAssertEqual(client.snapshot.inactiveCount, 0)
  }

  func testConnectTimesOutOnFullBacklog() async throws {
    // A listener that never accepts, with a full accept queue, drops further SYNs on Linux.
    let listenFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { Glibc.close(listenFD) }
    let any = try SocketAddress(ipAddress: "127.0.0.1", port: 0)
    XCTAssertEqual(any.withSockAddr { Glibc.bind(listenFD, $0, $1) }, 0)
    XCTAssertEqual(listen(listenFD, 0), 0)
    let port = try XCTUnwrap(SocketAddress.of(fd: listenFD, peer: false)).port
    let target = try SocketAddress(ipAddress: "127.0.0.1", port: port)
    var fillers: [Int32] = []
    defer { fillers.forEach { Glibc.close($0) } }
    for _ in 0..<4 {
      let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue), 0)
      _ = target.withSockAddr { Glibc.connect(fd, $0, $1) }
      fillers.append(fd)
    }

    do {
      try await TCPConnector.connect(
        host: "127.0.0.1", port: port, on: group.next(), tls: nil, timeout: .milliseconds(300),
        handler: RecordingHandler(record: ConnectionRecord()))
      throw XCTSkip("the kernel completed the connect despite the full backlog")
    } catch let error as IOError {
      XCTAssertTrue(error.isTimeout, error.description)
      XCTAssertTrue(error.description.contains("127.0.0.1:\(port)"), error.description)
    }
  }

  func testHundredSmallWritesFlushOnce() async throws {
    let flushCount = Locked<Int?>(nil)
    let listener = try TCPListener.bind(host: "127.0.0.1", port: 0, group: group, tls: nil) { loop in
      let handler = RecordingHandler(record: ConnectionRecord())
      handler.onRead = { channel, _ in
        guard let socket = channel as? SocketChannel else { return }
        let before = socket.writevCallCount
        let piece: [UInt8] = Array(repeating: 0x61, count: 100)
        for _ in 0..<100 {
          piece.withUnsafeBytes { channel.write($0) }
        }
        // End-of-turn callbacks run in order, so this one runs after the flush the first write queued.
        loop.runAtEndOfTurn {
          flushCount.withLock { $0 = socket.writevCallCount - before }
        }
      }
      return handler
    }
    defer { listener.close() }

    let client = ConnectionRecord(expectedByteCount: 100 * 100)
    try await TCPConnector.connect(
      host: "127.0.0.1", port: listener.port, on: group.next(), tls: nil, timeout: .seconds(10),
      handler: RecordingHandler(record: client, greeting: [1]))
    await fulfillment(of: [client.receivedAll], timeout: testWaitSeconds)
    while flushCount.value == nil {
      await Task.yield()
    }
    XCTAssertEqual(flushCount.value, 1)
    XCTAssertEqual(client.snapshot.received.count, 100 * 100)
  }

  func testLargeWriteReportsWritable() async throws {
    let payload = makePayload(count: 4 << 20)
    let server = ConnectionRecord()
    let listener = try TCPListener.bind(host: "127.0.0.1", port: 0, group: group, tls: nil) { _ in
      RecordingHandler(record: server, greeting: payload)
    }
    defer { listener.close() }

    let client = ConnectionRecord(expectedByteCount: payload.count)
    try await TCPConnector.connect(
      host: "127.0.0.1", port: listener.port, on: group.next(), tls: nil, timeout: .seconds(10),
      handler: RecordingHandler(record: client))
    await fulfillment(of: [client.receivedAll], timeout: testWaitSeconds)
    XCTAssertTrue(client.snapshot.received == payload)
    // 4 MiB went above the 256 KiB high-water mark, so draining must report writable once.
    while server.snapshot.writableCount == 0 {
      await Task.yield()
    }
    XCTAssertEqual(server.snapshot.writableCount, 1)
  }

  func testListenerBindErrorNamesAddress() throws {
    let listener = try bindEcho(host: "127.0.0.1")
    defer { listener.close() }
    // SO_REUSEADDR does not allow two listeners on one port.
    XCTAssertThrowsError(try bindEcho(host: "127.0.0.1", port: listener.port)) { error in
      let ioError = error as? IOError
      XCTAssertEqual(ioError?.errnoCode, EADDRINUSE)
      XCTAssertTrue("\(error)".contains("127.0.0.1:\(listener.port)"), "\(error)")
    }
  }

  private func bindEcho(host: String, port: Int) throws -> TCPListener {
    try TCPListener.bind(host: host, port: port, group: group, tls: nil) { _ in
      RecordingHandler(record: ConnectionRecord(), echo: true)
    }
  }
}

extension TCPTests {
  func testWriteToResetPeerFailsWithoutSignal() async throws {
    let server = ConnectionRecord()
    let listener = try TCPListener.bind(host: "127.0.0.1", port: 0, group: group, tls: nil) { loop in
      let handler = RecordingHandler(record: server)
      handler.onRead = { channel, _ in
        // Keep writing every millisecond until the channel fails.
        let chunk = [UInt8](repeating: 0x62, count: 64 * 1024)
        func writeMore() {
          guard server.snapshot.inactiveCount == 0 else { return }
          chunk.withUnsafeBytes { channel.write($0) }
          loop.scheduleTimer(after: .milliseconds(1)) { writeMore() }
        }
        writeMore()
      }
      return handler
    }
    defer { listener.close() }

    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    let address = try SocketAddress(ipAddress: "127.0.0.1", port: listener.port)
    XCTAssertEqual(address.withSockAddr { Glibc.connect(fd, $0, $1) }, 0)
    await fulfillment(of: [server.active], timeout: testWaitSeconds)
    var one: UInt8 = 1
    XCTAssertEqual(Glibc.write(fd, &one, 1), 1)
    // Once a byte arrives, the server is writing; then reset the connection.
    var received: UInt8 = 0
    XCTAssertEqual(Glibc.read(fd, &received, 1), 1)
    var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    Glibc.close(fd)

    await fulfillment(of: [server.inactive], timeout: testWaitSeconds)
    let error = try XCTUnwrap(server.snapshot.inactiveError as? IOError)
    XCTAssertTrue([ECONNRESET, EPIPE].contains(error.errnoCode ?? 0), error.description)
  }
}
