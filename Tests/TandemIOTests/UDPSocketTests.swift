#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import XCTest

@testable import TandemIO

/// What a ``RecordingUDPHandler`` saw, readable from the test thread.
final class DatagramRecord: Sendable {
  struct State {
    var payloads: [[UInt8]] = []
    var remoteAddresses: [SocketAddress] = []
    var localAddresses: [SocketAddress?] = []
    var ecnValues: [UInt8?] = []
    var deliveryCount = 0
    var maxDeliveryCount = 0
    var closeCount = 0
    var closeError: IOError?
    var sendErrors: [IOError] = []
    var callsOffLoop = 0
  }

  let state = Mutex(State())
  let receivedAll = XCTestExpectation(description: "received the expected datagram count")
  let closed = XCTestExpectation(description: "socketDidClose")
  let expectedCount: Int

  init(expectedCount: Int) {
    self.expectedCount = expectedCount
  }

  var snapshot: State { state.withLock { $0 } }
}

/// A handler that copies every datagram into a ``DatagramRecord`` and optionally echoes it.
final class RecordingUDPHandler: UDPSocketHandler, @unchecked Sendable {
  let record: DatagramRecord
  let echo: Bool
  /// Called on the loop after each datagram is recorded.
  var onReceive: ((UDPSocket, UDPDatagram) -> Void)?

  init(record: DatagramRecord, echo: Bool = false) {
    self.record = record
    self.echo = echo
  }

  func socket(_ socket: UDPSocket, didReceive datagrams: [UDPDatagram]) {
    let onLoop = socket.eventLoop.inEventLoop
    for datagram in datagrams {
      if echo {
        do {
          try socket.send(datagram.bytes, to: datagram.remoteAddress)
        } catch {
          record.state.withLock { $0.sendErrors.append(error) }
        }
      }
    }
    let done = record.state.withLock { state -> Bool in
      let before = state.payloads.count
      for datagram in datagrams {
        state.payloads.append(Array(datagram.bytes))
        state.remoteAddresses.append(datagram.remoteAddress)
        state.localAddresses.append(datagram.localAddress)
        state.ecnValues.append(datagram.ecn)
      }
      state.deliveryCount += 1
      state.maxDeliveryCount = max(state.maxDeliveryCount, datagrams.count)
      if !onLoop { state.callsOffLoop += 1 }
      return before < record.expectedCount && state.payloads.count >= record.expectedCount
    }
    for datagram in datagrams {
      onReceive?(socket, datagram)
    }
    if done {
      record.receivedAll.fulfill()
    }
  }

  func socket(_ socket: UDPSocket, didFailToSend error: IOError) {
    record.state.withLock { $0.sendErrors.append(error) }
  }

  func socketDidClose(_ socket: UDPSocket, error: IOError?) {
    record.state.withLock {
      $0.closeCount += 1
      $0.closeError = error
    }
    record.closed.fulfill()
  }
}

/// Returns `count` bytes that start with `index` as 4 big-endian bytes, so a receiver can tell
/// which datagram it got.
private func numberedPayload(index: Int, count: Int) -> [UInt8] {
  var bytes = makePayload(count: count, seed: UInt64(index + 1))
  for shift in 0..<4 {
    bytes[shift] = UInt8(truncatingIfNeeded: index >> (24 - 8 * shift))
  }
  return bytes
}

private func payloadIndex(_ bytes: [UInt8]) -> Int {
  bytes.prefix(4).reduce(0) { $0 << 8 | Int($1) }
}

/// Runs `body` on `loop` and returns its result to the calling task.
private func onLoop<Value: Sendable>(
  _ loop: EventLoop, _ body: @escaping @Sendable () throws -> Value
) async throws -> Value {
  try await withCheckedThrowingContinuation { continuation in
    loop.execute {
      continuation.resume(with: Swift.Result { try body() })
    }
  }
}

final class UDPSocketTests: XCTestCase {
  private var group: EventLoopGroup!

  override func setUp() {
    group = EventLoopGroup(threadCount: 2)
  }

  override func tearDown() async throws {
    await group.shutdownGracefully()
    group = nil
  }

