/// The `JSONCodableMessage` and `JSONCodableEnum` conformances: per-message `encodeJSON(to:)` and
/// `decodeJSON(from:)` that call `JSONMessageEncoder` and `JSONMessageDecoder` field by field.
///
/// Well-known types with a special JSON form (`Timestamp`, `Duration`, `FieldMask`, `Any`,
/// `Struct`, `Value`, `ListValue` and the wrappers) get bodies that call the runtime's special-form
/// methods instead of the object form, wherever they are generated.
extension MessageRenderer {
  /// Returns the JSON name of a field: its `json_name`, which protoc 3.21.12 sets on every field of
  /// a plugin request, or else the name with each `_` removed and the letter after it upper-cased.
  static func jsonName(_ field: Google_Protobuf_FieldDescriptorProto) -> String {
    if field.hasJsonName { return field.jsonName }
    var result = ""
    var capitalizeNext = false
    for character in field.name {
      if character == "_" {
        capitalizeNext = true
      } else if capitalizeNext {
        result += character.uppercased()
        capitalizeNext = false
      } else {
        result.append(character)
      }
    }
    return result
  }

  static let wrapperTypes: Set<String> = [
    "google.protobuf.DoubleValue", "google.protobuf.FloatValue", "google.protobuf.Int64Value",
    "google.protobuf.UInt64Value", "google.protobuf.Int32Value", "google.protobuf.UInt32Value",
    "google.protobuf.BoolValue", "google.protobuf.StringValue", "google.protobuf.BytesValue",
  ]

  /// Renders the JSON conformance of one message and of the enums nested in it. Nested messages
  /// get theirs from ``renderConformance(_:into:)``, which calls this for each.
  func renderJSONConformance(_ info: SymbolTable.MessageInfo, into p: inout CodePrinter) throws(GeneratorError) {
    let (fields, oneofs) = try fieldModels(info)
    let sortedFields = fields.sorted { $0.number < $1.number }
    p.line()
    try p.blockThrowing("nonisolated extension \(info.swiftName): TandemProtobuf.JSONCodableMessage") { (p) throws(GeneratorError) in
      p.block("\(access)func encodeJSON(to encoder: inout TandemProtobuf.JSONMessageEncoder) throws(TandemProtobuf.JSONEncodingError)") { p in
        if !renderSpecialEncode(info, fields: fields, oneofs: oneofs, into: &p) {
          renderObjectEncode(sortedFields, oneofs: oneofs, into: &p)
        }
      }
      p.line()
      p.block("\(access)mutating func decodeJSON(from decoder: inout TandemProtobuf.JSONMessageDecoder) throws(TandemProtobuf.JSONDecodingError)") { p in
        if !renderSpecialDecode(info, fields: fields, oneofs: oneofs, into: &p) {
          renderObjectDecode(sortedFields, oneofs: oneofs, into: &p)
        }
      }
    }
    for enumType in info.descriptor.enumType {
      guard let enumInfo = symbols.enumInfo(info.fullName + "." + enumType.name) else { continue }
      renderJSONEnumConformance(enumInfo, into: &p)
    }
  }

  /// Renders the `JSONCodableEnum` conformance: value names by number and numbers by name.
  func renderJSONEnumConformance(_ info: SymbolTable.EnumInfo, into p: inout CodePrinter) {
    p.line()
    p.block("nonisolated extension \(info.swiftName): TandemProtobuf.JSONCodableEnum") { p in
      p.block("\(access)static func _protobufName(ofNumber number: Int32) -> String?") { p in
        p.switchBlock("switch number") { p in
          for enumCase in info.cases where !enumCase.isAlias {
            p.line("case \(enumCase.number): return \(Naming.stringLiteral(enumCase.protoName))")
          }
          p.line("default: return nil")
        }
      }
      p.line()
      p.block("\(access)static func _protobufNumber(ofName name: String) -> Int32?") { p in
        p.switchBlock("switch name") { p in
          for enumCase in info.cases {
            p.line("case \(Naming.stringLiteral(enumCase.protoName)): return \(enumCase.number)")
          }
          p.line("default: return nil")
        }
      }
    }
  }

