import Synchronization
import TandemHTTP
import TandemIO
import XCTest

@testable import TandemHTTP2

/// One end of an in-memory byte pipe: what one side writes reaches the other side's handler
/// at the end of the loop turn, as a socket channel would deliver it. Both ends share a loop.
final class MemoryChannel: ByteStreamChannel, @unchecked Sendable {
  let eventLoop: EventLoop
  let remoteAddress: SocketAddress
  let localAddress: SocketAddress
  var negotiatedALPN: String? { nil }
  var isSecure: Bool { false }

  weak var peer: MemoryChannel?
  var handler: (any ByteStreamHandler)?
  private var outbound: [UInt8] = []
  private var deliveryScheduled = false
  private(set) var isClosed = false
  /// When set, bytes written to this end are discarded, as if the network lost them.
  var dropsInbound = false
  /// Bytes this end has written in total.
  private(set) var bytesWritten = 0

  init(eventLoop: EventLoop, local: Int, remote: Int) {
    self.eventLoop = eventLoop
    self.localAddress = try! SocketAddress.resolve(host: "127.0.0.1", port: local)[0]
    self.remoteAddress = try! SocketAddress.resolve(host: "127.0.0.1", port: remote)[0]
  }

  static func pair(on loop: EventLoop) -> (client: MemoryChannel, server: MemoryChannel) {
    let client = MemoryChannel(eventLoop: loop, local: 40000, remote: 50051)
    let server = MemoryChannel(eventLoop: loop, local: 50051, remote: 40000)
    client.peer = server
    server.peer = client
    return (client, server)
  }

  func write(_ bytes: UnsafeRawBufferPointer) {
    guard !isClosed else { return }
    outbound.append(contentsOf: bytes)
    bytesWritten += bytes.count
    if !deliveryScheduled {
      deliveryScheduled = true
      eventLoop.runAtEndOfTurn { [self] in deliver() }
    }
  }

  var pendingWriteBytes: Int { outbound.count }

  private func deliver() {
    deliveryScheduled = false
    guard let peer, !peer.isClosed, !outbound.isEmpty else { return }
    let bytes = outbound
    outbound = []
    if peer.dropsInbound { return }
    bytes.withUnsafeBytes { peer.handler?.channel(peer, didRead: $0) }
    // Like a socket channel, report room again after the buffer passed 256 KiB.
    if bytes.count >= 256 * 1024 {
      handler?.channelWritable(self)
    }
  }

  /// Closes both ends after delivering what is buffered, as a TCP FIN would.
  func close() {
    guard !isClosed else { return }
    deliver()
    isClosed = true
    let peer = self.peer
    eventLoop.execute { [self] in
      handler?.channelInactive(self, error: nil)
      handler = nil
      if let peer, !peer.isClosed {
        peer.isClosed = true
        peer.handler?.channelInactive(peer, error: nil)
        peer.handler = nil
      }
    }
  }

  /// Drops the connection without delivering buffered bytes, as a reset socket would.
  func fail(_ message: String) {
    isClosed = true
    outbound = []
    let error = TestFailure(message)
    handler?.channelInactive(self, error: error)
    handler = nil
    if let peer, !peer.isClosed {
      peer.isClosed = true
      peer.handler?.channelInactive(peer, error: error)
      peer.handler = nil
    }
  }
}

/// A handler that only records what arrives, for feeding a session raw bytes.
final class RawHandler: ByteStreamHandler, @unchecked Sendable {
  var received: [UInt8] = []
  var isInactive = false

  func channelActive(_ channel: any ByteStreamChannel) {}
  func channel(_ channel: any ByteStreamChannel, didRead bytes: UnsafeRawBufferPointer) { received += bytes }
  func channelWritable(_ channel: any ByteStreamChannel) {}
  func channelInactive(_ channel: any ByteStreamChannel, error: (any Error)?) { isInactive = true }
}

