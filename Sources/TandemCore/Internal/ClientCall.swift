import Synchronization
import TandemHTTP

/// One call on the client: opens the stream (and, after a refusal, one more), writes
/// requests, and turns the stream's events into initial metadata, messages and a final status.
final class ClientCall: Sendable {
  struct Settings: Sendable {
    var maxReceiveMessageBytes: Int
    var maxSendMessageBytes: Int?
    var maxBufferedInboundBytes: Int
    var retriesRefusedCalls: Bool
    var maxReplayBufferBytes: Int
    /// Whether the request may travel in early data (QUIC 0-RTT).
    var safeToReplay: Bool
    /// Receives the call's start and end.
    var observer: (any CallObserver)? = nil
  }

  let method: MethodDescriptor
  let deadline: ContinuousClock.Instant?
  private let createdAt = ContinuousClock.now
  private let requestHeaders: [HTTPField]
  private let source: any HTTPConnectionSource
  private let settings: Settings
  private let state: Mutex<State>

  private struct State {
    var machine = ClientStreamStateMachine()
    var deframer: GRPCMessageDeframer
    var attempt = 0
    var writer: StreamWriter
    var started = false
    var retryAvailable: Bool
    /// Framed requests sent so far, kept for a retry until response headers arrive.
    /// It becomes `nil` once they exceed the replay limit or a retry is no longer possible.
    var replay: [[UInt8]]? = []
    var replayBytes = 0
    var halfClosed = false

    var initialMetadata: Metadata?
    var queue = InboundMessageQueue()
    var pendingCredit = 0
    /// The final status; code OK for success.
    var status: RPCError?

    var messageWaiter: CheckedContinuation<[UInt8]?, any Error>?
    var headerWaiters: [CheckedContinuation<Metadata, any Error>] = []
    var statusWaiters: [CheckedContinuation<RPCError, Never>] = []
    var timerTask: Task<Void, Never>?
    var backgroundTasks: [Task<Void, Never>] = []

    /// The HTTP version of the connection that carries the call, once it has a stream.
    var version: HTTPVersion?
    var sentBytes = 0
    var receivedBytes = 0

    var queueCount: Int { queue.count }

    mutating func dequeue() -> [UInt8] { queue.removeFirst() }
  }

  init(
    method: MethodDescriptor,
    requestHeaders: [HTTPField],
    deadline: ContinuousClock.Instant?,
    source: any HTTPConnectionSource,
    settings: Settings
  ) {
    self.method = method
    self.requestHeaders = requestHeaders
    self.deadline = deadline
    self.source = source
    self.settings = settings
    self.state = Mutex(
      State(
        deframer: GRPCMessageDeframer(maxMessageBytes: settings.maxReceiveMessageBytes),
        writer: StreamWriter(stream: nil),
        retryAvailable: settings.retriesRefusedCalls))
  }

  /// Creates a call that failed before it started, such as for invalid metadata.
  static func failed(method: MethodDescriptor, status: RPCError, source: any HTTPConnectionSource) -> ClientCall {
    let call = ClientCall(
      method: method, requestHeaders: [], deadline: nil, source: source,
      settings: Settings(
        maxReceiveMessageBytes: 0, maxSendMessageBytes: nil, maxBufferedInboundBytes: 0,
        retriesRefusedCalls: false, maxReplayBufferBytes: 0, safeToReplay: false))
    call.complete(status, reset: false)
    return call
  }

  // MARK: - Starting

  /// Starts the call: the deadline timer, then a connection and the stream. Returns once the
  /// stream is open or the call has failed. Calling it again does nothing.
  func start() async {
    let proceed = state.withLock { state in
      if state.started { return false }
      state.started = true
      return state.status == nil
    }
    guard proceed else { return }

    if let deadline {
      if deadline <= ContinuousClock.now {
        finishLocally(RPCError(code: .deadlineExceeded, message: "Deadline exceeded before the call started"))
        return
      }
      let timer = Task { [weak self] in
        do {
          try await Task.sleep(until: deadline, clock: .continuous)
        } catch {
          return
        }
        self?.finishLocally(RPCError(code: .deadlineExceeded, message: "Deadline exceeded"))
      }
      let cancelNow = state.withLock { state in
        if state.status != nil { return true }
        state.timerTask = timer
        return false
      }
      if cancelNow { timer.cancel() }
    }

    await runAttempt(0)
  }

  /// Starts the call in a new task, for calls whose first use is not in an async context.
  func startInBackground() {
    addBackgroundTask(Task { await self.start() })
  }

