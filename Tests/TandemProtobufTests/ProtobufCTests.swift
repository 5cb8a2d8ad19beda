import Foundation
import TandemProtobuf
import XCTest

/// Round trips against protobuf-c 1.4, the C runtime, on Protos/protobufc_test.proto (proto3) and
/// Protos/protobufc_test_proto2.proto (proto2).
///
/// The test runs `protoc-c` on the two schemas and builds Interop/protobufc_peer.c with `gcc`
/// against `libprotobuf-c`. It is skipped when one of them is missing. Debian's
/// `protobuf-c-compiler` and `libprotobuf-c-dev` provide them, and scripts/setup.sh installs both.
///
/// Where the byte order is fixed the encodings must match byte for byte: both runtimes write fields
/// in field-number order. Maps are compared as values only, because a Swift dictionary has no
/// fixed order.
final class ProtobufCTests: XCTestCase {
  static let testsDirectory = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
  static let protoFiles = ["protobufc_test.proto", "protobufc_test_proto2.proto"]

  var workDirectory: URL!
  var peerPath: String!

  override func setUpWithError() throws {
    let protocC = try Self.findExecutable("protoc-c", package: "protobuf-c-compiler")
    let gcc = try Self.findExecutable("gcc", package: "gcc")
    guard FileManager.default.fileExists(atPath: "/usr/include/protobuf-c/protobuf-c.h") else {
      throw XCTSkip("/usr/include/protobuf-c/protobuf-c.h not found; install Debian's libprotobuf-c-dev")
    }

    workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-protobufc-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)

    let protos = Self.testsDirectory.appendingPathComponent("Protos").path
    try run(protocC, ["-I\(protos)", "--c_out=\(workDirectory.path)"] + Self.protoFiles.map { "\(protos)/\($0)" })

