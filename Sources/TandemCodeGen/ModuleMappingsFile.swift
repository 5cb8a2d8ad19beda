import Foundation

/// Parser for module-mappings files in the protobuf text format that swift-protobuf's
/// `ProtoPathModuleMappings` option reads:
///
/// ```
/// mapping {
///   module_name: "OtherModule"
///   proto_file_path: "other/types.proto"
///   proto_file_path: "other/more.proto"
/// }
/// ```
///
/// `#` starts a comment that runs to the end of the line; strings take double or single quotes.
public enum ModuleMappingsFile {
  /// Returns the mappings in `text` as proto path to module name.
  ///
  /// - Throws: ``GeneratorError`` naming the line of a syntax error, an unknown field, a `mapping`
  ///   without `module_name`, or a proto path mapped to two modules.
  public static func parse(_ text: String) throws(GeneratorError) -> [String: String] {
    var tokens = try tokenize(text)
    tokens.reverse()
    var options = GeneratorOptions()

    func next() -> Token? { tokens.popLast() }
    func expect(_ kind: Token.Kind, _ what: String) throws(GeneratorError) -> Token {
      guard let token = next() else {
        throw GeneratorError("module mappings: input ends where \(what) is expected")
      }
      guard token.kind == kind else {
        throw GeneratorError("module mappings line \(token.line): expected \(what), found '\(token.text)'")
      }
      return token
    }

    while let token = next() {
      guard token.kind == .identifier, token.text == "mapping" else {
        throw GeneratorError("module mappings line \(token.line): expected 'mapping', found '\(token.text)'")
      }
      var open = try expect(.symbol, "'{' after 'mapping'")
      if open.text == ":" { open = try expect(.symbol, "'{' after 'mapping:'") }
      guard open.text == "{" else {
        throw GeneratorError("module mappings line \(open.line): expected '{' after 'mapping'")
      }
      var module: String?
      var paths: [String] = []
      while true {
        guard let field = next() else {
          throw GeneratorError("module mappings: missing '}' for the mapping that starts on line \(token.line)")
        }
        if field.kind == .symbol && field.text == "}" { break }
        guard field.kind == .identifier else {
          throw GeneratorError("module mappings line \(field.line): expected a field name, found '\(field.text)'")
        }
        let colon = try expect(.symbol, "':' after \(field.text)")
        guard colon.text == ":" else {
          throw GeneratorError("module mappings line \(colon.line): expected ':' after \(field.text)")
        }
        let value = try expect(.string, "a quoted string for \(field.text)")
        switch field.text {
        case "module_name": module = value.text
        case "proto_file_path": paths.append(value.text)
        default:
          throw GeneratorError(
            "module mappings line \(field.line): unknown field '\(field.text)'; expected module_name or proto_file_path")
        }
      }
      guard let module else {
        throw GeneratorError("module mappings line \(token.line): mapping has no module_name")
      }
      guard Naming.isIdentifier(module) else {
        throw GeneratorError("invalid module name '\(module)' on module mappings line \(token.line): expected a Swift identifier")
      }
      for path in paths {
        try options.addModuleMapping(module: module, protoPath: path)
      }
    }
    return options.moduleMappings
  }

  /// Returns the contents of the mappings file at `path`.
  ///
  /// - Throws: ``GeneratorError`` naming the path when the file cannot be read as UTF-8.
  static func readFile(_ path: String) throws(GeneratorError) -> String {
    do {
      return try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      throw GeneratorError("cannot read ProtoPathModuleMappings file \(path): \(error.localizedDescription)")
    }
  }

  struct Token {
    enum Kind { case identifier, string, symbol }
    var kind: Kind
    var text: String
    var line: Int
  }

  static func tokenize(_ text: String) throws(GeneratorError) -> [Token] {
    var tokens: [Token] = []
    var line = 1
    var index = text.startIndex
    while index < text.endIndex {
      let character = text[index]
      if character == "\n" {
        line += 1
        index = text.index(after: index)
      } else if character.isWhitespace || character == ";" || character == "," {
        index = text.index(after: index)
      } else if character == "#" {
        while index < text.endIndex && text[index] != "\n" { index = text.index(after: index) }
      } else if character == "{" || character == "}" || character == ":" {
        tokens.append(Token(kind: .symbol, text: String(character), line: line))
        index = text.index(after: index)
      } else if character == "\"" || character == "'" {
        var value = ""
        index = text.index(after: index)
        while true {
          guard index < text.endIndex, text[index] != "\n" else {
            throw GeneratorError("module mappings line \(line): unterminated string")
          }
          let current = text[index]
          index = text.index(after: index)
          if current == character { break }
          if current == "\\", index < text.endIndex {
            value.append(text[index])
            index = text.index(after: index)
          } else {
            value.append(current)
          }
        }
        tokens.append(Token(kind: .string, text: value, line: line))
      } else if character.isLetter || character == "_" {
        var value = ""
        while index < text.endIndex, text[index].isLetter || text[index].isNumber || text[index] == "_" {
          value.append(text[index])
          index = text.index(after: index)
        }
        tokens.append(Token(kind: .identifier, text: value, line: line))
      } else {
        throw GeneratorError("module mappings line \(line): unexpected character '\(character)'")
      }
    }
    return tokens
  }
}