  /// Runs `task` as part of the call: it is cancelled when the call ends.
  func addBackgroundTask(_ task: Task<Void, Never>) {
    let cancelNow = state.withLock { state in
      if state.status != nil { return true }
      state.backgroundTasks.append(task)
      return false
    }
    if cancelNow { task.cancel() }
  }

  private func runAttempt(_ attempt: Int) async {
    let connection: any HTTPClientConnection
    do {
      connection = try await source.connection(deadline: deadline)
    } catch let error as RPCError {
      finishLocally(error)
      return
    } catch {
      finishLocally(RPCError(code: .unavailable, message: "No connection for \(source.authority): \(error)"))
      return
    }

    let delegate = ClientAttemptDelegate(call: self, attempt: attempt)
    let stream: any HTTPStream
    do {
      stream = try connection.openStream(
        requestHeaders: requestHeaders, endStream: false, isSafeToReplay: settings.safeToReplay, delegate: delegate)
    } catch {
      // Nothing reached the server, and the requests still wait in the writer, which has no
      // stream yet, so the same attempt can go to another connection.
      source.connectionFailed(connection)
      let retry = state.withLock { state in
        guard state.status == nil, state.attempt == attempt, state.retryAvailable else { return false }
        state.retryAvailable = false
        return true
      }
      if retry {
        await runAttempt(attempt)
      } else {
        finishLocally(RPCError(code: .unavailable, message: "Opening a stream on \(source.authority) failed: \(error)"))
      }
      return
    }

    // The stream may have closed already on the transport's thread, and a retry may have
    // replaced the writer: only the writer of this attempt may take this stream.
    let writer: StreamWriter? = state.withLock { state in
      state.status == nil && state.attempt == attempt ? state.writer : nil
    }
    guard let writer else {
      stream.reset(.cancel)
      return
    }
    let firstStream = state.withLock { state -> Bool in
      defer { state.version = connection.version }
      return state.version == nil
    }
    if firstStream { settings.observer?.callStarted(method, over: connection.version) }
    writer.attach(stream)
    writer.drain()
  }

  /// Replaces the writer with one for a new attempt that resends the kept requests.
  private func prepareRetryLocked(_ state: inout State) {
    state.attempt += 1
    state.machine = ClientStreamStateMachine()
    state.deframer = GRPCMessageDeframer(maxMessageBytes: settings.maxReceiveMessageBytes)
    state.pendingCredit = 0
    state.writer.fail(RPCError(code: .unavailable, message: "The server refused the stream; the call is retried"))
    let writer = StreamWriter(stream: nil)
    for framed in state.replay ?? [] {
      writer.enqueue(.data(framed, endStream: false))
    }
    if state.halfClosed {
      writer.enqueue(.data([], endStream: true))
    }
    state.writer = writer
  }

  // MARK: - Requests

  /// Sends one request message; with `endStream` it is also the last one.
  func send(_ payload: [UInt8], endStream: Bool = false) async throws(RPCError) {
    let framed = try GRPCMessageFramer.frame(payload, maxMessageBytes: settings.maxSendMessageBytes)
    let writer = state.withLock { $0.writer }
    do {
      try await writer.waitUntilWritable()
    } catch {
      // The writer of a refused attempt fails while the call goes on with a new one, so
      // only a failure of the current writer ends the write.
      let current: (isCurrent: Bool, status: RPCError?) = state.withLock { ($0.writer === writer, $0.status) }
      if current.isCurrent {
        if let status = current.status, status.code == .ok { return }
        throw current.status ?? RPCError(code: .cancelled, message: "The call has ended")
      }
    }
    let outcome: Result<StreamWriter?, RPCError> = state.withLock { state in
      if let status = state.status {
        return status.code == .ok ? .success(nil) : .failure(status)
      }
      if state.halfClosed {
        return .failure(RPCError(code: .internalError, message: "A request was written after the request stream was closed"))
      }
      state.writer.enqueue(.data(framed, endStream: endStream))
      state.sentBytes += framed.count
      if endStream { state.halfClosed = true }
      if state.replay != nil {
        state.replayBytes += framed.count
        if state.replayBytes <= settings.maxReplayBufferBytes {
          state.replay?.append(framed)
        } else {
          state.replay = nil
        }
      }
      return .success(state.writer)
    }
    try outcome.get()?.drain()
  }

  /// Ends the request stream with an empty DATA frame carrying END_STREAM.
  func halfClose() {
    let writer: StreamWriter? = state.withLock { state in
      if state.halfClosed || state.status != nil { return nil }
      state.halfClosed = true
      state.writer.enqueue(.data([], endStream: true))
      return state.writer
    }
    writer?.drain()
  }

