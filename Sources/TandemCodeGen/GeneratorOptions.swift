/// Options of `protoc-gen-tandem`, parsed from the comma-separated `key=value` list that protoc passes
/// as the plugin parameter (`--tandem_opt=Visibility=Public,Services=false`).
public struct GeneratorOptions: Sendable, Hashable {
  /// Access level of the generated declarations.
  public enum Visibility: String, Sendable, Hashable {
    case `internal` = "Internal"
    case `public` = "Public"
    case `package` = "Package"

    /// The Swift keyword.
    public var keyword: String {
      switch self {
      case .internal: "internal"
      case .public: "public"
      case .package: "package"
      }
    }
  }

  /// How output files are named after their `.proto` file.
  public enum FileNaming: String, Sendable, Hashable {
    /// `foo/bar.proto` -> `foo/bar.tandem.swift`.
    case fullPath = "FullPath"
    /// `foo/bar_baz.proto` -> `foo__bar_ubaz.tandem.swift`: every `/` becomes `__` and every `_`
    /// becomes `_u`. Each `_` in the output starts a two-character escape, so distinct paths always
    /// give distinct names (`foo_bar/baz.proto` -> `foo_ubar__baz.tandem.swift`).
    case pathToUnderscores = "PathToUnderscores"
  }

  /// Default `.internal`.
  public var visibility: Visibility = .internal
  /// Generate message and enum types. Default `true`.
  public var generateMessages = true
  /// Generate service stubs. Default `true`.
  public var generateServices = true
  /// Default `.fullPath`.
  public var fileNaming: FileNaming = .fullPath
  /// Path of a module-mappings file in swift-protobuf's text format (`mapping { module_name: "M"
  /// proto_file_path: "a/b.proto" }`). Its entries are added to ``moduleMappings`` when the
  /// generator starts. Relative paths are relative to protoc's working directory.
  public var protoPathModuleMappings: String?
  /// Swift module of each imported `.proto` path (as protoc names it, for example `a/b.proto`) that
  /// another module generates. Generated code imports that module and refers to its types as
  /// `Module.Type`. Set with one `ModuleMapping=Module:a/b.proto` parameter entry per file, or
  /// through ``protoPathModuleMappings``. Default: empty.
  public var moduleMappings: [String: String] = [:]

  public init() {}

  /// Parses a plugin parameter string; an empty string gives the defaults.
  ///
  /// - Throws: ``GeneratorError`` naming an unknown key, a value that is not allowed for its key, or
  ///   an entry without `=`.
  public init(parameter: String) throws(GeneratorError) {
    for entry in parameter.split(separator: ",") {
      let trimmed = entry.trimmingSpaces()
      if trimmed.isEmpty { continue }
      guard let equals = trimmed.firstIndex(of: "=") else {
        throw GeneratorError("invalid plugin parameter '\(trimmed)': expected key=value")
      }
      let key = String(trimmed[..<equals]).trimmingSpaces()
      let value = String(trimmed[trimmed.index(after: equals)...]).trimmingSpaces()
      switch key {
      case "Visibility":
        guard let parsed = Visibility(rawValue: value) else {
          throw GeneratorError("invalid value '\(value)' for Visibility: expected Internal, Public or Package")
        }
        visibility = parsed
      case "Messages":
        generateMessages = try Self.parseBool(value, key: key)
      case "Services":
        generateServices = try Self.parseBool(value, key: key)
      case "FileNaming":
        guard let parsed = FileNaming(rawValue: value) else {
          throw GeneratorError("invalid value '\(value)' for FileNaming: expected FullPath or PathToUnderscores")
        }
        fileNaming = parsed
      case "ProtoPathModuleMappings":
        protoPathModuleMappings = value
      case "ModuleMapping":
        guard let colon = value.firstIndex(of: ":"), colon != value.startIndex, value.index(after: colon) != value.endIndex
        else {
          throw GeneratorError("invalid value '\(value)' for ModuleMapping: expected Module:path/to/file.proto")
        }
        try addModuleMapping(module: String(value[..<colon]), protoPath: String(value[value.index(after: colon)...]))
      default:
        throw GeneratorError(
          "unknown plugin parameter '\(key)': expected Visibility, Messages, Services, FileNaming, "
            + "ProtoPathModuleMappings or ModuleMapping"
        )
      }
    }
  }

  /// Records that `module` generates `protoPath`.
  ///
  /// - Throws: ``GeneratorError`` when `module` is not a Swift identifier or `protoPath` is already
  ///   mapped to a different module.
  public mutating func addModuleMapping(module: String, protoPath: String) throws(GeneratorError) {
    guard Naming.isIdentifier(module) else {
      throw GeneratorError("invalid module name '\(module)' for \(protoPath): expected a Swift identifier")
    }
    if let existing = moduleMappings[protoPath], existing != module {
      throw GeneratorError("\(protoPath) is mapped to two modules, \(existing) and \(module)")
    }
    moduleMappings[protoPath] = module
  }

  static func parseBool(_ value: String, key: String) throws(GeneratorError) -> Bool {
    switch value.lowercased() {
    case "true": return true
    case "false": return false
    default: throw GeneratorError("invalid value '\(value)' for \(key): expected true or false")
    }
  }

  /// Output file name for a `.proto` path.
  public func outputFileName(forProto path: String) -> String {
    var base = path
    if base.hasSuffix(".proto") { base.removeLast(".proto".count) }
    switch fileNaming {
    case .fullPath:
      return base + ".tandem.swift"
    case .pathToUnderscores:
      var escaped = ""
      for character in base {
        switch character {
        case "/": escaped += "__"
        case "_": escaped += "_u"
        default: escaped.append(character)
        }
      }
      return escaped + ".tandem.swift"
    }
  }
}

/// A generation failure reported to protoc, which prints it and fails the build.
public struct GeneratorError: Error, Sendable, Hashable, CustomStringConvertible {
  public var message: String

  public init(_ message: String) {
    self.message = message
  }

  public var description: String { message }
}

extension StringProtocol {
  func trimmingSpaces() -> String {
    var text = Substring(self)
    while let first = text.first, first.isWhitespace { text.removeFirst() }
    while let last = text.last, last.isWhitespace { text.removeLast() }
    return String(text)
  }
}
