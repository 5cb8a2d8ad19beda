// Support for the tests that build temporary SwiftPM packages with the TandemGenerator plugin.
//
// Two packages live under `<repository>/.build/tandem-codegen-tests/`, so that repeated runs build
// incrementally and `swift package clean` or removing `.build` removes them:
//
// - `full`: the real TandemProtobuf, TandemCore, TandemCodeGen and protoc-gen-tandem sources
//   (symbolic links into this repository) plus fixture targets whose `.proto` files the plugin
//   compiles. One `swift build` of it serves PluginBuildTests and ServiceCompileTests.
// - `errors`: the plugin with a stub protoc-gen-tandem, for configurations that must fail before
//   protoc runs. It builds in seconds.
//
// A file lock serializes work on each package, so parallel test processes do not interleave.

import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The result of one `swift build` run.
struct BuildResult: Sendable {
  var exitCode: Int32
  /// Standard output and standard error, interleaved.
  var output: String
  var succeeded: Bool { exitCode == 0 }

  /// The last 40 lines of the output, for failure messages.
  var summary: String {
    output.split(separator: "\n", omittingEmptySubsequences: false).suffix(40).joined(separator: "\n")
  }
}

enum PluginFixture {
  /// The repository root, found from this file's path (`Tests/TandemCodeGenTests/<file>`).
  static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()
    .deletingLastPathComponent()
    .deletingLastPathComponent()

  static let workRoot = repositoryRoot.appendingPathComponent(".build/tandem-codegen-tests", isDirectory: true)

  // MARK: - Files

  /// Writes `contents` to `relativePath` under `root` unless the file already has exactly that content,
  /// so unchanged fixture files do not trigger rebuilds. Returns whether the file was written.
  @discardableResult
  static func write(_ contents: String, to relativePath: String, under root: URL) throws -> Bool {
    let file = root.appendingPathComponent(relativePath)
    try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
    if let existing = try? String(contentsOf: file, encoding: .utf8), existing == contents {
      return false
    }
    try contents.write(to: file, atomically: true, encoding: .utf8)
    return true
  }

  /// Marks the manifest of `package` as modified. SwiftPM 6.3 runs build tool plugins again only when
  /// the manifest or the target's file list changes, not when a `tandem-generator.json` changes.
  static func touchManifest(of package: URL) throws {
    try FileManager.default.setAttributes(
      [.modificationDate: Date()],
      ofItemAtPath: package.appendingPathComponent("Package.swift").path
    )
  }

  /// Points `relativePath` under `root` at `destination` with a symbolic link, replacing what was there.
  static func link(_ relativePath: String, under root: URL, to destination: URL) throws {
    let link = root.appendingPathComponent(relativePath)
    try FileManager.default.createDirectory(at: link.deletingLastPathComponent(), withIntermediateDirectories: true)
    if let existing = try? FileManager.default.destinationOfSymbolicLink(atPath: link.path), existing == destination.path {
      return
    }
    try? FileManager.default.removeItem(at: link)
    try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: destination.path)
  }

  /// Finds an executable named `name` in the directories of `PATH`.
  static func findOnPath(_ name: String) -> URL? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    for directory in path.split(separator: ":") where !directory.isEmpty {
      let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
      if FileManager.default.isExecutableFile(atPath: candidate.path) {
        return candidate
      }
    }
    return nil
  }

  // MARK: - Processes

  /// Runs `executable` with `arguments`; `environment` entries override the inherited ones and a nil
  /// value removes the variable.
  static func run(
    _ executable: URL,
    _ arguments: [String],
    in directory: URL,
    environment overrides: [String: String?] = [:]
  ) throws -> BuildResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.currentDirectoryURL = directory
    var environment = ProcessInfo.processInfo.environment
    for (key, value) in overrides {
      environment[key] = value
    }
    process.environment = environment

    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return BuildResult(exitCode: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
  }

  /// Runs `swift build` in `package` with `arguments`.
  static func swiftBuild(
    _ package: URL,
    _ arguments: [String] = [],
    environment: [String: String?] = [:]
  ) throws -> BuildResult {
    guard let swift = findOnPath("swift") else {
      throw FixtureError("swift is not on PATH")
    }
    return try run(swift, ["build", "--package-path", package.path] + arguments, in: package, environment: environment)
  }

  /// Runs `body` while holding an exclusive lock on `name` in the work directory.
  static func withLock<T>(_ name: String, _ body: () throws -> T) throws -> T {
    try FileManager.default.createDirectory(at: workRoot, withIntermediateDirectories: true)
    let lockPath = workRoot.appendingPathComponent(name + ".lock").path
    let descriptor = open(lockPath, O_CREAT | O_RDWR, 0o644)
    guard descriptor >= 0 else {
      throw FixtureError("cannot open lock file \(lockPath): errno \(errno)")
    }
    defer { close(descriptor) }
    guard flock(descriptor, LOCK_EX) == 0 else {
      throw FixtureError("cannot lock \(lockPath): errno \(errno)")
    }
    defer { flock(descriptor, LOCK_UN) }
    return try body()
  }
}

