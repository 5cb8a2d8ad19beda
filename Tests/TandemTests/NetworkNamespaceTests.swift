import Foundation
import Tandem
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The hybrid transport between the built echo-server and echo-client when the network blocks
/// one transport. Each test creates a network namespace, runs both programs in it with
/// `ip netns exec`, and blocks UDP or TCP to and from the server's port with an nft rule there.
/// The tests need root, `ip` and `nft`, and skip with the reason when one is missing.
final class NetworkNamespaceTests: XCTestCase {
  /// The port of both transports of echo-server. Each namespace is new, so the port is free there.
  private static let port = 50051

  private var ipPath = ""
  private var nftPath = ""
  private var binaryDirectory = URL(fileURLWithPath: "/")
  private var workDirectory: URL?
  private var namespace: String?
  private var certificate: SelfSignedCertificate?
  /// Every process the test started, so that tearDown can stop what is still running.
  private var processes: [Process] = []

  override func setUpWithError() throws {
    guard geteuid() == 0 else {
      throw XCTSkip("not root: creating a network namespace and nft rules needs root")
    }
    binaryDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for executable in ["echo-server", "echo-client"]
    where !FileManager.default.isExecutableFile(atPath: binaryDirectory.appendingPathComponent(executable).path) {
      throw XCTSkip("\(executable) is not built in \(binaryDirectory.path); build with swift build --build-tests")
    }
    guard let ip = Self.findExecutable("ip") else {
      throw XCTSkip("ip is missing; install the Debian package iproute2")
    }
    guard let nft = Self.findExecutable("nft") else {
      throw XCTSkip("nft is missing; install the Debian package nftables (scripts/setup.sh does as root)")
    }
    ipPath = ip
    nftPath = nft

    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-netns-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    workDirectory = directory
    certificate = try SelfSignedCertificate.generate(in: directory.path)

    let name = "tandem-test-\(getpid())-\(UUID().uuidString.prefix(8).lowercased())"
    let added = try runTool([ipPath, "netns", "add", name])
    guard added.status == 0 else {
      throw XCTSkip("ip netns add \(name) failed with status \(added.status): \(added.output)")
    }
    namespace = name
    let loopback = try runTool([ipPath, "netns", "exec", name, ipPath, "link", "set", "lo", "up"])
    guard loopback.status == 0 else {
      throw ProcessError(description: "ip link set lo up failed in namespace \(name) with status \(loopback.status): \(loopback.output)")
    }
  }

  override func tearDownWithError() throws {
    // SIGTERM first lets echo-server shut down gracefully, and SIGKILL follows for a process
    // still running after 6 s.
    for process in processes where process.isRunning {
      kill(process.processIdentifier, SIGTERM)
    }
    for process in processes where !Self.waitForExit(process, within: .seconds(6)) {
      kill(process.processIdentifier, SIGKILL)
      _ = Self.waitForExit(process, within: .seconds(2))
    }
    processes = []

    if let namespace {
      // A namespace lives on while a process runs in it, so whatever is left there is killed first.
      let pids = try runTool([ipPath, "netns", "pids", namespace])
      for line in pids.output.split(separator: "\n") {
        if let pid = pid_t(line.trimmingCharacters(in: .whitespaces)) {
          kill(pid, SIGKILL)
        }
      }
      let deleted = try runTool([ipPath, "netns", "delete", namespace])
      XCTAssertEqual(deleted.status, 0, "ip netns delete \(namespace) failed: \(deleted.output)")
      self.namespace = nil
    }
    if let workDirectory {
      try? FileManager.default.removeItem(at: workDirectory)
      self.workDirectory = nil
    }
  }

  func testBlockedUDPFallsBackToTCP() throws {
    try startServer()
    try block("udp")

    // QUIC fails after the 1 s idle timeout, so 8 calls 500 ms apart keep the client
    // running long enough to count the broken mark.
    let client = try runClient(calls: 8, intervalMilliseconds: 500)

    XCTAssertEqual(client.status, 0, "echo-client failed:\n\(client.output)")
    XCTAssertEqual(client.outcomes.count, 8, "one line per call expected:\n\(client.output)")
    XCTAssertEqual(client.outcomes.first, "HTTP/2", "the first call goes over TCP while UDP is blocked:\n\(client.output)")
    XCTAssertFalse(client.outcomes.contains("HTTP/3"), "no call can go over QUIC:\n\(client.output)")
    XCTAssertEqual(
      client.quicBrokenMarks, 1,
      "QUIC failed while TCP worked, so it is marked broken, once for one failure:\n\(client.output)")
  }

