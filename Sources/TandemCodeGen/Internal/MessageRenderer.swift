/// Renders the Swift struct and `Message` conformance of one message, and the enums it contains.
struct MessageRenderer {
  struct OneofModel {
    var name: String
    var enumName: String
    var members: [FieldModel]
    var comments: [String]
    var isIndirect: Bool
    var escaped: String { Naming.escapedMember(name) }
  }

  let symbols: SymbolTable
  /// Access modifier with a trailing space, or empty for internal.
  let access: String
  let comments: CommentTable

  // MARK: Model

  func fieldModels(_ info: SymbolTable.MessageInfo) throws(GeneratorError) -> (fields: [FieldModel], oneofs: [OneofModel]) {
    var used: Set<String> = []
    var fields: [FieldModel] = []
    for (index, field) in info.descriptor.field.enumerated() {
      var model = try makeField(field, in: info)
      model.comments = comments.leading(info.sourcePath + [2, Int32(index)])
      var candidate = model.name
      while true {
        model.name = candidate
        let names = hasPresence(model) ? [model.name, model.hasName, model.clearName] : [model.name]
        if names.allSatisfy({ !used.contains($0) }) {
          used.formUnion(names)
          break
        }
        candidate += "_\(field.number)"
      }
      fields.append(model)
    }
    var oneofs: [OneofModel] = []
    for (index, oneof) in info.descriptor.oneofDecl.enumerated() {
      let members = fields.filter {
        if case .oneofMember(let oneofIndex) = $0.cardinality { return oneofIndex == index }
        return false
      }
      // Synthetic oneofs of proto3 `optional` fields have no real members.
      if members.isEmpty { continue }
      var name = Naming.propertyName(oneof.name)
      while used.contains(name) { name += "_oneof" }
      used.insert(name)
      let indirect = members.contains { $0.isBoxed }
      oneofs.append(OneofModel(
        name: name, enumName: "OneOf_" + Naming.upperCamelCase(oneof.name), members: members,
        comments: comments.leading(info.sourcePath + [8, Int32(index)]), isIndirect: indirect))
    }
    return (fields, oneofs)
  }

  func hasPresence(_ field: FieldModel) -> Bool {
    if case .explicit = field.cardinality { return true }
    return false
  }

  func makeField(_ field: Google_Protobuf_FieldDescriptorProto, in info: SymbolTable.MessageInfo) throws(GeneratorError) -> FieldModel {
    let kind = try valueKind(field)
    let isRepeated = field.label == .repeated
    var cardinality: FieldModel.Cardinality
    if isRepeated {
      if case .message = kind, let entry = symbols.message(field.typeName), entry.isMapEntry {
        guard let keyField = entry.descriptor.field.first(where: { $0.number == 1 }),
          let valueField = entry.descriptor.field.first(where: { $0.number == 2 })
        else {
          throw GeneratorError("map entry \(entry.fullName) lacks its key or value field")
        }
        let key = try makeField(keyField, in: entry)
        let value = try makeField(valueField, in: entry)
        cardinality = .map(key: key, value: value)
      } else {
        let packable: Bool
        switch kind {
        case .scalar(let scalar): packable = scalar.isPackable
        case .enumeration: packable = true
        case .message: packable = false
        }
        let packed = packable && (info.isProto3 ? (field.options.hasPacked ? field.options.packed : true) : field.options.packed)
        cardinality = .repeated(packed: packed)
      }
    } else if field.hasOneofIndex && !field.proto3Optional {
      cardinality = .oneofMember(oneofIndex: Int(field.oneofIndex))
    } else if !info.isProto3 || field.proto3Optional || field.type == .message || field.type == .group {
      cardinality = .explicit
    } else {
      cardinality = .implicit
    }
    var model = FieldModel(
      descriptor: field, number: Int(field.number), kind: kind, cardinality: cardinality,
      name: Naming.propertyName(field.name), defaultValue: "")
    model.isBoxed = !isRepeated && symbols.isCyclic(message: info.fullName, fieldNumber: field.number)
    model.defaultValue = try defaultValue(field, kind: kind)
    return model
  }

  func valueKind(_ field: Google_Protobuf_FieldDescriptorProto) throws(GeneratorError) -> FieldModel.ValueKind {
    if let scalar = ScalarType(field.type) { return .scalar(scalar) }
    switch field.type {
    case .enum:
      guard let info = symbols.enumInfo(field.typeName) else {
        throw GeneratorError("field \(field.name) refers to unknown enum \(field.typeName)")
      }
      return .enumeration(info)
    case .message, .group:
      guard let name = symbols.swiftName(forProtoName: field.typeName) else {
        throw GeneratorError("field \(field.name) refers to unknown message \(field.typeName)")
      }
      return .message(swiftName: name, isGroup: field.type == .group)
    default:
      throw GeneratorError("field \(field.name) has unsupported type \(field.type.rawValue)")
    }
  }