    peerPath = workDirectory.appendingPathComponent("protobufc_peer").path
    let cFiles = Self.protoFiles.map { workDirectory.appendingPathComponent($0.replacingOccurrences(of: ".proto", with: ".pb-c.c")).path }
    let source = Self.testsDirectory.appendingPathComponent("Interop/protobufc_peer.c").path
    try run(gcc, ["-O1", "-Wall", "-I\(workDirectory.path)", "-o", peerPath, source] + cFiles + ["-lprotobuf-c"])
  }

  override func tearDownWithError() throws {
    if let workDirectory {
      try? FileManager.default.removeItem(at: workDirectory)
    }
  }

  // MARK: - Tests

  /// Decodes and re-encodes random messages that protobuf-c encoded, then has protobuf-c decode ours.
  func testCMessagesRoundTrip() throws {
    let generated = try parseEntries(run(peerPath, ["generate", "150", "20261205"]))
    XCTAssertEqual(generated.count, 300)

    var decoded: [AnyMessageValue] = []
    var byteComparisons = 0
    var reencoded: [(name: String, bytes: [UInt8])] = []
    for (index, entry) in generated.enumerated() {
      let value = try AnyMessageValue(name: entry.name, bytes: entry.bytes)
      let bytes = try value.serializedBytes()
      if !value.containsMapEntries {
        byteComparisons += 1
        XCTAssertEqual(hexString(bytes), hexString(entry.bytes), "message \(index) (\(entry.name)) re-encoded differently")
      }
      decoded.append(value)
      reencoded.append((entry.name, bytes))
    }

    XCTAssertGreaterThan(byteComparisons, 60, "too few messages without map entries to compare bytes")

    let returned = try parseEntries(run(peerPath, ["reencode"], input: formatEntries(reencoded)))
    XCTAssertEqual(returned.count, decoded.count)
    for (index, (entry, original)) in zip(returned, decoded).enumerated() {
      XCTAssertEqual(try AnyMessageValue(name: entry.name, bytes: entry.bytes), original, "message \(index) (\(entry.name)) changed in protobuf-c")
    }
  }

  /// Encodes random messages, has protobuf-c decode and re-encode them, and decodes its bytes.
  func testSwiftMessagesRoundTrip() throws {
    var generator = SplitMix64(state: 20_261_205)
    var originals: [AnyMessageValue] = []
    for _ in 0..<150 {
      originals.append(.proto3(randomSample(&generator, depth: 0)))
      originals.append(.proto2(randomRecord(&generator, depth: 0)))
    }
    let entries = try originals.map { (name: $0.name, bytes: try $0.serializedBytes()) }

    let returned = try parseEntries(run(peerPath, ["reencode"], input: formatEntries(entries)))
    XCTAssertEqual(returned.count, originals.count)
    XCTAssertGreaterThan(originals.filter { !$0.containsMapEntries }.count, 60, "too few messages without map entries to compare bytes")
    for (index, (entry, original)) in zip(returned, originals).enumerated() {
      XCTAssertEqual(entry.name, original.name)
      XCTAssertEqual(try AnyMessageValue(name: entry.name, bytes: entry.bytes), original, "message \(index) changed in protobuf-c")
      if !original.containsMapEntries {
        XCTAssertEqual(hexString(entry.bytes), hexString(entries[index].bytes), "message \(index) re-encoded differently by protobuf-c")
      }
    }
  }

  /// Checks that unset proto2 fields with defaults are not written and that protobuf-c keeps them unset.
  func testProto2DefaultsStayUnset() throws {
    var record = Tandem_Pbc2_Record()
    record.id = 7
    let bytes = try record.serializedBytes()
    XCTAssertBytes(bytes, "08 07")

    let returned = try parseEntries(run(peerPath, ["reencode"], input: formatEntries([(Tandem_Pbc2_Record.protoMessageName, bytes)])))
    XCTAssertEqual(returned.count, 1)
    let decoded = try Tandem_Pbc2_Record(serializedBytes: returned.first?.bytes ?? [])
    XCTAssertFalse(decoded.hasSize)
    XCTAssertEqual(decoded.size, .medium)
    XCTAssertEqual(decoded.fString, "hi")
    XCTAssertEqual(decoded.fInt64, -9_000_000_000)
  }

  // MARK: - Random messages

  func randomSample(_ generator: inout SplitMix64, depth: Int) -> Tandem_Pbc3_Sample {
    var sample = Tandem_Pbc3_Sample()
    if Bool.random(using: &generator) { sample.fInt32 = Int32(truncatingIfNeeded: randomBits(&generator)) }
    if Bool.random(using: &generator) { sample.fInt64 = Int64(bitPattern: randomBits(&generator)) }
    if Bool.random(using: &generator) { sample.fUint32 = UInt32(truncatingIfNeeded: randomBits(&generator)) }
    if Bool.random(using: &generator) { sample.fUint64 = randomBits(&generator) }
    if Bool.random(using: &generator) { sample.fSint32 = Int32(truncatingIfNeeded: randomBits(&generator)) }
    if Bool.random(using: &generator) { sample.fSint64 = Int64(bitPattern: randomBits(&generator)) }
    if Bool.random(using: &generator) { sample.fFixed32 = UInt32(truncatingIfNeeded: randomBits(&generator)) }
    if Bool.random(using: &generator) { sample.fFixed64 = randomBits(&generator) }
    if Bool.random(using: &generator) { sample.fSfixed32 = Int32(truncatingIfNeeded: randomBits(&generator)) }
    if Bool.random(using: &generator) { sample.fSfixed64 = Int64(bitPattern: randomBits(&generator)) }
    if Bool.random(using: &generator) { sample.fFloat = randomFloat(&generator) }
    if Bool.random(using: &generator) { sample.fDouble = randomReal(&generator) }
    sample.fBool = Bool.random(using: &generator)
    sample.fString = randomString(&generator)
    sample.fBytes = randomBytes(&generator)
    sample.fShade = Tandem_Pbc3_Shade.allCases.randomElement(using: &generator)!
    if Bool.random(using: &generator) { sample.leaf = randomLeaf(&generator) }

    let count = { (generator: inout SplitMix64) in Int.random(in: 0...3, using: &generator) }
    sample.rInt32 = (0..<count(&generator)).map { _ in Int32(truncatingIfNeeded: randomBits(&generator)) }
    sample.rSint64 = (0..<count(&generator)).map { _ in Int64(bitPattern: randomBits(&generator)) }
    sample.rFixed32 = (0..<count(&generator)).map { _ in UInt32(truncatingIfNeeded: randomBits(&generator)) }
    sample.rDouble = (0..<count(&generator)).map { _ in randomReal(&generator) }
    sample.rBool = (0..<count(&generator)).map { _ in Bool.random(using: &generator) }
    sample.rShade = (0..<count(&generator)).map { _ in Tandem_Pbc3_Shade.allCases.randomElement(using: &generator)! }
    sample.rString = (0..<count(&generator)).map { _ in randomString(&generator) }
    sample.rBytes = (0..<count(&generator)).map { _ in randomBytes(&generator) }
    sample.rLeaf = (0..<count(&generator)).map { _ in randomLeaf(&generator) }
    sample.rUnpacked = (0..<count(&generator)).map { _ in randomBits(&generator) }
    // Maps stay empty in two messages of three, so that most messages have a fixed byte order.
    for _ in 0..<(Int.random(in: 0..<3, using: &generator) == 0 ? count(&generator) : 0) {
      sample.mStringInt32[randomString(&generator)] = Int32(truncatingIfNeeded: randomBits(&generator))
    }
    for _ in 0..<(Int.random(in: 0..<3, using: &generator) == 0 ? count(&generator) : 0) {
      sample.mInt32Leaf[Int32(truncatingIfNeeded: randomBits(&generator))] = randomLeaf(&generator)
    }

    switch Int.random(in: 0..<4, using: &generator) {
    case 0: sample.cInt = Int32(truncatingIfNeeded: randomBits(&generator))
    case 1: sample.cText = randomString(&generator)
    case 2: sample.cLeaf = randomLeaf(&generator)
    default: break
    }
    if depth < 2 && Int.random(in: 0..<3, using: &generator) == 0 {
      sample.child = randomSample(&generator, depth: depth + 1)
    }
    return sample
  }

  func randomLeaf(_ generator: inout SplitMix64) -> Tandem_Pbc3_Leaf {
    var leaf = Tandem_Pbc3_Leaf()
    leaf.id = Int32(truncatingIfNeeded: randomBits(&generator))
    leaf.name = randomString(&generator)
    leaf.data = randomBytes(&generator)
    return leaf
  }

  func randomRecord(_ generator: inout SplitMix64, depth: Int) -> Tandem_Pbc2_Record {
    var record = Tandem_Pbc2_Record()
    record.id = Int32(truncatingIfNeeded: randomBits(&generator))
    if Bool.random(using: &generator) { record.fInt64 = Int64(bitPattern: randomBits(&generator)) }
    if Bool.random(using: &generator) { record.fUint32 = UInt32(truncatingIfNeeded: randomBits(&generator)) }
    if Bool.random(using: &generator) { record.fSint32 = Int32(truncatingIfNeeded: randomBits(&generator)) }
    if Bool.random(using: &generator) { record.fFixed64 = randomBits(&generator) }
    if Bool.random(using: &generator) { record.fSfixed32 = Int32(truncatingIfNeeded: randomBits(&generator)) }
    // proto2 fields have presence, so zero and -0.0 are written and must survive as well.
    if Bool.random(using: &generator) { record.fFloat = Bool.random(using: &generator) ? -0.0 : Float(randomReal(&generator)) }
    if Bool.random(using: &generator) { record.fDouble = Bool.random(using: &generator) ? 0 : randomReal(&generator) }
    if Bool.random(using: &generator) { record.fBool = Bool.random(using: &generator) }
    if Bool.random(using: &generator) { record.fString = randomString(&generator) }
    if Bool.random(using: &generator) { record.fBytes = randomBytes(&generator) }
    if Bool.random(using: &generator) { record.size = Tandem_Pbc2_Size.allCases.randomElement(using: &generator)! }
    if Bool.random(using: &generator) { record.part = randomPart(&generator) }

    let count = { (generator: inout SplitMix64) in Int.random(in: 0...3, using: &generator) }
    record.unpacked = (0..<count(&generator)).map { _ in Int32(truncatingIfNeeded: randomBits(&generator)) }
    record.packed = (0..<count(&generator)).map { _ in Int64(bitPattern: randomBits(&generator)) }
    record.sizes = (0..<count(&generator)).map { _ in Tandem_Pbc2_Size.allCases.randomElement(using: &generator)! }
    record.names = (0..<count(&generator)).map { _ in randomString(&generator) }
    record.parts = (0..<count(&generator)).map { _ in randomPart(&generator) }
    // Maps stay empty in two messages of three, so that most messages have a fixed byte order.
    for _ in 0..<(Int.random(in: 0..<3, using: &generator) == 0 ? count(&generator) : 0) {
      record.partsByName[randomString(&generator)] = randomPart(&generator)
    }

    switch Int.random(in: 0..<4, using: &generator) {
    case 0: record.cInt = Int32(truncatingIfNeeded: randomBits(&generator))
    case 1: record.cText = randomString(&generator)
    case 2: record.cPart = randomPart(&generator)
    default: break
    }
    if depth < 2 && Int.random(in: 0..<3, using: &generator) == 0 {
      record.child = randomRecord(&generator, depth: depth + 1)
    }
    return record
  }

  func randomPart(_ generator: inout SplitMix64) -> Tandem_Pbc2_Part {
    var part = Tandem_Pbc2_Part()
    part.id = Int32(truncatingIfNeeded: randomBits(&generator))
    if Bool.random(using: &generator) { part.label = randomString(&generator) }
    return part
  }

  /// Values of every varint length and sign: small, negative, shifted and full 64-bit.
  func randomBits(_ generator: inout SplitMix64) -> UInt64 {
    switch Int.random(in: 0..<4, using: &generator) {
    case 0: return UInt64.random(in: 0..<300, using: &generator)
    case 1: return generator.next() >> UInt64.random(in: 0..<64, using: &generator)
    case 2: return 0 &- UInt64.random(in: 0..<300, using: &generator)
    default: return generator.next()
    }
  }

  /// Returns a finite, non-zero value, because proto3 encoders skip zero and NaN never compares equal.
  func randomReal(_ generator: inout SplitMix64) -> Double {
    let specials: [Double] = [0.5, -1.25, 1e300, -2.5e-300, 3.4e38, 1e-40, .infinity, -.infinity]
    if Bool.random(using: &generator) {
      return specials.randomElement(using: &generator)!
    }
    return Double(Int64(bitPattern: generator.next() | 1)) / 4096
  }

  /// Returns a non-zero float. A double such as -2.5e-300 rounds to -0.0, which proto3 encoders may skip.
  func randomFloat(_ generator: inout SplitMix64) -> Float {
    let value = Float(randomReal(&generator))
    return value == 0 ? 1 : value
  }

  /// Returns a string without U+0000, because protobuf-c stores strings NUL-terminated.
  func randomString(_ generator: inout SplitMix64) -> String {
    let pieces = ["a", "Z", "0", " ", "é", "€", "😀", "\\", "\""]
    return (0..<Int.random(in: 0..<8, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
  }

  func randomBytes(_ generator: inout SplitMix64) -> [UInt8] {
    (0..<Int.random(in: 0..<6, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
  }

  // MARK: - Processes and entry lines

  static func findExecutable(_ name: String, package: String) throws -> String {
    let searchPath = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in searchPath.split(separator: ":") {
      let candidate = "\(directory)/\(name)"
      if FileManager.default.isExecutableFile(atPath: candidate) {
        return candidate
      }
    }
    throw XCTSkip("\(name) not found in PATH; install Debian's \(package)")
  }

  /// Runs `executable` with `input` on standard input and returns its standard output, failing
  /// with the standard error text when it exits with a nonzero status.
  @discardableResult
  func run(_ executable: String, _ arguments: [String], input: String = "") throws -> String {
    let inputFile = workDirectory.appendingPathComponent("input-\(UUID().uuidString).txt")
    try Data(input.utf8).write(to: inputFile)
    defer { try? FileManager.default.removeItem(at: inputFile) }

    // Standard error goes to a file, so that only one pipe needs draining while the peer runs.
    let errorFile = workDirectory.appendingPathComponent("errors-\(UUID().uuidString).txt")
    try Data().write(to: errorFile)
    defer { try? FileManager.default.removeItem(at: errorFile) }

    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardInput = try FileHandle(forReadingFrom: inputFile)
    process.standardError = try FileHandle(forWritingTo: errorFile)
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      let message = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
      throw PeerFailure(description: "\(executable) \(arguments.joined(separator: " ")) exited with status \(process.terminationStatus): \(message)")
    }
    return String(decoding: outputData, as: UTF8.self)
  }

  func parseEntries(_ text: String) throws -> [(name: String, bytes: [UInt8])] {
    try text.split(separator: "\n").map { line in
      let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
      let digits = parts.count > 1 ? Array(parts[1].utf8) : []
      guard digits.count % 2 == 0 else {
        throw PeerFailure(description: "odd number of hex digits in peer output line: \(line.prefix(80))")
      }
      var bytes: [UInt8] = []
      bytes.reserveCapacity(digits.count / 2)
      for index in stride(from: 0, to: digits.count, by: 2) {
        guard let byte = UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16) else {
          throw PeerFailure(description: "invalid hex in peer output line: \(line.prefix(80))")
        }
        bytes.append(byte)
      }
      return (String(parts[0]), bytes)
    }
  }

  func formatEntries(_ entries: [(name: String, bytes: [UInt8])]) -> String {
    entries.map { entry in
      entry.name + " " + entry.bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() + "\n"
    }.joined()
  }
}

/// A message of either top-level type of the protobuf-c schemas.
enum AnyMessageValue: Equatable {
  case proto3(Tandem_Pbc3_Sample)
  case proto2(Tandem_Pbc2_Record)

  init(name: String, bytes: [UInt8]) throws {
    switch name {
    case Tandem_Pbc3_Sample.protoMessageName: self = .proto3(try Tandem_Pbc3_Sample(serializedBytes: bytes))
    case Tandem_Pbc2_Record.protoMessageName: self = .proto2(try Tandem_Pbc2_Record(serializedBytes: bytes))
    default: throw PeerFailure(description: "unknown message type '\(name)' in peer output")
    }
  }

  var name: String {
    switch self {
    case .proto3: return Tandem_Pbc3_Sample.protoMessageName
    case .proto2: return Tandem_Pbc2_Record.protoMessageName
    }
  }

  func serializedBytes() throws -> [UInt8] {
    switch self {
    case .proto3(let sample): return try sample.serializedBytes()
    case .proto2(let record): return try record.serializedBytes()
    }
  }

  /// Whether a map field anywhere in the message has entries, which makes the byte order unspecified.
  var containsMapEntries: Bool {
    switch self {
    case .proto3(let sample): return Self.containsMapEntries(sample)
    case .proto2(let record): return Self.containsMapEntries(record)
    }
  }

  static func containsMapEntries(_ sample: Tandem_Pbc3_Sample) -> Bool {
    if !sample.mStringInt32.isEmpty || !sample.mInt32Leaf.isEmpty {
      return true
    }
    return sample.hasChild && containsMapEntries(sample.child)
  }

  static func containsMapEntries(_ record: Tandem_Pbc2_Record) -> Bool {
    if !record.partsByName.isEmpty {
      return true
    }
    return record.hasChild && containsMapEntries(record.child)
  }
}

struct PeerFailure: Error, CustomStringConvertible {
  var description: String
}
