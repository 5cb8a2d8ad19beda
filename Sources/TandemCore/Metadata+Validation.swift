import TandemHTTP

extension Metadata {
  /// Keys that the call layer sets itself and that metadata must not contain: the
  /// HTTP/2 connection-specific fields and the `grpc-` fields of the gRPC protocol.
  ///
  /// `grpc-status-details-bin`, `grpc-trace-bin` and `grpc-tags-bin` are `grpc-` keys that
  /// applications set themselves, so they are allowed. `user-agent` in request metadata is
  /// sent in front of the library's own user agent.
  public static let reservedKeys: Set<String> = [
    "content-type", "te", "host", "connection", "keep-alive", "proxy-connection",
    "transfer-encoding", "upgrade", "grpc-status", "grpc-message", "grpc-timeout",
    "grpc-encoding", "grpc-accept-encoding", "grpc-message-type",
    "grpc-previous-rpc-attempts", "grpc-retry-pushback-ms",
  ]

  static let allowedGRPCKeys: Set<String> = ["grpc-status-details-bin", "grpc-trace-bin", "grpc-tags-bin"]

  /// Checks that every entry can be sent.
  ///
  /// - Throws: ``RPCError`` with ``StatusCode/internalError`` naming the first invalid entry.
  ///   An entry is invalid when its key is empty, contains a character outside `0-9 a-z _ - .`,
  ///   or is reserved: listed in ``reservedKeys``, or starting with `grpc-` without being
  ///   `grpc-status-details-bin`, `grpc-trace-bin` or `grpc-tags-bin`. It is also invalid when
  ///   a binary value has a key without the `-bin` suffix, or a string value contains a byte
  ///   outside printable ASCII (0x20 through 0x7E).
  public func validate() throws(RPCError) {
    for entry in entries {
      if let problem = Metadata.problem(key: entry.key, value: entry.value) {
        throw RPCError(code: .internalError, message: problem)
      }
    }
  }

  static func problem(key: String, value: Value) -> String? {
    if key.isEmpty {
      return "Invalid metadata key '': a key must have at least one character"
    }
    for byte in key.utf8 {
      let valid = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A)
        || byte == 0x5F || byte == 0x2D || byte == 0x2E
      if !valid {
        return "Invalid metadata key '\(key)': keys may contain only 0-9, a-z, '_', '-' and '.'"
      }
    }
    if reservedKeys.contains(key) || (key.hasPrefix("grpc-") && !allowedGRPCKeys.contains(key)) {
      return "Invalid metadata key '\(key)': the key is reserved for the gRPC protocol"
    }
    switch value {
    case .binary:
      if !key.hasSuffix("-bin") {
        return "Invalid metadata entry '\(key)': a binary value needs a key ending in '-bin'"
      }
    case .string(let string):
      for byte in string.utf8 where byte < 0x20 || byte > 0x7E {
        return "Invalid metadata value for key '\(key)': byte 0x\(String(byte, radix: 16)) is not printable ASCII (0x20-0x7E)"
      }
    }
    return nil
  }
}

extension Metadata {
  /// Appends every entry as HTTP fields, base64-encoding binary values with padding.
  /// The caller validated the entries first.
  func appendFields(to fields: inout [HTTPField]) {
    for entry in entries {
      switch entry.value {
      case .string(let value):
        fields.append(HTTPField(name: entry.key, value: value))
      case .binary(let bytes):
        fields.append(HTTPField(name: entry.key, value: Base64.encode(bytes)))
      }
    }
  }

  /// Appends the received field `name: value`. A `-bin` field is split on commas and each
  /// part decoded from padded or unpadded base64; a part that is not valid base64 is dropped.
  ///
  /// - Returns: `false` when a part of a `-bin` field was not valid base64 and was dropped.
  @discardableResult
  mutating func appendReceived(name: String, value: String) -> Bool {
    guard name.hasSuffix("-bin") else {
      entries.append(Entry(key: name, value: .string(value)))
      return true
    }
    var allValid = true
    for part in value.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
      if let bytes = Base64.decode(trimmingSpaces(part)) {
        entries.append(Entry(key: name, value: .binary(bytes)))
      } else {
        allValid = false
      }
    }
    return allValid
  }

  private func trimmingSpaces(_ bytes: Substring.UTF8View) -> ArraySlice<UInt8> {
    var slice = ArraySlice(bytes)
    while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
    while let last = slice.last, last == 0x20 || last == 0x09 { slice = slice.dropLast() }
    return slice
  }
}
