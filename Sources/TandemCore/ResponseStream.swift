import Synchronization
import TandemProtobuf

/// The response messages of a server-streaming or bidirectional-streaming call.
///
/// The call starts when iteration starts (or when ``initialMetadata`` or
/// ``trailingMetadata`` is first read). Iterate it once: a second iterator continues where the
/// first stopped. Leaving the loop early (`break`, `return` or a thrown error) cancels the
/// call, resetting its stream with CANCEL. Cancelling the iterating task does the same.
///
/// ```swift
/// for try await reply in echo.expand(.with { $0.text = "a b c" }) {
///   print(reply.text)
/// }
/// ```
///
/// Iteration throws the ``RPCError`` that ended the call, after the messages received
/// before it.
public struct ResponseStream<Message: TandemProtobuf.Message>: AsyncSequence, Sendable {
  public typealias Element = Message
  public typealias Failure = RPCError

  private let box: ResponseStreamBox

  init(start: @escaping @Sendable () -> ClientCall) {
    box = ResponseStreamBox(start: start)
  }

  /// The metadata of the response headers, waiting for them (and starting the call) if needed.
  ///
  /// - Throws: the call's ``RPCError`` when it failed before the headers. A trailers-only
  ///   success returns empty metadata.
  public var initialMetadata: Metadata {
    get async throws(RPCError) {
      let call = box.call()
      let result = await withTaskCancellationHandler { () async -> Result<Metadata, RPCError> in
        do throws(RPCError) {
          return .success(try await call.initialMetadata())
        } catch {
          return .failure(error)
        }
      } onCancel: {
        call.cancel()
      }
      return try result.get()
    }
  }

  /// The metadata of the trailers, waiting for the end of the call (and starting it) if needed.
  /// For a failed call this is the failure's metadata.
  ///
  /// - Throws: ``RPCError`` with ``StatusCode/cancelled`` when the waiting task is cancelled,
  ///   which also cancels the call.
  public var trailingMetadata: Metadata {
    get async throws(RPCError) {
      let call = box.call()
      let status = await withTaskCancellationHandler {
        await call.finalStatus()
      } onCancel: {
        call.cancel()
      }
      return status.metadata
    }
  }

  public struct AsyncIterator: AsyncIteratorProtocol {
    private let handle: IterationHandle

    fileprivate init(call: ClientCall) {
      handle = IterationHandle(call: call)
    }

    public mutating func next() async throws(RPCError) -> Message? {
      let call = handle.call
      let result = await withTaskCancellationHandler { () async -> Result<[UInt8]?, RPCError> in
        do throws(RPCError) {
          return .success(try await call.nextMessage())
        } catch {
          return .failure(error)
        }
      } onCancel: {
        call.cancel()
      }
      let bytes = try result.get()
      guard let bytes else {
        handle.finished = true
        return nil
      }
      do {
        return try decodeMessage(Message.self, from: bytes)
      } catch {
        call.cancel(error)
        throw error
      }
    }
  }

  public func makeAsyncIterator() -> AsyncIterator {
    AsyncIterator(call: box.call())
  }
}

/// Creates the call of a ``ResponseStream`` once, on first use.
final class ResponseStreamBox: Sendable {
  private let start: @Sendable () -> ClientCall
  private let started = Mutex<ClientCall?>(nil)

  init(start: @escaping @Sendable () -> ClientCall) {
    self.start = start
  }

  func call() -> ClientCall {
    started.withLock { call in
      if let call { return call }
      let created = start()
      call = created
      return created
    }
  }
}

/// Cancels the call when an iterator goes away before the end of the responses.
final class IterationHandle {
  let call: ClientCall
  var finished = false

  init(call: ClientCall) {
    self.call = call
  }

  deinit {
    if !finished { call.cancel() }
  }
}
