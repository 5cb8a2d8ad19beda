import Synchronization
import TandemHTTP
import TandemIO
import XCTest

@testable import TandemHTTP2

/// Client and server sessions wired back to back in memory on one loop.
final class HTTP2MemoryTests: XCTestCase {
  static let group = EventLoopGroup(threadCount: 1)
  var loop: EventLoop { Self.group.next() }

  func testRequestResponseWithTrailers() throws {
    let pair = MemoryPair(loop: loop)
    pair.acceptor.configure = { stream, _, _, delegate in
      delegate.onData = { stream, _, endStream in
        guard endStream else { return }
        stream.writeHeaders(okHeaders, endStream: false)
        stream.writeData(delegate.data, endStream: false)
        stream.writeTrailers(okTrailers)
      }
    }
    let (stream, reply) = try onLoop(loop) { () throws -> (any HTTPStream, RecordingDelegate) in
      let (stream, reply) = try pair.openStream(extra: [HTTPField(name: "x-note", value: "a b")])
      stream.writeData(Array("hello".utf8), endStream: true)
      return (stream, reply)
    }
    waitUntil(loop, "the client stream closes") { reply.closeReason != nil }

    onLoop(loop) {
      XCTAssertEqual(reply.closeReason, .finished)
      XCTAssertEqual(reply.headers.count, 1)
      XCTAssertEqual(reply.headers.first?.first(named: ":status"), "200")
      XCTAssertEqual(reply.headersEndStream, [false])
      XCTAssertEqual(reply.data, Array("hello".utf8))
      XCTAssertEqual(reply.trailers, okTrailers)
      XCTAssertEqual(stream.streamID, 1)

      XCTAssertEqual(pair.acceptor.accepted.count, 1)
      let accepted = pair.acceptor.accepted[0]
      XCTAssertEqual(accepted.headers.first(named: ":method"), "POST")
      XCTAssertEqual(accepted.headers.first(named: ":path"), "/echo.v1.Echo/Get")
      XCTAssertEqual(accepted.headers.first(named: "x-note"), "a b")
      XCTAssertEqual(accepted.headers.first?.name, ":method")
      XCTAssertFalse(accepted.endStream)
      XCTAssertEqual(accepted.connection.version, .http2)
      XCTAssertEqual(accepted.connection.remotePeer, pair.serverChannel.remoteAddress.grpcPeerDescription)
      XCTAssertEqual(accepted.delegate.closeReason, .finished)
    }
  }

  func testTrailersOnlyResponse() throws {
    let pair = MemoryPair(loop: loop)
    pair.acceptor.configure = { stream, _, endStream, _ in
      XCTAssertTrue(endStream)
      stream.writeHeaders(okHeaders + [HTTPField(name: "grpc-status", value: "12")], endStream: true)
    }
    let reply = try onLoop(loop) { try pair.openStream(endStream: true).1 }
    waitUntil(loop, "the client stream closes") { reply.closeReason != nil }

    onLoop(loop) {
      XCTAssertEqual(reply.closeReason, .finished)
      XCTAssertEqual(reply.headersEndStream, [true])
      XCTAssertEqual(reply.headers.first?.first(named: "grpc-status"), "12")
      XCTAssertTrue(reply.data.isEmpty)
      XCTAssertNil(reply.trailers)
    }
  }

  func testTrailersWithoutHeadersBecomeTrailersOnly() throws {
    let pair = MemoryPair(loop: loop)
    pair.acceptor.configure = { stream, _, _, _ in
      stream.writeTrailers(okHeaders + [HTTPField(name: "grpc-status", value: "5")])
    }
    let reply = try onLoop(loop) { try pair.openStream(endStream: true).1 }
    waitUntil(loop, "the client stream closes") { reply.closeReason != nil }

    onLoop(loop) {
      XCTAssertEqual(reply.closeReason, .finished)
      XCTAssertEqual(reply.headersEndStream, [true])
      XCTAssertEqual(reply.headers.first?.first(named: "grpc-status"), "5")
    }
  }

