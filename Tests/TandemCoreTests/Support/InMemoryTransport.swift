import Dispatch
import Synchronization
import TandemCore
import TandemHTTP

/// An in-memory HTTP transport for call-layer tests: client and server streams that deliver
/// their events on one serial dispatch queue, in order, with per-stream flow control.
///
/// Each direction of a stream has a window: body bytes reach the peer only while the window
/// has room, and the receiver's `consume(_:)` grows it again. `writeData` returns `false`
/// once more than `highWaterMark` bytes wait, and the writer's delegate hears
/// `streamDidBecomeWritable` when that falls to `lowWaterMark` or below.
final class InMemoryTransport: Sendable {
  struct Options: Sendable {
    var window = 65_536
    var maxFrameSize = 16_384
    var highWaterMark = 32_768
    var lowWaterMark = 8_192
  }

  /// How the next streams that a client opens fail instead of reaching the acceptor.
  enum Refusal: Sendable {
    case resetRefusedStream
    /// REFUSED_STREAM delivered on the opening thread before `openStream` returns, as a
    /// transport on another thread can do when the reset arrives at once.
    case resetRefusedStreamBeforeReturn
    case goAway
    case openStreamThrows
  }

  let queue = DispatchQueue(label: "tandem.tests.in-memory-transport")
  let options: Options
  let acceptor: any HTTPServerStreamAcceptor
  private let state = Mutex<State>(State())

  private struct State {
    var nextStreamID: Int64 = 1
    var refusals: [Refusal] = []
    var pairs: [Int64: StreamPair] = [:]
    var acceptedStreams = 0
  }

  init(acceptor: any HTTPServerStreamAcceptor, options: Options = Options()) {
    self.acceptor = acceptor
    self.options = options
  }

  /// Makes the next `refusals.count` streams fail in the given ways, in order.
  func refuseNextStreams(_ refusals: [Refusal]) {
    state.withLock { $0.refusals.append(contentsOf: refusals) }
  }

  var acceptedStreamCount: Int { state.withLock { $0.acceptedStreams } }

  /// Returns the pair of the stream with `id`, for assertions.
  func pair(_ id: Int64) -> StreamPair? { state.withLock { $0.pairs[id] } }

  var allPairs: [StreamPair] { state.withLock { Array($0.pairs.values) } }

  func makeConnection() -> InMemoryConnection {
    InMemoryConnection(transport: self)
  }

  fileprivate func open(requestHeaders: [HTTPField], endStream: Bool, delegate: any HTTPStreamDelegate) throws -> any HTTPStream {
    let (id, refusal) = state.withLock { state -> (Int64, Refusal?) in
      let id = state.nextStreamID
      state.nextStreamID += 2
      let refusal = state.refusals.isEmpty ? nil : state.refusals.removeFirst()
      if refusal == nil { state.acceptedStreams += 1 }
      return (id, refusal)
    }
    if refusal == .openStreamThrows {
      throw HTTPTransportError(.connectionUnavailable, "The in-memory connection takes no new streams")
    }
    let pair = StreamPair(id: id, transport: self, clientDelegate: delegate)
    state.withLock { $0.pairs[id] = pair }
    switch refusal {
    case .resetRefusedStream:
      pair.closeFromTransport(client: .resetByPeer(.refusedStream), server: nil)
    case .resetRefusedStreamBeforeReturn:
      pair.closeFromTransport(client: .resetByPeer(.refusedStream), server: nil)
      queue.sync {}  // The close above runs on the queue; wait until it has.
    case .goAway:
      pair.closeFromTransport(client: .refusedByGoAway, server: nil)
    case .openStreamThrows, nil:
      pair.sendRequestHeaders(requestHeaders, endStream: endStream)
    }
    return pair.client
  }

  /// Opens a raw client stream, for tests that speak HTTP directly to the acceptor.
  func openRawStream(requestHeaders: [HTTPField], endStream: Bool, delegate: any HTTPStreamDelegate) -> any HTTPStream {
    try! open(requestHeaders: requestHeaders, endStream: endStream, delegate: delegate)
  }

