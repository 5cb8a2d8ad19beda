/// A message with a protobuf JSON form. `protoc-gen-tandem` makes every generated message conform.
///
/// Users call the entry points in the extension: ``jsonString(options:)``,
/// ``jsonUTF8Bytes(options:)``, ``init(jsonString:options:)`` and ``init(jsonUTF8Bytes:options:)``.
/// The mapping follows the protobuf JSON specification (https://protobuf.dev/programming-guides/json/).
public protocol JSONCodableMessage: Message {
  /// Writes the message as one JSON value: an object of its set fields, or the special form of a
  /// well-known type.
  func encodeJSON(to encoder: inout JSONMessageEncoder) throws(JSONEncodingError)
  /// Merges the JSON value that `decoder` points at into `self`: singular fields take the JSON
  /// value, singular messages merge, and repeated fields and maps are replaced.
  mutating func decodeJSON(from decoder: inout JSONMessageDecoder) throws(JSONDecodingError)
}

/// A generated enum with its proto value names, for the JSON form.
public protocol JSONCodableEnum: ProtobufEnum {
  /// Returns the proto name of the value numbered `number` (the first one declared when aliases
  /// share the number), or nil when the enum defines no such number.
  static func _protobufName(ofNumber number: Int32) -> String?
  /// Returns the number of the value named `name`, aliases included, or nil when no value has that name.
  static func _protobufNumber(ofName name: String) -> Int32?
}

extension JSONCodableMessage {
  /// Encodes the message as protobuf JSON text.
  ///
  /// - Throws: ``JSONEncodingError`` for a value that JSON cannot express: a `Timestamp` or
  ///   `Duration` out of range, a `FieldMask` path without a lowerCamelCase form, a non-finite
  ///   `Value` number, or an `Any` whose type is not in ``JSONEncodingOptions/typeRegistry``.
  public func jsonString(options: JSONEncodingOptions = JSONEncodingOptions()) throws(JSONEncodingError) -> String {
    String(decoding: try jsonUTF8Bytes(options: options), as: UTF8.self)
  }

  /// Encodes the message as protobuf JSON in UTF-8.
  ///
  /// - Throws: ``JSONEncodingError``, as ``jsonString(options:)`` does.
  public func jsonUTF8Bytes(options: JSONEncodingOptions = JSONEncodingOptions()) throws(JSONEncodingError) -> [UInt8] {
    var encoder = JSONMessageEncoder(options: options)
    try encodeJSON(to: &encoder)
    return encoder.output
  }

  /// Decodes a message from protobuf JSON text.
  ///
  /// - Throws: ``JSONDecodingError`` naming the problem and the JSONPath of the value.
  public init(jsonString: String, options: JSONDecodingOptions = JSONDecodingOptions()) throws(JSONDecodingError) {
    self.init()
    try merge(jsonString: jsonString, options: options)
  }

  /// Decodes a message from protobuf JSON in UTF-8.
  ///
  /// - Throws: ``JSONDecodingError`` naming the problem and the JSONPath of the value.
  public init(jsonUTF8Bytes: [UInt8], options: JSONDecodingOptions = JSONDecodingOptions()) throws(JSONDecodingError) {
    self.init()
    try merge(jsonUTF8Bytes: jsonUTF8Bytes, options: options)
  }

  /// Merges protobuf JSON text into `self` with the rules of ``decodeJSON(from:)``.
  public mutating func merge(jsonString: String, options: JSONDecodingOptions = JSONDecodingOptions()) throws(JSONDecodingError) {
    var text = jsonString
    let parsed = text.withUTF8 { buffer in
      Result { () throws(JSONDecodingError) in try JSONParser.parse(buffer, options: options) }
    }
    let value = try parsed.get()
    var decoder = JSONMessageDecoder(value: value, options: options)
    try decoder.decodeMessage(&self)
  }

  /// Merges protobuf JSON in UTF-8 into `self` with the rules of ``decodeJSON(from:)``.
  public mutating func merge(jsonUTF8Bytes: [UInt8], options: JSONDecodingOptions = JSONDecodingOptions()) throws(JSONDecodingError) {
    let parsed = jsonUTF8Bytes.withUnsafeBufferPointer { buffer in
      Result { () throws(JSONDecodingError) in try JSONParser.parse(buffer, options: options) }
    }
    let value = try parsed.get()
    var decoder = JSONMessageDecoder(value: value, options: options)
    try decoder.decodeMessage(&self)
  }
}
