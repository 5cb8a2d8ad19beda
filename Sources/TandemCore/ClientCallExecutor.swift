import TandemHTTP
import TandemProtobuf

/// The client side of the call layer: runs RPCs on streams of the connections that an
/// ``HTTPConnectionSource`` supplies.
///
/// Each call sends the request headers that gRPC's HTTP/2 protocol defines: `:method POST`,
/// `:scheme`, `:path`, `:authority`, `grpc-timeout` when there is a deadline,
/// `content-type: application/grpc`, `te: trailers`, `user-agent`, then the metadata.
/// It writes length-prefixed messages and half-closes with an empty DATA frame carrying
/// END_STREAM. Then it reads the response headers, messages and trailers.
///
/// Failures reach the caller as ``RPCError``:
/// - a response without `grpc-status` maps from its HTTP status (400 and 431 INTERNAL,
///   401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 UNIMPLEMENTED, 429, 502, 503 and 504
///   UNAVAILABLE, any other UNKNOWN); trailers without `grpc-status` are UNKNOWN and a stream
///   that ends without trailers is INTERNAL;
/// - a reset stream maps from its code (REFUSED_STREAM UNAVAILABLE, CANCEL CANCELLED,
///   ENHANCE_YOUR_CALM RESOURCE_EXHAUSTED, INADEQUATE_SECURITY PERMISSION_DENIED, others
///   INTERNAL); a closed connection is UNAVAILABLE;
/// - the deadline passing fails the call with DEADLINE_EXCEEDED and resets the stream with
///   CANCEL; cancelling the calling task fails it with CANCELLED and does the same;
/// - a response message over the maximum receive size fails with RESOURCE_EXHAUSTED.
///
/// A call that the server provably did not process (its stream was refused by GOAWAY or by
/// REFUSED_STREAM before any response headers, or the connection rejected the new stream) is
/// sent once more on a new connection, if its requests fit in
/// ``ClientCallConfiguration/maxReplayBufferBytes``. Other failures are not retried.
public final class ClientCallExecutor: RPCChannel {
  private let source: any HTTPConnectionSource
  private let configuration: ClientCallConfiguration
  private let observer: (any CallObserver)?

  /// Creates an executor that opens streams on `source`'s connections and reports each call's
  /// start and end to `observer` (default `nil`, none).
  public init(
    source: any HTTPConnectionSource, configuration: ClientCallConfiguration = .defaults, observer: (any CallObserver)? = nil
  ) {
    self.source = source
    self.configuration = configuration
    self.observer = observer
  }

  // MARK: - RPCChannel

  public func unary<Request: Message, Response: Message, Result: Sendable>(
    _ method: MethodDescriptor,
    request: Request,
    metadata: Metadata,
    options: CallOptions,
    onResponse: @escaping @Sendable (ClientResponse<Response>) async throws -> Result
  ) async throws -> Result {
    let call = makeCall(method, metadata: metadata, options: options)
    let response: ClientResponse<Response> = await withTaskCancellationHandler {
      do throws(RPCError) {
        try await call.send(try encodeMessage(request), endStream: true)
      } catch {
        call.cancel(error)
      }
      // Starting runs beside reading, so a deadline that ends the call while the connection
      // source is still connecting returns at once and cancels the connection wait.
      return await withTaskGroup(of: Void.self) { group in
        group.addTask {
          await call.start()
        }
        let response: ClientResponse<Response> = await Self.collectSingleResponse(call)
        group.cancelAll()
        return response
      }
    } onCancel: {
      call.cancel()
    }
    return try await onResponse(response)
  }

  public func clientStreaming<Request: Message, Response: Message, Result: Sendable>(
    _ method: MethodDescriptor,
    metadata: Metadata,
    options: CallOptions,
    requestProducer: @escaping @Sendable (RequestWriter<Request>) async throws -> Void,
    onResponse: @escaping @Sendable (ClientResponse<Response>) async throws -> Result
  ) async throws -> Result {
    let call = makeCall(method, metadata: metadata, options: options)
    let response: ClientResponse<Response> = await withTaskCancellationHandler {
      await withTaskGroup(of: Void.self) { group in
        group.addTask {
          await Self.runProducer(requestProducer, call: call)
        }
        group.addTask {
          await call.start()
        }
        let response: ClientResponse<Response> = await Self.collectSingleResponse(call)
        group.cancelAll()
        return response
      }
    } onCancel: {
      call.cancel()
    }
    return try await onResponse(response)
  }

