/// Every message and enum of a `CodeGeneratorRequest` with its resolved Swift name, plus the facts
/// that generation needs across files: map entries, closed enums, enum case names and the message
/// fields that close a reference cycle.
final class SymbolTable {
  struct MessageInfo {
    var descriptor: Google_Protobuf_DescriptorProto
    /// Fully qualified proto name without the leading dot.
    var fullName: String
    /// Swift type name, dotted for nested types.
    var swiftName: String
    var isProto3: Bool
    var isMapEntry: Bool { descriptor.options.mapEntry }
    /// Source path of the message in its file's SourceCodeInfo.
    var sourcePath: [Int32]
  }

  struct EnumCase {
    var protoName: String
    var number: Int32
    /// Case name without backticks.
    var name: String
    /// `true` when an earlier value has the same number, so this name is a static alias.
    var isAlias: Bool
    var index: Int

    var escaped: String { Naming.escapedMember(name) }
  }

  struct EnumInfo {
    var descriptor: Google_Protobuf_EnumDescriptorProto
    var fullName: String
    var swiftName: String
    /// proto2 enums are closed: unknown numbers go to unknown fields instead of an `UNRECOGNIZED` case.
    var isClosed: Bool
    var cases: [EnumCase]
    var sourcePath: [Int32]

    func caseName(forProtoName protoName: String) -> String? {
      cases.first { $0.protoName == protoName }?.escaped
    }

    /// The first value is the default of a field of this type.
    var defaultCase: EnumCase? { cases.first }
  }

  private(set) var messages: [String: MessageInfo] = [:]
  private(set) var enums: [String: EnumInfo] = [:]
  /// Keys `"<message full name>#<field number>"` of singular message fields whose type can reach the
  /// containing message again; generated code keeps those fields in a heap box.
  private(set) var cyclicFields: Set<String> = []
  /// Messages that have a required field or an extension range, or reach such a message through
  /// their fields. Generated code gives them an `isInitialized` that checks those fields.
  private(set) var messagesNeedingInitializationCheck: Set<String> = []
  /// Swift module of each proto file that another module generated, from the module mappings.
  private(set) var moduleOfFile: [String: String] = [:]

  /// Indexes `files`. Types of a file listed in `moduleMappings` (proto path to Swift module) get
  /// that module as a qualifier, so generated code refers to them as `Module.Type`.
  init(files: [Google_Protobuf_FileDescriptorProto], moduleMappings: [String: String] = [:]) {
    for file in files {
      let module = moduleMappings[file.name]
      if let module { moduleOfFile[file.name] = module }
      let qualifier = module.map { $0 + "." } ?? ""
      let prefix = Naming.filePrefix(file)
      let isProto3 = file.syntax == "proto3"
      let packagePrefix = file.package.isEmpty ? "" : file.package + "."
      for (index, message) in file.messageType.enumerated() {
        let swiftName = qualifier + Naming.safeTypeName(prefix + message.name, suffix: "Message")
        addMessage(message, fullName: packagePrefix + message.name, swiftName: swiftName, isProto3: isProto3,
                   sourcePath: [4, Int32(index)])
      }
      for (index, enumType) in file.enumType.enumerated() {
        let swiftName = qualifier + Naming.safeTypeName(prefix + enumType.name, suffix: "Enum")
        addEnum(enumType, fullName: packagePrefix + enumType.name, swiftName: swiftName, isClosed: !isProto3,
                sourcePath: [5, Int32(index)])
      }
    }
    findCycles()
    findInitializationChecks()
  }

  private func addMessage(
    _ message: Google_Protobuf_DescriptorProto, fullName: String, swiftName: String, isProto3: Bool,
    sourcePath: [Int32]
  ) {
    messages[fullName] = MessageInfo(
      descriptor: message, fullName: fullName, swiftName: swiftName, isProto3: isProto3, sourcePath: sourcePath)
    for (index, nested) in message.nestedType.enumerated() {
      let nestedName = Naming.safeTypeName(nested.name, suffix: "Message")
      addMessage(nested, fullName: fullName + "." + nested.name, swiftName: swiftName + "." + nestedName,
                 isProto3: isProto3, sourcePath: sourcePath + [3, Int32(index)])
    }
    for (index, enumType) in message.enumType.enumerated() {
      let nestedName = Naming.safeTypeName(enumType.name, suffix: "Enum")
      addEnum(enumType, fullName: fullName + "." + enumType.name, swiftName: swiftName + "." + nestedName,
              isClosed: !isProto3, sourcePath: sourcePath + [4, Int32(index)])
    }
  }

  private func addEnum(
    _ enumType: Google_Protobuf_EnumDescriptorProto, fullName: String, swiftName: String, isClosed: Bool,
    sourcePath: [Int32]
  ) {
    enums[fullName] = EnumInfo(
      descriptor: enumType, fullName: fullName, swiftName: swiftName, isClosed: isClosed,
      cases: Self.enumCases(enumType), sourcePath: sourcePath)
  }