  func testManyStreamsBeyondConcurrencyLimit() throws {
    let pair = MemoryPair(loop: loop, server: HTTP2Configuration(maxConcurrentStreams: 8))
    pair.acceptor.configure = { stream, _, _, delegate in
      delegate.onData = { stream, _, endStream in
        guard endStream else { return }
        stream.writeHeaders(okHeaders, endStream: false)
        stream.writeData(delegate.data, endStream: false)
        stream.writeTrailers(okTrailers)
      }
    }
    // Let the server's SETTINGS arrive so the client's nghttp2 applies the limit.
    waitUntil(loop, "SETTINGS are exchanged") { pair.serverChannel.bytesWritten > 0 && pair.clientChannel.bytesWritten > 0 }

    let replies = try onLoop(loop) { () throws -> [RecordingDelegate] in
      try (0..<300).map { index in
        let (stream, reply) = try pair.openStream()
        stream.writeData(Array("message \(index)".utf8), endStream: true)
        return reply
      }
    }
    waitUntil(loop, "every stream closes") { replies.allSatisfy { $0.closeReason != nil } }

    onLoop(loop) {
      for (index, reply) in replies.enumerated() {
        XCTAssertEqual(reply.closeReason, .finished, "stream \(index)")
        XCTAssertEqual(reply.data, Array("message \(index)".utf8), "stream \(index)")
        XCTAssertEqual(reply.trailers, okTrailers, "stream \(index)")
      }
      XCTAssertEqual(pair.acceptor.accepted.count, 300)
      XCTAssertTrue(pair.server.streams.isEmpty)
    }
  }

  func testFlowControlStallsUntilConsumed() throws {
    let window = 65535
    let pair = MemoryPair(loop: loop, server: HTTP2Configuration(initialStreamWindowSize: window))
    pair.acceptor.configure = { _, _, _, delegate in
      delegate.autoConsume = false
    }
    waitUntil(loop, "SETTINGS are exchanged") { pair.serverChannel.bytesWritten > 0 && pair.clientChannel.bytesWritten > 0 }

    let chunk = [UInt8](repeating: 7, count: 16384)
    let chunkCount = 64
    let (_, upload, accepted) = try onLoop(loop) { () throws -> (any HTTPStream, RecordingDelegate, [Bool]) in
      let (stream, upload) = try pair.openStream()
      let accepted = (0..<chunkCount).map { index in stream.writeData(chunk, endStream: index == chunkCount - 1) }
      return (stream, upload, accepted)
    }
    // 256 KiB high-water mark: the 17th 16 KiB chunk crosses it.
    XCTAssertEqual(accepted.prefix(16), ArraySlice(repeating: true, count: 16))
    XCTAssertEqual(accepted.dropFirst(16), ArraySlice(repeating: false, count: chunkCount - 16))

    waitUntil(loop, "the server receives one window") { pair.acceptor.accepted.first?.delegate.data.count == window }
    // Two more loop turns: nothing moves while the reader has not consumed the window.
    onLoop(loop) {}
    onLoop(loop) {}
    onLoop(loop) {
      XCTAssertEqual(pair.acceptor.accepted[0].delegate.data.count, window)
      XCTAssertEqual(upload.writableCount, 0)
    }

    // Consuming returns credit, a window at a time, until the upload completes.
    var consumed = 0
    let total = chunk.count * chunkCount
    let deadline = ContinuousClock.now + .seconds(20)
    while consumed < total && ContinuousClock.now < deadline {
      consumed = onLoop(loop) {
        let received = pair.acceptor.accepted[0].delegate.data.count
        if received > consumed {
          pair.acceptor.accepted[0].stream.consume(received - consumed)
        }
        return received
      }
      usleep(1000)
    }
    waitUntil(loop, "the upload ends") { pair.acceptor.accepted[0].delegate.dataEnded }
    onLoop(loop) {
      XCTAssertEqual(pair.acceptor.accepted[0].delegate.data.count, total)
      XCTAssertEqual(upload.writableCount, 1)
    }
  }

