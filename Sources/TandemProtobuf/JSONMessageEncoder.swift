/// Writes protobuf JSON. Generated `encodeJSON(to:)` methods call it; users call
/// ``JSONCodableMessage/jsonString(options:)`` instead.
///
/// Output is compact (no whitespace). Separators are written automatically: every value, key and
/// container start is preceded by a comma when it follows a value at the same level.
public struct JSONMessageEncoder {
  /// The settings that the generated code and the `write…` methods follow.
  public let options: JSONEncodingOptions
  /// The JSON written so far, in UTF-8.
  public private(set) var output: [UInt8] = []
  private var needsSeparator = false
  /// Field names from the top-level message down to the message being written, for error paths.
  private var path: [String] = []
  private var currentFieldName: String?
  /// A type URL that the next ``beginObject()`` writes as its first member, for `Any`.
  private var pendingTypeURL: String?

  /// Creates an encoder with empty output.
  public init(options: JSONEncodingOptions = JSONEncodingOptions()) {
    self.options = options
  }

  /// ``JSONEncodingOptions/alwaysPrintFieldsWithoutPresence``.
  public var alwaysPrintFieldsWithoutPresence: Bool { options.alwaysPrintFieldsWithoutPresence }

  // MARK: Structure

  private mutating func separate() {
    if needsSeparator {
      output.append(UInt8(ascii: ","))
    }
  }

  /// Writes `{`. For an `Any` being written, also writes its `"@type"` member.
  public mutating func beginObject() {
    separate()
    output.append(UInt8(ascii: "{"))
    needsSeparator = false
    if let typeURL = pendingTypeURL {
      pendingTypeURL = nil
      writeKey("@type")
      writeString(typeURL)
    }
  }

  /// Writes `}`.
  public mutating func endObject() {
    output.append(UInt8(ascii: "}"))
    needsSeparator = true
  }

  /// Writes `[`.
  public mutating func beginArray() {
    separate()
    output.append(UInt8(ascii: "["))
    needsSeparator = false
  }

  /// Writes `]`.
  public mutating func endArray() {
    output.append(UInt8(ascii: "]"))
    needsSeparator = true
  }

  private mutating func writeKey(_ key: String) {
    separate()
    JSONStringEscaping.appendQuoted(key, to: &output)
    output.append(UInt8(ascii: ":"))
    needsSeparator = false
  }

  /// Writes a field's key: `jsonName`, or `protoName` when
  /// ``JSONEncodingOptions/preserveProtoFieldNames`` is set.
  public mutating func writeFieldName(_ jsonName: String, protoName: String) {
    let name = options.preserveProtoFieldNames ? protoName : jsonName
    currentFieldName = name
    writeKey(name)
  }

  /// Writes a map key as a JSON string, followed by `:`. Integer keys are written in decimal and
  /// Boolean keys as `"true"` or `"false"`.
  public mutating func writeMapKey(_ key: String) { writeKey(key) }
  public mutating func writeMapKey(_ key: Bool) { writeKey(key ? "true" : "false") }
  public mutating func writeMapKey(_ key: Int32) { writeKey(String(key)) }
  public mutating func writeMapKey(_ key: Int64) { writeKey(String(key)) }
  public mutating func writeMapKey(_ key: UInt32) { writeKey(String(key)) }
  public mutating func writeMapKey(_ key: UInt64) { writeKey(String(key)) }

  // MARK: Scalars

  private mutating func writeRaw(_ text: String) {
    separate()
    output.append(contentsOf: text.utf8)
    needsSeparator = true
  }

  /// Writes `null`, the JSON form of `google.protobuf.NullValue`.
  public mutating func writeNull() { writeRaw("null") }
  public mutating func writeBool(_ value: Bool) { writeRaw(value ? "true" : "false") }
  /// Writes a 32-bit integer as a JSON number.
  public mutating func writeInt32(_ value: Int32) { writeRaw(String(value)) }
  /// Writes a 32-bit integer as a JSON number.
  public mutating func writeUInt32(_ value: UInt32) { writeRaw(String(value)) }
  /// Writes a 64-bit integer as a quoted decimal string, as the mapping requires.
  public mutating func writeInt64(_ value: Int64) { writeRaw("\"\(value)\"") }
  /// Writes a 64-bit integer as a quoted decimal string, as the mapping requires.
  public mutating func writeUInt64(_ value: UInt64) { writeRaw("\"\(value)\"") }

  /// Writes the shortest decimal form that reads back as the same `Float`, or `"NaN"`,
  /// `"Infinity"` or `"-Infinity"`.
  public mutating func writeFloat(_ value: Float) {
    if value.isFinite {
      let shortest = value.description
      // Near the end of the Float range the shortest form can exceed Float.greatestFiniteMagnitude
      // as a Double (3.4028235e+38), and readers that parse a Double and range-check it before
      // narrowing, such as Python's json_format, reject it. The exact Double form does not.
      if let wide = Double(shortest), wide.magnitude > Double(Float.greatestFiniteMagnitude) {
        writeRaw(Double(value).description)
      } else {
        writeRaw(shortest)
      }
    } else {
      writeNonFinite(Double(value))
    }
  }

