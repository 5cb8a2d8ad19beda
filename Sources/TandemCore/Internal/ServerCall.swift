import Synchronization
import TandemHTTP

/// One call on the server: the bridge between a stream's events on the event loop and the
/// handler's task.
final class ServerCall: HTTPStreamDelegate, Sendable {
  let context: ServerContext
  private let handler: ServerMethodHandler
  private let configuration: ServerCallConfiguration
  private let logger: (@Sendable (String) -> Void)?
  private let observer: (any CallObserver)?
  private let started = ContinuousClock.now
  private let writer: StreamWriter
  private let state: Mutex<State>

  private struct State {
    var machine = ServerStreamStateMachine()
    var deframer: GRPCMessageDeframer
    /// Complete request messages the handler has not taken.
    var queue = InboundMessageQueue()
    /// Received bytes whose flow-control credit has not been returned.
    var pendingCredit = 0
    var requestEnded = false
    /// The error that reading requests throws from now on, set when the call ends early.
    var failure: RPCError?
    var waiter: CheckedContinuation<[UInt8]?, any Error>?
    var handlerStarted = false
    var handlerTask: Task<Void, Never>?
    var timerTask: Task<Void, Never>?
    var streamClosed = false
    /// gRPC message bytes received and sent, prefixes included, for the observer.
    var receivedBytes = 0
    var sentBytes = 0
    /// Whether the observer has received the end of the call.
    var reportedFinish = false

    var queueCount: Int { queue.count }

    mutating func dequeue() -> [UInt8] { queue.removeFirst() }
  }

  /// The executor of the handler task: the stream's event loop, or `nil` for the global executor.
  private let handlerExecutor: (any TaskExecutor)?

  init(
    stream: any HTTPStream,
    context: ServerContext,
    handler: ServerMethodHandler,
    configuration: ServerCallConfiguration,
    logger: (@Sendable (String) -> Void)?,
    observer: (any CallObserver)? = nil
  ) {
    self.context = context
    self.handler = handler
    self.configuration = configuration
    self.logger = logger
    self.observer = observer
    self.writer = StreamWriter(stream: stream)
    self.handlerExecutor = configuration.runsHandlersOnEventLoop ? stream.taskExecutor : nil
    self.state = Mutex(State(deframer: GRPCMessageDeframer(maxMessageBytes: configuration.maxReceiveMessageBytes)))
  }

  // MARK: - Start

  /// Starts the call after the request headers: the deadline timer and, for request-streaming
  /// methods, the handler. Unary and server-streaming handlers start once the request has ended.
  func start(requestEnded: Bool) {
    if let deadline = context.deadline {
      if deadline <= ContinuousClock.now {
        deadlineExpired()
        return
      }
      let timer = Task { [weak self] in
        do {
          try await Task.sleep(until: deadline, clock: .continuous)
        } catch {
          return
        }
        self?.deadlineExpired()
      }
      let cancelNow = state.withLock { state in
        if state.streamClosed || state.machine.phase == .closed { return true }
        state.timerTask = timer
        return false
      }
      if cancelNow { timer.cancel() }
    }

    if handler.method.kind.isRequestStreaming {
      startHandler(request: nil)
    }
    if requestEnded {
      receiveEndOfRequest()
    }
  }

  private func startHandler(request: [UInt8]?) {
    let task = Task(executorPreference: handlerExecutor) {
      await self.runHandler(request: request)
    }
    let cancelNow = state.withLock { state in
      state.handlerStarted = true
      state.handlerTask = task
      return state.failure != nil
    }
    if cancelNow { task.cancel() }
  }

  private func runHandler(request: [UInt8]?) async {
    do {
      try await handler.run(self, request)
      finish(status: nil, finalMessage: nil)
    } catch let error as RPCError {
      finish(status: error, finalMessage: nil)
    } catch {
      if !context.isCancelled {
        logger?("Handler for \(handler.method.path) threw \(error); the client receives UNKNOWN")
      }
      finish(status: RPCError(code: .unknown, message: "The handler failed with an unexpected error"), finalMessage: nil)
    }
  }

