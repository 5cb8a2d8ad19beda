import Foundation
import XCTest

/// A short libFuzzer run over the binary and JSON decoders, using the package in `Fuzz/`.
///
/// The test builds `Fuzz/` with `swift build -Xswiftc -sanitize=fuzzer,address` (incrementally, in
/// `Fuzz/.build`) and runs 20,000 inputs or 20 seconds, whichever ends first, starting from
/// `Fuzz/Corpus`. It is skipped when `swift` is not in PATH or when the toolchain cannot link a
/// program with `-sanitize=fuzzer,address`. Fuzz/README.md describes longer runs.
final class FuzzTests: XCTestCase {
  static let repository = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  static let fuzzPackage = repository.appendingPathComponent("Fuzz")

  var workDirectory: URL!

  override func setUpWithError() throws {
    workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-fuzz-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    if let workDirectory {
      try? FileManager.default.removeItem(at: workDirectory)
    }
  }

  func testDecodersShortFuzzRun() throws {
    let swift = try ProtobufCTests.findExecutable("swift", package: "a Swift toolchain")
    try skipUnlessToolchainFuzzes(swift: swift)

    let build = try runProcess(
      swift, ["build", "--package-path", Self.fuzzPackage.path, "-Xswiftc", "-sanitize=fuzzer,address"])
    guard build.status == 0 else {
      XCTFail("building Fuzz/ failed with status \(build.status):\n\(build.output.suffix(4000))")
      return
    }

    let binary = Self.fuzzPackage.appendingPathComponent(".build/debug/ProtobufFuzzer").path
    let corpus = workDirectory.appendingPathComponent("corpus")
    try FileManager.default.createDirectory(at: corpus, withIntermediateDirectories: true)
    let run = try runProcess(binary, [
      "-runs=20000", "-max_total_time=20", "-timeout=10", "-rss_limit_mb=2048", "-malloc_limit_mb=512",
      "-seed=1", "-artifact_prefix=\(workDirectory.path)/", corpus.path,
      Self.fuzzPackage.appendingPathComponent("Corpus").path,
    ])
    XCTAssertEqual(run.status, 0, "the fuzzer found a failing input (saved under \(workDirectory.path)):\n\(run.output.suffix(4000))")
    XCTAssertTrue(run.output.contains("Done "), "the fuzzer did not finish its runs:\n\(run.output.suffix(2000))")
  }

  /// Links a one-line program with the fuzzer and address sanitizers, and skips the test when that fails.
  func skipUnlessToolchainFuzzes(swift: String) throws {
    let probe = workDirectory.appendingPathComponent("probe.swift")
    try Data("@_cdecl(\"LLVMFuzzerTestOneInput\") func probe(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt { 0 }\n".utf8)
      .write(to: probe)
    let swiftc = URL(fileURLWithPath: swift).deletingLastPathComponent().appendingPathComponent("swiftc").path
    let compile = try runProcess(swiftc, [
      "-sanitize=fuzzer,address", "-parse-as-library", probe.path, "-o", workDirectory.appendingPathComponent("probe").path,
    ])
    if compile.status != 0 {
      throw XCTSkip("this toolchain cannot link with -sanitize=fuzzer,address: \(compile.output.prefix(500))")
    }
  }

  /// Runs `executable` with standard output and standard error in one file, and returns both.
  func runProcess(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let outputFile = workDirectory.appendingPathComponent("output-\(UUID().uuidString).txt")
    try Data().write(to: outputFile)
    let handle = try FileHandle(forWritingTo: outputFile)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = handle
    process.standardError = handle
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    try handle.close()
    return (process.terminationStatus, (try? String(contentsOf: outputFile, encoding: .utf8)) ?? "")
  }
}