  func testUDPBlackHoleMovesCallsToTCP() throws {
    try startServer()
    let client = try startClient(calls: 10, intervalMilliseconds: 400)
    try waitForOutput(of: client, containing: "get 2: received")

    try block("udp")

    XCTAssertTrue(Self.waitForExit(client.process, within: .seconds(30)), "echo-client did not exit within 30 s:\n\(client.output)")
    let run = client.result()
    let outcomes = run.outcomes
    XCTAssertEqual(run.status, 0, "echo-client failed:\n\(run.output)")
    XCTAssertEqual(outcomes.count, 10, "one line per call expected:\n\(run.output)")
    XCTAssertEqual(Array(outcomes.prefix(2)), ["HTTP/3", "HTTP/3"], "calls go over QUIC before UDP is blocked:\n\(run.output)")
    XCTAssertEqual(outcomes.last, "HTTP/2", "calls go over TCP after UDP is blocked:\n\(run.output)")
    let failures = outcomes.filter { $0.hasPrefix("failed") }
    XCTAssertLessThanOrEqual(failures.count, 1, "only the call in flight when UDP was blocked may fail:\n\(run.output)")
    for failure in failures {
      XCTAssertTrue(failure.hasPrefix("failed with UNAVAILABLE"), "the call in flight fails as UNAVAILABLE:\n\(run.output)")
    }
    if let firstTCP = outcomes.firstIndex(of: "HTTP/2") {
      XCTAssertFalse(outcomes[firstTCP...].contains("HTTP/3"), "no call goes back to QUIC while it is marked broken:\n\(run.output)")
    }
    XCTAssertEqual(
      run.quicBrokenMarks, 1,
      "QUIC stopped responding while TCP worked, so it is marked broken, once:\n\(run.output)")
  }

  func testBlockedTCPUsesQUIC() throws {
    try startServer()
    try block("tcp")

    let client = try runClient(calls: 3, intervalMilliseconds: 100)

    XCTAssertEqual(client.status, 0, "echo-client failed:\n\(client.output)")
    XCTAssertEqual(client.outcomes, ["HTTP/3", "HTTP/3", "HTTP/3"], "every call goes over QUIC while TCP is blocked:\n\(client.output)")
    XCTAssertEqual(client.quicBrokenMarks, 0, "QUIC worked, so it is not marked broken:\n\(client.output)")
  }

  // MARK: Processes in the namespace

  /// A started process whose standard output and standard error go to `outputFile`.
  private struct RunningProcess {
    var process: Process
    var outputFile: URL

    var output: String {
      (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
    }

    /// Returns the exit status and output, with status -1 while the process still runs.
    func result() -> ClientRun {
      ClientRun(status: process.isRunning ? -1 : process.terminationStatus, output: output)
    }
  }

  /// The exit status and output of echo-client.
  private struct ClientRun {
    var status: Int32
    var output: String

    /// One entry per call in order: the HTTP version that served it (`HTTP/2`, `HTTP/3`), or
    /// `failed with CODE: message`. echo-client prints a line `get N: received ...; initial
    /// metadata: x-served-over=HTTP/3, ...` or `get N: failed with CODE: message` for each call.
    var outcomes: [String] {
      output.split(separator: "\n").compactMap { line -> String? in
        guard line.hasPrefix("get "), let colon = line.firstIndex(of: ":") else { return nil }
        let rest = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        if rest.hasPrefix("failed") { return rest }
        guard let served = rest.range(of: "x-served-over=") else { return "unknown: \(rest)" }
        return String(rest[served.upperBound...].prefix { $0 != "," && $0 != ";" && $0 != " " })
      }
    }

    /// The value of `tandem_broken_marks_total` for QUIC in the printed metrics, 0 when absent.
    var quicBrokenMarks: Double {
      for line in output.split(separator: "\n")
      where line.hasPrefix("tandem_broken_marks_total{") && line.contains("transport=\"quic\"") {
        if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { return value }
      }
      return 0
    }
  }

  private struct ProcessError: Error, CustomStringConvertible {
    var description: String
  }

  /// Starts echo-server on TCP and QUIC at `port` in the namespace and waits until it listens.
  private func startServer() throws {
    let certificate = try XCTUnwrap(certificate)
    let server = try startInNamespace(
      "echo-server",
      ["--host", "127.0.0.1", "--port", String(Self.port), "--transport", "both",
       "--tls-cert", certificate.certificatePath, "--tls-key", certificate.privateKeyPath])
    try waitForOutput(of: server, containing: "listening on")
  }

