import Foundation
import Synchronization
import Tandem
import TandemHTTP
import TandemHTTP3
import TandemIO
import XCTest

/// A self-signed certificate for localhost and 127.0.0.1, made once per test process.
enum TestCertificate {
  static let shared: SelfSignedCertificate = {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-h3-\(UUID().uuidString)").path
    try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    return try! SelfSignedCertificate.generate(in: directory)
  }()

  static func serverTLS() throws -> QUICServerTLSConfiguration {
    try QUICServerTLSConfiguration.pem(
      certificateChainFile: shared.certificatePath, privateKeyFile: shared.privateKeyPath)
  }

  static func clientTLS(serverName: String? = "localhost") -> QUICClientTLSConfiguration {
    QUICClientTLSConfiguration(trust: .caFile(shared.certificatePath), serverName: serverName)
  }
}

/// What the test server does with a request: `/echo` echoes the body back, `/slow` responds
/// after `delay`, `/stream` sends `count` messages `interval` apart, each a 4-byte counter.
final class TestAcceptor: HTTPServerStreamAcceptor {
  let delay: Duration
  let count: Int
  let interval: Duration
  let requests = Atomic<Int>(0)

  init(delay: Duration = .milliseconds(50), count: Int = 30, interval: Duration = .milliseconds(20)) {
    self.delay = delay
    self.count = count
    self.interval = interval
  }

  func acceptStream(
    _ stream: any HTTPStream, requestHeaders: [HTTPField], endStream: Bool, connection: HTTPConnectionInfo
  ) -> any HTTPStreamDelegate {
    requests.add(1, ordering: .relaxed)
    let path = requestHeaders.first { $0.name == ":path" }?.value ?? ""
    stream.writeHeaders([HTTPField(name: ":status", value: "200"), HTTPField(name: "content-type", value: "application/grpc")], endStream: false)
    let responder = TestResponder(path: path, acceptor: self)
    if endStream { responder.finish(stream) }
    return responder
  }
}

final class TestResponder: HTTPStreamDelegate, @unchecked Sendable {
  let path: String
  let acceptor: TestAcceptor
  let received = Mutex<[UInt8]>([])

  init(path: String, acceptor: TestAcceptor) {
    self.path = path
    self.acceptor = acceptor
  }

  func finish(_ stream: any HTTPStream) {
    let delay = acceptor.delay
    let count = acceptor.count
    let interval = acceptor.interval
    let body = received.withLock { $0 }
    switch path {
    case "/slow":
      Task {
        try? await Task.sleep(for: delay)
        stream.writeData(body, endStream: false)
        stream.writeTrailers([HTTPField(name: "grpc-status", value: "0")])
      }
    case "/stream":
      Task {
        for index in 0..<count {
          let counter = withUnsafeBytes(of: UInt32(index).bigEndian) { Array($0) }
          stream.writeData(counter, endStream: false)
          try? await Task.sleep(for: interval)
        }
        stream.writeTrailers([HTTPField(name: "grpc-status", value: "0")])
      }
    default:
      stream.writeData(body, endStream: false)
      stream.writeTrailers([HTTPField(name: "grpc-status", value: "0")])
    }
  }

  func stream(_ stream: any HTTPStream, didReceiveHeaders fields: [HTTPField], endStream: Bool) {}

  func stream(_ stream: any HTTPStream, didReceiveData bytes: [UInt8], endStream: Bool) {
    received.withLock { $0 += bytes }
    stream.consume(bytes.count)
    if endStream { finish(stream) }
  }

  func stream(_ stream: any HTTPStream, didReceiveTrailers fields: [HTTPField]) {}
  func streamDidBecomeWritable(_ stream: any HTTPStream) {}
  func stream(_ stream: any HTTPStream, didCloseWith reason: HTTPStreamCloseReason) {}
}

/// Collects a response and lets a test wait for the stream's end.
final class ResponseCollector: HTTPStreamDelegate, @unchecked Sendable {
  struct Result {
    var headers: [HTTPField] = []
    var body: [UInt8] = []
    var trailers: [HTTPField] = []
    var closeReason: HTTPStreamCloseReason?
  }

