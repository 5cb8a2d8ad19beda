import Foundation
import XCTest

/// Configurations of the TandemGenerator plugin, checked without generating code.
///
/// The `errors` package contains the real plugin, a stub protoc-gen-tandem (the plugin only needs its
/// path) and one target, `Configured`, with `p/x.proto`. Each test writes the configuration files,
/// runs `swift build` and checks the plugin's message, or the protoc command line that `swift build -v`
/// prints before the stub generator makes protoc fail.
final class PluginConfigErrorTests: XCTestCase {
  private static let root = PluginFixture.workRoot.appendingPathComponent("errors", isDirectory: true)
  private static var targetDirectory: URL { root.appendingPathComponent("Sources/Configured", isDirectory: true) }
  private static var rootConfig: URL { targetDirectory.appendingPathComponent("tandem-generator.json") }
  private static var nestedConfig: URL { targetDirectory.appendingPathComponent("p/tandem-generator.json") }

  private static let manifest = """
    // swift-tools-version:6.0
    // Written by TandemCodeGenTests; changes are overwritten on the next test run.
    import PackageDescription

    let package = Package(
      name: "TandemGeneratorErrors",
      targets: [
        .executableTarget(name: "protoc-gen-tandem"),
        .plugin(name: "TandemGenerator", capability: .buildTool(), dependencies: ["protoc-gen-tandem"]),
        .target(name: "Configured", plugins: ["TandemGenerator"]),
      ]
    )

    """

  /// Writes the package with `rootConfig` and `nestedConfig` (nil: no such file) and builds it.
  private func build(
    rootConfig: String?,
    nestedConfig: String? = nil,
    arguments: [String] = [],
    environment: [String: String?] = ["PROTOC_PATH": nil]
  ) throws -> BuildResult {
    try PluginFixture.withLock("errors") {
      let root = Self.root
      try PluginFixture.write(Self.manifest, to: "Package.swift", under: root)
      try PluginFixture.link(
        "Plugins/TandemGenerator",
        under: root,
        to: PluginFixture.repositoryRoot.appendingPathComponent("Plugins/TandemGenerator")
      )
      try PluginFixture.write(
        "// Never started: every build of this package fails while the plugin plans its commands.\nprint(\"stub\")\n",
        to: "Sources/protoc-gen-tandem/main.swift",
        under: root
      )
      try PluginFixture.write("let configured = 1\n", to: "Sources/Configured/Configured.swift", under: root)
      try PluginFixture.write(
        "syntax = \"proto3\";\npackage p;\nmessage X { string text = 1; }\n",
        to: "Sources/Configured/p/x.proto",
        under: root
      )
      try Self.place(rootConfig, at: Self.rootConfig)
      try Self.place(nestedConfig, at: Self.nestedConfig)
      try PluginFixture.touchManifest(of: root)
      return try PluginFixture.swiftBuild(root, arguments, environment: environment)
    }
  }

  private static func place(_ contents: String?, at file: URL) throws {
    guard let contents else {
      try? FileManager.default.removeItem(at: file)
      return
    }
    try contents.write(to: file, atomically: true, encoding: .utf8)
  }