  /// Adds nft rules in the namespace that drop `protocolName` (`udp` or `tcp`) packets to and
  /// from the server's port.
  private func block(_ protocolName: String) throws {
    let namespace = try XCTUnwrap(namespace)
    let rules = try XCTUnwrap(workDirectory).appendingPathComponent("block-\(protocolName).nft")
    try """
      table inet tandem_test {
        chain input {
          type filter hook input priority filter; policy accept;
          \(protocolName) dport \(Self.port) drop
          \(protocolName) sport \(Self.port) drop
        }
      }

      """.write(to: rules, atomically: true, encoding: .utf8)
    let result = try runTool([ipPath, "netns", "exec", namespace, nftPath, "-f", rules.path])
    guard result.status == 0 else {
      throw ProcessError(description: "nft -f failed in namespace \(namespace) with status \(result.status): \(result.output)")
    }
  }

  /// Starts a hybrid echo-client in the namespace that makes `calls` get calls and prints its metrics.
  private func startClient(calls: Int, intervalMilliseconds: Int) throws -> RunningProcess {
    let certificate = try XCTUnwrap(certificate)
    // The 1 s QUIC idle timeout ends a QUIC handshake that receives no packets within 1 s.
    return try startInNamespace(
      "echo-client",
      ["--target", "127.0.0.1:\(Self.port)", "--ca", certificate.certificatePath, "--server-name", "localhost",
       "--transport", "hybrid", "--quic-idle-timeout", "1", "--timeout", "5",
       "--repeat", String(calls), "--interval-ms", String(intervalMilliseconds), "--print-metrics", "get", "hello"])
  }

  /// Runs a hybrid echo-client like ``startClient(calls:intervalMilliseconds:)`` and waits up to 30 s for it to exit.
  private func runClient(calls: Int, intervalMilliseconds: Int) throws -> ClientRun {
    let client = try startClient(calls: calls, intervalMilliseconds: intervalMilliseconds)
    guard Self.waitForExit(client.process, within: .seconds(30)) else {
      throw ProcessError(description: "echo-client did not exit within 30 s:\n\(client.output)")
    }
    return client.result()
  }

  private func startInNamespace(_ executable: String, _ arguments: [String]) throws -> RunningProcess {
    let namespace = try XCTUnwrap(namespace)
    let directory = try XCTUnwrap(workDirectory)
    let outputFile = directory.appendingPathComponent("\(executable)-\(processes.count).log")
    guard FileManager.default.createFile(atPath: outputFile.path, contents: nil) else {
      throw ProcessError(description: "cannot create the output file \(outputFile.path)")
    }
    let output = try FileHandle(forWritingTo: outputFile)
    defer { try? output.close() }

    let process = Process()
    process.executableURL = URL(fileURLWithPath: ipPath)
    process.arguments = ["netns", "exec", namespace, binaryDirectory.appendingPathComponent(executable).path] + arguments
    process.standardOutput = output
    process.standardError = output
    try process.run()
    processes.append(process)
    return RunningProcess(process: process, outputFile: outputFile)
  }

  /// Waits up to 10 s until the output of `running` contains `text`.
  private func waitForOutput(of running: RunningProcess, containing text: String) throws {
    let deadline = ContinuousClock.now + .seconds(10)
    while ContinuousClock.now < deadline {
      if running.output.contains(text) { return }
      guard running.process.isRunning else {
        throw ProcessError(description: "\(running.outputFile.lastPathComponent) exited before printing '\(text)':\n\(running.output)")
      }
      Thread.sleep(forTimeInterval: 0.05)
    }
    throw ProcessError(description: "\(running.outputFile.lastPathComponent) did not print '\(text)' within 10 s:\n\(running.output)")
  }

  /// Runs a short command to its end, or kills it after `limit`, and returns its status and output.
  private func runTool(_ command: [String], within limit: Duration = .seconds(10)) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: command[0])
    process.arguments = Array(command.dropFirst())
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    // The tools here print a few lines, well within a pipe's buffer, so reading after the exit cannot block them.
    guard Self.waitForExit(process, within: limit) else {
      kill(process.processIdentifier, SIGKILL)
      _ = Self.waitForExit(process, within: .seconds(2))
      throw ProcessError(description: "\(command.joined(separator: " ")) did not finish within \(limit)")
    }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }

  /// Returns whether `process` exited within `limit`.
  private static func waitForExit(_ process: Process, within limit: Duration) -> Bool {
    let deadline = ContinuousClock.now + limit
    while process.isRunning && ContinuousClock.now < deadline {
      Thread.sleep(forTimeInterval: 0.02)
    }
    return !process.isRunning
  }

  /// Returns the path of `name` in `PATH` or in the sbin folders, which `PATH` may leave out.
  private static func findExecutable(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    let folders = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
    return folders.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
  }
}
