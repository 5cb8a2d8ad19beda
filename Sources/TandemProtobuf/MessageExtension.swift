/// A typed proto2 extension: a field that a `.proto` file declares in an `extend` block for a
/// message with extension ranges. Generated code creates one static descriptor per extension, for
/// example `Pkg_MyFile_Extensions.bar`. Read and write the value with
/// `message[extension: Pkg_MyFile_Extensions.bar]`, and pass the descriptor in
/// ``DecodingOptions/extensions`` so that decoding stores the value typed.
public struct MessageExtension<Codec: ExtensionFieldCodec, Extended: ExtensibleMessage>: AnyMessageExtension {
  /// Field number of the extension.
  public let fieldNumber: Int
  /// Fully qualified proto name of the extension, for example `pkg.bar` or `pkg.Scope.bar`.
  public let fullName: String
  /// Value returned while the extension is not set: the declared `[default = ...]`, else the type's
  /// zero value, and an empty array for repeated extensions.
  public let defaultValue: Codec.Value

  public init(fieldNumber: Int, fullName: String, defaultValue: Codec.Value) {
    self.fieldNumber = fieldNumber
    self.fullName = fullName
    self.defaultValue = defaultValue
  }

  public var extendedMessageName: String { Extended.protoMessageName }

  public func accepts(_ wireType: WireType) -> Bool { Codec.accepts(wireType) }

  public func decode(
    from decoder: inout WireDecoder, tag: FieldTag, into fields: inout ExtensionFieldSet,
    unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError) {
    var value = fields.value(of: self)
    fields.removeValue(forFieldNumber: fieldNumber)
    try Codec.decode(from: &decoder, tag: tag, into: &value, unknownFields: &unknownFields)
    if let value {
      fields.setValue(value, of: self)
    }
  }
}

/// An extension descriptor without its value type, as ``ExtensionRegistry`` stores it.
public protocol AnyMessageExtension: Sendable {
  var fieldNumber: Int { get }
  var fullName: String { get }
  /// Fully qualified proto name of the message that the extension extends.
  var extendedMessageName: String { get }
  /// `true` when an occurrence with `wireType` decodes as this extension; other occurrences stay unknown.
  func accepts(_ wireType: WireType) -> Bool
  /// Decodes one occurrence whose `tag` was just read and merges it into `fields`.
  func decode(
    from decoder: inout WireDecoder, tag: FieldTag, into fields: inout ExtensionFieldSet,
    unknownFields: inout UnknownFields
  ) throws(ProtobufDecodingError)
}

/// A message with extension ranges. Generated code stores the set extensions in ``extensionFields``.
public protocol ExtensibleMessage: Message {
  /// The extensions that are set, keyed by field number.
  var extensionFields: ExtensionFieldSet { get set }
}

extension ExtensibleMessage {
  /// The value of `extension`, or its ``MessageExtension/defaultValue`` while it is not set.
  /// Setting a value stores it; setting an empty array on a repeated extension clears it.
  public subscript<Codec>(extension extension: MessageExtension<Codec, Self>) -> Codec.Value {
    get { extensionFields.value(of: `extension`) ?? `extension`.defaultValue }
    set { extensionFields.setValue(newValue, of: `extension`) }
  }

  /// Returns whether `extension` is set. A repeated extension is set when it has at least one element.
  public func hasExtension<Codec>(_ extension: MessageExtension<Codec, Self>) -> Bool {
    extensionFields.value(of: `extension`) != nil
  }

  /// Clears `extension`, so that it reads as its default and is not encoded.
  public mutating func clearExtension<Codec>(_ extension: MessageExtension<Codec, Self>) {
    extensionFields.removeValue(forFieldNumber: `extension`.fieldNumber)
  }

  /// Moves the extension fields that a decode without `registry` kept in ``Message/unknownFields``
  /// into typed values, for the extensions of this message that `registry` contains. Sub-messages
  /// inside those values decode with `registry` too. Other unknown fields stay, in their order.
  ///
  /// - Throws: ``ProtobufDecodingError`` when a kept field does not decode as its extension, for
  ///   example a `string` extension with invalid UTF-8. `self` is unchanged then.
  public mutating func decodeExtensions(using registry: ExtensionRegistry) throws(ProtobufDecodingError) {
    if unknownFields.isEmpty || registry.isEmpty { return }
    var remaining = UnknownFields()
    var fields = extensionFields
    let messageName = Self.protoMessageName
    let result: Result<Void, ProtobufDecodingError> = unknownFields.bytes.withUnsafeBytes { buffer in
      var decoder = WireDecoder(buffer: buffer, options: DecodingOptions(extensions: registry))
      do throws(ProtobufDecodingError) {
        while let tag = try decoder.nextTag() {
          try decoder.decodeExtensionField(tag, messageName: messageName, into: &fields, unknownFields: &remaining)
        }
        return .success(())
      } catch {
        return .failure(error)
      }
    }
    try result.get()
    unknownFields = remaining
    extensionFields = fields
  }
}