  func testLargeBodiesBothWays() throws {
    let pair = MemoryPair(loop: loop)
    // The server echoes each chunk as it arrives, far past every window and high-water mark.
    pair.acceptor.configure = { stream, _, _, delegate in
      stream.writeHeaders(okHeaders, endStream: false)
      delegate.onData = { stream, bytes, endStream in
        stream.writeData(bytes, endStream: false)
        if endStream { stream.writeTrailers(okTrailers) }
      }
    }
    let size = 3 << 20
    // A 251-byte pattern, shifted per stream. The prime length keeps pattern and frame boundaries apart.
    let bodies = (0..<4).map { index -> [UInt8] in
      let pattern = (0..<251).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
      var body: [UInt8] = []
      body.reserveCapacity(size + pattern.count)
      while body.count < size { body.append(contentsOf: pattern) }
      return Array(body.prefix(size))
    }
    let replies = try onLoop(loop) { () throws -> [RecordingDelegate] in
      try bodies.map { body in
        let (stream, reply) = try pair.openStream()
        var offset = 0
        while offset < body.count {
          let end = min(offset + 100_000, body.count)
          stream.writeData(Array(body[offset..<end]), endStream: end == body.count)
          offset = end
        }
        return reply
      }
    }
    waitUntil(loop, "every echo completes") { replies.allSatisfy { $0.closeReason != nil } }
    onLoop(loop) {
      for (index, reply) in replies.enumerated() {
        XCTAssertEqual(reply.closeReason, .finished, "stream \(index)")
        XCTAssertEqual(reply.data.count, size, "stream \(index)")
        XCTAssertTrue(reply.data == bodies[index], "stream \(index) echoed different bytes")
        XCTAssertEqual(reply.trailers, okTrailers, "stream \(index)")
      }
    }
  }

  func testResetStreamReturnsConnectionCredit() throws {
    let pair = MemoryPair(loop: loop)
    // The server resets the first upload without consuming anything it received.
    pair.acceptor.configure = { stream, headers, _, delegate in
      guard headers.first(named: ":path") == "/reset" else { return }
      delegate.autoConsume = false
      delegate.onData = { stream, _, _ in stream.reset(.cancel) }
    }
    let chunk = [UInt8](repeating: 3, count: 1 << 20)
    let first = try onLoop(loop) { () throws -> RecordingDelegate in
      let (stream, reply) = try pair.openStream(path: "/reset")
      stream.writeData(chunk, endStream: false)
      return reply
    }
    waitUntil(loop, "the first stream closes") { first.closeReason != nil }

    // 9 MiB pass the 8 MiB connection window only if the reset stream's bytes were credited back.
    let second = try onLoop(loop) { () throws -> (any HTTPStream) in
      let (stream, _) = try pair.openStream(path: "/upload")
      for index in 0..<9 { stream.writeData(chunk, endStream: index == 8) }
      return stream
    }
    waitUntil(loop, "the second upload ends") {
      pair.acceptor.accepted.count == 2 && pair.acceptor.accepted[1].delegate.dataEnded
    }
    onLoop(loop) {
      XCTAssertEqual(first.closeReason, .resetByPeer(.cancel))
      XCTAssertEqual(pair.acceptor.accepted[1].delegate.data.count, 9 * chunk.count)
      XCTAssertEqual(second.streamID, 3)
    }
  }

  func testWritableAfterDrain() throws {
    let pair = MemoryPair(loop: loop)
    let big = [UInt8](repeating: 1, count: 300 * 1024)
    let (stream, upload, accepted) = try onLoop(loop) { () throws -> (any HTTPStream, RecordingDelegate, Bool) in
      let (stream, upload) = try pair.openStream()
      return (stream, upload, stream.writeData(big, endStream: false))
    }
    XCTAssertFalse(accepted)
    waitUntil(loop, "the stream becomes writable") { upload.writableCount == 1 }
    stream.writeData([1], endStream: true)
    waitUntil(loop, "the server receives everything") { pair.acceptor.accepted.first?.delegate.dataEnded == true }
    onLoop(loop) {
      XCTAssertEqual(pair.acceptor.accepted[0].delegate.data.count, big.count + 1)
    }
  }

