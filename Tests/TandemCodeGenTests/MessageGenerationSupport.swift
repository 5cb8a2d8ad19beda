import Foundation
import TandemProtobuf
import XCTest

@testable import TandemCodeGen

/// Runs protoc and swiftc for the message generation tests.
enum MessageGenerationSupport {
  static let protosDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Protos")

  struct ProcessResult {
    var status: Int32
    var output: String
  }

  /// Runs `executable` with `arguments` and returns its exit status and combined stdout and stderr.
  static func run(_ executable: String, _ arguments: [String], input: Data? = nil) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let outputPipe = Pipe()
    process.standardOutput = outputPipe
    process.standardError = outputPipe
    let inputPipe = Pipe()
    if input != nil {
      process.standardInput = inputPipe
    }
    try process.run()
    if let input {
      inputPipe.fileHandleForWriting.write(input)
      try inputPipe.fileHandleForWriting.close()
    }
    let data = outputPipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
  }

  /// Path of an executable found in `PATH`, or nil.
  static func findExecutable(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":") {
      let candidate = "\(directory)/\(name)"
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
  }

  /// The build products directory that contains the test binary, protoc-gen-tandem and the module files.
  static var productsDirectory: URL? {
    guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
      return nil
    }
    var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
    // On Linux the test runner may sit inside a `.xctest` directory.
    if directory.lastPathComponent.hasSuffix(".xctest") { directory.deleteLastPathComponent() }
    return directory
  }

  /// Directory containing `TandemProtobuf.swiftmodule`, for `swiftc -I`.
  static var moduleDirectory: URL? {
    guard let products = productsDirectory else { return nil }
    for candidate in [products.appendingPathComponent("Modules"), products] {
      if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("TandemProtobuf.swiftmodule").path) {
        return candidate
      }
    }
    return nil
  }

  /// Builds a CodeGeneratorRequest for `protos` (names relative to Protos/) with protoc's
  /// `--descriptor_set_out`, as protoc would pass it to the plugin.
  static func makeRequest(
    protos: [String], parameter: String, protoc: String, protosDirectory: URL = protosDirectory
  ) throws -> Google_Protobuf_Compiler_CodeGeneratorRequest {
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-descriptors-\(UUID().uuidString).pb")
    defer { try? FileManager.default.removeItem(at: output) }
    let result = try run(protoc, [
      "-I", protosDirectory.path, "--include_imports", "--include_source_info",
      "--descriptor_set_out=\(output.path)",
    ] + protos)
    XCTAssertEqual(result.status, 0, result.output)
    let bytes = [UInt8](try Data(contentsOf: output))
    let set = try Google_Protobuf_FileDescriptorSet(serializedBytes: bytes)
    var request = Google_Protobuf_Compiler_CodeGeneratorRequest()
    request.fileToGenerate = protos
    request.parameter = parameter
    request.protoFile = set.file
    return request
  }
}
