/// The response a ``MetricsRequestParser`` chose for a request.
enum MetricsResponse: Equatable, Sendable {
  /// 200 with the rendered metrics; `includeBody` is `false` for `HEAD`.
  case metrics(includeBody: Bool)
  /// 400, with the reason for the body.
  case badRequest(String)
  /// 404: the path is not `/metrics`.
  case notFound
  /// 405: `/metrics` with a method other than `GET` or `HEAD`.
  case methodNotAllowed
  /// 408: the request head did not arrive within the configured timeout.
  case requestTimeout
  /// 431: the request head is longer than the configured limit.
  case headerFieldsTooLarge
  /// 503: the server is at its connection limit or stopping.
  case serviceUnavailable

  var statusLine: String {
    switch self {
    case .metrics: return "200 OK"
    case .badRequest: return "400 Bad Request"
    case .notFound: return "404 Not Found"
    case .methodNotAllowed: return "405 Method Not Allowed"
    case .requestTimeout: return "408 Request Timeout"
    case .headerFieldsTooLarge: return "431 Request Header Fields Too Large"
    case .serviceUnavailable: return "503 Service Unavailable"
    }
  }

  /// The plain-text body of an error response.
  var errorBody: String {
    switch self {
    case .metrics: return ""
    case .badRequest(let reason): return "bad request: \(reason)\n"
    case .notFound: return "not found: this server serves only GET /metrics\n"
    case .methodNotAllowed: return "method not allowed: /metrics accepts GET and HEAD\n"
    case .requestTimeout: return "request timeout: the request head did not arrive in time\n"
    case .headerFieldsTooLarge: return "request head too large\n"
    case .serviceUnavailable: return "service unavailable: too many connections, retry later\n"
    }
  }

  /// Returns the response head. Every response closes the connection.
  static func head(statusLine: String, contentType: String, contentLength: Int, extraHeaders: String = "") -> String {
    var head = "HTTP/1.1 \(statusLine)\r\n"
    head += "Content-Type: \(contentType)\r\n"
    head += "Content-Length: \(contentLength)\r\n"
    head += extraHeaders
    head += "Connection: close\r\n\r\n"
    return head
  }
}

/// Reads one HTTP/1.1 request head and chooses the response. It does no I/O: the connection
/// handler feeds it bytes and acts on the result.
///
/// Accepted: `GET` or `HEAD` of `/metrics` (a query string is ignored), HTTP/1.0 or 1.1, lines
/// ending in CRLF, and for HTTP/1.1 exactly one `Host` field as RFC 9112 section 3.2 requires.
/// A request body is not read, because every response closes the connection.
struct MetricsRequestParser {
  enum Action: Equatable {
    /// The head is incomplete: wait for more bytes.
    case waitForMoreBytes
    /// Send this response and close.
    case respond(MetricsResponse)
    /// A response was already chosen: ignore the input.
    case ignore
  }

  /// The maximum length of the request head, CRLFCRLF included.
  let maximumHeadBytes: Int
  private var buffer: [UInt8] = []
  private var isFinished = false

  init(maximumHeadBytes: Int) {
    self.maximumHeadBytes = maximumHeadBytes
  }

  /// Appends `bytes` and returns the response once the head is complete or too long.
  /// At most ``maximumHeadBytes`` bytes are kept, whatever the input length.
  mutating func receive(_ bytes: UnsafeRawBufferPointer) -> Action {
    guard !isFinished else { return .ignore }
    let searchStart = max(0, buffer.count - 3)
    let room = maximumHeadBytes - buffer.count
    buffer.append(contentsOf: bytes.prefix(room))
    if let end = Self.headEnd(in: buffer, from: searchStart) {
      return finish(parseHead(buffer[..<end]))
    }
    if buffer.count >= maximumHeadBytes {
      // No CRLFCRLF within the limit, so the head with its terminator is longer than the limit.
      return finish(.headerFieldsTooLarge)
    }
    return .waitForMoreBytes
  }

  /// Returns the response for a head that did not complete in time.
  mutating func timedOut() -> Action {
    guard !isFinished else { return .ignore }
    return finish(.requestTimeout)
  }