  // MARK: Values

  private func enumTypeName(_ field: FieldModel) -> String? {
    if case .enumeration(let info) = field.kind { return info.fullName }
    return nil
  }

  private func messageTypeName(_ field: FieldModel) -> String? {
    if case .message = field.kind { return String(field.descriptor.typeName.drop { $0 == "." }) }
    return nil
  }

  /// `true` for `google.protobuf.NullValue` fields, which are always written as `null`.
  private func isNullValue(_ field: FieldModel) -> Bool {
    enumTypeName(field) == "google.protobuf.NullValue"
  }

  /// `true` for fields whose type reads `null` as a value instead of "unset": `google.protobuf.Value`
  /// (a null value) and `google.protobuf.NullValue`.
  private func acceptsNull(_ field: FieldModel) -> Bool {
    messageTypeName(field) == "google.protobuf.Value" || enumTypeName(field) == "google.protobuf.NullValue"
  }

  /// The `JSONMessageEncoder`/`JSONMessageDecoder` method suffix of a scalar's JSON form.
  private func jsonMethodSuffix(_ scalar: ScalarType) -> String {
    switch scalar {
    case .int32, .sint32, .sfixed32: "Int32"
    case .uint32, .fixed32: "UInt32"
    case .int64, .sint64, .sfixed64: "Int64"
    case .uint64, .fixed64: "UInt64"
    case .float: "Float"
    case .double: "Double"
    case .bool: "Bool"
    case .string: "String"
    case .bytes: "Bytes"
    }
  }

  /// Statement that writes one value of `field` (no key).
  private func writeStatement(_ field: FieldModel, _ value: String) -> String {
    switch field.kind {
    case .scalar(let scalar):
      return "encoder.write\(jsonMethodSuffix(scalar))(\(value))"
    case .enumeration:
      return enumTypeName(field) == "google.protobuf.NullValue" ? "encoder.writeNull()" : "encoder.writeEnum(\(value))"
    case .message:
      return "try encoder.writeMessage(\(value))"
    }
  }

  /// Lines that decode the current non-null JSON value as one value of `field` and pass the
  /// resulting expression to `store`. An unknown enum name that the options let through stores nothing.
  private func readLines(_ field: FieldModel, store: (String) -> String) -> [String] {
    switch field.kind {
    case .scalar(let scalar):
      return [store("try decoder.decode\(jsonMethodSuffix(scalar))()")]
    case .enumeration(let info):
      return ["if let value = try decoder.decodeEnum(\(info.swiftName).self) { \(store("value")) }"]
    case .message(let swiftName, _):
      return ["var value = \(swiftName)()", "try decoder.decodeMessage(&value)", store("value")]
    }
  }

  private func mapKeyExpression(_ key: FieldModel) -> String {
    guard case .scalar(let scalar) = key.kind else { return "key" }
    switch scalar {
    case .string: return "key"
    case .bool: return "try decoder.mapKeyBool(key)"
    default: return "try decoder.mapKey\(jsonMethodSuffix(scalar))(key)"
    }
  }

  // MARK: Object form