struct TestFailure: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// Everything that happened on one stream, recorded on the loop.
final class RecordingDelegate: HTTPStreamDelegate, @unchecked Sendable {
  var headers: [[HTTPField]] = []
  var headersEndStream: [Bool] = []
  var data: [UInt8] = []
  var dataEnded = false
  var trailers: [HTTPField]?
  var writableCount = 0
  var closeReason: HTTPStreamCloseReason?
  /// Consume received bytes at once, the way a reader that keeps up would.
  var autoConsume = true
  var onHeaders: ((any HTTPStream, [HTTPField], Bool) -> Void)?
  var onData: ((any HTTPStream, [UInt8], Bool) -> Void)?
  var onTrailers: ((any HTTPStream) -> Void)?
  var onWritable: ((any HTTPStream) -> Void)?

  func stream(_ stream: any HTTPStream, didReceiveHeaders fields: [HTTPField], endStream: Bool) {
    headers.append(fields)
    headersEndStream.append(endStream)
    onHeaders?(stream, fields, endStream)
  }

  func stream(_ stream: any HTTPStream, didReceiveData bytes: [UInt8], endStream: Bool) {
    data += bytes
    if endStream { dataEnded = true }
    if autoConsume { stream.consume(bytes.count) }
    onData?(stream, bytes, endStream)
  }

  func stream(_ stream: any HTTPStream, didReceiveTrailers fields: [HTTPField]) {
    trailers = fields
    onTrailers?(stream)
  }

  func streamDidBecomeWritable(_ stream: any HTTPStream) {
    writableCount += 1
    onWritable?(stream)
  }

  func stream(_ stream: any HTTPStream, didCloseWith reason: HTTPStreamCloseReason) {
    closeReason = reason
  }
}

/// Accepts every stream with a fresh ``RecordingDelegate`` and lets the test script the reply.
final class RecordingAcceptor: HTTPServerStreamAcceptor, @unchecked Sendable {
  struct Accepted {
    var stream: any HTTPStream
    var headers: [HTTPField]
    var endStream: Bool
    var delegate: RecordingDelegate
    var connection: HTTPConnectionInfo
  }

  /// Touched only on the loop of the connection that carried the streams.
  var accepted: [Accepted] = []
  /// `accepted.count`, readable from any thread.
  let acceptedCount = Atomic<Int>(0)
  /// Called for each new stream, to configure its delegate or reply at once.
  var configure: ((any HTTPStream, [HTTPField], Bool, RecordingDelegate) -> Void)?

  func acceptStream(
    _ stream: any HTTPStream, requestHeaders: [HTTPField], endStream: Bool, connection: HTTPConnectionInfo
  ) -> any HTTPStreamDelegate {
    let delegate = RecordingDelegate()
    accepted.append(Accepted(stream: stream, headers: requestHeaders, endStream: endStream, delegate: delegate, connection: connection))
    acceptedCount.add(1, ordering: .relaxed)
    configure?(stream, requestHeaders, endStream, delegate)
    return delegate
  }
}

final class RecordingConnectionDelegate: HTTPClientConnectionDelegate, @unchecked Sendable {
  let goAwayCodes = Mutex<[HTTPStreamErrorCode]>([])
  let closeDetails = Mutex<[String]>([])

  func connectionDidReceiveGoAway(_ connection: any HTTPClientConnection, errorCode: HTTPStreamErrorCode) {
    goAwayCodes.withLock { $0.append(errorCode) }
  }

  func connectionDidClose(_ connection: any HTTPClientConnection, detail: String) {
    closeDetails.withLock { $0.append(detail) }
  }
}

/// A result handed from the loop to a waiting thread; the semaphore orders the accesses.
final class ResultBox<T>: @unchecked Sendable {
  var result: Result<T, any Error>?
}

