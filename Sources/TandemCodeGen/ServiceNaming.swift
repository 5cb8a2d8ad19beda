/// Swift identifiers for the RPC methods of one service.
///
/// Every method gets one name that is used for its `Method` descriptor, its `Service` requirement and
/// its `Client` function, so the name must be valid in each of those positions:
///
/// - The base is the lowerCamelCase form of the proto name (``ServiceNaming/lowerCamelCase(_:)``).
///   `MethodModel.swiftName` is not used, because the names must be resolved together for the
///   whole service.
/// - When two or more methods of a service share a base (`Foo` and `foo` both become `foo`), each of
///   them keeps its proto spelling instead (`Foo` and `foo`). Proto method names are unique within a
///   service, so the spellings differ.
/// - `self`, `Self`, `Type` and `Protocol` get a trailing underscore (`self_`): `Method.Type` is the
///   metatype even with backticks, and a member named `self` shadows `self` inside the `Service`
///   extension and the `Client`.
/// - Swift keywords are wrapped in backticks, and ``ServiceMethodName/bare`` keeps the unescaped form.
/// - Any name still taken after these steps gets further underscores.
struct ServiceMethodName: Hashable, Sendable {
  /// The identifier without backticks, for example `init`.
  var bare: String
  /// The identifier as it must be written in declarations and after a dot, for example `` `init` ``.
  var escaped: String

  init(bare: String) {
    self.bare = bare
    self.escaped = ServiceNaming.swiftKeywords.contains(bare) ? "`\(bare)`" : bare
  }
}

enum ServiceNaming {
  /// Resolves the Swift names of `methods`, in the same order.
  static func methodNames(for methods: [MethodModel]) -> [ServiceMethodName] {
    let bases = methods.map { baseName(for: $0) }
    var baseCounts: [String: Int] = [:]
    for base in bases {
      baseCounts[base, default: 0] += 1
    }

    var names: [ServiceMethodName] = []
    names.reserveCapacity(methods.count)
    var used: Set<String> = []
    for (method, base) in zip(methods, bases) {
      let chosen = baseCounts[base, default: 0] > 1 ? sanitizedIdentifier(method.protoName) : base
      var bare = avoidingReservedMembers(chosen)
      // Only reachable through the underscore appended above, for example `Type`, `type` and `Type_`.
      while used.contains(bare) {
        bare += "_"
      }
      used.insert(bare)
      names.append(ServiceMethodName(bare: bare))
    }
    return names
  }

  /// Converts a proto method name to lowerCamelCase with the casing rules used for fields
  /// (`get_http_status` becomes `getHTTPStatus`), and lowers a leading acronym as one word
  /// (`HTTPGet` becomes `httpGet`, `URL` becomes `url`).
  static func lowerCamelCase(_ protoName: String) -> String {
    let name = Naming.lowerCamelCase(protoName)
    guard name.count > 1, let second = name.dropFirst().first, second.isUppercase else {
      return name
    }
    return lowercasingLeadingCapitals(name.prefix(1).uppercased() + name.dropFirst())
  }

  /// Returns the generic parameter name for `onResponse` results: `Result`, or `Result` with
  /// underscores appended while a message type of the service uses that name.
  static func resultTypeName(for service: ServiceModel) -> String {
    let used = Set(service.methods.flatMap { [$0.inputSwiftType, $0.outputSwiftType] })
    var name = "Result"
    while used.contains(name) {
      name += "_"
    }
    return name
  }

  private static func baseName(for method: MethodModel) -> String {
    sanitizedIdentifier(lowerCamelCase(method.protoName))
  }

  /// Keeps ASCII letters, digits and underscores, and prefixes `_` when the result would start with a
  /// digit. Proto identifiers already satisfy this, so the check only guards against unexpected input.
  private static func sanitizedIdentifier(_ name: String) -> String {
    var scalars = String.UnicodeScalarView()
    for scalar in name.unicodeScalars where scalar.isASCII {
      let value = scalar.value
      let isLetter = (0x41...0x5A).contains(value) || (0x61...0x7A).contains(value)
      let isDigit = (0x30...0x39).contains(value)
      if isLetter || isDigit || scalar == "_" {
        scalars.append(scalar)
      }
    }
    var result = String(scalars)
    if result.isEmpty || result.allSatisfy({ $0 == "_" }) {
      return "method"
    }
    if let first = result.first, first.isNumber {
      result = "_" + result
    }
    return result
  }

  private static func avoidingReservedMembers(_ name: String) -> String {
    reservedMemberNames.contains(name) ? name + "_" : name
  }

  private static func lowercasingLeadingCapitals(_ word: String) -> String {
    let characters = Array(word)
    var capitals = 0
    while capitals < characters.count, characters[capitals].isUppercase {
      capitals += 1
    }
    if capitals == 0 {
      return word
    }
    // In `HTTPGet` the `G` starts the next word, so only `HTTP` is lowered.
    let lowered = capitals > 1 && capitals < characters.count && characters[capitals].isLowercase
      ? capitals - 1
      : capitals
    return String(characters[..<lowered]).lowercased() + String(characters[lowered...])
  }

  /// Names that are unusable as generated members even with backticks.
  private static let reservedMemberNames: Set<String> = ["self", "Self", "Type", "Protocol"]

  /// Words that need backticks to be used as a function or property name. Escaping a word that does
  /// not need it is harmless, so contextual keywords that are reserved in some positions are listed too.
  static let swiftKeywords: Set<String> = [
    // Declarations.
    "associatedtype", "borrowing", "class", "consuming", "deinit", "enum", "extension", "fileprivate",
    "func", "import", "init", "inout", "internal", "let", "nonisolated", "open", "operator", "package",
    "private", "precedencegroup", "protocol", "public", "rethrows", "static", "struct", "subscript",
    "typealias", "var",
    // Statements.
    "break", "case", "catch", "continue", "default", "defer", "do", "else", "fallthrough", "for",
    "guard", "if", "in", "repeat", "return", "switch", "throw", "where", "while",
    // Expressions and types.
    "Any", "as", "async", "await", "false", "is", "nil", "self", "Self", "super", "throws", "true",
    "try", "_",
    // Context-sensitive words that the parser treats specially in some positions.
    "actor", "any", "each", "some", "consume", "copy", "discard", "then", "yield",
  ]
}