  private func renderObjectEncode(_ fields: [FieldModel], oneofs: [OneofModel], into p: inout CodePrinter) {
    p.line("encoder.beginObject()")
    var emittedOneofs: Set<String> = []
    for field in fields {
      let nameLine = "encoder.writeFieldName(\(Naming.stringLiteral(Self.jsonName(field.descriptor))), protoName: \(Naming.stringLiteral(field.descriptor.name)))"
      let target = "self.\(field.escaped)"
      switch field.cardinality {
      case .implicit:
        p.block("if \(field.nonDefaultCondition(target)) || encoder.alwaysPrintFieldsWithoutPresence") { p in
          p.line(nameLine)
          p.line(writeStatement(field, target))
        }
      case .explicit:
        p.block("if self.\(field.hasName)") { p in
          p.line(nameLine)
          p.line(writeStatement(field, target))
        }
      case .repeated:
        p.block("if !\(target).isEmpty || encoder.alwaysPrintFieldsWithoutPresence") { p in
          p.line(nameLine)
          p.line("encoder.beginArray()")
          p.block("for \(isNullValue(field) ? "_" : "value") in \(target)") { p in
            p.line(writeStatement(field, "value"))
          }
          p.line("encoder.endArray()")
        }
      case .map(_, let value):
        p.block("if !\(target).isEmpty || encoder.alwaysPrintFieldsWithoutPresence") { p in
          p.line(nameLine)
          p.line("encoder.beginObject()")
          p.block("for (key, \(isNullValue(value) ? "_" : "value")) in \(target)") { p in
            p.line("encoder.writeMapKey(key)")
            p.line(writeStatement(value, "value"))
          }
          p.line("encoder.endObject()")
        }
      case .oneofMember:
        guard let oneof = oneofs.first(where: { $0.members.contains { $0.number == field.number } }),
          emittedOneofs.insert(oneof.name).inserted
        else { continue }
        p.switchBlock("switch self.\(oneof.escaped)") { p in
          for member in oneof.members.sorted(by: { $0.number < $1.number }) {
            p.line("case .\(member.escaped)(\(isNullValue(member) ? "_" : "let value"))?:")
            p.indent()
            p.line("encoder.writeFieldName(\(Naming.stringLiteral(Self.jsonName(member.descriptor))), protoName: \(Naming.stringLiteral(member.descriptor.name)))")
            p.line(writeStatement(member, "value"))
            p.outdent()
          }
          p.line("case nil:")
          p.indent()
          p.line("break")
          p.outdent()
        }
      }
    }
    p.line("encoder.endObject()")
  }

  private func renderObjectDecode(_ fields: [FieldModel], oneofs: [OneofModel], into p: inout CodePrinter) {
    p.line("var members = try decoder.beginObject()")
    p.block("while let key = decoder.nextMember(&members)") { p in
      if fields.isEmpty {
        p.line("try decoder.skipUnknownField(key, messageName: Self.protoMessageName)")
        return
      }
      // proto2 allows fields whose JSON names clash (`foo_bar` and `fooBar`) or equal another
      // field's proto name. A proto name always selects its own field; a clashing JSON name
      // selects the field with the lowest number.
      let protoNames = Set(fields.map(\.descriptor.name))
      var jsonNames: Set<String> = []
      p.switchBlock("switch key") { p in
        for field in fields {
          let jsonName = Self.jsonName(field.descriptor)
          let protoName = field.descriptor.name
          var labels = [Naming.stringLiteral(jsonName)]
          if jsonName == protoName || protoNames.contains(jsonName) || !jsonNames.insert(jsonName).inserted {
            labels = []
          }
          labels.append(Naming.stringLiteral(protoName))
          p.line("case \(labels.joined(separator: ", ")):")
          p.indent()
          p.line("try decoder.claimField(\(field.number), name: \(Naming.stringLiteral(protoName)), in: &members)")
          renderFieldDecode(field, oneofs: oneofs, into: &p)
          p.outdent()
        }
        // NOTE: extension fields (`"[full.name]"` keys) are neither written nor read; such a key is
        // treated as unknown.
        p.line("default:")
        p.indent()
        p.line("try decoder.skipUnknownField(key, messageName: Self.protoMessageName)")
        p.outdent()
      }
    }
  }

