import Synchronization
import TandemHTTP

/// The description of a server call that its handler receives, with the response metadata
/// the handler sets.
///
/// A context is shared between the handler and the call layer, so its mutable parts are
/// protected by a lock and it is safe to use from any task.
public final class ServerContext: Sendable {
  /// The method the client called.
  public let method: MethodDescriptor
  /// When the client's `grpc-timeout` runs out, or `nil` when it sent none. At this instant
  /// the call layer ends the call with ``StatusCode/deadlineExceeded``, resets the stream
  /// with CANCEL and marks the context cancelled.
  public let deadline: ContinuousClock.Instant?
  /// The request metadata, without pseudo-headers and the fields of the gRPC protocol
  /// (`content-type`, `te`, `grpc-timeout`, `grpc-encoding`, `grpc-accept-encoding`).
  public let requestMetadata: Metadata
  /// The client's address, such as `ipv4:127.0.0.1:50051`.
  public let remotePeer: String
  /// This server's address, in the same syntax.
  public let localPeer: String
  /// The HTTP version that carried the call.
  public let transport: HTTPVersion

  private let cancelled = Atomic<Bool>(false)
  private let responseMetadata = Mutex<(initial: Metadata, trailing: Metadata)>(([:], [:]))

  /// Creates a context, for example to call a handler directly in a test.
  public init(
    method: MethodDescriptor,
    deadline: ContinuousClock.Instant? = nil,
    requestMetadata: Metadata = [:],
    remotePeer: String = "",
    localPeer: String = "",
    transport: HTTPVersion = .http2
  ) {
    self.method = method
    self.deadline = deadline
    self.requestMetadata = requestMetadata
    self.remotePeer = remotePeer
    self.localPeer = localPeer
    self.transport = transport
  }

  /// Whether the call ended before the handler finished: the client cancelled it, its
  /// deadline passed, the connection closed, or the call failed on a protocol error. Once
  /// `true`, reading requests throws, writing responses throws and the handler's result is
  /// discarded; the handler's task is also cancelled.
  public var isCancelled: Bool {
    cancelled.load(ordering: .acquiring)
  }

  /// Metadata sent in the response headers, with the first response message or, when the
  /// handler fails before writing one, with the status. Changes after the first message has
  /// been written are not sent. Keys must pass ``Metadata/validate()``; otherwise the call
  /// ends with ``StatusCode/internalError``.
  public var initialResponseMetadata: Metadata {
    get { responseMetadata.withLock { $0.initial } }
    set { responseMetadata.withLock { $0.initial = newValue } }
  }

  /// Metadata sent in the trailers with the status. When the handler throws an ``RPCError``,
  /// the error's metadata follows these entries.
  public var trailingResponseMetadata: Metadata {
    get { responseMetadata.withLock { $0.trailing } }
    set { responseMetadata.withLock { $0.trailing = newValue } }
  }

  func markCancelled() {
    cancelled.store(true, ordering: .releasing)
  }
}
