import Foundation

/// The protoc command line that both plugins run for one `.proto` file.
enum ProtocInvocation {
  /// protoc-gen-tandem parameter entries for `configuration`. Outputs are always named with
  /// `PathToUnderscores`, so protos that share a base name in different folders stay distinct.
  static func generatorOptions(_ configuration: GeneratorConfiguration) -> [String] {
    var options = [
      "Visibility=\(configuration.accessLevel.prefix(1).uppercased() + configuration.accessLevel.dropFirst())",
      "Messages=\(configuration.generateMessages)",
      "Services=\(configuration.generateServices)",
      "FileNaming=PathToUnderscores",
    ]
    for (module, protoPaths) in configuration.moduleMappings.sorted(by: { $0.key < $1.key }) {
      options += protoPaths.map { "ModuleMapping=\(module):\($0)" }
    }
    return options
  }

  /// protoc arguments that generate `protoFile` into `outputDirectory` with the generator at `generator`.
  static func arguments(
    generator: URL, outputDirectory: URL, configuration: GeneratorConfiguration, importPaths: [URL], protoFile: URL
  ) -> [String] {
    var arguments = ["--plugin=protoc-gen-tandem=\(generator.path)"]
    arguments += [
      "--tandem_out=\(outputDirectory.path)", "--tandem_opt=\(generatorOptions(configuration).joined(separator: ","))",
    ]
    arguments += importPaths.map { "--proto_path=\($0.path)" }
    arguments.append(protoFile.path)
    return arguments
  }
}
