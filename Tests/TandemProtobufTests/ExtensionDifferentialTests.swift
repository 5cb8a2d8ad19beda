import Foundation
import TandemProtobuf
import XCTest

/// Extensions and required fields checked against Python protobuf (upb) through
/// Interop/extensions.py.
final class ExtensionDifferentialTests: XCTestCase {
  typealias Extensions = Tandem_Test2_TandemTestRequired_Extensions
  static let script = DifferentialTests.testsDirectory.appendingPathComponent("Interop/extensions.py").path

  /// Returns the Python interpreter: `TANDEM_PYTHON`, else `<repository>/.venv/bin/python`.
  func python() throws -> String {
    if let configured = ProcessInfo.processInfo.environment["TANDEM_PYTHON"] {
      return configured
    }
    let repository = DifferentialTests.testsDirectory.deletingLastPathComponent().deletingLastPathComponent()
    let venvPython = repository.appendingPathComponent(".venv/bin/python").path
    guard FileManager.default.isExecutableFile(atPath: venvPython) else {
      throw XCTSkip("Python virtualenv not found at \(venvPython); see DifferentialTests for how to create it")
    }
    return venvPython
  }

  /// Runs extensions.py with `arguments` and returns its standard output without the final newline.
  func runScript(_ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try python())
    process.arguments = [Self.script] + arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    XCTAssertEqual(process.terminationStatus, 0, "extensions.py \(arguments.first ?? ""): \(errorText)")
    return text.trimmingCharacters(in: .newlines)
  }

  /// Returns the message that extensions.py builds in `fixed_message()`.
  func fixedMessage() -> Tandem_Test2_Extendable {
    Tandem_Test2_Extendable.with {
      $0.plain = 7
      $0[extension: Extensions.count] = -3
      $0[extension: Extensions.name] = "n"
      $0[extension: Extensions.color] = .blue
      $0[extension: Extensions.numbers] = [1, 2]
      $0[extension: Extensions.packedNumbers] = [3, 400]
      $0[extension: Extensions.colors] = [.red, .green]
      $0[extension: Extensions.inner] = .with { $0.id = 9 }
      $0[extension: Extensions.inners] = [.with { $0.id = 1 }, .with { $0.id = 2; $0.label = "x" }]
      $0[extension: Extensions.grouped] = .with { $0.a = 4 }
      $0[extension: Extensions.signed] = [-1, Int64.min]
      $0[extension: Extensions.blob] = [0, 255]
      $0[extension: Extensions.ratio] = 0.5
      $0[extension: Tandem_Test2_Scope.Extensions.scoped] = .with { $0.value = 3 }
      $0[extension: Tandem_Test2_Scope.Extensions.scopedNames] = ["a", "b"]
    }
  }

  func testPythonExtensionsDecodeTyped() throws {
    let bytes = hex(try runScript(["encode"]).uppercased().chunked())
    let decoded = try Tandem_Test2_Extendable(
      serializedBytes: bytes, options: DecodingOptions(extensions: Extensions.registry))
    XCTAssertEqual(decoded, fixedMessage())
    XCTAssertTrue(decoded.unknownFields.isEmpty)
  }

  func testPythonExtensionsSurviveWithoutRegistry() throws {
    // Without a registry every extension stays in the unknown fields and parses again in Python.
    let bytes = hex(try runScript(["encode"]).uppercased().chunked())
    let decoded = try Tandem_Test2_Extendable(serializedBytes: bytes)
    XCTAssertFalse(decoded.hasExtension(Extensions.count))
    _ = try runScript(["check", hexString(try decoded.serializedBytes()).replacingOccurrences(of: " ", with: "")])
  }

  func testSwiftExtensionsDecodeInPython() throws {
    let bytes = try fixedMessage().serializedBytes()
    _ = try runScript(["check", hexString(bytes).replacingOccurrences(of: " ", with: "")])
  }

  func testMissingRequiredPathsMatchPython() throws {
    let outer = Tandem_Test2_Outer.with {
      $0.middle.items = [Tandem_Test2_Inner()]
      $0.middle.inner.label = "x"
    }
    XCTAssertEqual(outer.missingRequiredFields.sorted().joined(separator: ","), try runScript(["missing"]))
  }
}

extension String {
  /// Splits hex digits into space-separated pairs, the form `hex(_:)` reads.
  fileprivate func chunked() -> String {
    var pairs: [String] = []
    var index = startIndex
    while index < endIndex {
      let next = self.index(index, offsetBy: 2, limitedBy: endIndex) ?? endIndex
      pairs.append(String(self[index..<next]))
      index = next
    }
    return pairs.joined(separator: " ")
  }
}
