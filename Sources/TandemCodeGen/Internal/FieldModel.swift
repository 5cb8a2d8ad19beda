import TandemProtobuf

/// Facts about one field that generated code needs: its Swift names, value kind, cardinality and
/// wire details.
struct FieldModel {
  enum ValueKind {
    case scalar(ScalarType)
    case enumeration(SymbolTable.EnumInfo)
    case message(swiftName: String, isGroup: Bool)
  }

  indirect enum Cardinality {
    /// proto3 field without presence: stored directly, written when not the zero value.
    case implicit
    /// Field with presence (proto2 optional, proto3 `optional`, any singular message): stored as an Optional.
    case explicit
    case repeated(packed: Bool)
    case map(key: FieldModel, value: FieldModel)
    /// Member of a real oneof, stored in the oneof's enum.
    case oneofMember(oneofIndex: Int)
  }

  var descriptor: Google_Protobuf_FieldDescriptorProto
  var number: Int
  var kind: ValueKind
  var cardinality: Cardinality
  /// Property name without backticks.
  var name: String
  /// `true` when the singular message field closes a reference cycle and is kept in a `ProtobufBox`.
  var isBoxed = false
  /// Swift expression of the default value.
  var defaultValue: String
  var comments: [String] = []

  var escaped: String { Naming.escapedMember(name) }
  var storageName: String { "_" + name }
  var capitalizedName: String { Naming.upperCamelCase(name) }
  var hasName: String { "has" + capitalizedName }
  var clearName: String { "clear" + capitalizedName }

  /// Swift type of one value.
  var swiftType: String {
    switch kind {
    case .scalar(let scalar): scalar.swiftType
    case .enumeration(let info): info.swiftName
    case .message(let swiftName, _): swiftName
    }
  }

  /// Wire type of one value.
  var wireType: FieldWireType {
    switch kind {
    case .scalar(let scalar): scalar.wireType
    case .enumeration: .varint
    case .message(_, let isGroup): isGroup ? .startGroup : .lengthDelimited
    }
  }

  func tag(_ wireType: FieldWireType) -> Int { number << 3 | Int(wireType.rawValue) }
  var tagValue: Int { tag(wireType) }
  var tagSize: Int { WireFormat.varintSize(UInt64(tagValue)) }

  var isPackable: Bool {
    switch kind {
    case .scalar(let scalar): scalar.isPackable
    case .enumeration: true
    case .message: false
    }
  }

  var isClosedEnum: Bool {
    if case .enumeration(let info) = kind { return info.isClosed }
    return false
  }

  /// Expression for the encoded size of `value` without its tag.
  func sizeExpression(_ value: String, sizes: String = "sizes") -> String {
    switch kind {
    case .scalar(let scalar): return scalar.sizeExpression(value)
    case .enumeration: return "WireFormat.int32Size(\(value).rawValue)"
    case .message(_, let isGroup):
      return isGroup
        ? "\(tagSize) + \(sizes).groupSize(of: \(value))"
        : "\(sizes).lengthDelimitedSize(of: \(value))"
    }
  }

  /// Statement that writes `value` without its tag.
  func writeStatement(_ value: String) -> String {
    switch kind {
    case .scalar(let scalar): return "encoder.write\(scalar.methodSuffix)(\(value))"
    case .enumeration: return "encoder.writeEnum(\(value).rawValue)"
    case .message(_, let isGroup):
      return isGroup ? "encoder.writeGroup(\(value), fieldNumber: \(number))" : "encoder.writeMessage(\(value))"
    }
  }

  /// Condition under which an implicit-presence value is written.
  func nonDefaultCondition(_ value: String) -> String {
    switch kind {
    case .scalar(let scalar): return scalar.nonDefaultCondition(value)
    case .enumeration: return "\(value).rawValue != 0"
    case .message: return "true"
    }
  }
}

