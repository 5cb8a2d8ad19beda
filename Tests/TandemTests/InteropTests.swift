import Foundation
import XCTest

/// Interoperability with grpcio, a gRPC implementation this project did not write: the grpcio
/// client calls `echo-server`, and `echo-client` calls an Echo server written with grpcio, in
/// plaintext and over TLS. `Tests/Interop/run.sh` drives the processes; this test runs it
/// against the binaries of this build and checks each result line.
final class InteropTests: XCTestCase {
  private var repositoryRoot: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  }

  func testGrpcioInteropBothDirections() throws {
    let python = repositoryRoot.appendingPathComponent(".venv/bin/python")
    try XCTSkipUnless(
      FileManager.default.isExecutableFile(atPath: python.path),
      "the Python virtual environment is missing; run scripts/setup.sh to create .venv"
    )
    let binaryDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for executable in ["echo-server", "echo-client"] {
      try XCTSkipUnless(
        FileManager.default.isExecutableFile(atPath: binaryDirectory.appendingPathComponent(executable).path),
        "\(executable) is not built in \(binaryDirectory.path); build with swift build --build-tests"
      )
    }

    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [
      repositoryRoot.appendingPathComponent("Tests/Interop/run.sh").path, "--bin-dir", binaryDirectory.path,
    ]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    let lines = text.split(separator: "\n").map(String.init)

    XCTAssertEqual(process.terminationStatus, 0, "Tests/Interop/run.sh failed:\n\(text)")
    XCTAssertEqual(lines.filter { $0.hasPrefix("FAIL") }, [], "failed interop checks")
    let expected = [
      "grpcio client -> Tandem echo-server (plaintext)",
      "grpcio client -> Tandem echo-server (tls)",
      "Tandem echo-client get -> grpcio server (plaintext)",
      "Tandem echo-client update -> grpcio server (plaintext)",
      "Tandem echo-client get -> grpcio server (tls)",
      "Tandem echo-client update -> grpcio server (tls)",
    ]
    for check in expected {
      XCTAssertTrue(lines.contains { $0.hasPrefix("PASS \(check)") }, "missing passing check '\(check)' in:\n\(text)")
    }
  }
}