  /// Closes every open stream with `.connectionClosed`.
  func closeAllStreams(detail: String) {
    for pair in allPairs {
      pair.closeFromTransport(client: .connectionClosed(detail: detail), server: .connectionClosed(detail: detail))
    }
  }
}

final class InMemoryConnection: HTTPClientConnection {
  let transport: InMemoryTransport
  var version: HTTPVersion { .http2 }
  var isAcceptingStreams: Bool { true }

  init(transport: InMemoryTransport) {
    self.transport = transport
  }

  func openStream(requestHeaders: [HTTPField], endStream: Bool, delegate: any HTTPStreamDelegate) throws -> any HTTPStream {
    try transport.open(requestHeaders: requestHeaders, endStream: endStream, delegate: delegate)
  }

  func close() {}
}

/// Both ends of one stream.
final class StreamPair: Sendable {
  enum Side: Int, Sendable { case client = 0, server = 1 }

  private enum Frame {
    case headers([HTTPField], endStream: Bool)
    case data([UInt8], endStream: Bool)
    case trailers([HTTPField])
  }

  private struct Half {
    var delegate: (any HTTPStreamDelegate)?
    var pending: [Frame] = []
    var bufferedBytes = 0
    var window: Int
    var reportedBlocked = false
    var sentEnd = false
    var endDelivered = false
    /// Body bytes this side received, and the credit it returned with consume.
    var receivedBytes = 0
    var consumedBytes = 0
    var consumeCalls = 0
    /// Whether this side's delegate heard the close; later events are dropped.
    var closeDelivered = false
  }

  private struct State {
    var halves: [Half]
    var closed = false
  }

  let id: Int64
  unowned let transport: InMemoryTransport
  private let state: Mutex<State>
  let client: InMemoryStream
  let server: InMemoryStream

  init(id: Int64, transport: InMemoryTransport, clientDelegate: any HTTPStreamDelegate) {
    self.id = id
    self.transport = transport
    var clientHalf = Half(window: transport.options.window)
    clientHalf.delegate = clientDelegate
    state = Mutex(State(halves: [clientHalf, Half(window: transport.options.window)]))
    client = InMemoryStream(id: id)
    server = InMemoryStream(id: id)
    client.attach(pair: self, side: .client)
    server.attach(pair: self, side: .server)
  }

  private func stream(_ side: Side) -> InMemoryStream { side == .client ? client : server }
  private func other(_ side: Side) -> Side { side == .client ? .server : .client }

  /// Body bytes the server side received and the credit it returned.
  var serverReceivedBytes: Int { state.withLock { $0.halves[1].receivedBytes } }
  var serverConsumedBytes: Int { state.withLock { $0.halves[1].consumedBytes } }
  var clientReceivedBytes: Int { state.withLock { $0.halves[0].receivedBytes } }
  var clientConsumedBytes: Int { state.withLock { $0.halves[0].consumedBytes } }
  var isClosed: Bool { state.withLock { $0.closed } }

  func sendRequestHeaders(_ fields: [HTTPField], endStream: Bool) {
    let info = HTTPConnectionInfo(
      version: .http2, remotePeer: "ipv4:127.0.0.1:40000", localPeer: "ipv4:127.0.0.1:50051", isSecure: false,
      connectionID: 1)
    state.withLock { state in
      if endStream { state.halves[0].sentEnd = true }
      transport.queue.async { [self] in
        let delegate = transport.acceptor.acceptStream(server, requestHeaders: fields, endStream: endStream, connection: info)
        self.state.withLock { state in
          state.halves[1].delegate = delegate
          if endStream { state.halves[0].endDelivered = true }
        }
        checkFinished()
      }
    }
  }

  // MARK: - Stream operations