  /// Writes the shortest decimal form that reads back as the same `Double`, or `"NaN"`,
  /// `"Infinity"` or `"-Infinity"`.
  public mutating func writeDouble(_ value: Double) {
    if value.isFinite {
      writeRaw(value.description)
    } else {
      writeNonFinite(value)
    }
  }

  private mutating func writeNonFinite(_ value: Double) {
    if value.isNaN {
      writeRaw("\"NaN\"")
    } else {
      writeRaw(value < 0 ? "\"-Infinity\"" : "\"Infinity\"")
    }
  }

  /// Writes a JSON string, escaping quotes, backslashes and control characters.
  public mutating func writeString(_ value: String) {
    separate()
    JSONStringEscaping.appendQuoted(value, to: &output)
    needsSeparator = true
  }

  /// Writes bytes as standard base64 with padding.
  public mutating func writeBytes(_ value: [UInt8]) {
    separate()
    output.append(UInt8(ascii: "\""))
    JSONBase64.encode(value, to: &output)
    output.append(UInt8(ascii: "\""))
    needsSeparator = true
  }

  /// Writes the value's proto name, or its number when the enum does not define it or
  /// ``JSONEncodingOptions/alwaysPrintEnumsAsInts`` is set.
  public mutating func writeEnum<E: JSONCodableEnum>(_ value: E) {
    if !options.alwaysPrintEnumsAsInts, let name = E._protobufName(ofNumber: value.rawValue) {
      writeString(name)
    } else {
      writeInt32(value.rawValue)
    }
  }

  /// Writes a nested message through its ``JSONCodableMessage/encodeJSON(to:)``.
  public mutating func writeMessage<M: JSONCodableMessage>(_ value: M) throws(JSONEncodingError) {
    let pushed = currentFieldName
    if let pushed {
      path.append(pushed)
    }
    currentFieldName = nil
    try value.encodeJSON(to: &self)
    if pushed != nil {
      path.removeLast()
    }
    currentFieldName = pushed
  }

  // MARK: Errors

  /// JSONPath of the field being written.
  var currentPath: String {
    var components = path.map(JSONPathComponent.key)
    if let currentFieldName {
      components.append(.key(currentFieldName))
    }
    return JSONPathComponent.render(components)
  }

  func error(_ kind: JSONEncodingError.Kind) -> JSONEncodingError {
    JSONEncodingError(kind: kind, path: currentPath)
  }

  // MARK: Any

  /// Writes `Any` as an object with `"@type"` and either the fields of the contained message or,
  /// for a well-known type with a special form, a `"value"` member holding that form. An `Any`
  /// with neither type URL nor value is written as `{}`.
  ///
  /// - Throws: ``JSONEncodingError/Kind/unknownAnyType(_:)`` when the type registry does not
  ///   contain the type, ``JSONEncodingError/Kind/invalidAnyValue(typeURL:error:)`` when the bytes
  ///   do not decode as that type.
  public mutating func writeAny(typeURL: String, value: [UInt8]) throws(JSONEncodingError) {
    if typeURL.isEmpty && value.isEmpty {
      beginObject()
      endObject()
      return
    }
    guard let type = options.typeRegistry.messageType(forTypeURL: typeURL) else {
      throw error(.unknownAnyType(typeURL))
    }
    try writeAnyPayload(type, typeURL: typeURL, value: value)
  }

  private mutating func writeAnyPayload<M: JSONCodableMessage>(
    _ type: M.Type, typeURL: String, value: [UInt8]
  ) throws(JSONEncodingError) {
    let message: M
    do throws(ProtobufDecodingError) {
      message = try M(serializedBytes: value)
    } catch {
      throw self.error(.invalidAnyValue(typeURL: typeURL, error: error))
    }
    if JSONTypeRegistry.typesWithSpecialForm.contains(M.protoMessageName) {
      let fieldName = currentFieldName
      beginObject()
      writeKey("@type")
      writeString(typeURL)
      if let fieldName {
        path.append(fieldName)
      }
      writeFieldName("value", protoName: "value")
      try writeMessage(message)
      if fieldName != nil {
        path.removeLast()
      }
      currentFieldName = fieldName
      endObject()
    } else {
      pendingTypeURL = typeURL
      let pushed = currentFieldName
      if let pushed {
        path.append(pushed)
      }
      currentFieldName = nil
      try message.encodeJSON(to: &self)
      if pushed != nil {
        path.removeLast()
      }
      currentFieldName = pushed
    }
  }
}
