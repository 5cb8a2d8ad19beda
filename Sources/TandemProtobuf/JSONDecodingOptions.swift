/// Settings for reading a message from protobuf JSON.
public struct JSONDecodingOptions: Sendable {
  /// When `true`, object keys that name no field of the message are skipped, and so are enum
  /// names that the enum does not define (the field stays unset). Default `false`: both fail with
  /// ``JSONDecodingError``.
  public var ignoreUnknownFields: Bool = false
  /// Maximum nesting depth of JSON objects and arrays below the top-level value. Default 100:
  /// 100 nested levels decode, the 101st fails with
  /// ``JSONDecodingError/Kind/recursionLimitExceeded(limit:)``.
  ///
  /// NOTE: the parser and the generated decoders recurse once per level, so a limit far above the
  /// default needs a correspondingly larger thread stack.
  public var recursionLimit: Int = 100
  /// Maximum size of the input in bytes. Default 67,108,864 (64 MiB); larger input fails with
  /// ``JSONDecodingError/Kind/inputTooLarge(size:limit:)`` before parsing starts.
  public var maxInputBytes: Int = 64 * 1024 * 1024
  /// Message types that `google.protobuf.Any` values may contain. The well-known types are always
  /// included. Default: only the well-known types.
  public var typeRegistry: JSONTypeRegistry = JSONTypeRegistry()

  public init(
    ignoreUnknownFields: Bool = false,
    recursionLimit: Int = 100,
    maxInputBytes: Int = 64 * 1024 * 1024,
    typeRegistry: JSONTypeRegistry = JSONTypeRegistry()
  ) {
    self.ignoreUnknownFields = ignoreUnknownFields
    self.recursionLimit = recursionLimit
    self.maxInputBytes = maxInputBytes
    self.typeRegistry = typeRegistry
  }
}