  private let state = Mutex<(result: Result, waiters: [CheckedContinuation<Result, Never>])>((Result(), []))

  func stream(_ stream: any HTTPStream, didReceiveHeaders fields: [HTTPField], endStream: Bool) {
    state.withLock { $0.result.headers = fields }
  }

  func stream(_ stream: any HTTPStream, didReceiveData bytes: [UInt8], endStream: Bool) {
    state.withLock { $0.result.body += bytes }
    stream.consume(bytes.count)
  }

  func stream(_ stream: any HTTPStream, didReceiveTrailers fields: [HTTPField]) {
    state.withLock { $0.result.trailers = fields }
  }

  func streamDidBecomeWritable(_ stream: any HTTPStream) {}

  func stream(_ stream: any HTTPStream, didCloseWith reason: HTTPStreamCloseReason) {
    let (result, waiters) = state.withLock { state -> (Result, [CheckedContinuation<Result, Never>]) in
      state.result.closeReason = reason
      let waiters = state.waiters
      state.waiters = []
      return (state.result, waiters)
    }
    for waiter in waiters { waiter.resume(returning: result) }
  }

  var bodyCount: Int { state.withLock { $0.result.body.count } }

  /// Waits for the stream's end, at most `limit`, and returns what arrived.
  func result(within limit: Duration = .seconds(10)) async -> Result {
    let closed = Task {
      await withCheckedContinuation { (continuation: CheckedContinuation<Result, Never>) in
        let done = state.withLock { state -> Result? in
          if state.result.closeReason != nil { return state.result }
          state.waiters.append(continuation)
          return nil
        }
        if let done { continuation.resume(returning: done) }
      }
    }
    let timeout = Task {
      try? await Task.sleep(for: limit)
      let waiters = state.withLock { state -> [CheckedContinuation<Result, Never>] in
        let waiters = state.waiters
        state.waiters = []
        return waiters
      }
      for waiter in waiters { waiter.resume(returning: state.withLock { $0.result }) }
    }
    let result = await closed.value
    timeout.cancel()
    return result
  }
}

/// Records a client connection's events.
final class ConnectionEvents: HTTPClientConnectionDelegate, @unchecked Sendable {
  let goAways = Atomic<Int>(0)
  let closeDetail = Mutex<String?>(nil)

  func connectionDidReceiveGoAway(_ connection: any HTTPClientConnection, errorCode: HTTPStreamErrorCode) {
    goAways.add(1, ordering: .relaxed)
  }

  func connectionDidClose(_ connection: any HTTPClientConnection, detail: String) {
    closeDetail.withLock { $0 = detail }
  }
}

/// Request headers of a gRPC-shaped POST to `path`.
func requestHeaders(_ path: String) -> [HTTPField] {
  [
    HTTPField(name: ":method", value: "POST"), HTTPField(name: ":scheme", value: "https"),
    HTTPField(name: ":authority", value: "localhost"), HTTPField(name: ":path", value: path),
    HTTPField(name: "content-type", value: "application/grpc"), HTTPField(name: "te", value: "trailers"),
  ]
}

/// A started HTTP/3 server transport on 127.0.0.1 with a free port.
struct TestHTTP3Server {
  let transport: HTTP3ServerTransport
  let port: Int
  let acceptor: TestAcceptor

  static func start(
    group: EventLoopGroup, port: Int = 0, configuration: HTTP3Configuration = HTTP3Configuration(),
    tls: QUICServerTLSConfiguration? = nil, acceptor: TestAcceptor = TestAcceptor()
  ) async throws -> TestHTTP3Server {
    let transport = HTTP3ServerTransport(
      host: "127.0.0.1", port: port, group: group, tls: try tls ?? TestCertificate.serverTLS(), configuration: configuration)
    let port = try await transport.start(acceptor: acceptor)
    return TestHTTP3Server(transport: transport, port: port, acceptor: acceptor)
  }

  func stop() async {
    transport.closeNow()
    await transport.waitUntilClosed()
  }
}