  /// Sends 1,000 numbered datagrams of 1,200 bytes with at most 32 in flight, so no socket
  /// buffer overflows, and checks that each one comes back unchanged.
  private func echoRoundTrip(host: String) async throws {
    let datagramCount = 1000
    let window = 32
    let serverRecord = DatagramRecord(expectedCount: datagramCount)
    let server = try UDPSocket.bind(
      host: host, port: 0, on: group.eventLoops[0], handler: RecordingUDPHandler(record: serverRecord, echo: true))
    XCTAssertGreaterThan(server.localAddress.port, 0)

    let clientRecord = DatagramRecord(expectedCount: datagramCount)
    let clientHandler = RecordingUDPHandler(record: clientRecord)
    let client = try UDPSocket.bind(host: host, port: 0, on: group.eventLoops[1], handler: clientHandler)
    let serverAddress = server.localAddress
    let nextIndex = Locked(0)
    let sendNext: @Sendable (UDPSocket) -> Void = { socket in
      let index = nextIndex.withLock { value -> Int in
        defer { value += 1 }
        return value
      }
      guard index < datagramCount else { return }
      let payload = numberedPayload(index: index, count: 1200)
      do {
        try payload.withUnsafeBytes { try socket.send($0, to: serverAddress) }
      } catch {
        clientRecord.state.withLock { $0.sendErrors.append(error as! IOError) }
      }
    }
    clientHandler.onReceive = { socket, _ in sendNext(socket) }
    client.eventLoop.execute {
      for _ in 0..<window { sendNext(client) }
    }
    await fulfillment(of: [clientRecord.receivedAll], timeout: testWaitSeconds)

    let state = clientRecord.snapshot
    XCTAssertEqual(state.payloads.count, datagramCount)
    XCTAssertEqual(Set(state.payloads.map(payloadIndex)), Set(0..<datagramCount))
    for payload in state.payloads {
      XCTAssertTrue(payload == numberedPayload(index: payloadIndex(payload), count: 1200), "datagram \(payloadIndex(payload)) differs")
    }
    XCTAssertEqual(Set(state.remoteAddresses), [serverAddress])
    XCTAssertEqual(state.localAddresses.first??.ipAddress, client.localAddress.ipAddress)
    XCTAssertEqual(state.localAddresses.first??.port, client.localAddress.port)
    XCTAssertEqual(Set(state.ecnValues), [0], "datagrams without an ECN mark carry Not-ECT")
    XCTAssertEqual(state.sendErrors, [])
    XCTAssertEqual(state.callsOffLoop, 0)
    XCTAssertEqual(serverRecord.snapshot.sendErrors, [])

    client.close()
    server.close()
    await fulfillment(of: [clientRecord.closed, serverRecord.closed], timeout: testWaitSeconds)
    XCTAssertNil(clientRecord.snapshot.closeError)
    XCTAssertEqual(clientRecord.snapshot.closeCount, 1)
  }

  func testEchoOverIPv4() async throws {
    try await echoRoundTrip(host: "127.0.0.1")
  }

  func testEchoOverIPv6() async throws {
    try await echoRoundTrip(host: "::1")
  }

  /// Sends a 40-segment batch (39 of 1,200 bytes and one of 500) and returns the receiver's
  /// record and the sender, after all 40 datagrams arrived.
  private func sendSegmentBatch(simulateOffloadFailure: Bool) async throws -> (DatagramRecord, UDPSocket, [UInt8]) {
    let loop = group.eventLoops[0]
    let record = DatagramRecord(expectedCount: 40)
    let receiver = try UDPSocket.bind(host: "127.0.0.1", port: 0, on: loop, handler: RecordingUDPHandler(record: record))
    let sender = try UDPSocket.bind(
      host: "127.0.0.1", port: 0, on: loop, handler: RecordingUDPHandler(record: DatagramRecord(expectedCount: 0)))
    let batch = makePayload(count: 39 * 1200 + 500)
    let destination = receiver.localAddress
    try await onLoop(loop) {
      sender.simulatesSegmentationOffloadFailure = simulateOffloadFailure
      try batch.withUnsafeBytes { try sender.send($0, segmentSize: 1200, to: destination) }
    }
    await fulfillment(of: [record.receivedAll], timeout: testWaitSeconds)
    return (record, sender, batch)
  }

  private func checkSegments(_ record: DatagramRecord, batch: [UInt8]) {
    let state = record.snapshot
    XCTAssertEqual(state.payloads.count, 40)
    XCTAssertEqual(state.payloads.map(\.count), Array(repeating: 1200, count: 39) + [500])
    XCTAssertTrue(state.payloads.flatMap { $0 } == batch, "the datagrams differ from the sent batch")
  }