  func write(_ frame: FrameRequest, from side: Side) -> Bool {
    state.withLock { state in
      guard !state.closed, !state.halves[side.rawValue].sentEnd else { return true }
      switch frame {
      case .headers(let fields, let end):
        state.halves[side.rawValue].pending.append(.headers(fields, endStream: end))
        if end { state.halves[side.rawValue].sentEnd = true }
      case .data(let bytes, let end):
        state.halves[side.rawValue].pending.append(.data(bytes, endStream: end))
        state.halves[side.rawValue].bufferedBytes += bytes.count
        if end { state.halves[side.rawValue].sentEnd = true }
      case .trailers(let fields):
        state.halves[side.rawValue].pending.append(.trailers(fields))
        state.halves[side.rawValue].sentEnd = true
      }
      pumpLocked(&state, side)
      let blocked = state.halves[side.rawValue].bufferedBytes > transport.options.highWaterMark
      if blocked { state.halves[side.rawValue].reportedBlocked = true }
      return !blocked
    }
  }

  enum FrameRequest {
    case headers([HTTPField], Bool)
    case data([UInt8], Bool)
    case trailers([HTTPField])
  }

  func consume(_ count: Int, from side: Side) {
    state.withLock { state in
      guard count > 0 else { return }
      state.halves[side.rawValue].consumedBytes += count
      state.halves[side.rawValue].consumeCalls += 1
      guard !state.closed else { return }
      state.halves[other(side).rawValue].window += count
      pumpLocked(&state, other(side))
    }
  }

  func reset(_ code: HTTPStreamErrorCode, from side: Side) {
    closeFromTransport(
      client: side == .client ? .resetLocally(code) : .resetByPeer(code),
      server: side == .server ? .resetLocally(code) : .resetByPeer(code))
  }

  /// Closes the stream and passes each side's delegate its reason. A `nil` reason leaves that
  /// side's delegate uncalled.
  func closeFromTransport(client clientReason: HTTPStreamCloseReason?, server serverReason: HTTPStreamCloseReason?) {
    state.withLock { state in
      guard !state.closed else { return }
      state.closed = true
      state.halves[0].pending = []
      state.halves[1].pending = []
      transport.queue.async { [self] in
        let delegates = self.state.withLock { state in
          let delegates = (
            state.halves[0].closeDelivered ? nil : state.halves[0].delegate,
            state.halves[1].closeDelivered ? nil : state.halves[1].delegate
          )
          state.halves[0].closeDelivered = true
          state.halves[1].closeDelivered = true
          return delegates
        }
        if let clientReason { delegates.0?.stream(client, didCloseWith: clientReason) }
        if let serverReason { delegates.1?.stream(server, didCloseWith: serverReason) }
      }
    }
  }

  /// Sends as many pending frames of `side` as the window allows, splitting DATA into
  /// frames of at most `maxFrameSize` bytes.
  private func pumpLocked(_ state: inout State, _ side: Side) {
    let receiver = other(side)
    let target = stream(receiver)
    while !state.halves[side.rawValue].pending.isEmpty {
      switch state.halves[side.rawValue].pending[0] {
      case .headers(let fields, let end):
        state.halves[side.rawValue].pending.removeFirst()
        deliver(to: receiver) { $0.stream(target, didReceiveHeaders: fields, endStream: end) }
        if end { markEndDelivered(side) }
      case .trailers(let fields):
        state.halves[side.rawValue].pending.removeFirst()
        deliver(to: receiver) { $0.stream(target, didReceiveTrailers: fields) }
        markEndDelivered(side)
      case .data(let bytes, let end):
        let window = state.halves[side.rawValue].window
        if bytes.isEmpty {
          state.halves[side.rawValue].pending.removeFirst()
          deliver(to: receiver) { $0.stream(target, didReceiveData: [], endStream: end) }
          if end { markEndDelivered(side) }
          continue
        }
        guard window > 0 else { return }
        let count = min(window, bytes.count, transport.options.maxFrameSize)
        let chunk = Array(bytes[0..<count])
        let rest = Array(bytes[count...])
        state.halves[side.rawValue].window -= count
        state.halves[side.rawValue].bufferedBytes -= count
        state.halves[receiver.rawValue].receivedBytes += count
        let chunkEnds = rest.isEmpty && end
        if rest.isEmpty {
          state.halves[side.rawValue].pending.removeFirst()
        } else {
          state.halves[side.rawValue].pending[0] = .data(rest, endStream: end)
        }
        deliver(to: receiver) { $0.stream(target, didReceiveData: chunk, endStream: chunkEnds) }
        if chunkEnds { markEndDelivered(side) }
      }
    }
    if state.halves[side.rawValue].reportedBlocked
      && state.halves[side.rawValue].bufferedBytes <= transport.options.lowWaterMark
    {
      state.halves[side.rawValue].reportedBlocked = false
      let source = stream(side)
      deliver(to: side) { $0.streamDidBecomeWritable(source) }
    }
  }