  // MARK: - Handler side

  /// Takes the next request message, waiting for it if needed; `nil` at the end of the requests.
  func nextRequest() async throws(RPCError) -> [UInt8]? {
    enum Immediate {
      case message([UInt8], credit: Int)
      case end
      case failure(RPCError)
      case wait
    }
    let immediate: Immediate = state.withLock { state in
      if state.queueCount > 0 {
        let message = state.dequeue()
        return .message(message, credit: takeCredit(&state))
      }
      if let failure = state.failure { return .failure(failure) }
      if state.requestEnded { return .end }
      return .wait
    }
    switch immediate {
    case .message(let message, let credit):
      returnCredit(credit)
      return message
    case .end:
      return nil
    case .failure(let error):
      throw error
    case .wait:
      break
    }

    do {
      return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[UInt8]?, any Error>) in
        var credit = 0
        let result: Result<[UInt8]?, RPCError>? = state.withLock { state in
          if state.queueCount > 0 {
            let message = state.dequeue()
            credit = takeCredit(&state)
            return .success(message)
          }
          if let failure = state.failure { return .failure(failure) }
          if state.requestEnded { return .success(nil) }
          state.waiter = continuation
          return nil
        }
        returnCredit(credit)
        if let result { continuation.resume(with: result) }
      }
    } catch let error as RPCError {
      throw error
    } catch {
      throw RPCError(code: .cancelled, message: "The call was cancelled")
    }
  }

  /// Returns the credit that may go back to the peer now: all pending credit while the
  /// complete messages waiting for the handler take no more than the configured buffer.
  private func takeCredit(_ state: inout State) -> Int {
    guard state.pendingCredit > 0, state.queue.wireBytes <= configuration.maxBufferedInboundBytes else { return 0 }
    let credit = state.pendingCredit
    state.pendingCredit = 0
    return credit
  }

  private func returnCredit(_ credit: Int) {
    guard credit > 0 else { return }
    writer.enqueue(.consume(credit))
    writer.drain()
  }

  /// Sends one response message, with the response headers before the first one.
  func write(_ payload: [UInt8]) async throws(RPCError) {
    let framed = try GRPCMessageFramer.frame(payload, maxMessageBytes: configuration.maxSendMessageBytes)
    do {
      try await writer.waitUntilWritable()
    } catch let error as RPCError {
      throw error
    } catch {
      throw RPCError(code: .cancelled, message: "The call was cancelled")
    }
    let initialMetadata = context.initialResponseMetadata
    try initialMetadata.validate()
    let failure: RPCError? = state.withLock { state in
      guard let headers = state.machine.sendMessage(initialMetadata: initialMetadata) else {
        return state.failure ?? RPCError(code: .cancelled, message: "The call has already ended")
      }
      if !headers.isEmpty { writer.enqueue(.headers(headers, endStream: false)) }
      writer.enqueue(.data(framed, endStream: false))
      state.sentBytes += framed.count
      return nil
    }
    if let failure { throw failure }
    writer.drain()
  }

  /// Ends the call with `status`, or OK when `status` is `nil`, after sending `finalMessage`
  /// when there is one. Does nothing when the call has already ended.
  func finish(status: RPCError?, finalMessage: [UInt8]?) {
    if state.withLock({ $0.machine.phase == .closed }) { return }
    var status = status ?? RPCError(code: .ok, message: "")
    var framed: [UInt8]?
    if let finalMessage, status.code == .ok {
      do {
        framed = try GRPCMessageFramer.frame(finalMessage, maxMessageBytes: configuration.maxSendMessageBytes)
      } catch {
        status = error
      }
    }
    var trailing = context.trailingResponseMetadata
    trailing.add(contentsOf: status.metadata)
    status.metadata = trailing
    var initialMetadata = context.initialResponseMetadata
    do {
      try initialMetadata.validate()
      try status.metadata.validate()
    } catch {
      logger?("Handler for \(handler.method.path) set invalid response metadata: \(error.message)")
      status = error
      framed = nil
      initialMetadata = [:]
    }

    // NOTE: this layer sends no RST_STREAM NO_ERROR after trailers that precede the client's
    // half-close. gRPC's HTTP/2 protocol recommends one, so the transport is expected to send it.
    let (timer, sent) = state.withLock { state -> (Task<Void, Never>?, Bool) in
      if let framed, let headers = state.machine.sendMessage(initialMetadata: initialMetadata) {
        if !headers.isEmpty { writer.enqueue(.headers(headers, endStream: false)) }
        writer.enqueue(.data(framed, endStream: false))
        state.sentBytes += framed.count
      }
      var sent = true
      switch state.machine.sendStatus(status, initialMetadata: initialMetadata) {
      case .trailersOnly(let fields): writer.enqueue(.headers(fields, endStream: true))
      case .trailers(let fields): writer.enqueue(.trailers(fields))
      case .none: sent = false
      }
      if state.failure == nil {
        state.failure = RPCError(code: .cancelled, message: "The call has already ended")
      }
      let timer = state.timerTask
      state.timerTask = nil
      return (timer, sent)
    }
    timer?.cancel()
    if sent {
      writer.drain()
      reportFinish(status.code)
    }
  }

  /// Reports the end of the call with `code` to the observer, once.
  private func reportFinish(_ code: StatusCode) {
    guard let observer else { return }
    let bytes = state.withLock { state -> (sent: Int, received: Int)? in
      guard !state.reportedFinish else { return nil }
      state.reportedFinish = true
      return (state.sentBytes, state.receivedBytes)
    }
    guard let bytes else { return }
    observer.callFinished(
      handler.method, over: context.transport, status: code, duration: ContinuousClock.now - started,
      sentBytes: bytes.sent, receivedBytes: bytes.received)
  }

  // MARK: - Early ends

  /// Ends the call now: sends `status` unless the response is already closed, then the reset
  /// `resetAfterStatus` when given. Afterwards the handler's reads and writes throw
  /// `notifyHandler` and its task is cancelled.
  private func abort(_ status: RPCError, resetAfterStatus: HTTPStreamErrorCode?, notifyHandler: RPCError) {
    let (waiter, task, timer, sent) = state.withLock { state in
      var sent = true
      switch state.machine.sendStatus(status, initialMetadata: [:]) {
      case .trailersOnly(let fields): writer.enqueue(.headers(fields, endStream: true))
      case .trailers(let fields): writer.enqueue(.trailers(fields))
      case .none: sent = false
      }
      if let resetAfterStatus { writer.enqueue(.reset(resetAfterStatus)) }
      let (waiter, task, timer) = cancelLocked(&state, notifyHandler)
      return (waiter, task, timer, sent)
    }
    if sent { reportFinish(status.code) }
    context.markCancelled()
    writer.fail(notifyHandler)
    waiter?.resume(throwing: notifyHandler)
    task?.cancel()
    timer?.cancel()
    writer.drain()
  }

  private func cancelLocked(
    _ state: inout State, _ error: RPCError
  ) -> (CheckedContinuation<[UInt8]?, any Error>?, Task<Void, Never>?, Task<Void, Never>?) {
    if state.failure == nil { state.failure = error }
    let waiter = state.waiter
    state.waiter = nil
    let task = state.handlerTask
    let timer = state.timerTask
    state.timerTask = nil
    return (waiter, task, timer)
  }

  func deadlineExpired() {
    abort(
      RPCError(code: .deadlineExceeded, message: "Deadline exceeded"),
      // NO_ERROR, as gRPC's HTTP/2 protocol specifies after a status sent before the client's
      // half-close: clients such as grpcio report CANCELLED for a CANCEL reset that
      // arrives right after the trailers.
      resetAfterStatus: .noError,
      notifyHandler: RPCError(code: .cancelled, message: "The call's deadline passed"))
  }

  // MARK: - HTTPStreamDelegate

  func stream(_ stream: any HTTPStream, didReceiveHeaders fields: [HTTPField], endStream: Bool) {
    // Request headers arrive through the acceptor; a later header block is request trailers.
    if endStream { receiveEndOfRequest() }
  }

  func stream(_ stream: any HTTPStream, didReceiveData bytes: [UInt8], endStream: Bool) {
    enum Outcome {
      case none
      case credit(Int)
      case resume(CheckedContinuation<[UInt8]?, any Error>, [UInt8], credit: Int)
      case fail(RPCError)
      case tooManyRequests
    }
    let outcome: Outcome = state.withLock { state in
      if state.failure != nil {
        // The call has ended: return the credit so the connection window does not shrink.
        return .credit(bytes.count)
      }
      var messages: [[UInt8]] = []
      do throws(RPCError) {
        try state.deframer.process(bytes, into: &messages)
      } catch {
        return .fail(error)
      }
      state.pendingCredit += bytes.count
      state.receivedBytes += bytes.count
      for message in messages {
        state.queue.append(message)
      }
      if !handler.method.kind.isRequestStreaming && state.queueCount > 1 {
        return .tooManyRequests
      }
      if let waiter = state.waiter, state.queueCount > 0 {
        state.waiter = nil
        let message = state.dequeue()
        return .resume(waiter, message, credit: takeCredit(&state))
      }
      return .credit(takeCredit(&state))
    }
    switch outcome {
    case .none:
      break
    case .credit(let credit):
      returnCredit(credit)
    case .resume(let waiter, let message, let credit):
      returnCredit(credit)
      waiter.resume(returning: message)
    case .fail(let error):
      abort(error, resetAfterStatus: nil, notifyHandler: error)
    case .tooManyRequests:
      let error = RPCError(
        code: .internalError,
        message: "Expected one request message for \(handler.method.kind) method \(handler.method.path), received more")
      abort(error, resetAfterStatus: nil, notifyHandler: error)
    }
    if endStream { receiveEndOfRequest() }
  }

  func stream(_ stream: any HTTPStream, didReceiveTrailers fields: [HTTPField]) {
    receiveEndOfRequest()
  }

  private func receiveEndOfRequest() {
    enum Outcome {
      case none
      case endWaiter(CheckedContinuation<[UInt8]?, any Error>)
      case startHandler([UInt8])
      case fail(RPCError)
    }
    let outcome: Outcome = state.withLock { state in
      if state.requestEnded || state.failure != nil { return .none }
      state.requestEnded = true
      if state.deframer.hasPartialMessage {
        return .fail(RPCError(code: .internalError, message: "The request stream ended inside a message"))
      }
      if handler.method.kind.isRequestStreaming {
        if let waiter = state.waiter, state.queueCount == 0 {
          state.waiter = nil
          return .endWaiter(waiter)
        }
        return .none
      }
      guard state.queueCount == 1 else {
        return .fail(
          RPCError(
            code: .internalError,
            message: "Expected one request message for \(handler.method.kind) method \(handler.method.path), received \(state.queueCount)"))
      }
      state.handlerStarted = true
      return .startHandler(state.dequeue())
    }
    switch outcome {
    case .none:
      break
    case .endWaiter(let waiter):
      waiter.resume(returning: nil)
    case .startHandler(let request):
      startHandler(request: request)
    case .fail(let error):
      abort(error, resetAfterStatus: nil, notifyHandler: error)
    }
  }

  func streamDidBecomeWritable(_ stream: any HTTPStream) {
    writer.streamDidBecomeWritable()
  }

  func stream(_ stream: any HTTPStream, didCloseWith reason: HTTPStreamCloseReason) {
    let cancelled = RPCError(code: .cancelled, message: "The call was cancelled: the stream was \(reason)")
    let (waiter, task, timer, wasOpen) = state.withLock { state in
      state.streamClosed = true
      let wasOpen = state.machine.phase != .closed
      state.machine.close()
      let (waiter, task, timer) = cancelLocked(&state, cancelled)
      return (waiter, wasOpen ? task : nil, timer, wasOpen)
    }
    timer?.cancel()
    guard wasOpen else { return }
    reportFinish(.cancelled)
    context.markCancelled()
    writer.fail(cancelled)
    waiter?.resume(throwing: cancelled)
    task?.cancel()
  }
}
