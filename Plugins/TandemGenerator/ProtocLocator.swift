import Foundation
import PackagePlugin

/// Finds the `protoc` executable: `protocPath` from the configuration, then `PROTOC_PATH`, then SwiftPM's
/// tool lookup and `PATH`.
enum ProtocLocator {
  static let environmentVariable = "PROTOC_PATH"
  static let installHint = "Install protoc (Debian and Ubuntu: `apt-get install protobuf-compiler`), "
    + "then put it on PATH, set PROTOC_PATH to its path, or set \"protocPath\" in "
    + GeneratorConfiguration.fileName + "."

  static func locate(
    for protoFile: URL,
    configuration located: LocatedConfiguration,
    context: PluginContext
  ) throws -> URL {
    let environment = ProcessInfo.processInfo.environment
    var steps: [String] = []

    // 1. The configuration file. An explicit path that does not work is an error, not a fallback.
    if let configured = located.configuration.protocPath, let file = located.file {
      let candidate = resolve(configured, against: file.deletingLastPathComponent())
      if isExecutableFile(candidate) {
        return candidate
      }
      steps.append("\"protocPath\" in \(file.path): \(candidate.path) \(problem(with: candidate))")
      steps.append("\(environmentVariable): not consulted because \"protocPath\" is set (value: \(describe(environment[environmentVariable])))")
      steps.append("PATH: not consulted because \"protocPath\" is set")
      throw notFound(protoFile, steps: steps)
    }
    if let file = located.file {
      steps.append("\"protocPath\" in \(file.path): not set")
    } else {
      steps.append("\"protocPath\": no \(GeneratorConfiguration.fileName) at or above \(protoFile.deletingLastPathComponent().path)")
    }

    // 2. The environment variable.
    if let value = environment[environmentVariable], !value.isEmpty {
      let candidate = URL(fileURLWithPath: value).standardizedFileURL
      if isExecutableFile(candidate) {
        return candidate
      }
      steps.append("\(environmentVariable)=\(value): \(problem(with: candidate))")
      steps.append("PATH: not consulted because \(environmentVariable) is set")
      throw notFound(protoFile, steps: steps)
    }
    steps.append("\(environmentVariable): \(describe(environment[environmentVariable]))")

    // 3. SwiftPM's tool lookup (tools of dependencies, the toolchain directory), then PATH. SwiftPM 6.3
    // does not search PATH in `tool(named:)`, so the plugin searches it itself.
    if let tool = try? context.tool(named: "protoc") {
      return tool.url
    }
    let path = environment["PATH"] ?? ""
    for directory in path.split(separator: ":") where !directory.isEmpty {
      let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("protoc")
      if isExecutableFile(candidate) {
        return candidate
      }
    }
    steps.append("PATH (\(path.isEmpty ? "unset" : path)): no executable named protoc")
    throw notFound(protoFile, steps: steps)
  }

  private static func notFound(_ protoFile: URL, steps: [String]) -> GeneratorError {
    var message = "protoc not found, so \(protoFile.path) cannot be compiled. Tried, in order:\n"
    for (index, step) in steps.enumerated() {
      message += "  \(index + 1). \(step)\n"
    }
    message += installHint
    return GeneratorError(message)
  }

  private static func describe(_ value: String?) -> String {
    guard let value else {
      return "unset"
    }
    return value.isEmpty ? "set but empty" : "\"\(value)\""
  }

  private static func isExecutableFile(_ url: URL) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
      && !isDirectory.boolValue
      && FileManager.default.isExecutableFile(atPath: url.path)
  }

  private static func problem(with url: URL) -> String {
    var isDirectory: ObjCBool = false
    if !FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) {
      return "does not exist"
    }
    return isDirectory.boolValue ? "is a directory" : "is not executable"
  }
}
