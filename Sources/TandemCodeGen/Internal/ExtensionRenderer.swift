/// Renders the typed descriptors of `extend` declarations: an enum of static `MessageExtension`
/// constants per scope (the file, or a message that declares extensions inside its body) and a
/// registry of every extension of the file.
struct ExtensionRenderer {
  let symbols: SymbolTable
  let access: String
  let messageRenderer: MessageRenderer
  /// `true` for extensions declared in a proto3 file, whose repeated scalars are packed by default.
  let isProto3: Bool

  /// Swift name of an extension constant: the lowerCamelCase field name, with `_` appended when it
  /// would clash with the `registry` member.
  static func constantName(_ field: Google_Protobuf_FieldDescriptorProto) -> String {
    var name = Naming.lowerCamelCase(field.name)
    if let first = name.first, first.isNumber { name = "_" + name }
    if name == "registry" || Naming.reservedFieldNames.contains(name) { name += "_" }
    return name
  }

  /// Name of the enum holding a file's extensions: type prefix, file base name, `_Extensions`, for
  /// example `Pkg_MyFile_Extensions` for `pkg/my_file.proto` in package `pkg`.
  static func fileEnumName(_ file: Google_Protobuf_FileDescriptorProto) -> String {
    var base = String(file.name.split(separator: "/").last ?? "")
    if base.hasSuffix(".proto") { base.removeLast(".proto".count) }
    return Naming.filePrefix(file) + Naming.upperCamelCase(base) + "_Extensions"
  }

  /// Renders the file's enum when the file declares any extension: its own extensions and a
  /// `registry` with every extension of the file, message-scoped ones included.
  func renderFile(_ file: Google_Protobuf_FileDescriptorProto, into p: inout CodePrinter) throws(GeneratorError) {
    var references: [String] = []
    let enumName = Self.fileEnumName(file)
    for field in file.extension {
      references.append(enumName + "." + Naming.escapedMember(Self.constantName(field)))
    }
    let packagePrefix = file.package.isEmpty ? "" : file.package + "."
    for message in file.messageType {
      collectScopedReferences(message, fullName: packagePrefix + message.name, into: &references)
    }
    if references.isEmpty { return }
    p.line()
    p.line("/// Extensions declared in \(file.name), and a registry of every extension of the file for")
    p.line("/// `DecodingOptions.extensions`.")
    try p.blockThrowing("nonisolated \(access)enum \(enumName)") { (p) throws(GeneratorError) in
      try renderConstants(file.extension, scope: file.package, into: &p)
      p.line("/// Every extension declared in \(file.name).")
      p.line("\(access)static let registry: ExtensionRegistry = [")
      p.indent()
      for reference in references {
        p.line(reference + ",")
      }
      p.outdent()
      p.line("]")
    }
  }

  private func collectScopedReferences(
    _ message: Google_Protobuf_DescriptorProto, fullName: String, into references: inout [String]
  ) {
    guard let info = symbols.message(fullName) else { return }
    for field in message.extension {
      references.append(info.swiftName + ".Extensions." + Naming.escapedMember(Self.constantName(field)))
    }
    for nested in message.nestedType {
      collectScopedReferences(nested, fullName: fullName + "." + nested.name, into: &references)
    }
  }

  /// Renders `enum Extensions` inside a message that declares extensions in its body.
  func renderScope(
    name: String, scope: String, extensions: [Google_Protobuf_FieldDescriptorProto], into p: inout CodePrinter
  ) throws(GeneratorError) {
    p.line("/// Extensions declared inside this message.")
    try p.blockThrowing("nonisolated \(access)enum \(name)") { (p) throws(GeneratorError) in
      try renderConstants(extensions, scope: scope, into: &p)
    }
  }

  private func renderConstants(
    _ extensions: [Google_Protobuf_FieldDescriptorProto], scope: String, into p: inout CodePrinter
  ) throws(GeneratorError) {
    for field in extensions {
      guard let extended = symbols.swiftName(forProtoName: field.extendee) else {
        throw GeneratorError("extension \(field.name) extends unknown message \(field.extendee)")
      }
      let codec = try codecType(field)
      let defaultValue = field.label == .repeated
        ? "[]" : try messageRenderer.defaultValue(field, kind: try messageRenderer.valueKind(field))
      let fullName = scope.isEmpty ? field.name : scope + "." + field.name
      p.line("/// `\(fullName)`, field \(field.number) of `\(String(field.extendee.dropFirst()))`.")
      p.line("\(access)static let \(Naming.escapedMember(Self.constantName(field))) = MessageExtension<\(codec), \(extended)>(")
      p.line("  fieldNumber: \(field.number), fullName: \(Naming.stringLiteral(fullName)), defaultValue: \(defaultValue))")
      p.line()
    }
  }

  /// Returns the `ExtensionFieldCodec` type of an extension field.
  func codecType(_ field: Google_Protobuf_FieldDescriptorProto) throws(GeneratorError) -> String {
    let isRepeated = field.label == .repeated
    switch try messageRenderer.valueKind(field) {
    case .message(let swiftName, let isGroup):
      let kind = isGroup ? "Group" : "Message"
      return (isRepeated ? "Repeated" : "Optional") + kind + "ExtensionField<\(swiftName)>"
    case .enumeration(let info):
      return wrap("ProtobufEnumType<\(info.swiftName)>", field: field, packable: true)
    case .scalar(let scalar):
      return wrap("Protobuf" + scalar.methodSuffix, field: field, packable: scalar.isPackable)
    }
  }

  private func wrap(_ scalarType: String, field: Google_Protobuf_FieldDescriptorProto, packable: Bool) -> String {
    guard field.label == .repeated else { return "OptionalExtensionField<\(scalarType)>" }
    let packed = packable && (field.options.hasPacked ? field.options.packed : isProto3)
    return (packed ? "PackedExtensionField" : "RepeatedExtensionField") + "<\(scalarType)>"
  }
}