/// The scalar field types with their Swift type and runtime method names.
enum ScalarType {
  case double, float, int64, uint64, int32, fixed64, fixed32, bool, string, bytes, uint32, sfixed32, sfixed64,
    sint32, sint64

  init?(_ type: Google_Protobuf_FieldDescriptorProto.TypeEnum) {
    switch type {
    case .double: self = .double
    case .float: self = .float
    case .int64: self = .int64
    case .uint64: self = .uint64
    case .int32: self = .int32
    case .fixed64: self = .fixed64
    case .fixed32: self = .fixed32
    case .bool: self = .bool
    case .string: self = .string
    case .bytes: self = .bytes
    case .uint32: self = .uint32
    case .sfixed32: self = .sfixed32
    case .sfixed64: self = .sfixed64
    case .sint32: self = .sint32
    case .sint64: self = .sint64
    default: return nil
    }
  }

  var swiftType: String {
    switch self {
    case .double: "Double"
    case .float: "Float"
    case .int64, .sint64, .sfixed64: "Int64"
    case .uint64, .fixed64: "UInt64"
    case .int32, .sint32, .sfixed32: "Int32"
    case .uint32, .fixed32: "UInt32"
    case .bool: "Bool"
    case .string: "String"
    case .bytes: "[UInt8]"
    }
  }

  /// Suffix of the `WireDecoder.decode…`, `decodePacked…` and `WireEncoder.write…` methods.
  var methodSuffix: String {
    switch self {
    case .double: "Double"
    case .float: "Float"
    case .int64: "Int64"
    case .uint64: "UInt64"
    case .int32: "Int32"
    case .fixed64: "Fixed64"
    case .fixed32: "Fixed32"
    case .bool: "Bool"
    case .string: "String"
    case .bytes: "Bytes"
    case .uint32: "UInt32"
    case .sfixed32: "SFixed32"
    case .sfixed64: "SFixed64"
    case .sint32: "SInt32"
    case .sint64: "SInt64"
    }
  }

  var wireType: FieldWireType {
    switch self {
    case .double, .fixed64, .sfixed64: .fixed64
    case .float, .fixed32, .sfixed32: .fixed32
    case .string, .bytes: .lengthDelimited
    default: .varint
    }
  }

  var isPackable: Bool { self != .string && self != .bytes }

  /// Encoded size of every value for fixed-width types.
  var fixedSize: Int? {
    switch wireType {
    case .fixed32: 4
    case .fixed64: 8
    default: self == .bool ? 1 : nil
    }
  }

  func sizeExpression(_ value: String) -> String {
    switch self {
    case .int32: "WireFormat.int32Size(\(value))"
    case .int64: "WireFormat.int64Size(\(value))"
    case .uint32: "WireFormat.uint32Size(\(value))"
    case .uint64: "WireFormat.uint64Size(\(value))"
    case .sint32: "WireFormat.sint32Size(\(value))"
    case .sint64: "WireFormat.sint64Size(\(value))"
    case .string: "WireFormat.stringSize(\(value))"
    case .bytes: "WireFormat.bytesSize(\(value))"
    default: "\(fixedSize!)"
    }
  }

  func nonDefaultCondition(_ value: String) -> String {
    switch self {
    case .double, .float: "\(value).bitPattern != 0"
    case .bool: value
    case .string, .bytes: "!\(value).isEmpty"
    default: "\(value) != 0"
    }
  }

  var zeroValue: String {
    switch self {
    case .bool: "false"
    case .string: "\"\""
    case .bytes: "[]"
    default: "0"
    }
  }
}

/// Wire types as the generator names them; mirrors `TandemProtobuf.WireType`.
enum FieldWireType: UInt8 {
  case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5

  var swiftCase: String {
    switch self {
    case .varint: ".varint"
    case .fixed64: ".fixed64"
    case .lengthDelimited: ".lengthDelimited"
    case .startGroup: ".startGroup"
    case .endGroup: ".endGroup"
    case .fixed32: ".fixed32"
    }
  }
}