  public func serverStreaming<Request: Message, Response: Message>(
    _ method: MethodDescriptor,
    request: Request,
    metadata: Metadata,
    options: CallOptions
  ) -> ResponseStream<Response> {
    ResponseStream { [self] in
      let call = makeCall(method, metadata: metadata, options: options)
      let task = Task {
        do throws(RPCError) {
          try await call.send(try encodeMessage(request), endStream: true)
        } catch {
          call.cancel(error)
        }
        await call.start()
      }
      call.addBackgroundTask(task)
      return call
    }
  }

  public func bidirectionalStreaming<Request: Message, Response: Message>(
    _ method: MethodDescriptor,
    metadata: Metadata,
    options: CallOptions,
    requestProducer: @escaping @Sendable (RequestWriter<Request>) async throws -> Void
  ) -> ResponseStream<Response> {
    ResponseStream { [self] in
      let call = makeCall(method, metadata: metadata, options: options)
      call.startInBackground()
      call.addBackgroundTask(Task { await Self.runProducer(requestProducer, call: call) })
      return call
    }
  }

  // MARK: - Helpers

  private func makeCall(_ method: MethodDescriptor, metadata: Metadata, options: CallOptions) -> ClientCall {
    do throws(RPCError) {
      try metadata.validate()
    } catch {
      return ClientCall.failed(method: method, status: error, source: source)
    }
    let deadline = options.timeout.map { ContinuousClock.now.advanced(by: $0) }
    let headers = ClientStreamStateMachine.makeRequestHeaders(
      path: method.path,
      authority: source.authority,
      scheme: source.scheme,
      timeout: options.timeout,
      metadata: metadata,
      userAgent: configuration.userAgent)
    let settings = ClientCall.Settings(
      maxReceiveMessageBytes: options.maxReceiveMessageBytes ?? configuration.maxReceiveMessageBytes,
      maxSendMessageBytes: options.maxSendMessageBytes ?? configuration.maxSendMessageBytes,
      maxBufferedInboundBytes: configuration.maxBufferedInboundBytes,
      retriesRefusedCalls: configuration.retriesRefusedCalls,
      maxReplayBufferBytes: configuration.maxReplayBufferBytes,
      safeToReplay: options.safeToReplay,
      observer: observer)
    return ClientCall(method: method, requestHeaders: headers, deadline: deadline, source: source, settings: settings)
  }

  /// Runs the request producer, then half-closes. A producer that throws cancels the call
  /// with its error, or with CANCELLED naming a non-``RPCError``.
  private static func runProducer<Request: Message>(
    _ producer: @Sendable (RequestWriter<Request>) async throws -> Void,
    call: ClientCall
  ) async {
    let writer = RequestWriter<Request> { message throws(RPCError) in
      try await call.send(try encodeMessage(message))
    }
    do {
      try await producer(writer)
      call.halfClose()
    } catch let error as RPCError {
      call.cancel(error)
    } catch {
      call.cancel(RPCError(code: .cancelled, message: "The request producer threw: \(error)"))
    }
  }

  /// Reads the single response of a unary or client-streaming call. Zero messages with an OK
  /// status, or a second message, fail the call with INTERNAL.
  private static func collectSingleResponse<Response: Message>(_ call: ClientCall) async -> ClientResponse<Response> {
    do throws(RPCError) {
      let initialMetadata = try await call.initialMetadata()
      guard let first = try await call.nextMessage() else {
        let status = await call.finalStatus()
        let error =
          status.code == .ok
          ? RPCError(code: .internalError, message: "The server sent no response message for \(call.method.path)", metadata: status.metadata)
          : status
        return ClientResponse(initialMetadata: initialMetadata, trailingMetadata: error.metadata, result: .failure(error))
      }
      if try await call.nextMessage() != nil {
        let error = RPCError(code: .internalError, message: "The server sent more than one response message for \(call.method.path)")
        call.cancel(error)
        return ClientResponse(initialMetadata: initialMetadata, trailingMetadata: [:], result: .failure(error))
      }
      let status = await call.finalStatus()
      let decoded = try decodeMessage(Response.self, from: first)
      return ClientResponse(initialMetadata: initialMetadata, trailingMetadata: status.metadata, result: .success(decoded))
    } catch {
      return ClientResponse(
        initialMetadata: call.receivedInitialMetadata, trailingMetadata: error.metadata, result: .failure(error))
    }
  }
}
