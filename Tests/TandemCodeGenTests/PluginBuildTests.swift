import Foundation
import XCTest

import TandemCodeGen

/// Builds the `full` fixture package with the TandemGenerator plugin (see PluginFixtureTests.swift).
final class PluginBuildTests: XCTestCase {
  private func builtOutcome(file: StaticString = #filePath, line: UInt = #line) throws -> FullFixture.Outcome {
    let outcome = try FullFixture.sharedOutcome()
    XCTAssertTrue(
      outcome.build.succeeded,
      "swift build of the fixture package failed (exit \(outcome.build.exitCode)):\n\(outcome.build.summary)",
      file: file,
      line: line
    )
    return outcome
  }

  func testSameBaseNameProtosGetDistinctOutputs() throws {
    let outcome = try builtOutcome()

    let a = try XCTUnwrap(outcome.generatedFiles["a__x.tandem.swift"], "files: \(outcome.generatedFiles.keys.sorted())")
    let b = try XCTUnwrap(outcome.generatedFiles["b__x.tandem.swift"], "files: \(outcome.generatedFiles.keys.sorted())")
    XCTAssertTrue(a.contains("struct Fixture_A_X"))
    XCTAssertTrue(b.contains("struct Fixture_B_X"))
  }

  func testUnderscoresInPathsStayDistinct() throws {
    let outcome = try builtOutcome()

    XCTAssertNotNil(outcome.generatedFiles["x_uy__z.tandem.swift"], "files: \(outcome.generatedFiles.keys.sorted())")
    XCTAssertNotNil(outcome.generatedFiles["x__y_uz.tandem.swift"], "files: \(outcome.generatedFiles.keys.sorted())")
  }

  func testEveryProtoOfBothTargetsIsGenerated() throws {
    let outcome = try builtOutcome()
    let expected: Set = [
      "a__x.tandem.swift", "b__x.tandem.swift", "x_uy__z.tandem.swift", "x__y_uz.tandem.swift",
      "tricky__tricky.tandem.swift",
    ]

    XCTAssertEqual(Set(outcome.generatedFiles.keys), expected)
    XCTAssertEqual(Set(outcome.mainActorGeneratedFiles.keys), expected.subtracting(["x_uy__z.tandem.swift", "x__y_uz.tandem.swift"]))
  }

  func testProtocPathEnvironmentVariableIsUsed() throws {
    let outcome = try builtOutcome()
    let protos = outcome.protocInvocations.compactMap { $0.split(separator: " ").last.map(String.init) }

    XCTAssertTrue(protos.contains { $0.hasSuffix("/Fixtures/a/x.proto") }, "invocations: \(outcome.protocInvocations)")
    XCTAssertTrue(protos.contains { $0.hasSuffix("/Fixtures/b/x.proto") }, "invocations: \(outcome.protocInvocations)")
    XCTAssertTrue(protos.contains { $0.hasSuffix("/MainActorFixtures/tricky/tricky.proto") }, "invocations: \(outcome.protocInvocations)")
  }

  func testProtocArgumentsCarryOptions() throws {
    let outcome = try builtOutcome()
    let invocation = try XCTUnwrap(outcome.protocInvocations.first { $0.hasSuffix("/Fixtures/a/x.proto") })

    XCTAssertTrue(invocation.contains("--plugin=protoc-gen-tandem="), invocation)
    XCTAssertTrue(
      invocation.contains("--tandem_opt=Visibility=Public,Messages=true,Services=true,FileNaming=PathToUnderscores"),
      invocation
    )
    XCTAssertTrue(invocation.contains("--proto_path=\(FullFixture.root.path)/Sources/Fixtures"), invocation)
  }

  func testConfigAccessLevelAndDefault() throws {
    let outcome = try builtOutcome()
    let configured = try XCTUnwrap(outcome.generatedFiles["tricky__tricky.tandem.swift"])
    let defaulted = try XCTUnwrap(outcome.mainActorGeneratedFiles["tricky__tricky.tandem.swift"])

    XCTAssertTrue(configured.contains("\nnonisolated public enum Tricky_V1_Tricky {\n"))
    XCTAssertTrue(defaulted.contains("\nnonisolated enum Tricky_V1_Tricky {\n"))
    XCTAssertFalse(defaulted.contains("public "))
  }

  /// The plugin repeats the output naming rule of protoc-gen-tandem; this compiles the plugin's copy
  /// and compares both on paths with folders, underscores and dots.
  func testOutputNamingMatchesGenerator() throws {
    let paths = [
      "x.proto", "a/x.proto", "b/x.proto", "x_y/z.proto", "x/y_z.proto", "a/b/c/d.proto", "__/_.proto",
      "dotted.name/v1.2/file.proto", "no_extension", "UPPER/Case_Mixed.proto",
    ]
    let expected = paths.map { path in
      var options = GeneratorOptions()
      options.fileNaming = .pathToUnderscores
      return options.outputFileName(forProto: path)
    }

    let pluginNames = try Self.pluginOutputNames(for: paths)

    XCTAssertEqual(pluginNames, expected)
    XCTAssertEqual(Set(expected).count, paths.count, "the naming rule maps two paths to one name")
  }

  /// Compiles `Plugins/TandemGenerator/ProtoOutputNaming.swift` with a small driver and runs it.
  private static func pluginOutputNames(for paths: [String]) throws -> [String] {
    guard let swiftc = PluginFixture.findOnPath("swiftc") else {
      throw FixtureError("swiftc is not on PATH")
    }
    let directory = PluginFixture.workRoot.appendingPathComponent("naming-\(getpid())", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }

    let driver = directory.appendingPathComponent("main.swift")
    try """
      for path in CommandLine.arguments.dropFirst() {
        print(ProtoOutputNaming.outputFileName(forProto: path))
      }

      """.write(to: driver, atomically: true, encoding: .utf8)
    let naming = PluginFixture.repositoryRoot.appendingPathComponent("Plugins/TandemGenerator/ProtoOutputNaming.swift")
    let executable = directory.appendingPathComponent("naming")
    let compile = try PluginFixture.run(
      swiftc,
      ["-swift-version", "6", driver.path, naming.path, "-o", executable.path],
      in: directory
    )
    guard compile.succeeded else {
      throw FixtureError("compiling ProtoOutputNaming.swift failed:\n\(compile.output)")
    }
    let result = try PluginFixture.run(executable, paths, in: directory)
    guard result.succeeded else {
      throw FixtureError("running the naming driver failed:\n\(result.output)")
    }
    return result.output.split(separator: "\n").map(String.init)
  }
}
