import Foundation

/// The settings in a `tandem-generator.json` file.
///
/// Each `.proto` file uses the nearest `tandem-generator.json` in its own directory or a parent
/// directory, up to the target's directory. A proto without such a file uses ``defaults``.
///
/// ```json
/// {
///   "accessLevel": "public",
///   "generate": { "messages": true, "services": true },
///   "importPaths": ["."],
///   "protocPath": "/usr/bin/protoc",
///   "moduleMappings": { "SharedProtos": ["shared/types.proto"] }
/// }
/// ```
///
/// | key | type | default |
/// |---|---|---|
/// | `accessLevel` | `"internal"`, `"public"` or `"package"` | `"internal"` |
/// | `generate.messages` | Bool: generate message and enum types | `true` |
/// | `generate.services` | Bool: generate service descriptors, protocols and clients | `true` |
/// | `importPaths` | [String], each relative to the config file's directory unless absolute | the config file's directory |
/// | `protocPath` | String, relative to the config file's directory unless absolute | unset: `PROTOC_PATH`, then `PATH` |
/// | `moduleMappings` | Object: Swift module name to the proto paths (as imported) that module generates | empty |
///
/// Every key is optional. An unknown key, a value of the wrong type or an invalid `accessLevel` is an
/// error that names the key and the file. Generated code imports each mapped module and refers to
/// its types as `Module.Type`. The target must depend on that module, and its types must be `public`. With both `generate` flags false the plugin skips the protos
/// that use the file. The target's directory is always added as the last import path.
///
/// NOTE: SwiftPM 6.3 runs build tool plugins again only when the package manifest or a target's file
/// list changes, so after editing this file run `touch Package.swift` (or `swift package clean`)
/// before building. Until then the build reuses the protoc arguments of the previous plugin run.
struct GeneratorConfiguration: Equatable {
  /// Name of the configuration file the plugin looks for.
  static let fileName = "tandem-generator.json"

  /// Access modifier for the generated declarations: `internal`, `public` or `package`.
  var accessLevel = "internal"
  /// Whether message and enum types are generated.
  var generateMessages = true
  /// Whether service namespaces (descriptors, `Service` protocols, `Client` structs) are generated.
  var generateServices = true
  /// Import paths as written in the file. Empty means the default.
  var importPaths: [String] = []
  /// `protocPath` as written in the file, if present.
  var protocPath: String?
  /// Swift module name to the proto paths that module generates.
  var moduleMappings: [String: [String]] = [:]

  /// The settings used for a proto without a configuration file.
  static let defaults = GeneratorConfiguration()

  static let accessLevels = ["internal", "public", "package"]
  private static let topLevelKeys = ["accessLevel", "generate", "importPaths", "protocPath", "moduleMappings"]
  private static let generateKeys = ["messages", "services"]

