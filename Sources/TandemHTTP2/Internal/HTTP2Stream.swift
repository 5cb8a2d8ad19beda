import Synchronization
import TandemHTTP
import TandemIO

/// One HTTP/2 stream, client or server side.
///
/// Public methods may run on any thread. They hop to the connection's event loop with
/// `execute`, or act inline when already on the loop and no earlier hop of this stream is
/// still queued, so the operations of one stream keep their order. Every `var` is touched only
/// on the loop; the atomics are the exception.
final class HTTP2Stream: HTTPStream, @unchecked Sendable {
  let session: HTTP2Session
  let eventLoop: EventLoop

  /// The wire ID. A client stream gets it when its HEADERS are submitted on the loop, so it
  /// reads 0 until then.
  private let wireID = Atomic<Int64>(0)
  /// Outbound bytes written by the application and not yet handed to nghttp2.
  let bufferedBytes = Atomic<Int>(0)
  /// Operations queued with `execute` that have not run yet.
  private let queuedOperations = Atomic<Int>(0)

  // Loop-only state.
  var id: Int32 = 0
  var delegate: (any HTTPStreamDelegate)?
  var outbound = ByteQueue()
  var outboundEnded = false
  var pendingTrailers: [HTTPField]?
  /// Whether a HEADERS frame that ends this side (trailers, or a trailers-only response) is
  /// submitted to nghttp2, so the data provider must not add END_STREAM to a DATA frame.
  var finalHeadersSubmitted = false
  /// Whether the frame that ends this side is on the wire.
  var finalFrameSent = false
  /// A reset deferred until the final HEADERS frame is on the wire, because nghttp2 drops
  /// HEADERS queued for a stream it is resetting.
  var resetAfterFinalFrame: HTTPStreamErrorCode?
  var hasDataProvider = false
  var isDeferred = false
  var headersSent = false
  var wantsWritable = false
  var isClosed = false
  /// The reason the stream closed, kept for a delegate that arrives after the close.
  var closeReason: HTTPStreamCloseReason?
  var localResetCode: HTTPStreamErrorCode?
  var peerResetCode: UInt32?
  var remoteEnded = false
  var receivedHeaders = false
  var headerFields: [HTTPField] = []
  var headerListSize = 0
  var headerListTooLarge = false
  var pendingData: [UInt8] = []
  /// Received body bytes not yet reported with `consume`; returned to the connection window
  /// when the stream closes.
  var unconsumedBytes = 0

  init(session: HTTP2Session, delegate: (any HTTPStreamDelegate)?) {
    self.session = session
    self.eventLoop = session.eventLoop
    self.delegate = delegate
  }

  func assignID(_ id: Int32) {
    self.id = id
    wireID.store(Int64(id), ordering: .releasing)
  }

  var streamID: Int64 { wireID.load(ordering: .acquiring) }

  var version: HTTPVersion { .http2 }

  /// Runs `operation` on the loop, preserving the order of this stream's operations.
  @inline(__always)
  func runOnLoop(_ operation: @escaping @Sendable (HTTP2Stream) -> Void) {
    if eventLoop.inEventLoop && queuedOperations.load(ordering: .acquiring) == 0 {
      operation(self)
      return
    }
    queuedOperations.add(1, ordering: .acquiringAndReleasing)
    eventLoop.execute { [self] in
      operation(self)
      queuedOperations.subtract(1, ordering: .acquiringAndReleasing)
    }
  }

  func writeHeaders(_ fields: [HTTPField], endStream: Bool) {
    runOnLoop { $0.session.submitHeaders(for: $0, fields: fields, endStream: endStream) }
  }

  @discardableResult
  func writeData(_ bytes: [UInt8], endStream: Bool) -> Bool {
    let total = bufferedBytes.add(bytes.count, ordering: .relaxed).newValue
    let belowHighWater = total <= session.configuration.streamHighWaterMark
    runOnLoop { $0.session.enqueueData(for: $0, bytes: bytes, endStream: endStream, notifyWhenWritable: !belowHighWater) }
    return belowHighWater
  }

  func writeTrailers(_ fields: [HTTPField]) {
    runOnLoop { $0.session.submitTrailers(for: $0, fields: fields) }
  }

  func reset(_ code: HTTPStreamErrorCode) {
    runOnLoop { $0.session.resetStream($0, code: code) }
  }

  func consume(_ byteCount: Int) {
    guard byteCount > 0 else { return }
    runOnLoop { $0.session.consume(byteCount, on: $0) }
  }
}
