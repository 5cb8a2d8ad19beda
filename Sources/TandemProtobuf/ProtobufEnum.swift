/// A generated protobuf enum.
///
/// Open (proto3) enums have an extra `UNRECOGNIZED(Int32)` case so that numbers the schema does not
/// define survive a decode and re-encode; their `init?(rawValue:)` never fails. Closed (proto2) enums
/// fail `init?(rawValue:)` for unknown numbers, and generated code keeps those values in the
/// message's unknown fields.
public protocol ProtobufEnum: RawRepresentable, Sendable, Hashable where RawValue == Int32 {
  /// The default value: the first value listed in the `.proto` file.
  init()
}