  private func renderFieldDecode(_ field: FieldModel, oneofs: [OneofModel], into p: inout CodePrinter) {
    let target = "self.\(field.escaped)"
    switch field.cardinality {
    case .implicit, .explicit:
      let clear: String
      if case .explicit = field.cardinality {
        clear = "self.\(field.clearName)()"
      } else {
        clear = "\(target) = \(field.defaultValue)"
      }
      if case .message = field.kind {
        // Singular messages merge into the current value, as in the binary format.
        let body = { (p: inout CodePrinter) in
          p.line("var value = \(target)")
          p.line("try decoder.decodeMessage(&value)")
          p.line("\(target) = value")
        }
        if acceptsNull(field) {
          body(&p)
        } else {
          p.ifElse("if decoder.isNull") { p in
            p.line(clear)
          } otherwise: { p in
            body(&p)
          }
        }
        return
      }
      p.ifElse("if decoder.isNull") { p in
        p.line(isNullValue(field) ? "\(target) = \(field.swiftType)()" : clear)
      } otherwise: { p in
        for line in readLines(field, store: { "\(target) = \($0)" }) { p.line(line) }
      }

    case .repeated:
      p.ifElse("if decoder.isNull") { p in
        p.line("\(target) = []")
      } otherwise: { p in
        p.line("var values: [\(field.swiftType)] = []")
        p.line("var elements = try decoder.beginArray()")
        p.block("while decoder.nextElement(&elements)") { p in
          for line in readLines(field, store: { "values.append(\($0))" }) { p.line(line) }
        }
        p.line("\(target) = values")
      }

    case .map(let key, let value):
      p.ifElse("if decoder.isNull") { p in
        p.line("\(target) = [:]")
      } otherwise: { p in
        p.line("var map: \(mapType(key: key, value: value)) = [:]")
        p.line("var entries = try decoder.beginObject()")
        p.block("while let key = decoder.nextMember(&entries)") { p in
          p.line("let mapKey = \(mapKeyExpression(key))")
          for line in readLines(value, store: { "map[mapKey] = \($0)" }) { p.line(line) }
        }
        p.line("\(target) = map")
      }

    case .oneofMember(let oneofIndex):
      guard let oneof = oneofs.first(where: { $0.members.contains { $0.number == field.number } }) else { return }
      let oneofTarget = "self.\(oneof.escaped)"
      let claim = "try decoder.claimOneof(\(oneofIndex), name: \(Naming.stringLiteral(oneof.name)), in: &members)"
      let set = { (p: inout CodePrinter) in
        p.line(claim)
        if case .message(let swiftName, _) = field.kind {
          p.line("var value: \(swiftName)")
          p.ifElse("if case .\(field.escaped)(let existing)? = \(oneofTarget)") { p in
            p.line("value = existing")
          } otherwise: { p in
            p.line("value = \(swiftName)()")
          }
          p.line("try decoder.decodeMessage(&value)")
          p.line("\(oneofTarget) = .\(field.escaped)(value)")
        } else {
          for line in readLines(field, store: { "\(oneofTarget) = .\(field.escaped)(\($0))" }) { p.line(line) }
        }
      }
      if messageTypeName(field) == "google.protobuf.Value" {
        set(&p)
      } else if isNullValue(field) {
        // `null` is the value of a NullValue member, so it sets the oneof.
        p.ifElse("if decoder.isNull") { p in
          p.line(claim)
          p.line("\(oneofTarget) = .\(field.escaped)(\(field.swiftType)())")
        } otherwise: { p in
          set(&p)
        }
      } else {
        // `null` clears the member if it is the one set, and does not count as setting the oneof.
        p.ifElse("if decoder.isNull") { p in
          p.block("if case .\(field.escaped)(_)? = \(oneofTarget)") { p in p.line("\(oneofTarget) = nil") }
        } otherwise: { p in
          set(&p)
        }
      }
    }
  }

  // MARK: Special forms

  private func member(_ protoName: String, in fields: [FieldModel]) -> FieldModel? {
    fields.first { $0.descriptor.name == protoName }
  }

