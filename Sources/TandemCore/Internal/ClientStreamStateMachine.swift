import TandemHTTP

/// The gRPC rules for the client side of one stream: the request headers, and turning
/// response headers, DATA, trailers and close reasons into metadata, messages and one final
/// status. It returns what happened and performs no I/O.
struct ClientStreamStateMachine: Sendable {
  enum Phase: Sendable {
    case awaitingHeaders
    case receivingMessages
    case finished
  }

  enum OnHeaders: Equatable {
    /// Valid response headers: the initial metadata.
    case initialMetadata(Metadata)
    /// The response ended: a trailers-only response, or headers that make the call fail.
    /// When `resetStream` is set the server's side is still open and the caller resets
    /// the stream with CANCEL.
    case finished(RPCError, resetStream: Bool)
    /// Nothing to do: an informational 1xx response, or headers after the call finished.
    case ignore
  }

  private(set) var phase: Phase = .awaitingHeaders
  /// The `grpc-encoding` of the response, when the server declared one other than identity.
  private(set) var responseEncoding: String?

  /// Whether response headers have arrived, which rules out a transparent retry.
  var receivedResponseHeaders: Bool { phase != .awaitingHeaders }

  /// Builds the request headers, in the order the protocol recommends: pseudo-headers, then
  /// `grpc-timeout`, then the other call-definition fields, then the metadata. The caller
  /// validated `metadata`. A `user-agent` entry in `metadata` goes in front of `userAgent`.
  static func makeRequestHeaders(
    path: String,
    authority: String,
    scheme: String,
    timeout: Duration?,
    metadata: Metadata,
    userAgent: String
  ) -> [HTTPField] {
    var fields: [HTTPField] = []
    fields.reserveCapacity(8 + metadata.count)
    fields.append(HTTPField(name: ":method", value: "POST"))
    fields.append(HTTPField(name: ":scheme", value: scheme))
    fields.append(HTTPField(name: ":path", value: path))
    fields.append(HTTPField(name: ":authority", value: authority))
    if let timeout {
      fields.append(HTTPField(name: "grpc-timeout", value: GRPCTimeout.encode(timeout)))
    }
    fields.append(HTTPField(name: "content-type", value: "application/grpc"))
    fields.append(HTTPField(name: "te", value: "trailers"))
    var agent = userAgent
    var userMetadata = metadata
    let userAgents = metadata[stringValues: "user-agent"]
    if !userAgents.isEmpty {
      agent = (userAgents + [userAgent]).joined(separator: " ")
      userMetadata.removeAllValues(forKey: "user-agent")
    }
    fields.append(HTTPField(name: "user-agent", value: agent))
    userMetadata.appendFields(to: &fields)
    return fields
  }

  mutating func receiveHeaders(_ fields: [HTTPField], endStream: Bool) -> OnHeaders {
    switch phase {
    case .finished:
      return .ignore
    case .receivingMessages:
      // Transports deliver trailers through their own callback; a second HEADERS block
      // that is not trailers breaks the protocol.
      phase = .finished
      return .finished(
        RPCError(code: .internalError, message: "Received a second block of response headers"),
        resetStream: !endStream)
    case .awaitingHeaders:
      break
    }

    let httpStatus = fields.first(named: ":status")
    if let httpStatus, httpStatus.utf8.first == UInt8(ascii: "1"), !endStream {
      return .ignore
    }

    if endStream {
      phase = .finished
      return .finished(Self.status(fromTrailers: fields, httpStatus: httpStatus), resetStream: false)
    }

    guard httpStatus == "200" else {
      phase = .finished
      return .finished(Self.statusForHTTPStatus(httpStatus), resetStream: true)
    }
    let contentType = fields.first(named: "content-type")
    guard let contentType, GRPCContentType.isProtobuf(contentType) else {
      phase = .finished
      let shown = contentType ?? "(none)"
      // gRPC maps an HTTP 200 response that is not gRPC to UNKNOWN.
      return .finished(
        RPCError(code: .unknown, message: "Response has content-type '\(shown)', which is not gRPC with protobuf messages"),
        resetStream: true)
    }
    if let encoding = fields.first(named: "grpc-encoding"), encoding != "identity" {
      responseEncoding = encoding
    }
    if let key = Self.firstInvalidBinaryKey(in: fields) {
      phase = .finished
      return .finished(Self.invalidBinaryMetadata(key), resetStream: true)
    }
    phase = .receivingMessages
    return .initialMetadata(Self.metadata(from: fields))
  }

