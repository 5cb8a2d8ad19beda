/// The special JSON forms of the well-known types, called by their generated `decodeJSON(from:)`.
extension JSONMessageDecoder {
  /// Decodes an RFC 3339 timestamp such as `"1972-01-01T10:00:20.021Z"` or
  /// `"1972-01-01T12:00:20+02:00"`, with up to nine fractional digits.
  ///
  /// - Throws: ``JSONDecodingError/Kind/invalidValue(_:expected:)`` for other text and for times
  ///   outside 0001-01-01T00:00:00Z ... 9999-12-31T23:59:59.999999999Z.
  public func decodeTimestamp() throws(JSONDecodingError) -> (seconds: Int64, nanos: Int32) {
    let text = try decodeString()
    guard let value = JSONWellKnownForms.parseTimestamp(text) else {
      throw error(.invalidValue(
        "\"\(text)\"", expected: "an RFC 3339 timestamp between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999999Z"))
    }
    return value
  }

  /// Decodes a duration such as `"1.5s"` or `"-0.000001s"`, with up to nine fractional digits.
  ///
  /// - Throws: ``JSONDecodingError/Kind/invalidValue(_:expected:)`` for other text and beyond
  ///   +-315,576,000,000 seconds.
  public func decodeDuration() throws(JSONDecodingError) -> (seconds: Int64, nanos: Int32) {
    let text = try decodeString()
    guard let value = JSONWellKnownForms.parseDuration(text) else {
      throw error(.invalidValue(
        "\"\(text)\"", expected: "seconds with an 's' suffix, such as \"1.5s\", within +-315576000000s"))
    }
    return value
  }

  /// Decodes comma-separated lowerCamelCase paths into snake_case paths (`"fooBar,baz.quxQuux"` ->
  /// `["foo_bar", "baz.qux_quux"]`); the empty string gives no paths.
  ///
  /// - Throws: ``JSONDecodingError/Kind/invalidValue(_:expected:)`` for a path containing `_`.
  public func decodeFieldMask() throws(JSONDecodingError) -> [String] {
    let text = try decodeString()
    if text.isEmpty { return [] }
    var paths: [String] = []
    for camel in text.split(separator: ",", omittingEmptySubsequences: false) {
      guard let path = JSONWellKnownForms.snakeCasePath(String(camel)) else {
        throw error(.invalidValue("\"\(text)\"", expected: "comma-separated lowerCamelCase paths without '_'"))
      }
      paths.append(path)
    }
    return paths
  }

  /// Decodes a `google.protobuf.Any` object into its type URL and the binary encoding of the
  /// contained message; `{}` gives an empty type URL and value.
  ///
  /// - Throws: ``JSONDecodingError/Kind/missingAnyType`` without `"@type"`,
  ///   ``JSONDecodingError/Kind/unknownAnyType(_:)`` when ``JSONDecodingOptions/typeRegistry`` does
  ///   not contain the type, and any error of decoding the contained message.
  public mutating func decodeAny() throws(JSONDecodingError) -> (typeURL: String, value: [UInt8]) {
    guard case .object(let members) = current else {
      if isNull { throw error(.nullNotAllowed) }
      throw error(.unexpectedType(expected: "object", found: current.typeName))
    }
    if members.isEmpty {
      return ("", [])
    }
    guard let typeMember = members.first(where: { $0.key == "@type" }) else {
      throw error(.missingAnyType)
    }
    guard case .string(let typeURL) = typeMember.value else {
      throw JSONDecodingError(
        kind: .unexpectedType(expected: "string", found: typeMember.value.typeName), path: currentPath + ".@type")
    }
    guard let type = options.typeRegistry.messageType(forTypeURL: typeURL) else {
      throw error(.unknownAnyType(typeURL))
    }
    let value = try decodeAnyPayload(type, members: members)
    return (typeURL, value)
  }

  private mutating func decodeAnyPayload<M: JSONCodableMessage>(
    _ type: M.Type, members: [JSONMember]
  ) throws(JSONDecodingError) -> [UInt8] {
    let saved = current
    var message = M()
    if JSONTypeRegistry.typesWithSpecialForm.contains(M.protoMessageName) {
      var payload = JSONValue.null
      var found = false
      var object = try beginObject()
      while let key = nextMember(&object) {
        switch key {
        case "@type":
          continue
        case "value":
          payload = current
          found = true
        default:
          try skipUnknownField(key, messageName: M.protoMessageName)
        }
      }
      guard found else {
        throw error(.invalidValue("object without a \"value\" member", expected: "{\"@type\": ..., \"value\": ...} for \(M.protoMessageName)"))
      }
      path.append(.key("value"))
      current = payload
      try message.decodeJSON(from: &self)
      path.removeLast()
    } else {
      current = .object(members.filter { $0.key != "@type" })
      try message.decodeJSON(from: &self)
    }
    current = saved
    do throws(ProtobufEncodingError) {
      return try message.serializedBytes()
    } catch {
      throw self.error(.invalidValue("\(M.protoMessageName) payload", expected: "a message that encodes: \(error)"))
    }
  }
}