  func testGracefulShutdownRefusesQueuedStreams() throws {
    let pair = MemoryPair(loop: loop, server: HTTP2Configuration(maxConcurrentStreams: 1))
    waitUntil(loop, "SETTINGS are exchanged") { pair.serverChannel.bytesWritten > 0 && pair.clientChannel.bytesWritten > 0 }
    // Three requests: the first is processed, the other two wait in the client for a free slot.
    let replies = try onLoop(loop) { try (0..<3).map { _ in try pair.openStream(endStream: true).1 } }
    waitUntil(loop, "the server accepts the first stream") { pair.acceptor.accepted.count == 1 }

    onLoop(loop) { pair.server.beginGracefulShutdown() }
    waitUntil(loop, "the queued streams close") { replies[1].closeReason != nil && replies[2].closeReason != nil }
    XCTAssertFalse(pair.client.isAcceptingStreams)
    XCTAssertThrowsError(try pair.openStream()) { error in
      XCTAssertEqual((error as? HTTPTransportError)?.kind, .connectionUnavailable)
    }
    onLoop(loop) {
      XCTAssertEqual(replies[1].closeReason, .refusedByGoAway)
      XCTAssertEqual(replies[2].closeReason, .refusedByGoAway)
      XCTAssertNil(replies[0].closeReason)
      // The processed stream still completes.
      pair.acceptor.accepted[0].stream.writeHeaders(okHeaders, endStream: false)
      pair.acceptor.accepted[0].stream.writeTrailers(okTrailers)
    }
    waitUntil(loop, "the first stream finishes") { replies[0].closeReason != nil }
    onLoop(loop) { XCTAssertEqual(replies[0].closeReason, .finished) }
    waitUntil(loop, "the connection closes") { pair.connectionDelegate.closeDetails.withLock { !$0.isEmpty } }
    XCTAssertEqual(pair.connectionDelegate.goAwayCodes.withLock { $0.first }, .noError)
    onLoop(loop) { XCTAssertEqual(pair.acceptor.accepted.count, 1) }
  }

  func testClientResetReachesServer() throws {
    let pair = MemoryPair(loop: loop)
    let (stream, reply) = try onLoop(loop) { try pair.openStream() }
    waitUntil(loop, "the server accepts the stream") { pair.acceptor.accepted.count == 1 }
    stream.reset(.cancel)
    waitUntil(loop, "the server stream closes") { pair.acceptor.accepted[0].delegate.closeReason != nil }
    onLoop(loop) {
      XCTAssertEqual(reply.closeReason, .resetLocally(.cancel))
      XCTAssertEqual(pair.acceptor.accepted[0].delegate.closeReason, .resetByPeer(.cancel))
    }
  }

  func testServerResetReachesClient() throws {
    let pair = MemoryPair(loop: loop)
    pair.acceptor.configure = { stream, _, _, _ in stream.reset(.enhanceYourCalm) }
    let reply = try onLoop(loop) { try pair.openStream().1 }
    waitUntil(loop, "the client stream closes") { reply.closeReason != nil }
    onLoop(loop) {
      XCTAssertEqual(reply.closeReason, .resetByPeer(.enhanceYourCalm))
      XCTAssertEqual(pair.acceptor.accepted[0].delegate.closeReason, .resetLocally(.enhanceYourCalm))
    }
  }

  func testResetBeforeHeadersLeaveClient() throws {
    let pair = MemoryPair(loop: loop)
    let reply = try onLoop(loop) { () throws -> RecordingDelegate in
      let (stream, reply) = try pair.openStream()
      stream.reset(.cancel)
      return reply
    }
    waitUntil(loop, "the stream closes") { reply.closeReason != nil }
    onLoop(loop) { XCTAssertEqual(reply.closeReason, .resetLocally(.cancel)) }
  }