  enum OnData: Equatable {
    /// Pass the bytes to the deframer.
    case deframe
    /// Pass the bytes to the deframer, then finish with this status: the server ended the
    /// stream without trailers, or sent DATA before headers.
    case deframeThenFinish(RPCError)
    case finished(RPCError, resetStream: Bool)
    case ignore
  }

  mutating func receiveData(endStream: Bool) -> OnData {
    switch phase {
    case .finished:
      return .ignore
    case .awaitingHeaders:
      phase = .finished
      return .finished(
        RPCError(code: .internalError, message: "Received DATA before response headers"), resetStream: !endStream)
    case .receivingMessages:
      if endStream {
        phase = .finished
        return .deframeThenFinish(
          RPCError(code: .internalError, message: "The server ended the stream without sending trailers"))
      }
      return .deframe
    }
  }

  /// Returns the final status from trailers, or `nil` when the call already finished.
  mutating func receiveTrailers(_ fields: [HTTPField]) -> RPCError? {
    if phase == .finished { return nil }
    let sawHeaders = phase == .receivingMessages
    phase = .finished
    if !sawHeaders {
      return RPCError(code: .internalError, message: "Received trailers before response headers")
    }
    return Self.status(fromTrailers: fields, httpStatus: "200")
  }

  /// Returns the status for a stream that closed before the call finished, or `nil` when
  /// it had finished. `retryable` is true when the server provably did not process the request.
  mutating func close(_ reason: HTTPStreamCloseReason) -> (status: RPCError, retryable: Bool)? {
    if phase == .finished { return nil }
    let beforeHeaders = phase == .awaitingHeaders
    phase = .finished
    let status = Self.status(forCloseReason: reason)
    switch reason {
    case .refusedByGoAway, .resetByPeer(.refusedStream):
      return (status, beforeHeaders)
    default:
      return (status, false)
    }
  }

  /// Marks the call finished by this side (deadline, cancellation, local error).
  mutating func finishLocally() {
    phase = .finished
  }

  // MARK: - Mappings

  /// Returns the status for a stream that ended before a status arrived.
  ///
  /// RST_STREAM codes map as gRPC's HTTP/2 protocol specifies: REFUSED_STREAM to UNAVAILABLE,
  /// CANCEL to CANCELLED, ENHANCE_YOUR_CALM to RESOURCE_EXHAUSTED, INADEQUATE_SECURITY to
  /// PERMISSION_DENIED and every other code, NO_ERROR included, to INTERNAL. A GOAWAY
  /// refusal and a closed connection map to UNAVAILABLE.
  static func status(forCloseReason reason: HTTPStreamCloseReason) -> RPCError {
    switch reason {
    case .resetByPeer(let code):
      return RPCError(code: statusCode(forReset: code), message: "The server reset the stream with \(code)")
    case .resetLocally(.internalError):
      return RPCError(
        code: .internalError,
        message: "The transport could not send the call, for example request headers over the HTTP/2 limits")
    case .resetLocally(let code):
      return RPCError(code: .cancelled, message: "The stream was reset locally with \(code)")
    case .refusedByGoAway:
      return RPCError(code: .unavailable, message: "The server sent GOAWAY before processing the call")
    case .connectionClosed(let detail):
      return RPCError(code: .unavailable, message: "The connection closed: \(detail)")
    case .finished:
      return RPCError(code: .internalError, message: "The stream ended without a gRPC status")
    }
  }

