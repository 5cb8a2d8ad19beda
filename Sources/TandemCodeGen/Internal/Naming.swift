/// Swift names for proto identifiers, following swift-protobuf's conventions so that users can move
/// between the two runtimes: package prefix `foo.bar_baz` -> `Foo_BarBaz_`, lowerCamelCase fields,
/// enum value prefixes stripped, and reserved words escaped or suffixed.
enum Naming {
  /// Swift keywords. As member names they are written in backticks.
  static let keywords: Set<String> = [
    "associatedtype", "borrowing", "class", "consuming", "deinit", "enum", "extension", "fileprivate",
    "func", "import", "init", "inout", "internal", "let", "nonisolated", "open", "operator", "package",
    "private", "precedencegroup", "protocol", "public", "rethrows", "static", "struct", "subscript",
    "typealias", "var", "break", "case", "catch", "continue", "default", "defer", "do", "else",
    "fallthrough", "for", "guard", "if", "in", "repeat", "return", "throw", "throws", "switch", "where",
    "while", "Any", "as", "await", "false", "is", "nil", "self", "Self", "super", "true", "try",
    "async", "some", "any", "_", "#available", "#colorLiteral", "#column", "#else", "#elseif", "#endif",
    "#file", "#fileLiteral", "#function", "#if", "#imageLiteral", "#line", "#selector", "#sourceLocation",
    "Protocol", "Type", "each", "macro",
  ]

  /// Type names that would shadow a Swift, Foundation or runtime type used by generated code, or
  /// that Swift gives a special meaning as a nested type (`Type`, `Protocol`). They get a suffix.
  static let reservedTypeNames: Set<String> = [
    "Any", "AnyObject", "Array", "Bool", "Character", "Codable", "Collection", "Data", "Date", "Decodable",
    "Dictionary", "Double", "Encodable", "Equatable", "Error", "Float", "Float32", "Float64", "Foundation",
    "Hashable", "Hasher", "Int", "Int8", "Int16", "Int32", "Int64", "Never", "NSObject", "Optional",
    "Protocol", "RawRepresentable", "Result", "Self", "Sendable", "Sequence", "Set", "String", "Substring",
    "Swift", "Type", "UInt", "UInt8", "UInt16", "UInt32", "UInt64", "URL", "UUID", "Void", "CaseIterable",
    "UnsafeRawBufferPointer", "UnsafeMutableRawBufferPointer", "UnsafeRawPointer", "Sendable",
    "TandemProtobuf", "TandemCore", "Tandem", "Message", "ProtobufEnum", "ProtobufBox", "WireDecoder",
    "WireEncoder", "WireType", "WireFormat", "FieldTag", "SizeCache", "UnknownFields", "DecodingOptions",
    "ProtobufDecodingError", "ProtobufEncodingError", "OneOf", "Element", "Key", "Value",
    "ExtensibleMessage", "ExtensionFieldSet", "ExtensionRegistry", "MessageExtension", "AnyMessageExtension",
    "ExtensionFieldCodec", "ExtensionScalarType", "Extensions", "OptionalExtensionField", "RepeatedExtensionField",
    "PackedExtensionField", "OptionalMessageExtensionField", "RepeatedMessageExtensionField",
    "OptionalGroupExtensionField", "RepeatedGroupExtensionField", "ProtobufEnumType", "ProtobufDouble",
    "ProtobufFloat", "ProtobufInt64", "ProtobufUInt64", "ProtobufInt32", "ProtobufFixed64", "ProtobufFixed32",
    "ProtobufBool", "ProtobufString", "ProtobufBytes", "ProtobufUInt32", "ProtobufSFixed32", "ProtobufSFixed64",
    "ProtobufSInt32", "ProtobufSInt64", "MethodDescriptor", "ServerContext", "ClientResponse", "Metadata",
    "CallOptions", "RPCChannel", "RPCService", "ServiceRouter",
  ]

  /// Property names that clash with members of `Message`, `Hashable`, `Equatable` or with what Swift
  /// reserves on every value. Fields with these names get a `_p` suffix.
  static let reservedFieldNames: Set<String> = [
    "self", "Self", "Type", "Protocol", "init", "deinit", "subscript", "_", "unknownFields",
    "isInitialized", "hashValue", "hash", "description", "debugDescription", "protoMessageName",
    "serializedBytes", "serializedSize", "encodedSize", "encode", "decodeMessage", "merge", "with",
    "dynamicType", "extensionFields", "missingRequiredFields", "collectMissingRequiredFields",
  ]

  /// Enum case names that clash with members of `RawRepresentable`, `CaseIterable` or `Hashable`.
  static let reservedCaseNames: Set<String> = [
    "self", "Self", "Type", "Protocol", "init", "deinit", "subscript", "_", "rawValue", "allCases",
    "hashValue", "hash", "description", "debugDescription", "UNRECOGNIZED", "dynamicType",
  ]