  /// Renders the encode body of a well-known type with a special form; `false` for other messages.
  private func renderSpecialEncode(
    _ info: SymbolTable.MessageInfo, fields: [FieldModel], oneofs: [OneofModel], into p: inout CodePrinter
  ) -> Bool {
    switch info.fullName {
    case "google.protobuf.Timestamp", "google.protobuf.Duration":
      guard let seconds = member("seconds", in: fields), let nanos = member("nanos", in: fields) else { return false }
      let method = info.fullName == "google.protobuf.Timestamp" ? "writeTimestamp" : "writeDuration"
      p.line("try encoder.\(method)(seconds: self.\(seconds.escaped), nanos: self.\(nanos.escaped))")
    case "google.protobuf.FieldMask":
      guard let paths = member("paths", in: fields) else { return false }
      p.line("try encoder.writeFieldMask(paths: self.\(paths.escaped))")
    case "google.protobuf.Any":
      guard let typeURL = member("type_url", in: fields), let value = member("value", in: fields) else { return false }
      p.line("try encoder.writeAny(typeURL: self.\(typeURL.escaped), value: self.\(value.escaped))")
    case "google.protobuf.Struct":
      guard let entries = member("fields", in: fields) else { return false }
      p.line("encoder.beginObject()")
      p.block("for (key, value) in self.\(entries.escaped)") { p in
        p.line("encoder.writeMapKey(key)")
        p.line("try encoder.writeMessage(value)")
      }
      p.line("encoder.endObject()")
    case "google.protobuf.ListValue":
      guard let values = member("values", in: fields) else { return false }
      p.line("encoder.beginArray()")
      p.block("for value in self.\(values.escaped)") { p in
        p.line("try encoder.writeMessage(value)")
      }
      p.line("encoder.endArray()")
    case "google.protobuf.Value":
      guard let kind = valueKindNames(fields, oneofs: oneofs) else { return false }
      p.switchBlock("switch self.\(kind.oneof)") { p in
        p.line("case .\(kind.null)(_)?, nil: encoder.writeNull()")
        p.line("case .\(kind.number)(let value)?: try encoder.writeValueNumber(value)")
        p.line("case .\(kind.string)(let value)?: encoder.writeString(value)")
        p.line("case .\(kind.bool)(let value)?: encoder.writeBool(value)")
        p.line("case .\(kind.structValue)(let value)?: try encoder.writeMessage(value)")
        p.line("case .\(kind.list)(let value)?: try encoder.writeMessage(value)")
      }
    default:
      guard Self.wrapperTypes.contains(info.fullName), let value = member("value", in: fields) else { return false }
      p.line(writeStatement(value, "self.\(value.escaped)"))
    }
    return true
  }