  func defaultValue(_ field: Google_Protobuf_FieldDescriptorProto, kind: FieldModel.ValueKind) throws(GeneratorError) -> String {
    switch kind {
    case .message(let swiftName, _):
      return "\(swiftName)()"
    case .enumeration(let info):
      if field.hasDefaultValue {
        guard let name = info.caseName(forProtoName: field.defaultValue) else {
          throw GeneratorError("default \(field.defaultValue) of field \(field.name) is not a value of \(info.fullName)")
        }
        return "\(info.swiftName).\(name)"
      }
      return "\(info.swiftName)()"
    case .scalar(let scalar):
      guard field.hasDefaultValue else { return scalar.zeroValue }
      let text = field.defaultValue
      switch scalar {
      case .string:
        return Naming.stringLiteral(text)
      case .bytes:
        let bytes = Self.unescapeC(text)
        return "[" + bytes.map { "0x" + String($0, radix: 16) }.joined(separator: ", ") + "]"
      case .bool:
        return text == "true" ? "true" : "false"
      case .float, .double:
        let type = scalar.swiftType
        switch text {
        case "inf": return "\(type).infinity"
        case "-inf": return "-\(type).infinity"
        case "nan": return "\(type).nan"
        default: return text
        }
      default:
        return text
      }
    }
  }

  /// Decodes the C escapes protoc uses for `bytes` defaults: `\n`, `\\`, octal `\ooo`, hex `\xHH`.
  static func unescapeC(_ text: String) -> [UInt8] {
    var result: [UInt8] = []
    let bytes = Array(text.utf8)
    var index = 0
    while index < bytes.count {
      let byte = bytes[index]
      index += 1
      guard byte == UInt8(ascii: "\\"), index < bytes.count else {
        result.append(byte)
        continue
      }
      let escape = bytes[index]
      index += 1
      switch escape {
      case UInt8(ascii: "n"): result.append(10)
      case UInt8(ascii: "r"): result.append(13)
      case UInt8(ascii: "t"): result.append(9)
      case UInt8(ascii: "a"): result.append(7)
      case UInt8(ascii: "b"): result.append(8)
      case UInt8(ascii: "f"): result.append(12)
      case UInt8(ascii: "v"): result.append(11)
      case UInt8(ascii: "x"):
        var value: UInt8 = 0
        var digits = 0
        while digits < 2, index < bytes.count, let digit = hexValue(bytes[index]) {
          value = value &* 16 &+ digit
          index += 1
          digits += 1
        }
        result.append(value)
      case UInt8(ascii: "0")...UInt8(ascii: "7"):
        var value = escape - UInt8(ascii: "0")
        var digits = 1
        while digits < 3, index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(bytes[index]) {
          value = value &* 8 &+ (bytes[index] - UInt8(ascii: "0"))
          index += 1
          digits += 1
        }
        result.append(value)
      default:
        result.append(escape)
      }
    }
    return result
  }