  static func statusCode(forReset code: HTTPStreamErrorCode) -> StatusCode {
    switch code {
    case .refusedStream: return .unavailable
    case .cancel: return .cancelled
    case .enhanceYourCalm: return .resourceExhausted
    case .inadequateSecurity: return .permissionDenied
    case .noError, .protocolError, .internalError, .flowControlError, .other: return .internalError
    }
  }

  /// Returns the status for a response without `grpc-status`, from its HTTP status.
  ///
  /// gRPC's HTTP-to-gRPC mapping: 400 and 431 INTERNAL, 401 UNAUTHENTICATED,
  /// 403 PERMISSION_DENIED, 404 UNIMPLEMENTED, 429, 502, 503 and 504 UNAVAILABLE. Every other
  /// code is UNKNOWN, 200 included, because a 200 response should have carried a grpc-status.
  static func statusForHTTPStatus(_ httpStatus: String?) -> RPCError {
    let code: StatusCode
    switch httpStatus {
    case "400", "431": code = .internalError
    case "401": code = .unauthenticated
    case "403": code = .permissionDenied
    case "404": code = .unimplemented
    case "429", "502", "503", "504": code = .unavailable
    default: code = .unknown
    }
    let shown = httpStatus ?? "(none)"
    if httpStatus == "200" {
      return RPCError(code: code, message: "The response has no grpc-status")
    }
    return RPCError(code: code, message: "Received HTTP status \(shown) without a grpc-status")
  }

  /// Reads the status of trailers or a trailers-only response. Without `grpc-status` the HTTP
  /// status decides, and a `grpc-status` that is not a decimal number in 0...16 becomes UNKNOWN.
  static func status(fromTrailers fields: [HTTPField], httpStatus: String?) -> RPCError {
    if let key = firstInvalidBinaryKey(in: fields) {
      return invalidBinaryMetadata(key)
    }
    guard let statusValue = fields.first(named: "grpc-status") else {
      var status = statusForHTTPStatus(httpStatus)
      status.metadata = metadata(from: fields)
      return status
    }
    let message = fields.first(named: "grpc-message").map(GRPCStatusMessage.decode) ?? ""
    let trailing = metadata(from: fields)
    guard let number = Int(statusValue), statusValue.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
      let code = StatusCode(rawValue: number)
    else {
      let text = "Received invalid grpc-status '\(statusValue)'" + (message.isEmpty ? "" : ": \(message)")
      return RPCError(code: .unknown, message: text, metadata: trailing)
    }
    return RPCError(code: code, message: message, metadata: trailing)
  }

  /// Returns the first `-bin` field of `fields` whose value is not valid base64.
  static func firstInvalidBinaryKey(in fields: [HTTPField]) -> String? {
    for field in fields where field.name.hasSuffix("-bin") {
      var scratch = Metadata()
      if !scratch.appendReceived(name: field.name, value: field.value) { return field.name }
    }
    return nil
  }

  static func invalidBinaryMetadata(_ key: String) -> RPCError {
    RPCError(
      code: .internalError,
      message: "Response metadata '\(key)' has a value that is not valid base64; keys ending in -bin carry base64")
  }

  /// Extracts the metadata of a response header or trailer block, without pseudo-headers and
  /// the fields the protocol defines.
  static func metadata(from fields: [HTTPField]) -> Metadata {
    var metadata = Metadata()
    for field in fields {
      let name = field.name
      if name.utf8.first == UInt8(ascii: ":") { continue }
      switch name {
      case "content-type", "grpc-status", "grpc-message", "grpc-encoding", "grpc-accept-encoding":
        continue
      default:
        metadata.appendReceived(name: name, value: field.value)
      }
    }
    return metadata
  }
}
