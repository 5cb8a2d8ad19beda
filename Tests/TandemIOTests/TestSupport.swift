import Synchronization
import XCTest

@testable import TandemIO

/// What a ``RecordingHandler`` saw, readable from the test thread.
final class ConnectionRecord: @unchecked Sendable {
  struct State {
    var received: [UInt8] = []
    var activeCount = 0
    var inactiveCount = 0
    var inactiveError: (any Error)?
    var writableCount = 0
    var callsOffLoop = 0
    var negotiatedALPN: String?
    var isSecure = false
    var tlsVersion: String?
    var remoteAddress: SocketAddress?
    var loopIdentifier: ObjectIdentifier?
  }

  let state = Mutex(State())
  let active = XCTestExpectation(description: "channelActive")
  let inactive = XCTestExpectation(description: "channelInactive")
  let receivedAll = XCTestExpectation(description: "received the expected byte count")
  let expectedByteCount: Int

  init(expectedByteCount: Int = 0) {
    self.expectedByteCount = expectedByteCount
    if expectedByteCount == 0 {
      receivedAll.fulfill()
    }
  }

  var snapshot: State { state.withLock { $0 } }
}

/// A handler that records every callback, echoes when asked to, and writes `greeting` on activation.
final class RecordingHandler: ByteStreamHandler {
  let record: ConnectionRecord
  let echo: Bool
  var greeting: [UInt8]
  var onRead: ((any ByteStreamChannel, UnsafeRawBufferPointer) -> Void)?
  var onActive: ((any ByteStreamChannel) -> Void)?
  var onWritable: ((any ByteStreamChannel) -> Void)?
  private(set) var channel: (any ByteStreamChannel)?

  init(record: ConnectionRecord, echo: Bool = false, greeting: [UInt8] = []) {
    self.record = record
    self.echo = echo
    self.greeting = greeting
  }

  private func checkLoop(_ channel: any ByteStreamChannel) {
    if !channel.eventLoop.inEventLoop {
      record.state.withLock { $0.callsOffLoop += 1 }
    }
  }

  func channelActive(_ channel: any ByteStreamChannel) {
    checkLoop(channel)
    self.channel = channel
    let version = (channel as? TLSChannel)?.protocolVersion
    record.state.withLock {
      $0.activeCount += 1
      $0.negotiatedALPN = channel.negotiatedALPN
      $0.isSecure = channel.isSecure
      $0.tlsVersion = version
      $0.remoteAddress = channel.remoteAddress
      $0.loopIdentifier = ObjectIdentifier(channel.eventLoop)
    }
    record.active.fulfill()
    onActive?(channel)
    if !greeting.isEmpty {
      // Hand the payload over in 64 KiB pieces, as a protocol layer would.
      var offset = 0
      greeting.withUnsafeBytes { bytes in
        while offset < bytes.count {
          let end = min(offset + 65536, bytes.count)
          channel.write(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
          offset = end
        }
      }
    }
  }

  func channel(_ channel: any ByteStreamChannel, didRead bytes: UnsafeRawBufferPointer) {
    checkLoop(channel)
    if echo {
      channel.write(bytes)
    }
    onRead?(channel, bytes)
    let done = record.state.withLock { state -> Bool in
      let before = state.received.count
      state.received.append(contentsOf: bytes)
      return record.expectedByteCount > 0 && before < record.expectedByteCount
        && state.received.count >= record.expectedByteCount
    }
    if done {
      record.receivedAll.fulfill()
    }
  }

  func channelWritable(_ channel: any ByteStreamChannel) {
    checkLoop(channel)
    record.state.withLock { $0.writableCount += 1 }
    onWritable?(channel)
  }

  func channelInactive(_ channel: any ByteStreamChannel, error: (any Error)?) {
    checkLoop(channel)
    record.state.withLock {
      $0.inactiveCount += 1
      $0.inactiveError = error
    }
    record.inactive.fulfill()
    self.channel = nil
  }
}

/// Collects the records of the connections a listener accepted.
final class AcceptedConnections: @unchecked Sendable {
  let records = Mutex<[ConnectionRecord]>([])

  func add(_ record: ConnectionRecord) {
    records.withLock { $0.append(record) }
  }

  var all: [ConnectionRecord] { records.withLock { $0 } }
}

/// Returns `count` deterministic pseudo-random bytes.
func makePayload(count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
  var state = seed
  var bytes = [UInt8](repeating: 0, count: count)
  for index in 0..<count {
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    bytes[index] = UInt8(truncatingIfNeeded: state >> 56)
  }
  return bytes
}

/// Generous limit for waiting on loopback events; it only keeps a broken test from hanging.
let testWaitSeconds: TimeInterval = 30

/// Returns a port that was free a moment ago, by binding a listener and closing it again.
func closedPort(group: EventLoopGroup, host: String = "127.0.0.1") async throws -> Int {
  let listener = try TCPListener.bind(host: host, port: 0, group: group, tls: nil) { _ in
    RecordingHandler(record: ConnectionRecord())
  }
  let port = listener.port
  listener.close()
  // Let the listener's loop close the descriptor before the port is used.
  await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
    listener.loop.execute { continuation.resume() }
  }
  return port
}

/// A locked value that escaping closures can share.
final class Locked<Value: Sendable>: Sendable {
  private let mutex: Mutex<Value>

  init(_ value: Value) {
    mutex = Mutex(value)
  }

  func withLock<Result>(_ body: (inout Value) -> Result) -> Result {
    mutex.withLock { body(&$0) }
  }

  var value: Value { mutex.withLock { $0 } }
}