  func testSegmentBatchArrivesAsDatagrams() async throws {
    let (record, sender, batch) = try await sendSegmentBatch(simulateOffloadFailure: false)
    checkSegments(record, batch: batch)
    let (usesOffload, sendCalls) = try await onLoop(sender.eventLoop) {
      (sender.usesSegmentationOffload, sender.sendCallCount)
    }
    XCTAssertTrue(usesOffload)
    XCTAssertEqual(sendCalls, 1)
  }

  func testSegmentBatchFallbackSendsEachDatagram() async throws {
    let (record, sender, batch) = try await sendSegmentBatch(simulateOffloadFailure: true)
    checkSegments(record, batch: batch)
    let (usesOffload, sendCalls) = try await onLoop(sender.eventLoop) {
      (sender.usesSegmentationOffload, sender.sendCallCount)
    }
    XCTAssertFalse(usesOffload)
    XCTAssertEqual(sendCalls, 40)
  }

  func testBindPortInUseFails() throws {
    let first = try UDPSocket.bind(
      host: "127.0.0.1", port: 0, on: group.next(), handler: RecordingUDPHandler(record: DatagramRecord(expectedCount: 0)))
    let port = first.localAddress.port
    XCTAssertThrowsError(
      try UDPSocket.bind(
        host: "127.0.0.1", port: port, on: group.next(), handler: RecordingUDPHandler(record: DatagramRecord(expectedCount: 0)))
    ) { error in
      guard let ioError = error as? IOError else {
        return XCTFail("expected IOError, got \(error)")
      }
      XCTAssertEqual(ioError.operation, "bind")
      XCTAssertEqual(ioError.address, "127.0.0.1:\(port)")
      XCTAssertEqual(ioError.errnoCode, EADDRINUSE)
      XCTAssertTrue(ioError.description.contains("127.0.0.1:\(port)"), ioError.description)
    }
    first.close()
  }

  /// Sends 200 datagrams from a task on the receiver's own loop, so they all wait in the
  /// receive buffer before the loop reads, and checks that reads return several at once.
  func testReceiveDeliversBatches() async throws {
    let loop = group.eventLoops[0]
    let record = DatagramRecord(expectedCount: 200)
    let receiver = try UDPSocket.bind(host: "127.0.0.1", port: 0, on: loop, handler: RecordingUDPHandler(record: record))
    let sender = try UDPSocket.bind(
      host: "127.0.0.1", port: 0, on: loop, handler: RecordingUDPHandler(record: DatagramRecord(expectedCount: 0)))
    let destination = receiver.localAddress
    try await onLoop(loop) {
      for index in 0..<200 {
        try numberedPayload(index: index, count: 32).withUnsafeBytes { try sender.send($0, to: destination) }
      }
    }
    await fulfillment(of: [record.receivedAll], timeout: testWaitSeconds)

    let state = record.snapshot
    XCTAssertEqual(state.payloads.count, 200)
    XCTAssertEqual(state.payloads.map(payloadIndex), Array(0..<200))
    XCTAssertGreaterThan(state.maxDeliveryCount, 1)
    XCTAssertLessThan(state.deliveryCount, 200)
  }

  func testGROSplitsCoalescedDatagrams() async throws {
    let loop = group.eventLoops[0]
    var configuration = UDPSocketConfiguration()
    configuration.receiveOffload = true
    let record = DatagramRecord(expectedCount: 40)
    let receiver = try UDPSocket.bind(
      host: "127.0.0.1", port: 0, on: loop, configuration: configuration, handler: RecordingUDPHandler(record: record))
    let sender = try UDPSocket.bind(
      host: "127.0.0.1", port: 0, on: loop, handler: RecordingUDPHandler(record: DatagramRecord(expectedCount: 0)))
    let batch = makePayload(count: 39 * 1200 + 500)
    let destination = receiver.localAddress
    try await onLoop(loop) {
      try batch.withUnsafeBytes { try sender.send($0, segmentSize: 1200, to: destination) }
    }
    await fulfillment(of: [record.receivedAll], timeout: testWaitSeconds)
    checkSegments(record, batch: batch)
    let coalesced = try await onLoop(loop) { receiver.coalescedBufferCount }
    XCTAssertGreaterThan(coalesced, 0, "the kernel delivered no coalesced buffer, so the split did not run")
  }

