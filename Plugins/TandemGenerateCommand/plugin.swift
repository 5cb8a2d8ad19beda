import Foundation
import PackagePlugin

/// Writes the Swift files generated from each target's `.proto` files into the target's source tree,
/// for libraries that check generated code in instead of applying the TandemGenerator build plugin:
///
/// ```
/// swift package --allow-writing-to-package-directory generate-protos [--target Name ...]
/// ```
///
/// Without `--target` every Swift target with `.proto` files is processed. Each proto becomes
/// `<target>/Generated/<name>.tandem.swift`, named as the build plugin names its outputs (`a/x.proto`
/// becomes `a__x.tandem.swift`). Settings, import paths and the protoc lookup are the build plugin's:
/// the nearest `tandem-generator.json`, then `PROTOC_PATH`, then `PATH`. Files in `Generated` that no
/// proto produces any more are left in place. Exclude the `.proto` files from the target in
/// Package.swift (or declare them as resources), because SwiftPM does not compile them.
@main
struct TandemGenerateCommand: CommandPlugin {
  /// Name of the folder inside each target that receives the generated files.
  static let outputFolder = "Generated"

  func performCommand(context: PluginContext, arguments: [String]) async throws {
    var extractor = ArgumentExtractor(arguments)
    let requested = extractor.extractOption(named: "target")
    if !extractor.remainingArguments.isEmpty {
      throw GeneratorError(
        "unexpected arguments \(extractor.remainingArguments.joined(separator: " ")); usage: generate-protos [--target Name ...]"
      )
    }

    let targets: [any Target]
    if requested.isEmpty {
      targets = context.package.targets
    } else {
      targets = try context.package.targets(named: requested)
    }
    let generator = try context.tool(named: "protoc-gen-tandem").url
    var generatedCount = 0
    for target in targets {
      guard let swiftTarget = target as? SwiftSourceModuleTarget else {
        if requested.contains(target.name) {
          throw GeneratorError("target \(target.name) is not a Swift source target")
        }
        continue
      }
      generatedCount += try generate(swiftTarget, generator: generator, context: context)
    }
    print("generate-protos: wrote \(generatedCount) file(s)")
  }

  /// Runs protoc once per proto of `target` and returns the number of files written.
  private func generate(_ target: SwiftSourceModuleTarget, generator: URL, context: PluginContext) throws -> Int {
    let targetDirectory = target.directoryURL.standardizedFileURL
    // `sourceFiles` lists only what SwiftPM treats as sources or resources, so excluded protos are
    // found by walking the target's folder.
    let protoFiles = try Self.protoFiles(under: targetDirectory)
    if protoFiles.isEmpty { return 0 }

    let outputDirectory = targetDirectory.appendingPathComponent(Self.outputFolder, isDirectory: true)
    try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
    var configurations = ConfigurationCache(targetDirectory: targetDirectory)
    var written = 0
    for protoFile in protoFiles {
      let located = try configurations.configuration(for: protoFile)
      let configuration = located.configuration
      if !configuration.generateMessages && !configuration.generateServices { continue }
      let protoc = try ProtocLocator.locate(for: protoFile, configuration: located, context: context)
      let importPaths = located.importPaths(targetDirectory: targetDirectory)
      guard let protoName = ProtoOutputNaming.protoName(of: protoFile, importPaths: importPaths) else {
        throw GeneratorError(
          "\(protoFile.path) is outside every import path (\(importPaths.map(\.path).joined(separator: ", "))); "
            + "add a directory that contains it to \"importPaths\" in \(GeneratorConfiguration.fileName)"
        )
      }
      let arguments = ProtocInvocation.arguments(
        generator: generator, outputDirectory: outputDirectory, configuration: configuration,
        importPaths: importPaths, protoFile: protoFile)
      try Self.run(protoc, arguments, describing: protoName)
      print("generate-protos: \(target.name): \(protoName) -> \(Self.outputFolder)/\(ProtoOutputNaming.outputFileName(forProto: protoName))")
      written += 1
    }
    return written
  }

  /// Returns the `.proto` files under `directory`, sorted by path.
  static func protoFiles(under directory: URL) throws -> [URL] {
    guard let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else {
      throw GeneratorError("cannot list the files of \(directory.path)")
    }
    var files: [URL] = []
    for case let url as URL in enumerator where url.pathExtension == "proto" {
      files.append(url.standardizedFileURL)
    }
    return files.sorted { $0.path < $1.path }
  }

  /// Runs protoc and fails with its output when it exits with a non-zero status.
  static func run(_ executable: URL, _ arguments: [String], describing protoName: String) throws {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    if process.terminationStatus != 0 {
      throw GeneratorError(
        "protoc failed with status \(process.terminationStatus) for \(protoName):\n\(String(decoding: data, as: UTF8.self))")
    }
  }
}