struct FixtureError: Error, CustomStringConvertible {
  let description: String

  init(_ description: String) {
    self.description = description
  }
}

// MARK: - The full package

/// The `full` package: built once per test process with `PROTOC_PATH` pointing at a wrapper script
/// that records each protoc invocation and then runs the real protoc.
enum FullFixture {
  static let root = PluginFixture.workRoot.appendingPathComponent("full", isDirectory: true)

  /// The build result and the protoc invocations recorded by the wrapper, or the error that
  /// prevented the build.
  struct Outcome: Sendable {
    var build: BuildResult
    /// One line per protoc run: its arguments.
    var protocInvocations: [String]
    /// The generated-files directory of the `Fixtures` target.
    var generatedFiles: [String: String]
    var mainActorGeneratedFiles: [String: String]
  }

  static let outcome: Result<Outcome, FixtureError> = {
    do {
      return .success(try PluginFixture.withLock("full") { try buildOnce() })
    } catch let error as FixtureError {
      return .failure(error)
    } catch {
      return .failure(FixtureError("\(error)"))
    }
  }()

  /// Returns the shared outcome, failing the calling test when the package could not be built at all.
  static func sharedOutcome() throws -> Outcome {
    try outcome.get()
  }

  private static func buildOnce() throws -> Outcome {
    try writePackage()
    guard let protoc = PluginFixture.findOnPath("protoc") else {
      throw FixtureError("protoc is not on PATH; install it (apt-get install protobuf-compiler)")
    }

    // A wrapper in a fresh directory: its path changes every run, so the build commands run again and
    // the log shows that PROTOC_PATH was used.
    let runDirectory = FileManager.default.temporaryDirectory
      .appendingPathComponent("tandem-protoc-wrapper-\(getpid())-\(UInt32.random(in: 0...UInt32.max))", isDirectory: true)
    try FileManager.default.createDirectory(at: runDirectory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: runDirectory) }
    let log = runDirectory.appendingPathComponent("invocations.log")
    let wrapper = runDirectory.appendingPathComponent("protoc-wrapper")
    try """
      #!/bin/sh
      echo "$*" >> '\(log.path)'
      exec '\(protoc.path)' "$@"

      """.write(to: wrapper, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: wrapper.path)