  func testInvalidRequestHeaderThrows() throws {
    let pair = MemoryPair(loop: loop)
    let cases: [HTTPField] = [
      HTTPField(name: "Upper", value: "x"),
      HTTPField(name: "", value: "x"),
      HTTPField(name: "x-line", value: "a\r\nb"),
      HTTPField(name: "x-space", value: " padded"),
    ]
    for field in cases {
      XCTAssertThrowsError(try pair.openStream(extra: [field]), "field \(field)") { error in
        XCTAssertEqual((error as? HTTPTransportError)?.kind, .protocolError)
      }
    }
  }

  func testInvalidResponseHeaderResetsStream() throws {
    let pair = MemoryPair(loop: loop)
    pair.acceptor.configure = { stream, _, _, _ in
      stream.writeHeaders([HTTPField(name: ":status", value: "200"), HTTPField(name: "Bad Name", value: "x")], endStream: true)
    }
    let reply = try onLoop(loop) { try pair.openStream(endStream: true).1 }
    waitUntil(loop, "the client stream closes") { reply.closeReason != nil }
    onLoop(loop) {
      XCTAssertEqual(reply.closeReason, .resetByPeer(.internalError))
      XCTAssertEqual(pair.acceptor.accepted[0].delegate.closeReason, .resetLocally(.internalError))
      XCTAssertEqual(pair.server.lastStreamFailure?.contains("\"Bad Name\" is invalid"), true, "\(pair.server.lastStreamFailure ?? "nil")")
    }
  }

  func testMalformedRequestNeverReachesAcceptor() throws {
    let pair = MemoryPair(loop: loop)
    let headers = requestHeaders(path: "/x").filter { $0.name != ":scheme" }
    let reply = RecordingDelegate()
    _ = try pair.client.openStream(requestHeaders: headers, endStream: true, delegate: reply)
    waitUntil(loop, "the client stream closes") { reply.closeReason != nil }
    onLoop(loop) {
      XCTAssertEqual(reply.closeReason, .resetByPeer(.protocolError))
      XCTAssertTrue(pair.acceptor.accepted.isEmpty)
    }
  }

  func testOversizedRequestHeadersGet431() throws {
    // The stream opens in the loop turn that creates the pair, before the server's SETTINGS
    // reach the client, so the client cannot check the limit and the server rejects the request.
    let loop = self.loop
    let (pair, reply) = try onLoop(loop) { () throws -> (MemoryPair, RecordingDelegate) in
      let pair = MemoryPair(loop: loop, server: HTTP2Configuration(maxHeaderListSize: 1024))
      let extra = [HTTPField(name: "x-big", value: String(repeating: "a", count: 2000))]
      return (pair, try pair.openStream(endStream: true, extra: extra).1)
    }
    waitUntil(loop, "the client stream closes") { reply.closeReason != nil }
    onLoop(loop) {
      XCTAssertEqual(reply.headers.first?.first(named: ":status"), "431")
      XCTAssertTrue(pair.acceptor.accepted.isEmpty)
    }
  }

  func testOversizedRequestHeadersNotSent() throws {
    let pair = MemoryPair(loop: loop, server: HTTP2Configuration(maxHeaderListSize: 1024))
    waitUntil(loop, "the client has the server's SETTINGS") { pair.client.session.peerMaxHeaderListSize == 1024 }

    // requestHeaders(path:) counts 293 bytes; "x-big" adds 5 + 2000 + 32.
    let reply = try onLoop(loop) {
      try pair.openStream(endStream: true, extra: [HTTPField(name: "x-big", value: String(repeating: "a", count: 2000))]).1
    }
    waitUntil(loop, "the client stream closes") { reply.closeReason != nil }
    onLoop(loop) {
      XCTAssertEqual(reply.closeReason, .resetLocally(.internalError))
      XCTAssertTrue(reply.headers.isEmpty)
      let failure = pair.client.session.lastStreamFailure ?? "nil"
      XCTAssertTrue(failure.contains("2330 bytes"), failure)
      XCTAssertTrue(failure.contains("SETTINGS_MAX_HEADER_LIST_SIZE of 1024 bytes"), failure)
    }

    // A request at the limit goes out on the same connection: 293 + 5 + 694 + 32 = 1024.
    let fitting = try onLoop(loop) {
      try pair.openStream(endStream: true, extra: [HTTPField(name: "x-pad", value: String(repeating: "b", count: 694))]).1
    }
    waitUntil(loop, "the server accepts a stream") { pair.acceptor.accepted.count == 1 }
    onLoop(loop) {
      XCTAssertEqual(pair.acceptor.accepted[0].headers.first(named: "x-pad")?.count, 694)
      XCTAssertNil(pair.acceptor.accepted[0].headers.first(named: "x-big"))
      XCTAssertNil(fitting.closeReason)
    }
  }