  /// Renders the decode body of a well-known type with a special form; `false` for other messages.
  private func renderSpecialDecode(
    _ info: SymbolTable.MessageInfo, fields: [FieldModel], oneofs: [OneofModel], into p: inout CodePrinter
  ) -> Bool {
    switch info.fullName {
    case "google.protobuf.Timestamp", "google.protobuf.Duration":
      guard let seconds = member("seconds", in: fields), let nanos = member("nanos", in: fields) else { return false }
      let method = info.fullName == "google.protobuf.Timestamp" ? "decodeTimestamp" : "decodeDuration"
      p.line("let value = try decoder.\(method)()")
      p.line("self.\(seconds.escaped) = value.seconds")
      p.line("self.\(nanos.escaped) = value.nanos")
    case "google.protobuf.FieldMask":
      guard let paths = member("paths", in: fields) else { return false }
      p.line("self.\(paths.escaped) = try decoder.decodeFieldMask()")
    case "google.protobuf.Any":
      guard let typeURL = member("type_url", in: fields), let value = member("value", in: fields) else { return false }
      p.line("let any = try decoder.decodeAny()")
      p.line("self.\(typeURL.escaped) = any.typeURL")
      p.line("self.\(value.escaped) = any.value")
    case "google.protobuf.Struct":
      guard let entries = member("fields", in: fields), case .map(_, let valueField) = entries.cardinality else { return false }
      p.line("var map: [String: \(valueField.swiftType)] = [:]")
      p.line("var entries = try decoder.beginObject()")
      p.block("while let key = decoder.nextMember(&entries)") { p in
        p.line("var value = \(valueField.swiftType)()")
        p.line("try decoder.decodeMessage(&value)")
        p.line("map[key] = value")
      }
      p.line("self.\(entries.escaped) = map")
    case "google.protobuf.ListValue":
      guard let values = member("values", in: fields) else { return false }
      p.line("var values: [\(values.swiftType)] = []")
      p.line("var elements = try decoder.beginArray()")
      p.block("while decoder.nextElement(&elements)") { p in
        p.line("var value = \(values.swiftType)()")
        p.line("try decoder.decodeMessage(&value)")
        p.line("values.append(value)")
      }
      p.line("self.\(values.escaped) = values")
    case "google.protobuf.Value":
      guard let kind = valueKindNames(fields, oneofs: oneofs) else { return false }
      p.switchBlock("switch decoder.currentType") { p in
        p.line("case .null: self.\(kind.oneof) = .\(kind.null)(\(kind.nullType)())")
        p.line("case .bool: self.\(kind.oneof) = .\(kind.bool)(try decoder.decodeBool())")
        p.line("case .number: self.\(kind.oneof) = .\(kind.number)(try decoder.decodeDouble())")
        p.line("case .string: self.\(kind.oneof) = .\(kind.string)(try decoder.decodeString())")
        p.line("case .array:")
        p.indent()
        p.line("var value = \(kind.listType)()")
        p.line("try decoder.decodeMessage(&value)")
        p.line("self.\(kind.oneof) = .\(kind.list)(value)")
        p.outdent()
        p.line("case .object:")
        p.indent()
        p.line("var value = \(kind.structType)()")
        p.line("try decoder.decodeMessage(&value)")
        p.line("self.\(kind.oneof) = .\(kind.structValue)(value)")
        p.outdent()
      }
    default:
      guard Self.wrapperTypes.contains(info.fullName), let value = member("value", in: fields) else { return false }
      for line in readLines(value, store: { "self.\(value.escaped) = \($0)" }) { p.line(line) }
    }
    return true
  }

  private struct ValueKindNames {
    var oneof, null, number, string, bool, structValue, list: String
    var nullType, structType, listType: String
  }

  /// Swift names of `google.protobuf.Value`'s `kind` oneof and its members.
  private func valueKindNames(_ fields: [FieldModel], oneofs: [OneofModel]) -> ValueKindNames? {
    guard let null = member("null_value", in: fields), let number = member("number_value", in: fields),
      let string = member("string_value", in: fields), let bool = member("bool_value", in: fields),
      let structValue = member("struct_value", in: fields), let list = member("list_value", in: fields),
      let oneof = oneofs.first(where: { $0.members.contains { $0.number == null.number } })
    else { return nil }
    return ValueKindNames(
      oneof: oneof.escaped, null: null.escaped, number: number.escaped, string: string.escaped, bool: bool.escaped,
      structValue: structValue.escaped, list: list.escaped, nullType: null.swiftType, structType: structValue.swiftType,
      listType: list.swiftType)
  }
}

extension CodePrinter {
  /// Prints `if condition {`, the `then` body, `} else {`, the `else` body and `}`.
  mutating func ifElse(
    _ condition: String, then: (inout CodePrinter) -> Void, otherwise: (inout CodePrinter) -> Void
  ) {
    line(condition + " {")
    indent()
    then(&self)
    outdent()
    line("} else {")
    indent()
    otherwise(&self)
    outdent()
    line("}")
  }
}
