extension SymbolTable {
  /// The well-known type files that the TandemProtobuf runtime contains, mapped to its module, so
  /// that generated code refers to `TandemProtobuf.Google_Protobuf_Timestamp` and users do not
  /// generate these files themselves. A run that generates one of these files keeps its types local.
  static let wellKnownTypeModuleMappings: [String: String] = [
    "google/protobuf/any.proto": "TandemProtobuf",
    "google/protobuf/api.proto": "TandemProtobuf",
    "google/protobuf/duration.proto": "TandemProtobuf",
    "google/protobuf/empty.proto": "TandemProtobuf",
    "google/protobuf/field_mask.proto": "TandemProtobuf",
    "google/protobuf/source_context.proto": "TandemProtobuf",
    "google/protobuf/struct.proto": "TandemProtobuf",
    "google/protobuf/timestamp.proto": "TandemProtobuf",
    "google/protobuf/type.proto": "TandemProtobuf",
    "google/protobuf/wrappers.proto": "TandemProtobuf",
  ]
}