  func testHeaderListSizeCountsEveryField() {
    let fields = [HTTPField(name: ":path", value: "/a"), HTTPField(name: "x-é", value: "")]
    // ":path" 5 + "/a" 2 + 32, then "x-é" 4 UTF-8 bytes + 0 + 32.
    XCTAssertEqual(HeaderBlock.listSize(of: fields), 75)
    XCTAssertEqual(HeaderBlock.listSize(of: []), 0)
  }

  func testPartialPrefaceTimesOut() throws {
    let raw = RawHandler()
    let acceptor = RecordingAcceptor()
    let loop = self.loop
    let closeDetail = Mutex<String?>(nil)
    let configuration = HTTP2Configuration(prefaceTimeout: .milliseconds(20))
    // Both channels stay referenced: each end holds its peer only weakly.
    let (client, server) = onLoop(loop) { () -> (MemoryChannel, MemoryChannel) in
      let session = HTTP2Session(role: .server, configuration: configuration, eventLoop: loop)
      session.acceptor = acceptor
      session.onClose = { _, detail in closeDetail.withLock { $0 = detail } }
      let (client, server) = MemoryChannel.pair(on: loop)
      client.handler = raw
      server.handler = session
      session.channelActive(server)
      // The first 16 of the preface's 24 bytes, then silence.
      let partial = Array("PRI * HTTP/2.0\r\n".utf8)
      partial.withUnsafeBytes { client.write($0) }
      return (client, server)
    }
    waitUntil(loop, "the server closes the connection") { raw.isInactive }
    onLoop(loop) {
      XCTAssertTrue(server.isClosed)
      XCTAssertTrue(client.isClosed)
      XCTAssertTrue(acceptor.accepted.isEmpty)
      let detail = closeDetail.withLock { $0 } ?? "nil"
      XCTAssertTrue(detail.contains("no HTTP/2 preface"), detail)
      XCTAssertTrue(detail.contains("0.02 seconds"), detail)
      // SETTINGS (0x4) and the connection WINDOW_UPDATE (0x8), but no GOAWAY (0x7).
      XCTAssertEqual(frameTypes(in: raw.received), [0x4, 0x8])
    }
  }

  func testPrefaceStopsPrefaceTimer() throws {
    let pair = MemoryPair(loop: loop, server: HTTP2Configuration(prefaceTimeout: .milliseconds(20)))
    waitUntil(loop, "the server has the client's SETTINGS") { pair.server.prefaceTimer == nil }

    // Past the timeout the connection still carries requests.
    usleep(50_000)
    pair.acceptor.configure = { stream, _, _, _ in stream.writeHeaders(okHeaders + okTrailers, endStream: true) }
    let reply = try onLoop(loop) { try pair.openStream(endStream: true).1 }
    waitUntil(loop, "the client stream closes") { reply.closeReason != nil }
    onLoop(loop) {
      XCTAssertEqual(reply.closeReason, .finished)
      XCTAssertTrue(pair.connectionDelegate.closeDetails.withLock { $0.isEmpty })
    }
  }

  func testClientHasNoPrefaceTimer() {
    let pair = MemoryPair(loop: loop, client: HTTP2Configuration(prefaceTimeout: .milliseconds(1)))
    onLoop(loop) { XCTAssertNil(pair.client.session.prefaceTimer) }
  }

