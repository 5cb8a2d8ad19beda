import TandemHTTP

/// The gRPC rules for the server side of one stream: request header validation and the
/// order of response headers, messages and status. It returns what to send and performs no I/O.
struct ServerStreamStateMachine: Sendable {
  /// The call details that the request headers declare.
  struct RequestHead: Sendable {
    var path: String
    var timeout: Duration?
    var metadata: Metadata
  }

  enum OnRequestHeaders {
    /// A valid gRPC request.
    case accept(RequestHead)
    /// Send these fields as one HEADERS block that ends the stream.
    case reject([HTTPField])
    /// The request is malformed HTTP: reset the stream with this code.
    case reset(HTTPStreamErrorCode)
  }

  enum ResponsePhase: Sendable {
    /// Nothing sent yet: a status now goes out as a trailers-only response.
    case idle
    /// Response headers sent: messages and then trailers follow.
    case streaming
    /// Status sent or stream reset: nothing more may be sent.
    case closed
  }

  private(set) var phase: ResponsePhase = .idle

  /// Validates request headers.
  ///
  /// Missing `:method` or `:path` resets the stream with PROTOCOL_ERROR, as HTTP/2 requires
  /// for a malformed request. A method other than POST gets HTTP 405, a content-type that
  /// is not `application/grpc` or `application/grpc+proto` gets HTTP 415, both with `grpc-status` INTERNAL
  /// so a gRPC client can show why. An invalid `grpc-timeout` gets INTERNAL, and a
  /// `grpc-encoding` other than `identity` gets UNIMPLEMENTED with
  /// `grpc-accept-encoding: identity`, both as trailers-only responses.
  static func receiveRequestHeaders(_ fields: [HTTPField]) -> OnRequestHeaders {
    var method: String?
    var path: String?
    var contentType: String?
    var timeoutValue: String?
    var encoding: String?
    var metadata = Metadata()
    var invalidBinaryKey: String?
    for field in fields {
      let name = field.name
      if name.utf8.first == UInt8(ascii: ":") {
        if name == ":method" { method = field.value } else if name == ":path" { path = field.value }
        continue
      }
      switch name {
      case "content-type": contentType = field.value
      case "grpc-timeout": timeoutValue = field.value
      case "grpc-encoding": encoding = field.value
      case "te", "grpc-accept-encoding", "grpc-message-type", "host", "connection":
        break
      default:
        if !metadata.appendReceived(name: name, value: field.value) {
          invalidBinaryKey = invalidBinaryKey ?? name
        }
      }
    }

    guard let method, let path else { return .reset(.protocolError) }
    if method != "POST" {
      return .reject(
        errorResponse(
          httpStatus: "405",
          status: RPCError(code: .internalError, message: "HTTP method '\(method)' is not allowed; gRPC requires POST")))
    }
    guard let contentType, GRPCContentType.isProtobuf(contentType) else {
      let shown = contentType ?? "(none)"
      return .reject(
        errorResponse(
          httpStatus: "415",
          status: RPCError(
            code: .internalError,
            message: "Content-type '\(shown)' is not supported; expected application/grpc or application/grpc+proto")))
    }
    if let invalidBinaryKey {
      return .reject(
        errorResponse(
          httpStatus: "200",
          status: RPCError(
            code: .internalError,
            message: "Metadata '\(invalidBinaryKey)' has a value that is not valid base64; keys ending in -bin carry base64")))
    }
    if let encoding, encoding != "identity" {
      var fields = errorResponse(
        httpStatus: "200",
        status: RPCError(code: .unimplemented, message: "Message encoding '\(encoding)' is not supported"))
      fields.append(HTTPField(name: "grpc-accept-encoding", value: "identity"))
      return .reject(fields)
    }
    var timeout: Duration?
    if let timeoutValue {
      do {
        timeout = try GRPCTimeout.parse(timeoutValue)
      } catch {
        return .reject(errorResponse(httpStatus: "200", status: RPCError(code: .internalError, message: error.description)))
      }
    }
    return .accept(RequestHead(path: path, timeout: timeout, metadata: metadata))
  }

  /// Builds a trailers-only response carrying `status`.
  static func errorResponse(httpStatus: String, status: RPCError) -> [HTTPField] {
    var fields = [
      HTTPField(name: ":status", value: httpStatus),
      HTTPField(name: "content-type", value: "application/grpc"),
    ]
    appendStatus(code: status.code, message: status.message, to: &fields)
    status.metadata.appendFields(to: &fields)
    return fields
  }

  static func appendStatus(code: StatusCode, message: String, to fields: inout [HTTPField]) {
    fields.append(HTTPField(name: "grpc-status", value: statusStrings[code.rawValue]))
    if !message.isEmpty {
      fields.append(HTTPField(name: "grpc-message", value: GRPCStatusMessage.encode(message)))
    }
  }

  private static let statusStrings: [String] = (0...16).map { String($0) }

  /// Returns the response headers to send before the first message, or `[]` when they were
  /// sent already, or `nil` when the response is closed.
  mutating func sendMessage(initialMetadata: Metadata) -> [HTTPField]? {
    switch phase {
    case .idle:
      phase = .streaming
      var fields = [
        HTTPField(name: ":status", value: "200"),
        HTTPField(name: "content-type", value: "application/grpc"),
      ]
      initialMetadata.appendFields(to: &fields)
      return fields
    case .streaming:
      return []
    case .closed:
      return nil
    }
  }

  enum OnSendStatus {
    /// Send these fields as headers that end the stream.
    case trailersOnly([HTTPField])
    /// Send these fields as trailers.
    case trailers([HTTPField])
    /// The response is already closed.
    case none
  }

  /// Returns how to send the final status. Before any message, the initial metadata, the
  /// status and the trailing metadata share one trailers-only HEADERS block.
  mutating func sendStatus(_ status: RPCError, initialMetadata: Metadata) -> OnSendStatus {
    switch phase {
    case .idle:
      phase = .closed
      var fields = [
        HTTPField(name: ":status", value: "200"),
        HTTPField(name: "content-type", value: "application/grpc"),
      ]
      initialMetadata.appendFields(to: &fields)
      Self.appendStatus(code: status.code, message: status.message, to: &fields)
      status.metadata.appendFields(to: &fields)
      return .trailersOnly(fields)
    case .streaming:
      phase = .closed
      var fields: [HTTPField] = []
      Self.appendStatus(code: status.code, message: status.message, to: &fields)
      status.metadata.appendFields(to: &fields)
      return .trailers(fields)
    case .closed:
      return .none
    }
  }

  /// Marks the response closed without a status, after a reset or a closed connection.
  mutating func close() {
    phase = .closed
  }
}
