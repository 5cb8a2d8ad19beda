/// Settings for decoding a message from the binary wire format.
public struct DecodingOptions: Sendable, Hashable {
  /// Maximum nesting depth of sub-messages and groups below the top-level message. Default 100:
  /// 100 nested levels decode, the 101st fails with ``ProtobufDecodingError/Kind/recursionLimitExceeded(limit:)``.
  /// Values above ``maxRecursionLimit`` (500) act as 500, and the error then names 500, because
  /// deeper recursion could overflow a thread's stack.
  public var recursionLimit: Int = 100

  /// The highest effective ``recursionLimit``: 500, the same depth ``SizeCache/maxDepth`` encodes.
  public static let maxRecursionLimit = 500
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