  func testConnectionLossClosesStreams() throws {
    let pair = MemoryPair(loop: loop)
    let reply = try onLoop(loop) { try pair.openStream().1 }
    waitUntil(loop, "the server accepts the stream") { pair.acceptor.accepted.count == 1 }
    onLoop(loop) { pair.clientChannel.fail("connection reset by peer") }
    onLoop(loop) {
      guard case .connectionClosed(let detail) = reply.closeReason else {
        return XCTFail("client stream closed with \(String(describing: reply.closeReason))")
      }
      XCTAssertTrue(detail.contains("connection reset by peer"), detail)
      guard case .connectionClosed = pair.acceptor.accepted[0].delegate.closeReason else {
        return XCTFail("server stream closed with \(String(describing: pair.acceptor.accepted[0].delegate.closeReason))")
      }
    }
    XCTAssertEqual(pair.connectionDelegate.closeDetails.withLock { $0.count }, 1)
    XCTAssertFalse(pair.client.isAcceptingStreams)
  }

  func testWritesFromOtherThreadsKeepOrder() throws {
    let pair = MemoryPair(loop: loop)
    pair.acceptor.configure = { stream, _, _, delegate in
      delegate.onData = { stream, _, endStream in
        guard endStream else { return }
        stream.writeHeaders(okHeaders, endStream: false)
        stream.writeData(delegate.data, endStream: false)
        stream.writeTrailers(okTrailers)
      }
    }
    let (stream, reply) = try pair.openStream()
    for index in 0..<200 {
      stream.writeData([UInt8(index)], endStream: false)
    }
    stream.writeData([], endStream: true)
    waitUntil(loop, "the client stream closes") { reply.closeReason != nil }
    onLoop(loop) {
      XCTAssertEqual(reply.closeReason, .finished)
      XCTAssertEqual(reply.data, (0..<200).map { UInt8($0) })
    }
  }

  func testClientCloseFinishesOpenStreams() throws {
    let pair = MemoryPair(loop: loop)
    let reply = try onLoop(loop) { try pair.openStream(endStream: true).1 }
    waitUntil(loop, "the server accepts the stream") { pair.acceptor.accepted.count == 1 }
    pair.client.close()
    XCTAssertFalse(pair.client.isAcceptingStreams)
    onLoop(loop) { pair.acceptor.accepted[0].stream.writeHeaders(okHeaders + okTrailers, endStream: true) }
    waitUntil(loop, "the connection closes") { pair.connectionDelegate.closeDetails.withLock { !$0.isEmpty } }
    onLoop(loop) { XCTAssertEqual(reply.closeReason, .finished) }
  }

  func testKeepaliveAcknowledgedKeepsConnection() throws {
    let pair = MemoryPair(loop: loop, client: HTTP2Configuration(keepaliveInterval: .milliseconds(5), keepaliveTimeout: .seconds(5)))
    waitUntil(loop, "SETTINGS are exchanged") { pair.serverChannel.bytesWritten > 0 && pair.clientChannel.bytesWritten > 0 }
    let start = onLoop(loop) { (pair.clientChannel.bytesWritten, pair.serverChannel.bytesWritten) }
    // A PING frame is 17 bytes: three PINGs out and three acknowledgements back.
    waitUntil(loop, "three PINGs are answered") {
      pair.clientChannel.bytesWritten >= start.0 + 3 * 17 && pair.serverChannel.bytesWritten >= start.1 + 3 * 17
    }
    XCTAssertTrue(pair.client.isAcceptingStreams)
    XCTAssertEqual(pair.connectionDelegate.closeDetails.withLock { $0 }, [])
    pair.client.close()
  }

  func testKeepaliveTimeoutClosesConnection() throws {
    let pair = MemoryPair(
      loop: loop, client: HTTP2Configuration(keepaliveInterval: .milliseconds(10), keepaliveTimeout: .milliseconds(20)))
    waitUntil(loop, "SETTINGS are exchanged") { pair.serverChannel.bytesWritten > 0 && pair.clientChannel.bytesWritten > 0 }
    let reply = try onLoop(loop) { () throws -> RecordingDelegate in
      pair.serverChannel.dropsInbound = true
      return try pair.openStream().1
    }
    waitUntil(loop, "the client gives up") { pair.connectionDelegate.closeDetails.withLock { !$0.isEmpty } }
    let detail = pair.connectionDelegate.closeDetails.withLock { $0.first ?? "" }
    XCTAssertTrue(detail.contains("keepalive PING was not acknowledged"), detail)
    onLoop(loop) {
      guard case .connectionClosed(let streamDetail) = reply.closeReason else {
        return XCTFail("stream closed with \(String(describing: reply.closeReason))")
      }
      XCTAssertEqual(streamDetail, detail)
    }
    XCTAssertFalse(pair.client.isAcceptingStreams)
  }

