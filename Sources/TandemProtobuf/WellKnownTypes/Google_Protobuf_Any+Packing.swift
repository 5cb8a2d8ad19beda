extension Google_Protobuf_Any {
  /// Packs `message` into an `Any`: `typeURL` becomes `typePrefix/<full message name>` and
  /// `value` its binary encoding.
  ///
  /// - Parameter typePrefix: the part of the type URL before the message name. Default
  ///   `type.googleapis.com`, which every protobuf runtime accepts.
  /// - Throws: ``ProtobufEncodingError`` when `message` cannot be encoded.
  public init<M: Message>(message: M, typePrefix: String = "type.googleapis.com") throws(ProtobufEncodingError) {
    self.init()
    let prefix = typePrefix.hasSuffix("/") ? String(typePrefix.dropLast()) : typePrefix
    self.typeURL = prefix + "/" + M.protoMessageName
    self.value = try message.serializedBytes()
  }

  /// The full message name in ``typeURL``: the text after its last `/`.
  public var messageName: String {
    JSONTypeRegistry.messageName(fromTypeURL: typeURL)
  }

  /// `true` when the type URL names `type`.
  public func isA<M: Message>(_ type: M.Type) -> Bool {
    messageName == M.protoMessageName
  }

  /// Decodes the contained message as `type`.
  ///
  /// - Throws: ``WellKnownTypeError/Kind/typeMismatch(expected:found:)`` when the type URL names
  ///   another type, ``WellKnownTypeError/Kind/invalidPayload(_:)`` when the bytes do not decode.
  public func unpack<M: Message>(as type: M.Type, options: DecodingOptions = DecodingOptions()) throws(WellKnownTypeError) -> M {
    guard isA(type) else {
      throw WellKnownTypeError(kind: .typeMismatch(expected: M.protoMessageName, found: messageName))
    }
    do throws(ProtobufDecodingError) {
      return try M(serializedBytes: value, options: options)
    } catch {
      throw WellKnownTypeError(kind: .invalidPayload(error))
    }
  }
}