  /// Makes the first send hit a full send buffer, so it and the nine after it are queued and
  /// go out after EPOLLOUT, in order.
  func testFullSendBufferQueuesUntilWritable() async throws {
    let loop = group.eventLoops[0]
    let record = DatagramRecord(expectedCount: 10)
    let receiver = try UDPSocket.bind(host: "127.0.0.1", port: 0, on: loop, handler: RecordingUDPHandler(record: record))
    let sender = try UDPSocket.bind(
      host: "127.0.0.1", port: 0, on: group.eventLoops[1],
      handler: RecordingUDPHandler(record: DatagramRecord(expectedCount: 0)))
    let destination = receiver.localAddress
    let queuedBytes = try await onLoop(sender.eventLoop) { () -> Int in
      sender.simulatedWouldBlockCount = 1
      for index in 0..<10 {
        try numberedPayload(index: index, count: 1200).withUnsafeBytes { try sender.send($0, to: destination) }
      }
      return sender.pendingSendBytes
    }
    XCTAssertEqual(queuedBytes, 10 * 1200)
    await fulfillment(of: [record.receivedAll], timeout: testWaitSeconds)

    XCTAssertEqual(record.snapshot.payloads.map(payloadIndex), Array(0..<10))
    let (pendingAfter, sendCalls) = try await onLoop(sender.eventLoop) { (sender.pendingSendBytes, sender.sendCallCount) }
    XCTAssertEqual(pendingAfter, 0)
    XCTAssertEqual(sendCalls, 10)
  }

  func testSendQueueLimitThrows() async throws {
    var configuration = UDPSocketConfiguration()
    configuration.maxPendingSendBytes = 2000
    let sender = try UDPSocket.bind(
      host: "127.0.0.1", port: 0, on: group.eventLoops[1], configuration: configuration,
      handler: RecordingUDPHandler(record: DatagramRecord(expectedCount: 0)))
    let destination = try SocketAddress(ipAddress: "127.0.0.1", port: 9)
    let message = try await onLoop(sender.eventLoop) { () -> String in
      sender.simulatedWouldBlockCount = 1
      let payload = [UInt8](repeating: 7, count: 1200)
      do {
        try payload.withUnsafeBytes { try sender.send($0, to: destination) }
        try payload.withUnsafeBytes { try sender.send($0, to: destination) }
        return "no error"
      } catch {
        return "\(error)"
      }
    }
    XCTAssertTrue(message.contains("maxPendingSendBytes (2000)"), message)
  }

  /// Marks the sender's datagrams ECT(0) with IP_TOS and IPV6_TCLASS and checks that the
  /// receiver reports codepoint 2.
  private func checkECN(host: String, level: Int32, option: Int32) async throws {
    let loop = group.eventLoops[0]
    let record = DatagramRecord(expectedCount: 1)
    let receiver = try UDPSocket.bind(host: host, port: 0, on: loop, handler: RecordingUDPHandler(record: record))
    let sender = try UDPSocket.bind(
      host: host, port: 0, on: loop, handler: RecordingUDPHandler(record: DatagramRecord(expectedCount: 0)))
    XCTAssertTrue(SocketOptions.setInt(sender.fd, level: level, option: option, value: 2))
    let destination = receiver.localAddress
    try await onLoop(loop) {
      try [UInt8](repeating: 1, count: 100).withUnsafeBytes { try sender.send($0, to: destination) }
    }
    await fulfillment(of: [record.receivedAll], timeout: testWaitSeconds)
    XCTAssertEqual(record.snapshot.ecnValues, [2])
  }

  func testReceiveReportsECNOverIPv4() async throws {
    try await checkECN(host: "127.0.0.1", level: Int32(IPPROTO_IP), option: IP_TOS)
  }

  func testReceiveReportsECNOverIPv6() async throws {
    try await checkECN(host: "::1", level: Int32(IPPROTO_IPV6), option: IPV6_TCLASS)
  }

  func testOversizedDatagramIsDropped() async throws {
    let loop = group.eventLoops[0]
    var configuration = UDPSocketConfiguration()
    configuration.maxDatagramSize = 100
    let record = DatagramRecord(expectedCount: 1)
    let receiver = try UDPSocket.bind(
      host: "127.0.0.1", port: 0, on: loop, configuration: configuration, handler: RecordingUDPHandler(record: record))
    let sender = try UDPSocket.bind(
      host: "127.0.0.1", port: 0, on: loop, handler: RecordingUDPHandler(record: DatagramRecord(expectedCount: 0)))
    let destination = receiver.localAddress
    try await onLoop(loop) {
      try [UInt8](repeating: 1, count: 101).withUnsafeBytes { try sender.send($0, to: destination) }
      try [UInt8](repeating: 2, count: 100).withUnsafeBytes { try sender.send($0, to: destination) }
    }
    await fulfillment(of: [record.receivedAll], timeout: testWaitSeconds)

    XCTAssertEqual(record.snapshot.payloads, [[UInt8](repeating: 2, count: 100)])
    let truncated = try await onLoop(loop) { receiver.truncatedDatagramCount }
    XCTAssertEqual(truncated, 1)
  }