  func testMissingProtocPathFails() throws {
    let result = try build(rootConfig: #"{ "protocPath": "missing/protoc" }"#)

    XCTAssertFalse(result.succeeded, result.summary)
    XCTAssertTrue(result.output.contains("protoc not found, so \(Self.targetDirectory.path)/p/x.proto cannot be compiled"), result.summary)
    XCTAssertTrue(
      result.output.contains(
        "1. \"protocPath\" in \(Self.rootConfig.path): \(Self.targetDirectory.path)/missing/protoc does not exist"
      ),
      result.summary
    )
    XCTAssertTrue(result.output.contains("2. PROTOC_PATH: not consulted because \"protocPath\" is set (value: unset)"), result.summary)
    XCTAssertTrue(result.output.contains("3. PATH: not consulted because \"protocPath\" is set"), result.summary)
    XCTAssertTrue(result.output.contains("apt-get install protobuf-compiler"), result.summary)
  }

  func testMissingProtocEnvironmentPathFails() throws {
    let result = try build(rootConfig: "{}", environment: ["PROTOC_PATH": "/nonexistent/protoc"])

    XCTAssertFalse(result.succeeded, result.summary)
    XCTAssertTrue(result.output.contains("1. \"protocPath\" in \(Self.rootConfig.path): not set"), result.summary)
    XCTAssertTrue(result.output.contains("2. PROTOC_PATH=/nonexistent/protoc: does not exist"), result.summary)
    XCTAssertTrue(result.output.contains("3. PATH: not consulted because PROTOC_PATH is set"), result.summary)
  }

  func testProtocPathDirectoryFails() throws {
    let result = try build(rootConfig: #"{ "protocPath": "/" }"#)

    XCTAssertFalse(result.succeeded, result.summary)
    XCTAssertTrue(result.output.contains("\"protocPath\" in \(Self.rootConfig.path): / is a directory"), result.summary)
  }

  func testUnknownKeyFails() throws {
    let result = try build(rootConfig: #"{ "acessLevel": "public" }"#)

    XCTAssertFalse(result.succeeded, result.summary)
    XCTAssertTrue(result.output.contains("\(Self.rootConfig.path): unknown key \"acessLevel\""), result.summary)
  }

  func testUnknownNestedKeyFails() throws {
    let result = try build(rootConfig: #"{ "generate": { "clients": false } }"#)

    XCTAssertFalse(result.succeeded, result.summary)
    XCTAssertTrue(result.output.contains("\(Self.rootConfig.path): unknown key \"generate.clients\""), result.summary)
  }

  func testInvalidJSONFails() throws {
    let result = try build(rootConfig: #"{ "accessLevel": }"#)

    XCTAssertFalse(result.succeeded, result.summary)
    XCTAssertTrue(result.output.contains("\(Self.rootConfig.path): invalid JSON: "), result.summary)
  }

  func testWrongValueTypeFails() throws {
    let result = try build(rootConfig: #"{ "generate": { "messages": 1 } }"#)

    XCTAssertFalse(result.succeeded, result.summary)
    XCTAssertTrue(
      result.output.contains("\(Self.rootConfig.path): \"generate.messages\" must be true or false, found a number"),
      result.summary
    )
  }

  func testInvalidAccessLevelFails() throws {
    let result = try build(rootConfig: #"{ "accessLevel": "open" }"#)

    XCTAssertFalse(result.succeeded, result.summary)
    XCTAssertTrue(
      result.output.contains("invalid \"accessLevel\" \"open\"; expected \"internal\", \"public\" or \"package\""),
      result.summary
    )
  }

  func testNearestConfigWins() throws {
    let result = try build(rootConfig: "{}", nestedConfig: #"{ "protocPath": "nested-missing" }"#)

    XCTAssertFalse(result.succeeded, result.summary)
    XCTAssertTrue(
      result.output.contains("\"protocPath\" in \(Self.nestedConfig.path): \(Self.targetDirectory.path)/p/nested-missing does not exist"),
      result.summary
    )
  }

  func testImportPathsAndOptionsReachProtoc() throws {
    let result = try build(
      rootConfig: #"{ "importPaths": ["p", "/usr/include"], "generate": { "messages": false }, "accessLevel": "package" }"#,
      arguments: ["-v"]
    )
    let target = Self.targetDirectory.path
    let command = try XCTUnwrap(
      result.output.split(separator: "\n").first { $0.contains("--tandem_out=") },
      "no protoc command in the output:\n\(result.summary)"
    )

    XCTAssertTrue(
      command.contains("--proto_path=\(target)/p --proto_path=/usr/include --proto_path=\(target) \(target)/p/x.proto"),
      String(command)
    )
    XCTAssertTrue(
      command.contains("--tandem_opt=Visibility=Package,Messages=false,Services=true,FileNaming=PathToUnderscores"),
      String(command)
    )
    XCTAssertTrue(command.contains("--tandem_out=\(Self.root.path)/.build/plugins/outputs/"), String(command))
  }

  func testModuleMappingsReachProtoc() throws {
    let result = try build(
      rootConfig: #"{ "moduleMappings": { "Shared": ["s/a.proto", "s/b.proto"], "Other": ["o.proto"] } }"#,
      arguments: ["-v"]
    )
    let command = try XCTUnwrap(
      result.output.split(separator: "\n").first { $0.contains("--tandem_out=") },
      "no protoc command in the output:\n\(result.summary)"
    )

    XCTAssertTrue(
      command.contains(
        "FileNaming=PathToUnderscores,ModuleMapping=Other:o.proto,ModuleMapping=Shared:s/a.proto,ModuleMapping=Shared:s/b.proto"),
      String(command)
    )
  }

  func testInvalidModuleMappingFails() throws {
    let result = try build(rootConfig: #"{ "moduleMappings": { "Not-A-Module": ["a.proto"] } }"#)

    XCTAssertFalse(result.succeeded, result.summary)
    XCTAssertTrue(
      result.output.contains("\(Self.rootConfig.path): invalid module name \"Not-A-Module\" in \"moduleMappings\""),
      result.summary
    )
  }

  func testNoGenerationSkipsProtoc() throws {
    let result = try build(rootConfig: #"{ "generate": { "messages": false, "services": false } }"#, arguments: ["-v"])

    XCTAssertTrue(result.succeeded, result.summary)
    XCTAssertFalse(result.output.contains("--tandem_out="), result.summary)
  }
}