  func testIdleServerConnectionSendsGoAway() throws {
    let pair = MemoryPair(loop: loop, server: HTTP2Configuration(maxIdleTime: .milliseconds(20)))
    waitUntil(loop, "the idle connection closes") { pair.connectionDelegate.closeDetails.withLock { !$0.isEmpty } }
    XCTAssertEqual(pair.connectionDelegate.goAwayCodes.withLock { $0 }, [.noError])
    XCTAssertFalse(pair.client.isAcceptingStreams)
  }

  func testNoErrorResetAfterResponse() throws {
    let pair = MemoryPair(loop: loop)
    pair.acceptor.configure = { stream, _, _, _ in
      // Reply in full while the request body is still open, then stop the upload.
      stream.writeHeaders(okHeaders + okTrailers, endStream: true)
      pair.loop.execute { stream.reset(.noError) }
    }
    let reply = try onLoop(loop) { try pair.openStream().1 }
    waitUntil(loop, "the client stream closes") { reply.closeReason != nil }
    onLoop(loop) {
      XCTAssertEqual(reply.headersEndStream, [true])
      XCTAssertEqual(reply.closeReason, .finished)
    }
  }

  func testHTTP1RequestClosesServerConnection() throws {
    let raw = RawHandler()
    let acceptor = RecordingAcceptor()
    let loop = self.loop
    let closeDetail = Mutex<String?>(nil)
    let (client, server) = onLoop(loop) { () -> (MemoryChannel, MemoryChannel) in
      let session = HTTP2Session(role: .server, configuration: HTTP2Configuration(), eventLoop: loop)
      session.acceptor = acceptor
      session.onClose = { _, detail in closeDetail.withLock { $0 = detail } }
      let (client, server) = MemoryChannel.pair(on: loop)
      client.handler = raw
      server.handler = session
      session.channelActive(server)
      return (client, server)
    }
    onLoop(loop) {
      let request = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
      request.withUnsafeBytes { client.write($0) }
    }
    waitUntil(loop, "the server closes the connection") { raw.isInactive }
    onLoop(loop) {
      XCTAssertTrue(server.isClosed)
      XCTAssertTrue(acceptor.accepted.isEmpty)
      let detail = closeDetail.withLock { $0 } ?? "nil"
      XCTAssertTrue(detail.hasPrefix("HTTP/2 protocol error"), detail)
      // The server's SETTINGS frame (type 0x4) went out first.
      XCTAssertGreaterThanOrEqual(raw.received.count, 9)
      XCTAssertEqual(raw.received.count >= 4 ? raw.received[3] : nil, 0x4)
    }
  }

  func testConfigurationRejectsSmallFrameSize() {
    XCTAssertThrowsError(try HTTP2Configuration(maxFrameSize: 1000).validate()) { error in
      XCTAssertTrue("\(error)".contains("maxFrameSize = 1000"), "\(error)")
    }
    XCTAssertThrowsError(try HTTP2Configuration(streamHighWaterMark: 10, streamLowWaterMark: 20).validate())
    XCTAssertNoThrow(try HTTP2Configuration().validate())
  }

  func testConfigurationRejectsZeroPrefaceTimeout() {
    XCTAssertThrowsError(try HTTP2Configuration(prefaceTimeout: .zero).validate()) { error in
      XCTAssertTrue("\(error)".contains("prefaceTimeout = 0.0 seconds"), "\(error)")
    }
    XCTAssertThrowsError(try HTTP2Configuration(prefaceTimeout: .seconds(-1)).validate())
    XCTAssertEqual(HTTP2Configuration().prefaceTimeout, .seconds(10))
  }
}