/// Runs `body` on `loop` and waits for its result.
func onLoop<T>(_ loop: EventLoop, _ body: @escaping () throws -> T) throws -> T {
  if loop.inEventLoop { return try body() }
  let box = ResultBox<T>()
  let done = DispatchSemaphore(value: 0)
  nonisolated(unsafe) let work = body
  loop.execute {
    box.result = Result { try work() }
    done.signal()
  }
  done.wait()
  return try box.result!.get()
}

/// Runs `body` on `loop` and waits for its result.
func onLoop<T>(_ loop: EventLoop, _ body: @escaping () -> T) -> T {
  try! onLoop(loop) { () throws -> T in body() }
}

/// Polls `condition` on `loop` until it holds, failing the test after 10 seconds.
func waitUntil(
  _ loop: EventLoop, _ what: String, file: StaticString = #filePath, line: UInt = #line, _ condition: @escaping () -> Bool
) {
  let deadline = ContinuousClock.now + .seconds(10)
  while ContinuousClock.now < deadline {
    if onLoop(loop, condition) { return }
    usleep(2000)
  }
  XCTFail("timed out waiting until \(what)", file: file, line: line)
}

/// Two HTTP/2 sessions, client and server, joined by a ``MemoryChannel`` pair on one loop.
final class MemoryPair: @unchecked Sendable {
  let loop: EventLoop
  let acceptor = RecordingAcceptor()
  let connectionDelegate = RecordingConnectionDelegate()
  let client: HTTP2ClientConnection
  let server: HTTP2Session
  let clientChannel: MemoryChannel
  let serverChannel: MemoryChannel

  init(loop: EventLoop, client clientConfiguration: HTTP2Configuration = .init(), server serverConfiguration: HTTP2Configuration = .init()) {
    self.loop = loop
    let acceptor = self.acceptor
    let connectionDelegate = self.connectionDelegate
    (client, server, clientChannel, serverChannel) = onLoop(loop) {
      let server = HTTP2Session(role: .server, configuration: serverConfiguration, eventLoop: loop)
      server.acceptor = acceptor
      let clientSession = HTTP2Session(role: .client, configuration: clientConfiguration, eventLoop: loop)
      let client = HTTP2ClientConnection(session: clientSession, delegate: connectionDelegate)
      let (clientChannel, serverChannel) = MemoryChannel.pair(on: loop)
      clientChannel.handler = clientSession
      serverChannel.handler = server
      server.channelActive(serverChannel)
      clientSession.channelActive(clientChannel)
      return (client, server, clientChannel, serverChannel)
    }
  }

  /// Opens a POST stream to `path` with a fresh recording delegate.
  func openStream(path: String = "/echo.v1.Echo/Get", endStream: Bool = false, extra: [HTTPField] = []) throws -> (any HTTPStream, RecordingDelegate) {
    let delegate = RecordingDelegate()
    let stream = try client.openStream(requestHeaders: requestHeaders(path: path) + extra, endStream: endStream, delegate: delegate)
    return (stream, delegate)
  }
}

func requestHeaders(path: String) -> [HTTPField] {
  [
    HTTPField(name: ":method", value: "POST"),
    HTTPField(name: ":scheme", value: "http"),
    HTTPField(name: ":path", value: path),
    HTTPField(name: ":authority", value: "localhost"),
    HTTPField(name: "content-type", value: "application/grpc"),
    HTTPField(name: "te", value: "trailers"),
  ]
}

let okHeaders = [HTTPField(name: ":status", value: "200"), HTTPField(name: "content-type", value: "application/grpc")]
let okTrailers = [HTTPField(name: "grpc-status", value: "0")]

/// Returns the type of each complete HTTP/2 frame in `bytes`, which must start at a frame
/// header (9 bytes: 24-bit length, type, flags, stream ID).
func frameTypes(in bytes: [UInt8]) -> [UInt8] {
  var types: [UInt8] = []
  var offset = 0
  while offset + 9 <= bytes.count {
    let length = Int(bytes[offset]) << 16 | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
    guard offset + 9 + length <= bytes.count else { break }
    types.append(bytes[offset + 3])
    offset += 9 + length
  }
  return types
}