  /// Segments written in upper case inside camel-cased names, as swift-protobuf does (`user_id` -> `userID`).
  static let upperCaseSegments: Set<String> = ["url", "http", "https", "id"]

  /// Splits `foo_barBaz` into `["foo", "bar", "Baz"]`-like segments at underscores and lower-to-upper
  /// case changes.
  static func segments(_ name: String) -> [String] {
    var result: [String] = []
    var current = ""
    var previous: Character?
    for character in name {
      if character == "_" {
        if !current.isEmpty { result.append(current) }
        current = ""
        previous = nil
        continue
      }
      if let previous, character.isUppercase, previous.isLowercase || previous.isNumber {
        result.append(current)
        current = ""
      }
      current.append(character)
      previous = character
    }
    if !current.isEmpty { result.append(current) }
    return result
  }

  static func capitalizedSegment(_ segment: String) -> String {
    if upperCaseSegments.contains(segment.lowercased()) { return segment.uppercased() }
    let isAllUpper = segment.allSatisfy { !$0.isLowercase }
    let body = isAllUpper ? segment.lowercased() : segment
    return body.prefix(1).uppercased() + body.dropFirst()
  }

  static func upperCamelCase(_ name: String) -> String {
    let parts = segments(name)
    if parts.isEmpty { return "_" }
    return parts.map(capitalizedSegment).joined()
  }

  static func lowerCamelCase(_ name: String) -> String {
    let parts = segments(name)
    guard let first = parts.first else { return "_" }
    let isAllUpper = first.allSatisfy { !$0.isLowercase }
    let head = isAllUpper ? first.lowercased() : first.prefix(1).lowercased() + first.dropFirst()
    return head + parts.dropFirst().map(capitalizedSegment).joined()
  }

  /// Type prefix of a file's top-level types: its `swift_prefix` option when set, else the package prefix.
  static func filePrefix(_ file: Google_Protobuf_FileDescriptorProto) -> String {
    file.options.hasSwiftPrefix ? file.options.swiftPrefix : typePrefix(package: file.package)
  }

  /// Type prefix for a package: `echo.v1` -> `Echo_V1_`, `foo.bar_baz` -> `Foo_BarBaz_`, empty for no package.
  static func typePrefix(package: String) -> String {
    if package.isEmpty { return "" }
    return package.split(separator: ".").map { upperCamelCase(String($0)) }.joined(separator: "_") + "_"
  }

  /// A type name that does not clash with Swift or the runtime; `suffix` is `Message` or `Enum`.
  static func safeTypeName(_ name: String, suffix: String) -> String {
    var result = name
    while reservedTypeNames.contains(result) || keywords.contains(result) {
      result += suffix
    }
    return result
  }

  /// Escapes a member name for use after `self.`, in declarations and in `case` patterns.
  static func escapedMember(_ name: String) -> String {
    keywords.contains(name) ? "`\(name)`" : name
  }

  /// Swift property name for a field or oneof: lowerCamelCase, `_p` suffix for reserved names and for
  /// names that look like generated `hasX`/`clearX` accessors.
  static func propertyName(_ protoName: String) -> String {
    var name = lowerCamelCase(protoName)
    if let first = name.first, first.isNumber { name = "_" + name }
    if reservedFieldNames.contains(name) || looksLikeAccessor(name) {
      name += "_p"
    }
    return name
  }

  static func looksLikeAccessor(_ name: String) -> Bool {
    for prefix in ["has", "clear"] where name.hasPrefix(prefix) {
      let rest = name.dropFirst(prefix.count)
      if let next = rest.first, next.isUppercase || next.isNumber || next == "_" { return true }
    }
    return false
  }

  /// Upper-case segments of a name without underscores, used to compare an enum name with its
  /// value prefixes: `FooBar` and `FOO_BAR` both give `FOOBAR`.
  static func squashedUpper(_ name: String) -> String {
    name.filter { $0 != "_" }.uppercased()
  }

  /// `true` when `text` is a plain Swift identifier: a letter or `_`, then letters, digits or `_`.
  static func isIdentifier(_ text: String) -> Bool {
    guard let first = text.unicodeScalars.first, first == "_" || first.properties.isAlphabetic else { return false }
    return text.unicodeScalars.allSatisfy { $0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0) }
  }

  /// Swift string literal for `text`.
  static func stringLiteral(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\\": result += "\\\\"
      case "\"": result += "\\\""
      case "\n": result += "\\n"
      case "\r": result += "\\r"
      case "\t": result += "\\t"
      case "\0": result += "\\0"
      default:
        if scalar.value < 0x20 || scalar.value == 0x7F {
          result += "\\u{\(String(scalar.value, radix: 16))}"
        } else {
          result.unicodeScalars.append(scalar)
        }
      }
    }
    return result + "\""
  }
}
