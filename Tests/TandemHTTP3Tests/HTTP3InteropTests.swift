import Foundation
import XCTest

/// Interoperability over HTTP/3 with stacks this project did not write: an aioquic gRPC client
/// calls `echo-server --transport quic`, Debian's ngtcp2 client `gtlsclient` sends it a plain
/// GET, and `echo-client --transport quic` calls an aioquic gRPC server.
/// `Tests/Interop/h3/run.sh` drives the processes; this test runs it against this build.
final class HTTP3InteropTests: XCTestCase {
  private var repositoryRoot: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  }

  func testAioquicAndNgtcp2Interop() throws {
    let python = repositoryRoot.appendingPathComponent(".venv/bin/python")
    try XCTSkipUnless(
      FileManager.default.isExecutableFile(atPath: python.path),
      "the Python virtual environment is missing; run scripts/setup.sh to create .venv")
    try XCTSkipUnless(
      FileManager.default.isExecutableFile(atPath: "/usr/bin/gtlsclient"),
      "gtlsclient is missing; run scripts/setup.sh to install ngtcp2-client")
    let binaryDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for executable in ["echo-server", "echo-client"] {
      try XCTSkipUnless(
        FileManager.default.isExecutableFile(atPath: binaryDirectory.appendingPathComponent(executable).path),
        "\(executable) is not built in \(binaryDirectory.path); build with swift build --build-tests")
    }

    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [
      repositoryRoot.appendingPathComponent("Tests/Interop/h3/run.sh").path, "--bin-dir", binaryDirectory.path,
    ]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    let lines = text.split(separator: "\n").map(String.init)

    XCTAssertEqual(process.terminationStatus, 0, "Tests/Interop/h3/run.sh failed:\n\(text)")
    XCTAssertEqual(lines.filter { $0.hasPrefix("FAIL") }, [], "failed interop checks")
    let expected = [
      "aioquic gRPC client -> Tandem echo-server (quic)",
      "gtlsclient GET -> Tandem echo-server (quic)",
      "aioquic gRPC client -> Tandem echo-server after the GET",
      "Tandem echo-client get -> aioquic server (quic)",
      "Tandem echo-client expand -> aioquic server (quic)",
      "Tandem echo-client collect -> aioquic server (quic)",
      "Tandem echo-client update -> aioquic server (quic)",
    ]
    for check in expected {
      XCTAssertTrue(lines.contains { $0.hasPrefix("PASS \(check)") }, "missing passing check '\(check)' in:\n\(text)")
    }
  }
}