  private func deliver(to side: Side, _ event: @escaping @Sendable (any HTTPStreamDelegate) -> Void) {
    transport.queue.async { [self] in
      let delegate: (any HTTPStreamDelegate)? = state.withLock { state in
        state.halves[side.rawValue].closeDelivered ? nil : state.halves[side.rawValue].delegate
      }
      if let delegate { event(delegate) }
    }
  }

  private func markEndDelivered(_ side: Side) {
    transport.queue.async { [self] in
      state.withLock { $0.halves[side.rawValue].endDelivered = true }
      checkFinished()
    }
  }

  private func checkFinished() {
    let delegates: (any HTTPStreamDelegate, any HTTPStreamDelegate)? = state.withLock { state in
      guard !state.closed, state.halves[0].endDelivered, state.halves[1].endDelivered,
        let clientDelegate = state.halves[0].delegate, let serverDelegate = state.halves[1].delegate
      else { return nil }
      state.closed = true
      state.halves[0].closeDelivered = true
      state.halves[1].closeDelivered = true
      return (clientDelegate, serverDelegate)
    }
    guard let delegates else { return }
    delegates.0.stream(client, didCloseWith: .finished)
    delegates.1.stream(server, didCloseWith: .finished)
  }
}

/// One end of a ``StreamPair``.
final class InMemoryStream: HTTPStream {
  let streamID: Int64
  var version: HTTPVersion { .http2 }
  private let link = Mutex<(pair: StreamPair?, side: StreamPair.Side)>((nil, .client))

  init(id: Int64) {
    streamID = id
  }

  func attach(pair: StreamPair, side: StreamPair.Side) {
    link.withLock { $0 = (pair, side) }
  }

  private var target: (StreamPair, StreamPair.Side) {
    let link = link.withLock { $0 }
    return (link.pair!, link.side)
  }

  func writeHeaders(_ fields: [HTTPField], endStream: Bool) {
    let (pair, side) = target
    _ = pair.write(.headers(fields, endStream), from: side)
  }

  @discardableResult
  func writeData(_ bytes: [UInt8], endStream: Bool) -> Bool {
    let (pair, side) = target
    return pair.write(.data(bytes, endStream), from: side)
  }

  func writeTrailers(_ fields: [HTTPField]) {
    let (pair, side) = target
    _ = pair.write(.trailers(fields), from: side)
  }

  func reset(_ code: HTTPStreamErrorCode) {
    let (pair, side) = target
    pair.reset(code, from: side)
  }

  func consume(_ byteCount: Int) {
    let (pair, side) = target
    pair.consume(byteCount, from: side)
  }
}

/// A connection source over one in-memory transport; every call gets a new connection.
final class InMemoryConnectionSource: HTTPConnectionSource {
  let transport: InMemoryTransport
  private let failures = Mutex(0)

  init(transport: InMemoryTransport) {
    self.transport = transport
  }

  var authority: String { "localhost:50051" }
  var scheme: String { "http" }

  func connection(deadline: ContinuousClock.Instant?) async throws -> any HTTPClientConnection {
    transport.makeConnection()
  }

  func connectionFailed(_ connection: any HTTPClientConnection) {
    failures.withLock { $0 += 1 }
  }

  var failedConnectionCount: Int { failures.withLock { $0 } }
}