  static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
  }

  func storageType(_ field: FieldModel) -> String {
    field.isBoxed ? "ProtobufBox<\(field.swiftType)>" : field.swiftType
  }

  func mapType(key: FieldModel, value: FieldModel) -> String {
    "[\(key.swiftType): \(value.swiftType)]"
  }

  // MARK: Struct

  func renderStruct(_ info: SymbolTable.MessageInfo, into p: inout CodePrinter) throws(GeneratorError) {
    let (fields, oneofs) = try fieldModels(info)
    let shortName = String(info.swiftName.split(separator: ".").last!)
    p.docComment(comments.leading(info.sourcePath))
    try p.blockThrowing("nonisolated \(access)struct \(shortName): Sendable") { (p) throws(GeneratorError) in
      var emittedOneofs: Set<Int> = []
      for field in fields {
        switch field.cardinality {
        case .implicit:
          p.docComment(field.comments)
          p.line("\(access)var \(field.escaped): \(field.swiftType) = \(field.defaultValue)")
          p.line()
        case .explicit:
          renderPresenceAccessors(field, into: &p)
        case .repeated:
          p.docComment(field.comments)
          p.line("\(access)var \(field.escaped): [\(field.swiftType)] = []")
          p.line()
        case .map(let key, let value):
          p.docComment(field.comments)
          p.line("\(access)var \(field.escaped): \(mapType(key: key, value: value)) = [:]")
          p.line()
        case .oneofMember(let oneofIndex):
          guard let oneof = oneofs.first(where: { $0.members.contains { $0.number == field.number } }) else { continue }
          if emittedOneofs.insert(oneofIndex).inserted {
            p.docComment(oneof.comments)
            p.line("\(access)var \(oneof.escaped): \(oneof.enumName)? = nil")
            p.line()
          }
          renderOneofMemberAccessors(field, oneof: oneof, into: &p)
        }
      }
      p.line("\(access)var unknownFields = UnknownFields()")
      if isExtensible(info) {
        p.line("\(access)var extensionFields = ExtensionFieldSet()")
      }
      for oneof in oneofs {
        p.line()
        p.docComment(oneof.comments)
        p.block("nonisolated \(access)\(oneof.isIndirect ? "indirect " : "")enum \(oneof.enumName): Sendable, Hashable") { p in
          for member in oneof.members {
            p.docComment(member.comments)
            p.line("case \(member.escaped)(\(member.swiftType))")
          }
        }
      }
      for (index, enumType) in info.descriptor.enumType.enumerated() {
        guard let enumInfo = symbols.enumInfo(info.fullName + "." + enumType.name) else { continue }
        p.line()
        EnumRenderer(access: access, comments: comments).render(enumInfo, sourcePath: info.sourcePath + [4, Int32(index)], into: &p)
      }
      for nested in info.descriptor.nestedType where !nested.options.mapEntry {
        guard let nestedInfo = symbols.message(info.fullName + "." + nested.name) else { continue }
        p.line()
        try renderStruct(nestedInfo, into: &p)
      }
      if !info.descriptor.extension.isEmpty {
        p.line()
        try ExtensionRenderer(symbols: symbols, access: access, messageRenderer: self, isProto3: info.isProto3)
          .renderScope(name: "Extensions", scope: info.fullName, extensions: info.descriptor.extension, into: &p)
      }
      p.line()
      p.line("\(access)init() {}")
      let stored = fields.filter(hasPresence)
      if !stored.isEmpty { p.line() }
      for field in stored {
        p.line("private var \(field.storageName): \(storageType(field))? = nil")
      }
    }
  }

  func renderPresenceAccessors(_ field: FieldModel, into p: inout CodePrinter) {
    p.docComment(field.comments)
    p.block("\(access)var \(field.escaped): \(field.swiftType)") { p in
      if field.isBoxed {
        p.line("get { self.\(field.storageName)?.value ?? \(field.defaultValue) }")
        p.line("set { self.\(field.storageName) = ProtobufBox(newValue) }")
      } else {
        p.line("get { self.\(field.storageName) ?? \(field.defaultValue) }")
        p.line("set { self.\(field.storageName) = newValue }")
      }
    }
    p.line("/// Whether `\(field.name)` is set.")
    p.line("\(access)var \(field.hasName): Bool { self.\(field.storageName) != nil }")
    p.line("/// Clears `\(field.name)`, so that it reads as its default and is not encoded.")
    p.line("\(access)mutating func \(field.clearName)() { self.\(field.storageName) = nil }")
    p.line()
  }

  func renderOneofMemberAccessors(_ field: FieldModel, oneof: OneofModel, into p: inout CodePrinter) {
    p.docComment(field.comments)
    p.block("\(access)var \(field.escaped): \(field.swiftType)") { p in
      p.block("get") { p in
        p.line("if case .\(field.escaped)(let value)? = self.\(oneof.escaped) { return value }")
        p.line("return \(field.defaultValue)")
      }
      p.line("set { self.\(oneof.escaped) = .\(field.escaped)(newValue) }")
    }
    p.line()
  }

  // MARK: Conformance

  func renderConformance(_ info: SymbolTable.MessageInfo, into p: inout CodePrinter) throws(GeneratorError) {
    let (fields, oneofs) = try fieldModels(info)
    let ranges = extensionRanges(info)
    let conformance = ranges.isEmpty ? "TandemProtobuf.Message" : "TandemProtobuf.ExtensibleMessage"
    p.block("nonisolated extension \(info.swiftName): \(conformance)") { p in
      p.line("\(access)static let protoMessageName: String = \(Naming.stringLiteral(info.fullName))")
      p.line()
      renderDecode(fields, oneofs: oneofs, extensionRanges: ranges, into: &p)
      p.line()
      renderSize(fields, oneofs: oneofs, extensionRanges: ranges, into: &p)
      p.line()
      renderEncode(fields, oneofs: oneofs, extensionRanges: ranges, into: &p)
      if symbols.needsInitializationCheck(info.fullName) {
        p.line()
        renderInitializationCheck(fields, oneofs: oneofs, isExtensible: !ranges.isEmpty, into: &p)
      }
    }
    try renderJSONConformance(info, into: &p)
    for nested in info.descriptor.nestedType where !nested.options.mapEntry {
      guard let nestedInfo = symbols.message(info.fullName + "." + nested.name) else { continue }
      p.line()
      try renderConformance(nestedInfo, into: &p)
    }
  }

  func isExtensible(_ info: SymbolTable.MessageInfo) -> Bool {
    !info.descriptor.extensionRange.isEmpty
  }

  /// Extension ranges in ascending order, each as `start..<end` (the descriptor's end is exclusive).
  func extensionRanges(_ info: SymbolTable.MessageInfo) -> [Range<Int>] {
    info.descriptor.extensionRange
      .map { Int($0.start)..<max(Int($0.start), Int($0.end)) }
      .sorted { $0.lowerBound < $1.lowerBound }
  }

  func oneofName(of field: FieldModel, in oneofs: [OneofModel]) -> String {
    oneofs.first { $0.members.contains { $0.number == field.number } }!.escaped
  }
}

extension CodePrinter {
  mutating func blockThrowing(
    _ header: String, _ body: (inout CodePrinter) throws(GeneratorError) -> Void
  ) throws(GeneratorError) {
    line(header + " {")
    indent()
    try body(&self)
    outdent()
    line("}")
  }
}