  private mutating func finish(_ response: MetricsResponse) -> Action {
    isFinished = true
    buffer = []
    return .respond(response)
  }

  /// Returns the index of the CRLFCRLF that ends the head, searching from `start`.
  private static func headEnd(in buffer: [UInt8], from start: Int) -> Int? {
    guard buffer.count >= 4 else { return nil }
    var index = start
    while index + 3 < buffer.count {
      if buffer[index] == 13, buffer[index + 1] == 10, buffer[index + 2] == 13, buffer[index + 3] == 10 {
        return index
      }
      index += 1
    }
    return nil
  }

  private func parseHead(_ head: ArraySlice<UInt8>) -> MetricsResponse {
    let lines = Self.split(head)
    guard let requestLine = lines.first else {
      return .badRequest("the request line is missing")
    }
    let parts = requestLine.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
    guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else {
      return .badRequest("the request line is not METHOD TARGET VERSION")
    }
    let method = parts[0]
    let target = parts[1]
    let version = String(decoding: parts[2], as: UTF8.self)
    guard method.allSatisfy(Self.isTokenByte) else {
      return .badRequest("the method contains characters outside the token set")
    }
    guard target.allSatisfy({ $0 > 32 && $0 < 127 }) else {
      return .badRequest("the request target contains spaces, control or non-ASCII characters")
    }
    guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
      return .badRequest("the HTTP version is not HTTP/1.1 or HTTP/1.0")
    }

    var hostCount = 0
    for line in lines.dropFirst() {
      guard let first = line.first else {
        return .badRequest("the head contains an empty line")
      }
      guard first != UInt8(ascii: " "), first != UInt8(ascii: "\t") else {
        return .badRequest("a header line starts with whitespace (obsolete line folding)")
      }
      guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
        return .badRequest("a header line has no colon")
      }
      let name = line[line.startIndex..<colon]
      guard !name.isEmpty, name.allSatisfy(Self.isTokenByte) else {
        return .badRequest("a header name is empty or contains characters outside the token set")
      }
      let value = line[line.index(after: colon)...]
      guard !value.contains(where: { $0 == 0 || $0 == 13 || $0 == 10 }) else {
        return .badRequest("a header value contains NUL, CR or LF")
      }
      if name.count == 4, String(decoding: name, as: UTF8.self).lowercased() == "host" {
        hostCount += 1
      }
    }
    if version == "HTTP/1.1" ? hostCount != 1 : hostCount > 1 {
      return .badRequest("an HTTP/1.1 request needs exactly one Host field, this one has \(hostCount)")
    }

    guard target.first == UInt8(ascii: "/") else {
      return .badRequest("the request target does not start with /")
    }
    let path = target.split(separator: UInt8(ascii: "?"), maxSplits: 1, omittingEmptySubsequences: false)[0]
    guard path.elementsEqual("/metrics".utf8) else {
      return .notFound
    }
    if method.elementsEqual("GET".utf8) {
      return .metrics(includeBody: true)
    }
    if method.elementsEqual("HEAD".utf8) {
      return .metrics(includeBody: false)
    }
    return .methodNotAllowed
  }

  /// Splits the head at CRLF. A bare CR or LF stays inside its line, where the checks reject it.
  private static func split(_ head: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
    var lines: [ArraySlice<UInt8>] = []
    var lineStart = head.startIndex
    var index = head.startIndex
    while index < head.endIndex {
      if head[index] == 13, index + 1 < head.endIndex, head[index + 1] == 10 {
        lines.append(head[lineStart..<index])
        index += 2
        lineStart = index
      } else {
        index += 1
      }
    }
    lines.append(head[lineStart..<head.endIndex])
    return lines
  }

  /// Returns whether `byte` is a `tchar` of RFC 9110 section 5.6.2.
  private static func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
      UInt8(ascii: "0")...UInt8(ascii: "9"):
      return true
    default:
      return "!#$%&'*+-.^_`|~".utf8.contains(byte)
    }
  }
}
