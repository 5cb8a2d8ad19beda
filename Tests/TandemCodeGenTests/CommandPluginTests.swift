import Foundation
import XCTest

/// The TandemGenerateCommand plugin (`swift package generate-protos`), run on a small package whose
/// protoc-gen-tandem is a stub that returns one fixed file for every request.
final class CommandPluginTests: XCTestCase {
  private static let root = PluginFixture.workRoot.appendingPathComponent("command", isDirectory: true)
  private static var generatedFile: URL { root.appendingPathComponent("Sources/Lib/Generated/p__x.tandem.swift") }

  private static let manifest = """
    // swift-tools-version:6.0
    // Written by TandemCodeGenTests; changes are overwritten on the next test run.
    import PackageDescription

    let package = Package(
      name: "TandemGenerateCommandFixture",
      targets: [
        .executableTarget(name: "protoc-gen-tandem"),
        .plugin(
          name: "TandemGenerateCommand",
          capability: .command(
            intent: .custom(verb: "generate-protos", description: "Generate Swift from protos"),
            permissions: [.writeToPackageDirectory(reason: "Writes generated files")]
          ),
          dependencies: ["protoc-gen-tandem"]
        ),
        .target(name: "Lib", exclude: ["p"]),
      ]
    )

    """

  /// A generator that ignores the request and returns the file `p__x.tandem.swift`.
  private static let stubGenerator = """
    import Foundation

    _ = FileHandle.standardInput.readDataToEndOfFile()
    func lengthDelimited(_ number: UInt8, _ bytes: [UInt8]) -> [UInt8] {
      [number << 3 | 2, UInt8(bytes.count)] + bytes
    }
    let file = lengthDelimited(1, Array("p__x.tandem.swift".utf8))
      + lengthDelimited(15, Array("let generatedByStub = 1\\n".utf8))
    FileHandle.standardOutput.write(Data(lengthDelimited(15, file)))

    """

  private func runCommand(_ arguments: [String]) throws -> BuildResult {
    guard PluginFixture.findOnPath("protoc") != nil else {
      throw XCTSkip("protoc not found in PATH; install the Debian package protobuf-compiler")
    }
    guard let swift = PluginFixture.findOnPath("swift") else { throw XCTSkip("swift is not on PATH") }
    return try PluginFixture.withLock("command") {
      let root = Self.root
      try PluginFixture.write(Self.manifest, to: "Package.swift", under: root)
      try PluginFixture.link(
        "Plugins/TandemGenerateCommand", under: root,
        to: PluginFixture.repositoryRoot.appendingPathComponent("Plugins/TandemGenerateCommand"))
      try PluginFixture.write(Self.stubGenerator, to: "Sources/protoc-gen-tandem/main.swift", under: root)
      try PluginFixture.write("let library = 1\n", to: "Sources/Lib/Lib.swift", under: root)
      try PluginFixture.write(
        "syntax = \"proto3\";\npackage p;\nmessage X { string text = 1; }\n", to: "Sources/Lib/p/x.proto", under: root)
      try? FileManager.default.removeItem(at: Self.generatedFile)
      return try PluginFixture.run(
        swift, ["package", "--package-path", root.path, "--allow-writing-to-package-directory", "generate-protos"] + arguments,
        in: root, environment: ["PROTOC_PATH": nil])
    }
  }

  func testWritesGeneratedFileIntoTarget() throws {
    let result = try runCommand([])

    XCTAssertTrue(result.succeeded, result.summary)
    XCTAssertTrue(result.output.contains("generate-protos: Lib: p/x.proto -> Generated/p__x.tandem.swift"), result.summary)
    XCTAssertEqual(try String(contentsOf: Self.generatedFile, encoding: .utf8), "let generatedByStub = 1\n")
  }

  func testUnknownTargetFails() throws {
    let result = try runCommand(["--target", "Missing"])

    XCTAssertFalse(result.succeeded, result.summary)
    XCTAssertTrue(result.output.contains("Missing"), result.summary)
    XCTAssertFalse(FileManager.default.fileExists(atPath: Self.generatedFile.path))
  }
}
