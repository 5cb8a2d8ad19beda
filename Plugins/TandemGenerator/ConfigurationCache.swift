import Foundation

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
