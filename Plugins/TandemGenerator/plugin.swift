import Foundation
import PackagePlugin

/// Generates Swift messages and service stubs from the `.proto` files of the target that uses it.
///
/// For every `.proto` file under the target's directory (searched recursively) the plugin adds one
/// build command that runs `protoc` with `protoc-gen-tandem` and produces one Swift file in the
/// plugin's work directory. The file is named from the proto's path relative to its import path,
/// with `/` turned into `__` and `_` into `_u` (`a/x.proto` becomes `a__x.tandem.swift`), so protos
/// that share a base name in different folders do not collide.
///
/// Settings come from the nearest `tandem-generator.json` (see `GeneratorConfiguration`). Without
/// one the defaults apply: internal access, messages and services generated, and the target's
/// directory as the import path.
///
/// `protoc` is looked up in this order, and the build fails with a message listing every step when
/// none yields an executable:
/// 1. `protocPath` in the configuration file (when set, it is the only candidate);
/// 2. the `PROTOC_PATH` environment variable (when set, it is the only remaining candidate);
/// 3. SwiftPM's tool lookup for `protoc`, then the directories of `PATH`.
@main
struct TandemGenerator: BuildToolPlugin {
  func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
    // `Target.directoryURL` needs tools version 6.1; the concrete target types have it in 6.0.
    let sourceTarget: any SourceModuleTarget
    let targetDirectory: URL
    if let swiftTarget = target as? SwiftSourceModuleTarget {
      sourceTarget = swiftTarget
      targetDirectory = swiftTarget.directoryURL.standardizedFileURL
    } else if let clangTarget = target as? ClangSourceModuleTarget {
      sourceTarget = clangTarget
      targetDirectory = clangTarget.directoryURL.standardizedFileURL
    } else {
      return []
    }
    let protoFiles = sourceTarget.sourceFiles(withSuffix: "proto")
      .map { $0.url.standardizedFileURL }
      .sorted { $0.path < $1.path }
    if protoFiles.isEmpty {
      return []
    }

    let generatorTool = try context.tool(named: "protoc-gen-tandem").url
    var configurations = ConfigurationCache(targetDirectory: targetDirectory)
    var commands: [Command] = []
    for protoFile in protoFiles {
      let located = try configurations.configuration(for: protoFile)
      let configuration = located.configuration
      if !configuration.generateMessages && !configuration.generateServices {
        continue
      }

      let protoc = try ProtocLocator.locate(for: protoFile, configuration: located, context: context)
      let importPaths = located.importPaths(targetDirectory: targetDirectory)
      guard let protoName = ProtoOutputNaming.protoName(of: protoFile, importPaths: importPaths) else {
        throw GeneratorError(
          "\(protoFile.path) is outside every import path (\(importPaths.map(\.path).joined(separator: ", "))); "
            + "add a directory that contains it to \"importPaths\" in \(GeneratorConfiguration.fileName)"
        )
      }

      let outputDirectory = context.pluginWorkDirectoryURL.appendingPathComponent("generated", isDirectory: true)
      let outputFile = outputDirectory.appendingPathComponent(ProtoOutputNaming.outputFileName(forProto: protoName))
      let options = [
        "Visibility=\(configuration.accessLevel.prefix(1).uppercased() + configuration.accessLevel.dropFirst())",
        "Messages=\(configuration.generateMessages)",
        "Services=\(configuration.generateServices)",
        "FileNaming=PathToUnderscores",
      ]
      var arguments = ["--plugin=protoc-gen-tandem=\(generatorTool.path)"]
      arguments += ["--tandem_out=\(outputDirectory.path)", "--tandem_opt=\(options.joined(separator: ","))"]
      arguments += importPaths.map { "--proto_path=\($0.path)" }
      arguments.append(protoFile.path)

      // Every proto of the target is an input: a change to an imported proto can change this output.
      var inputs = protoFiles
      inputs.append(generatorTool)
      if let configFile = located.file {
        inputs.append(configFile)
      }
      commands.append(
        .buildCommand(
          displayName: "Generating \(outputFile.lastPathComponent) from \(protoName)",
          executable: protoc,
          arguments: arguments,
          inputFiles: inputs,
          outputFiles: [outputFile]
        )
      )
    }
    return commands
  }
}

/// A configuration together with the file it came from.
struct LocatedConfiguration {
  var configuration: GeneratorConfiguration
  /// The `tandem-generator.json` file, or nil when the defaults apply.
  var file: URL?

  /// Returns the `--proto_path` directories in order: the configured ones (default: the config
  /// file's directory), then the target directory when it is not already listed.
  func importPaths(targetDirectory: URL) -> [URL] {
    var paths: [URL] = []
    if let file {
      let base = file.deletingLastPathComponent()
      if configuration.importPaths.isEmpty {
        paths.append(base)
      } else {
        paths += configuration.importPaths.map { resolve($0, against: base) }
      }
    }
    if !paths.contains(where: { $0.path == targetDirectory.path }) {
      paths.append(targetDirectory)
    }
    return paths
  }
}

/// Resolves `path` against `base` unless it is absolute, and removes `.` and `..` components.
func resolve(_ path: String, against base: URL) -> URL {
  if path.hasPrefix("/") {
    return URL(fileURLWithPath: path).standardizedFileURL
  }
  return base.appendingPathComponent(path).standardizedFileURL
}

/// Finds and parses the nearest configuration file for each proto, reading each file once.
struct ConfigurationCache {
  let targetDirectory: URL
  private var parsed: [String: GeneratorConfiguration] = [:]

  init(targetDirectory: URL) {
    self.targetDirectory = targetDirectory
  }

  mutating func configuration(for protoFile: URL) throws -> LocatedConfiguration {
    var directory = protoFile.deletingLastPathComponent().standardizedFileURL
    while true {
      let candidate = directory.appendingPathComponent(GeneratorConfiguration.fileName)
      if FileManager.default.fileExists(atPath: candidate.path) {
        return LocatedConfiguration(configuration: try load(candidate), file: candidate)
      }
      if directory.path == targetDirectory.path || directory.pathComponents.count <= targetDirectory.pathComponents.count {
        return LocatedConfiguration(configuration: .defaults, file: nil)
      }
      directory = directory.deletingLastPathComponent().standardizedFileURL
    }
  }

  private mutating func load(_ file: URL) throws -> GeneratorConfiguration {
    if let cached = parsed[file.path] {
      return cached
    }
    let data: Data
    do {
      data = try Data(contentsOf: file)
    } catch {
      throw GeneratorError("\(file.path): could not be read: \(error.localizedDescription)")
    }
    let configuration = try GeneratorConfiguration.parse(data, file: file.path)
    parsed[file.path] = configuration
    return configuration
  }
}