  func testSendRejectsTooManySegments() async throws {
    let loop = group.eventLoops[0]
    let sender = try UDPSocket.bind(
      host: "127.0.0.1", port: 0, on: loop, handler: RecordingUDPHandler(record: DatagramRecord(expectedCount: 0)))
    let destination = try SocketAddress(ipAddress: "127.0.0.1", port: 9)
    let message = try await onLoop(loop) { () -> String in
      do {
        try [UInt8](repeating: 0, count: 65 * 100).withUnsafeBytes { try sender.send($0, segmentSize: 100, to: destination) }
        return "no error"
      } catch {
        return "\(error)"
      }
    }
    XCTAssertTrue(message.contains("65 datagrams"), message)
    XCTAssertTrue(message.contains("64"), message)
  }

  func testSendRejectsOtherFamily() async throws {
    let loop = group.eventLoops[0]
    let sender = try UDPSocket.bind(
      host: "127.0.0.1", port: 0, on: loop, handler: RecordingUDPHandler(record: DatagramRecord(expectedCount: 0)))
    let destination = try SocketAddress(ipAddress: "::1", port: 9)
    let message = try await onLoop(loop) { () -> String in
      do {
        try [UInt8](repeating: 0, count: 10).withUnsafeBytes { try sender.send($0, to: destination) }
        return "no error"
      } catch {
        return "\(error)"
      }
    }
    XCTAssertTrue(message.contains("send to [::1]:9 failed"), message)
    XCTAssertTrue(message.contains("ipv4"), message)
  }

  func testBindRejectsBadBatchSize() {
    var configuration = UDPSocketConfiguration()
    configuration.receiveBatchSize = 65
    XCTAssertThrowsError(
      try UDPSocket.bind(
        host: "127.0.0.1", port: 0, on: group.next(), configuration: configuration,
        handler: RecordingUDPHandler(record: DatagramRecord(expectedCount: 0)))
    ) { error in
      XCTAssertTrue("\(error)".contains("receiveBatchSize is 65"), "\(error)")
    }
  }

  func testCloseReportsNoError() async throws {
    let record = DatagramRecord(expectedCount: 0)
    let socket = try UDPSocket.bind(host: "::1", port: 0, on: group.next(), handler: RecordingUDPHandler(record: record))
    socket.close()
    await fulfillment(of: [record.closed], timeout: testWaitSeconds)
    XCTAssertEqual(record.snapshot.closeCount, 1)
    XCTAssertNil(record.snapshot.closeError)
  }

  func testDontFragmentSetsProbeMode() throws {
    var configuration = UDPSocketConfiguration()
    configuration.dontFragment = true
    let socket = try UDPSocket.bind(
      host: "127.0.0.1", port: 0, on: group.next(), configuration: configuration,
      handler: RecordingUDPHandler(record: DatagramRecord(expectedCount: 0)))
    let plain = try UDPSocket.bind(
      host: "127.0.0.1", port: 0, on: group.next(), handler: RecordingUDPHandler(record: DatagramRecord(expectedCount: 0)))
    XCTAssertEqual(SocketOptions.getInt(socket.fd, level: Int32(IPPROTO_IP), option: IP_MTU_DISCOVER), Int32(IP_PMTUDISC_PROBE))
    XCTAssertNotEqual(SocketOptions.getInt(plain.fd, level: Int32(IPPROTO_IP), option: IP_MTU_DISCOVER), Int32(IP_PMTUDISC_PROBE))
    socket.close()
    plain.close()
  }

  func testRouteMTUOfLoopback() throws {
    let mtu = try UDPSocket.routeMTU(to: SocketAddress(ipAddress: "127.0.0.1", port: 9))
    XCTAssertGreaterThanOrEqual(mtu, 1280, "a loopback interface carries at least the IPv6 minimum")
    XCTAssertLessThanOrEqual(mtu, 1 << 20)
  }

  func testLoopbackAddresses() throws {
    for text in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"] {
      XCTAssertTrue(try SocketAddress(ipAddress: text, port: 1).isLoopback, text)
    }
    for text in ["10.0.0.1", "128.0.0.1", "::2", "::", "0.0.0.0", "fe80::1", "::ffff:10.0.0.1", "::127.0.0.1"] {
      XCTAssertFalse(try SocketAddress(ipAddress: text, port: 1).isLoopback, text)
    }
  }
}