  /// Case names for an enum: values lowerCamelCased, with the enum's name stripped as a prefix when
  /// every stripped name stays valid and unique (`COLOR_RED` in `Color` -> `red`).
  static func enumCases(_ enumType: Google_Protobuf_EnumDescriptorProto) -> [EnumCase] {
    let prefix = Naming.squashedUpper(enumType.name)
    var stripped: [String] = []
    var canStrip = true
    for value in enumType.value {
      guard let rest = stripPrefix(prefix, from: value.name) else {
        canStrip = false
        break
      }
      stripped.append(Naming.lowerCamelCase(rest))
    }
    if canStrip && Set(stripped).count != stripped.count { canStrip = false }

    var cases: [EnumCase] = []
    var used: Set<String> = []
    var seenNumbers: Set<Int32> = []
    for (index, value) in enumType.value.enumerated() {
      var name = canStrip ? stripped[index] : Naming.lowerCamelCase(value.name)
      if let first = name.first, first.isNumber { name = "_" + name }
      if Naming.reservedCaseNames.contains(name) { name += "_" }
      while used.contains(name) { name += "_\(value.number < 0 ? "n\(-Int(value.number))" : "\(value.number)")" }
      used.insert(name)
      let isAlias = !seenNumbers.insert(value.number).inserted
      cases.append(EnumCase(protoName: value.name, number: value.number, name: name, isAlias: isAlias, index: index))
    }
    return cases
  }

  /// Removes `prefix` (upper case without underscores) from `name` ignoring case and underscores;
  /// returns nil when `name` does not start with it or nothing usable is left.
  static func stripPrefix(_ prefix: String, from name: String) -> String? {
    var remaining = Substring(name)
    for expected in prefix {
      while remaining.first == "_" { remaining.removeFirst() }
      guard let next = remaining.first, next.uppercased() == String(expected) else { return nil }
      remaining.removeFirst()
    }
    while remaining.first == "_" { remaining.removeFirst() }
    guard let first = remaining.first, !first.isNumber else { return nil }
    return String(remaining)
  }

  /// Swift type name for a fully qualified proto name, with or without the leading dot.
  func swiftName(forProtoName protoName: String) -> String? {
    let key = protoName.hasPrefix(".") ? String(protoName.dropFirst()) : protoName
    return messages[key]?.swiftName ?? enums[key]?.swiftName
  }

  /// `true` when a top-level message or enum has the Swift name `swiftName`.
  func isTypeName(_ swiftName: String) -> Bool {
    messages.values.contains { $0.swiftName == swiftName } || enums.values.contains { $0.swiftName == swiftName }
  }

  func message(_ protoName: String) -> MessageInfo? {
    messages[protoName.hasPrefix(".") ? String(protoName.dropFirst()) : protoName]
  }

  func enumInfo(_ protoName: String) -> EnumInfo? {
    enums[protoName.hasPrefix(".") ? String(protoName.dropFirst()) : protoName]
  }

  static func isSingularMessageField(_ field: Google_Protobuf_FieldDescriptorProto) -> Bool {
    field.label != .repeated && (field.type == .message || field.type == .group)
  }

  /// Marks singular message fields whose type reaches the containing message through singular
  /// message fields. Repeated fields and maps store elements in heap buffers and break no cycle.
  private func findCycles() {
    var edges: [String: [String]] = [:]
    for (name, info) in messages {
      edges[name] = info.descriptor.field.filter(Self.isSingularMessageField).map { String($0.typeName.dropFirst()) }
    }
    for (name, info) in messages {
      for field in info.descriptor.field where Self.isSingularMessageField(field) {
        let target = String(field.typeName.dropFirst())
        if Self.reaches(from: target, to: name, edges: edges) {
          cyclicFields.insert("\(name)#\(field.number)")
        }
      }
    }
  }

  private static func reaches(from start: String, to goal: String, edges: [String: [String]]) -> Bool {
    var visited: Set<String> = []
    var stack = [start]
    while let node = stack.popLast() {
      if node == goal { return true }
      if !visited.insert(node).inserted { continue }
      stack.append(contentsOf: edges[node] ?? [])
    }
    return false
  }

  /// Marks messages with a required field or an extension range, then every message that reaches
  /// one of them through a field of any cardinality (map entries are messages here too).
  private func findInitializationChecks() {
    var marked: Set<String> = []
    for (name, info) in messages
    where !info.descriptor.extensionRange.isEmpty || info.descriptor.field.contains(where: { $0.label == .required }) {
      marked.insert(name)
    }
    var changed = true
    while changed {
      changed = false
      for (name, info) in messages where !marked.contains(name) {
        let reachesMarked = info.descriptor.field.contains { field in
          (field.type == .message || field.type == .group) && marked.contains(String(field.typeName.dropFirst()))
        }
        if reachesMarked {
          marked.insert(name)
          changed = true
        }
      }
    }
    messagesNeedingInitializationCheck = marked
  }

  func needsInitializationCheck(_ protoName: String) -> Bool {
    messagesNeedingInitializationCheck.contains(protoName.hasPrefix(".") ? String(protoName.dropFirst()) : protoName)
  }

  func isCyclic(message: String, fieldNumber: Int32) -> Bool {
    cyclicFields.contains("\(message)#\(fieldNumber)")
  }
}
