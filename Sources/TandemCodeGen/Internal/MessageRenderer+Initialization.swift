/// The `isInitialized` and `collectMissingRequiredFields(prefix:into:)` members of messages that can
/// reach a proto2 required field or an extension range.
extension MessageRenderer {
  /// `true` when `field` contains messages whose own `isInitialized` can be `false`.
  func holdsCheckedMessages(_ field: FieldModel) -> Bool {
    switch field.cardinality {
    case .map(_, let value):
      if case .message = value.kind { return symbols.needsInitializationCheck(value.descriptor.typeName) }
      return false
    default:
      if case .message = field.kind { return symbols.needsInitializationCheck(field.descriptor.typeName) }
      return false
    }
  }

  /// Expression for an explicit-presence field's optional stored value.
  private func storedValue(_ field: FieldModel) -> String {
    field.isBoxed ? "self.\(field.storageName)?.value" : "self.\(field.storageName)"
  }

  func renderInitializationCheck(
    _ fields: [FieldModel], oneofs: [OneofModel], isExtensible: Bool, into p: inout CodePrinter
  ) {
    let required = fields.filter { $0.descriptor.label == .required }
    let checked = fields.filter(holdsCheckedMessages)

    p.block("\(access)var isInitialized: Bool") { p in
      for field in required {
        p.line("if self.\(field.storageName) == nil { return false }")
      }
      for field in checked {
        switch field.cardinality {
        case .explicit, .implicit:
          p.line("if let value = \(storedValue(field)), !value.isInitialized { return false }")
        case .repeated:
          p.line("for value in self.\(field.escaped) where !value.isInitialized { return false }")
        case .map:
          p.line("for value in self.\(field.escaped).values where !value.isInitialized { return false }")
        case .oneofMember:
          let oneof = oneofName(of: field, in: oneofs)
          p.line("if case .\(field.escaped)(let value)? = self.\(oneof), !value.isInitialized { return false }")
        }
      }
      if isExtensible {
        p.line("if !self.extensionFields.isInitialized { return false }")
      }
      p.line("return true")
    }
    p.line()
    let usesPaths = !required.isEmpty || !checked.isEmpty || isExtensible
    let parameters = usesPaths ? "prefix: String, into paths: inout [String]" : "prefix _: String, into _: inout [String]"
    p.block("\(access)func collectMissingRequiredFields(\(parameters))") { p in
      for field in required {
        p.line("if self.\(field.storageName) == nil { paths.append(prefix + \(Naming.stringLiteral(field.descriptor.name))) }")
      }
      for field in checked {
        let name = field.descriptor.name
        switch field.cardinality {
        case .explicit, .implicit:
          p.block("if let value = \(storedValue(field))") { p in
            p.line("value.collectMissingRequiredFields(prefix: prefix + \(Naming.stringLiteral(name + ".")), into: &paths)")
          }
        case .repeated:
          p.block("for (index, value) in self.\(field.escaped).enumerated()") { p in
            p.line("value.collectMissingRequiredFields(prefix: \"\\(prefix)\(name)[\\(index)].\", into: &paths)")
          }
        case .map:
          p.block("for (key, value) in self.\(field.escaped)") { p in
            p.line("value.collectMissingRequiredFields(prefix: \"\\(prefix)\(name)[\\(key)].\", into: &paths)")
          }
        case .oneofMember:
          let oneof = oneofName(of: field, in: oneofs)
          p.block("if case .\(field.escaped)(let value)? = self.\(oneof)") { p in
            p.line("value.collectMissingRequiredFields(prefix: prefix + \(Naming.stringLiteral(name + ".")), into: &paths)")
          }
        }
      }
      if isExtensible {
        p.line("self.extensionFields.collectMissingRequiredFields(prefix: prefix, into: &paths)")
      }
    }
  }
}
