import Foundation

/// Output file names of the build commands.
///
/// This must match `GeneratorOptions.outputFileName(forProto:)` in TandemCodeGen with
/// `FileNaming=PathToUnderscores`, because the plugin declares each command's output before
/// protoc-gen-tandem writes it. A plugin cannot import a library target, so the rule is repeated
/// here. A test in TandemCodeGenTests compiles this file and compares both for a table of paths.
enum ProtoOutputNaming {
  /// `foo/bar_baz.proto` becomes `foo__bar_ubaz.tandem.swift`: each `/` becomes `__` and each `_`
  /// becomes `_u`, so distinct paths always give distinct names.
  static func outputFileName(forProto protoName: String) -> String {
    var base = protoName
    if base.hasSuffix(".proto") {
      base.removeLast(".proto".count)
    }
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

  /// Returns the name protoc gives `file`: its path relative to the first import path that contains
  /// it, or nil when no import path contains it.
  static func protoName(of file: URL, importPaths: [URL]) -> String? {
    let fileComponents = file.standardizedFileURL.pathComponents
    for directory in importPaths {
      let directoryComponents = directory.standardizedFileURL.pathComponents
      if fileComponents.count > directoryComponents.count
        && Array(fileComponents.prefix(directoryComponents.count)) == directoryComponents
      {
        return fileComponents.dropFirst(directoryComponents.count).joined(separator: "/")
      }
    }
    return nil
  }
}