  // MARK: - Responses

  /// Waits for the response headers.
  ///
  /// - Throws: the call's failure when it failed first. A trailers-only success returns empty metadata.
  func initialMetadata() async throws(RPCError) -> Metadata {
    let immediate: Result<Metadata, RPCError>? = state.withLock { state in
      if let metadata = state.initialMetadata { return .success(metadata) }
      if let status = state.status { return status.code == .ok ? .success([:]) : .failure(status) }
      return nil
    }
    if let immediate { return try immediate.get() }
    do {
      return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Metadata, any Error>) in
        let immediate: Result<Metadata, RPCError>? = state.withLock { state in
          if let metadata = state.initialMetadata { return .success(metadata) }
          if let status = state.status { return status.code == .ok ? .success([:]) : .failure(status) }
          state.headerWaiters.append(continuation)
          return nil
        }
        if let immediate { continuation.resume(with: immediate) }
      }
    } catch {
      throw error as? RPCError ?? RPCError(code: .cancelled, message: "The call was cancelled")
    }
  }

  /// Takes the next response message; `nil` after the last one of a successful call.
  ///
  /// - Throws: the call's failure once the messages received before it have been taken.
  func nextMessage() async throws(RPCError) -> [UInt8]? {
    var credit = 0
    let immediate: Result<[UInt8]?, RPCError>? = state.withLock { state in
      if state.queueCount > 0 {
        let message = state.dequeue()
        credit = takeCredit(&state)
        return .success(message)
      }
      if let status = state.status { return status.code == .ok ? .success(nil) : .failure(status) }
      return nil
    }
    returnCredit(credit)
    if let immediate { return try immediate.get() }
    do {
      return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[UInt8]?, any Error>) in
        var credit = 0
        let immediate: Result<[UInt8]?, RPCError>? = state.withLock { state in
          if state.queueCount > 0 {
            let message = state.dequeue()
            credit = takeCredit(&state)
            return .success(message)
          }
          if let status = state.status { return status.code == .ok ? .success(nil) : .failure(status) }
          state.messageWaiter = continuation
          return nil
        }
        returnCredit(credit)
        if let immediate { continuation.resume(with: immediate) }
      }
    } catch {
      throw error as? RPCError ?? RPCError(code: .cancelled, message: "The call was cancelled")
    }
  }

  /// Waits for the end of the call and returns its status (code OK for success).
  func finalStatus() async -> RPCError {
    if let status = state.withLock({ $0.status }) { return status }
    return await withCheckedContinuation { (continuation: CheckedContinuation<RPCError, Never>) in
      let status: RPCError? = state.withLock { state in
        if let status = state.status { return status }
        state.statusWaiters.append(continuation)
        return nil
      }
      if let status { continuation.resume(returning: status) }
    }
  }

  /// The initial metadata received so far, for building a failed response.
  var receivedInitialMetadata: Metadata {
    state.withLock { $0.initialMetadata ?? [:] }
  }

  private func takeCredit(_ state: inout State) -> Int {
    guard state.pendingCredit > 0, state.queue.wireBytes <= settings.maxBufferedInboundBytes else { return 0 }
    let credit = state.pendingCredit
    state.pendingCredit = 0
    return credit
  }

  private func returnCredit(_ credit: Int) {
    guard credit > 0 else { return }
    let writer = state.withLock { $0.writer }
    writer.enqueue(.consume(credit))
    writer.drain()
  }

  // MARK: - Ending

  /// Cancels the call: resets the stream with CANCEL and fails it with `status`
  /// (CANCELLED unless given). Does nothing once the call has ended.
  func cancel(_ status: RPCError = RPCError(code: .cancelled, message: "The call was cancelled")) {
    finishLocally(status)
  }

  /// Ends the call from this side with `status` and resets the stream with CANCEL.
  func finishLocally(_ status: RPCError) {
    complete(status, reset: true)
  }

  /// Ends the call with `status`, resetting the stream with CANCEL when `reset` is set.
  private func complete(_ status: RPCError, reset: Bool) {
    complete(status, resetCode: reset ? .cancel : nil)
  }

  /// Ends the call after the server's status. When the request stream is still open, the
  /// stream is reset with NO_ERROR so both sides can release it. gRPC's HTTP/2 protocol
  /// ("Early Server Closure") recommends this for a client that receives trailers before
  /// its own END_STREAM.
  private func completeWithServerStatus(_ status: RPCError) {
    let requestOpen = state.withLock { !$0.halfClosed }
    complete(status, resetCode: requestOpen ? .noError : nil)
  }

  /// Records `status` as the final status, resets the stream with `resetCode` when given,
  /// wakes every waiter and cancels the timer and background tasks. The first status wins.
  /// A CANCELLED status after the deadline becomes DEADLINE_EXCEEDED, as gRPC's HTTP/2
  /// protocol recommends.
  private func complete(_ status: RPCError, resetCode: HTTPStreamErrorCode?) {
    let reset = resetCode != nil
    var status = status
    if status.code == .cancelled, let deadline, deadline <= ContinuousClock.now {
      status = RPCError(code: .deadlineExceeded, message: "Deadline exceeded")
    }
    let finalStatus = status

    let outcome = state.withLock { state -> Completion? in
      if state.status != nil { return nil }
      state.status = finalStatus
      state.machine.finishLocally()
      if let resetCode { state.writer.enqueue(.reset(resetCode)) }
      var completion = Completion(writer: state.writer)
      if let waiter = state.messageWaiter, state.queueCount == 0 {
        completion.messageWaiter = waiter
        state.messageWaiter = nil
      }
      completion.headerWaiters = state.headerWaiters
      state.headerWaiters = []
      completion.statusWaiters = state.statusWaiters
      state.statusWaiters = []
      completion.timer = state.timerTask
      state.timerTask = nil
      completion.tasks = state.backgroundTasks
      state.backgroundTasks = []
      completion.initialMetadata = state.initialMetadata ?? [:]
      completion.traffic = (state.version, state.sentBytes, state.receivedBytes)
      return completion
    }
    guard let outcome else { return }
    settings.observer?.callFinished(
      method, over: outcome.traffic.version, status: finalStatus.code, duration: ContinuousClock.now - createdAt,
      sentBytes: outcome.traffic.sent, receivedBytes: outcome.traffic.received)

    outcome.timer?.cancel()
    for task in outcome.tasks { task.cancel() }
    outcome.writer.fail(finalStatus.code == .ok ? RPCError(code: .cancelled, message: "The call has ended") : finalStatus)
    if reset { outcome.writer.drain() }

    if finalStatus.code == .ok {
      outcome.messageWaiter?.resume(returning: nil)
      for waiter in outcome.headerWaiters { waiter.resume(returning: outcome.initialMetadata) }
    } else {
      outcome.messageWaiter?.resume(throwing: finalStatus)
      for waiter in outcome.headerWaiters { waiter.resume(throwing: finalStatus) }
    }
    for waiter in outcome.statusWaiters { waiter.resume(returning: finalStatus) }
  }

  private struct Completion {
    var writer: StreamWriter
    var messageWaiter: CheckedContinuation<[UInt8]?, any Error>?
    var headerWaiters: [CheckedContinuation<Metadata, any Error>] = []
    var statusWaiters: [CheckedContinuation<RPCError, Never>] = []
    var timer: Task<Void, Never>?
    var tasks: [Task<Void, Never>] = []
    var initialMetadata: Metadata = [:]
    var traffic: (version: HTTPVersion?, sent: Int, received: Int) = (nil, 0, 0)
  }

  // MARK: - Stream events

  private func currentWriter(attempt: Int, stream: any HTTPStream) -> StreamWriter? {
    state.withLock { state in
      state.attempt == attempt ? state.writer : nil
    }
  }

  func receiveHeaders(attempt: Int, stream: any HTTPStream, fields: [HTTPField], endStream: Bool) {
    currentWriter(attempt: attempt, stream: stream)?.attach(stream)
    let (action, waiters): (ClientStreamStateMachine.OnHeaders?, [CheckedContinuation<Metadata, any Error>]) =
      state.withLock { state in
        guard state.attempt == attempt, state.status == nil else { return (nil, []) }
        let action = state.machine.receiveHeaders(fields, endStream: endStream)
        guard case .initialMetadata(let metadata) = action else { return (action, []) }
        state.initialMetadata = metadata
        state.replay = nil
        state.retryAvailable = false
        if let encoding = state.machine.responseEncoding {
          state.deframer = GRPCMessageDeframer(maxMessageBytes: settings.maxReceiveMessageBytes, encoding: encoding)
        }
        let waiters = state.headerWaiters
        state.headerWaiters = []
        return (action, waiters)
      }
    switch action {
    case .initialMetadata(let metadata):
      for waiter in waiters { waiter.resume(returning: metadata) }
    case .finished(let status, let resetStream):
      if resetStream {
        complete(status, reset: true)
      } else {
        completeWithServerStatus(status)
      }
    case .ignore, nil:
      break
    }
  }

  func receiveData(attempt: Int, stream: any HTTPStream, bytes: [UInt8], endStream: Bool) {
    enum Outcome {
      case credit(Int)
      case resume(CheckedContinuation<[UInt8]?, any Error>, [UInt8], credit: Int)
      case fail(RPCError, reset: Bool)
    }
    guard let writer = currentWriter(attempt: attempt, stream: stream) else {
      stream.consume(bytes.count)
      return
    }
    writer.attach(stream)
    let outcome: Outcome = state.withLock { state in
      guard state.status == nil else { return .credit(bytes.count) }
      state.receivedBytes += bytes.count
      let action = state.machine.receiveData(endStream: endStream)
      var finalStatus: RPCError?
      switch action {
      case .ignore:
        return .credit(bytes.count)
      case .finished(let status, let reset):
        return .fail(status, reset: reset)
      case .deframe:
        break
      case .deframeThenFinish(let status):
        finalStatus = status
      }
      var messages: [[UInt8]] = []
      do throws(RPCError) {
        try state.deframer.process(bytes, into: &messages)
      } catch {
        return .fail(error, reset: true)
      }
      state.pendingCredit += bytes.count
      for message in messages {
        state.queue.append(message)
      }
      if let finalStatus { return .fail(finalStatus, reset: false) }
      if let waiter = state.messageWaiter, state.queueCount > 0 {
        state.messageWaiter = nil
        let message = state.dequeue()
        return .resume(waiter, message, credit: takeCredit(&state))
      }
      return .credit(takeCredit(&state))
    }
    switch outcome {
    case .credit(let credit):
      if credit > 0 {
        writer.enqueue(.consume(credit))
        writer.drain()
      }
    case .resume(let waiter, let message, let credit):
      if credit > 0 {
        writer.enqueue(.consume(credit))
        writer.drain()
      }
      waiter.resume(returning: message)
    case .fail(let status, let reset):
      complete(status, reset: reset)
    }
  }

  func receiveTrailers(attempt: Int, stream: any HTTPStream, fields: [HTTPField]) {
    let status: RPCError? = state.withLock { state in
      guard state.attempt == attempt, state.status == nil else { return nil }
      let status = state.machine.receiveTrailers(fields)
      if let status, status.code == .ok, state.deframer.hasPartialMessage {
        return RPCError(code: .internalError, message: "The response stream ended inside a message")
      }
      return status
    }
    if let status { completeWithServerStatus(status) }
  }

  func streamDidBecomeWritable(attempt: Int, stream: any HTTPStream) {
    currentWriter(attempt: attempt, stream: stream)?.streamDidBecomeWritable()
  }

  func streamDidClose(attempt: Int, reason: HTTPStreamCloseReason) {
    enum Outcome {
      case none
      case fail(RPCError)
      case retry
    }
    let outcome: Outcome = state.withLock { state in
      guard state.attempt == attempt, state.status == nil else { return .none }
      guard let (status, retryable) = state.machine.close(reason) else { return .none }
      if retryable, state.retryAvailable, state.replay != nil {
        state.retryAvailable = false
        prepareRetryLocked(&state)
        return .retry
      }
      return .fail(status)
    }
    switch outcome {
    case .none:
      break
    case .fail(let status):
      complete(status, reset: false)
    case .retry:
      addBackgroundTask(Task { await self.runAttempt(attempt + 1) })
    }
  }
}

