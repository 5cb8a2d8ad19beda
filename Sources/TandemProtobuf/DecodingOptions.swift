/// Settings for decoding a message from the binary wire format.
public struct DecodingOptions: Sendable, Hashable {
  /// Maximum nesting depth of sub-messages and groups below the top-level message. Default 100:
  /// 100 nested levels decode, the 101st fails with ``ProtobufDecodingError/Kind/recursionLimitExceeded(limit:)``.
  public var recursionLimit: Int = 100
  /// When `true`, fields that the schema does not know are skipped instead of kept in
  /// ``Message/unknownFields``. Default `false`.
  public var discardUnknownFields: Bool = false

  public init(recursionLimit: Int = 100, discardUnknownFields: Bool = false) {
    self.recursionLimit = recursionLimit
    self.discardUnknownFields = discardUnknownFields
  }
}
