/// Settings for decoding a message from the binary wire format.
public struct DecodingOptions: Sendable, Hashable {
  /// Maximum nesting depth of sub-messages and groups below the top-level message. Default 100:
  /// 100 nested levels decode, the 101st fails with ``ProtobufDecodingError/Kind/recursionLimitExceeded(limit:)``.
  public var recursionLimit: Int = 100
  /// When `true`, fields that the schema does not know are skipped instead of kept in
  /// ``Message/unknownFields``. Default `false`.
  public var discardUnknownFields: Bool = false
  /// When `true`, a message whose proto2 required fields are not all set decodes without error.
  /// Default `false`: decoding fails with ``ProtobufDecodingError/Kind/missingRequiredFields(paths:)``.
  public var allowPartial: Bool = false
  /// Extensions that decode into typed values. Extension fields that are not in the registry are kept
  /// in ``Message/unknownFields`` byte for byte. Default: empty.
  public var extensions: ExtensionRegistry = ExtensionRegistry()

  public init(
    recursionLimit: Int = 100,
    discardUnknownFields: Bool = false,
    allowPartial: Bool = false,
    extensions: ExtensionRegistry = ExtensionRegistry()
  ) {
    self.recursionLimit = recursionLimit
    self.discardUnknownFields = discardUnknownFields
    self.allowPartial = allowPartial
    self.extensions = extensions
  }
}