/// The delegate of one attempt's stream. Events of an attempt that was replaced by a retry
/// are ignored.
final class ClientAttemptDelegate: HTTPStreamDelegate {
  let call: ClientCall
  let attempt: Int

  init(call: ClientCall, attempt: Int) {
    self.call = call
    self.attempt = attempt
  }

  func stream(_ stream: any HTTPStream, didReceiveHeaders fields: [HTTPField], endStream: Bool) {
    call.receiveHeaders(attempt: attempt, stream: stream, fields: fields, endStream: endStream)
  }

  func stream(_ stream: any HTTPStream, didReceiveData bytes: [UInt8], endStream: Bool) {
    call.receiveData(attempt: attempt, stream: stream, bytes: bytes, endStream: endStream)
  }

  func stream(_ stream: any HTTPStream, didReceiveTrailers fields: [HTTPField]) {
    call.receiveTrailers(attempt: attempt, stream: stream, fields: fields)
  }

  func streamDidBecomeWritable(_ stream: any HTTPStream) {
    call.streamDidBecomeWritable(attempt: attempt, stream: stream)
  }

  func stream(_ stream: any HTTPStream, didCloseWith reason: HTTPStreamCloseReason) {
    call.streamDidClose(attempt: attempt, reason: reason)
  }
}
