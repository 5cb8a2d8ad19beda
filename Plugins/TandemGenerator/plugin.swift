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
      let arguments = ProtocInvocation.arguments(
        generator: generatorTool, outputDirectory: outputDirectory, configuration: configuration,
        importPaths: importPaths, protoFile: protoFile)

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