  /// Parses the JSON in `data`. Error messages name `file`.
  static func parse(_ data: Data, file: String) throws(GeneratorError) -> GeneratorConfiguration {
    // JSONSerialization reports where the syntax error is; JSONDecoder keeps booleans apart from numbers.
    do {
      _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    } catch {
      throw GeneratorError("\(file): invalid JSON: \(describe(error))")
    }
    let root: JSONValue
    do {
      root = try JSONDecoder().decode(JSONValue.self, from: data)
    } catch {
      throw GeneratorError("\(file): invalid JSON: \(describe(error))")
    }
    guard case .object(let object) = root else {
      throw GeneratorError("\(file): expected a JSON object at the top level, found \(root.kind)")
    }

    var configuration = GeneratorConfiguration()
    for key in object.keys.sorted() where !topLevelKeys.contains(key) {
      throw GeneratorError(
        "\(file): unknown key \"\(key)\"; valid keys are \(topLevelKeys.map { "\"\($0)\"" }.joined(separator: ", "))"
      )
    }

    if let value = object["accessLevel"] {
      guard case .string(let level) = value else {
        throw typeMismatch(key: "accessLevel", expected: "a string", found: value, file: file)
      }
      guard accessLevels.contains(level) else {
        throw GeneratorError(
          "\(file): invalid \"accessLevel\" \"\(level)\"; expected \"internal\", \"public\" or \"package\""
        )
      }
      configuration.accessLevel = level
    }

    if let value = object["generate"] {
      guard case .object(let generate) = value else {
        throw typeMismatch(key: "generate", expected: "an object", found: value, file: file)
      }
      for key in generate.keys.sorted() where !generateKeys.contains(key) {
        throw GeneratorError(
          "\(file): unknown key \"generate.\(key)\"; valid keys are \"generate.messages\", \"generate.services\""
        )
      }
      configuration.generateMessages = try bool(generate["messages"], key: "generate.messages", file: file) ?? true
      configuration.generateServices = try bool(generate["services"], key: "generate.services", file: file) ?? true
    }

    if let value = object["importPaths"] {
      guard case .array(let elements) = value else {
        throw typeMismatch(key: "importPaths", expected: "an array of strings", found: value, file: file)
      }
      configuration.importPaths = try elements.map { (element) throws(GeneratorError) -> String in
        guard case .string(let path) = element, !path.isEmpty else {
          throw typeMismatch(key: "importPaths", expected: "an array of non-empty strings", found: element, file: file)
        }
        return path
      }
    }

    if let value = object["protocPath"] {
      guard case .string(let path) = value, !path.isEmpty else {
        throw typeMismatch(key: "protocPath", expected: "a non-empty string", found: value, file: file)
      }
      configuration.protocPath = path
    }

    if let value = object["moduleMappings"] {
      guard case .object(let mappings) = value else {
        throw typeMismatch(key: "moduleMappings", expected: "an object of module names to arrays of strings", found: value, file: file)
      }
      for module in mappings.keys.sorted() {
        let key = "moduleMappings.\(module)"
        guard module.first.map({ $0 == "_" || $0.isLetter }) == true, module.allSatisfy({ $0 == "_" || $0.isLetter || $0.isNumber })
        else {
          throw GeneratorError("\(file): invalid module name \"\(module)\" in \"moduleMappings\"; expected a Swift identifier")
        }
        guard case .array(let elements) = mappings[module]! else {
          throw typeMismatch(key: key, expected: "an array of proto paths", found: mappings[module]!, file: file)
        }
        configuration.moduleMappings[module] = try elements.map { (element) throws(GeneratorError) -> String in
          guard case .string(let path) = element, !path.isEmpty, !path.contains(",") else {
            throw typeMismatch(key: key, expected: "an array of non-empty proto paths without commas", found: element, file: file)
          }
          return path
        }
      }
    }
    return configuration
  }

  private static func bool(_ value: JSONValue?, key: String, file: String) throws(GeneratorError) -> Bool? {
    guard let value else {
      return nil
    }
    guard case .bool(let flag) = value else {
      throw typeMismatch(key: key, expected: "true or false", found: value, file: file)
    }
    return flag
  }

  private static func typeMismatch(key: String, expected: String, found: JSONValue, file: String) -> GeneratorError {
    GeneratorError("\(file): \"\(key)\" must be \(expected), found \(found.kind)")
  }

  /// Describes a JSON parse failure, with Foundation's position details when present.
  private static func describe(_ error: any Error) -> String {
    if case DecodingError.dataCorrupted(let context) = error {
      return context.underlyingError.map(describe) ?? context.debugDescription
    }
    let nsError = error as NSError
    return nsError.userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
  }
}

/// A parsed JSON value that keeps booleans apart from numbers, so `"messages": 1` is rejected.
enum JSONValue: Decodable, Equatable {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let flag = try? container.decode(Bool.self) {
      self = .bool(flag)
    } else if let number = try? container.decode(Double.self) {
      self = .number(number)
    } else if let text = try? container.decode(String.self) {
      self = .string(text)
    } else if let elements = try? container.decode([JSONValue].self) {
      self = .array(elements)
    } else {
      self = .object(try container.decode([String: JSONValue].self))
    }
  }

  /// The JSON type name, for error messages.
  var kind: String {
    switch self {
    case .null: return "null"
    case .bool: return "a boolean"
    case .number: return "a number"
    case .string: return "a string"
    case .array: return "an array"
    case .object: return "an object"
    }
  }
}

/// A build failure with a message for the user, which SwiftPM prints as the plugin error.
struct GeneratorError: Error, CustomStringConvertible {
  let description: String

  init(_ description: String) {
    self.description = description
  }
}