    let build = try PluginFixture.swiftBuild(root, environment: ["PROTOC_PATH": wrapper.path])
    let invocations = ((try? String(contentsOf: log, encoding: .utf8)) ?? "")
      .split(separator: "\n")
      .map(String.init)
    return Outcome(
      build: build,
      protocInvocations: invocations,
      generatedFiles: generatedFiles(target: "Fixtures"),
      mainActorGeneratedFiles: generatedFiles(target: "MainActorFixtures")
    )
  }

  /// Reads the generated Swift files of `target`, keyed by file name.
  private static func generatedFiles(target: String) -> [String: String] {
    let outputs = root.appendingPathComponent(".build/plugins/outputs", isDirectory: true)
    guard let enumerator = FileManager.default.enumerator(at: outputs, includingPropertiesForKeys: nil) else {
      return [:]
    }
    var files: [String: String] = [:]
    for case let url as URL in enumerator
    where url.pathExtension == "swift" && url.pathComponents.contains(target) {
      files[url.lastPathComponent] = try? String(contentsOf: url, encoding: .utf8)
    }
    return files
  }

  private static func writePackage() throws {
    let repository = PluginFixture.repositoryRoot
    for module in ["TandemHTTP", "TandemProtobuf", "TandemCore", "TandemCodeGen", "protoc-gen-tandem"] {
      try PluginFixture.link("Sources/\(module)", under: root, to: repository.appendingPathComponent("Sources/\(module)"))
    }
    try PluginFixture.link("Plugins/TandemGenerator", under: root, to: repository.appendingPathComponent("Plugins/TandemGenerator"))
    try PluginFixture.write(FixtureSources.fullManifest, to: "Package.swift", under: root)

    // `Fixtures`: a configuration file with public access; default actor isolation.
    let configChanged = try PluginFixture.write(
      #"{ "accessLevel": "public" }"# + "\n",
      to: "Sources/Fixtures/tandem-generator.json",
      under: root
    )
    if configChanged {
      try PluginFixture.touchManifest(of: root)
    }
    try PluginFixture.write(FixtureSources.protoA, to: "Sources/Fixtures/a/x.proto", under: root)
    try PluginFixture.write(FixtureSources.protoB, to: "Sources/Fixtures/b/x.proto", under: root)
    try PluginFixture.write(FixtureSources.protoUnderscoreFolder, to: "Sources/Fixtures/x_y/z.proto", under: root)
    try PluginFixture.write(FixtureSources.protoUnderscoreFile, to: "Sources/Fixtures/x/y_z.proto", under: root)
    try PluginFixture.write(FixtureSources.trickyProto, to: "Sources/Fixtures/tricky/tricky.proto", under: root)
    try PluginFixture.write(FixtureSources.usage(isolation: ""), to: "Sources/Fixtures/Usage.swift", under: root)

    // `MainActorFixtures`: no configuration file (defaults) and MainActor default isolation.
    try PluginFixture.write(FixtureSources.protoA, to: "Sources/MainActorFixtures/a/x.proto", under: root)
    try PluginFixture.write(FixtureSources.protoB, to: "Sources/MainActorFixtures/b/x.proto", under: root)
    try PluginFixture.write(FixtureSources.trickyProto, to: "Sources/MainActorFixtures/tricky/tricky.proto", under: root)
    try PluginFixture.write(
      FixtureSources.usage(isolation: "nonisolated "),
      to: "Sources/MainActorFixtures/Usage.swift",
      under: root
    )
  }
}

// MARK: - Fixture sources shared by the full package's targets

enum FixtureSources {
  static let fullManifest = """
    // swift-tools-version:6.2
    // Written by TandemCodeGenTests; changes are overwritten on the next test run.
    import PackageDescription

    let package = Package(
      name: "TandemCodeGenFixtures",
      targets: [
        .target(name: "TandemHTTP"),
        .target(name: "TandemProtobuf"),
        .target(name: "TandemCore", dependencies: ["TandemHTTP", "TandemProtobuf"]),
        .target(name: "TandemCodeGen", dependencies: ["TandemProtobuf"]),
        .executableTarget(name: "protoc-gen-tandem", dependencies: ["TandemCodeGen", "TandemProtobuf"]),
        .plugin(name: "TandemGenerator", capability: .buildTool(), dependencies: ["protoc-gen-tandem"]),
        .target(
          name: "Fixtures",
          dependencies: ["TandemCore", "TandemProtobuf"],
          plugins: ["TandemGenerator"]
        ),
        .target(
          name: "MainActorFixtures",
          dependencies: ["TandemCore", "TandemProtobuf"],
          swiftSettings: [.defaultIsolation(MainActor.self)],
          plugins: ["TandemGenerator"]
        ),
      ]
    )

    """

  static let protoA = """
    syntax = "proto3";
    package fixture.a;

    // The message of folder a.
    message X { string text = 1; }

    service Svc {
      rpc Get(X) returns (X);
    }

    """

  static let protoB = """
    syntax = "proto3";
    package fixture.b;

    // The message of folder b; same file name as a/x.proto.
    message X { int32 number = 1; }

    service Svc {
      rpc Get(X) returns (X);
    }

    """

  /// `x_y/z.proto` and `x/y_z.proto` would both become `x_y_z` with plain path-to-underscores.
  static let protoUnderscoreFolder = """
    syntax = "proto3";
    package fixture.underscore_folder;

    message Z { string text = 1; }

    """

  static let protoUnderscoreFile = """
    syntax = "proto3";
    package fixture.underscore_file;

    message Z { string text = 1; }

    """
}
