import Foundation
import TandemProtobuf
import XCTest

/// Differential test against Python protobuf (upb): random messages of the test schema encoded by
/// one runtime must decode to the same message in the other, in both directions.
///
/// The Python side is Interop/differential.py, run with the virtualenv at `<repository>/.venv`
/// (or the interpreter in `TANDEM_PYTHON`). The test is skipped when neither exists; create the
/// virtualenv with `python3 -m venv .venv && .venv/bin/pip install protobuf grpcio-tools`.
final class DifferentialTests: XCTestCase {
  static let testsDirectory = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
  static let script = testsDirectory.appendingPathComponent("Interop/differential.py").path

  var workDirectory: URL!

  override func setUpWithError() throws {
    workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-differential-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: workDirectory)
  }

  func python() throws -> String {
    if let configured = ProcessInfo.processInfo.environment["TANDEM_PYTHON"] {
      return configured
    }
    let repository = Self.testsDirectory.deletingLastPathComponent().deletingLastPathComponent()
    let venvPython = repository.appendingPathComponent(".venv/bin/python").path
    guard FileManager.default.isExecutableFile(atPath: venvPython) else {
      throw XCTSkip(
        "Python virtualenv not found at \(venvPython); create it with `python3 -m venv .venv && "
          + ".venv/bin/pip install protobuf grpcio-tools` or set TANDEM_PYTHON")
    }
    return venvPython
  }

  /// Runs differential.py with `arguments` and fails the test when it exits with an error.
  func runScript(_ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try python())
    process.arguments = [Self.script] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    XCTAssertEqual(process.terminationStatus, 0, "differential.py \(arguments.first ?? ""): \(output)")
  }

  func readEntries(_ url: URL) throws -> [(name: String, bytes: [UInt8])] {
    try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { line in
      let parts = line.split(separator: " ", maxSplits: 1)
      let hexText = parts.count > 1 ? Array(parts[1].utf8) : []
      var bytes: [UInt8] = []
      bytes.reserveCapacity(hexText.count / 2)
      var index = 0
      while index + 1 < hexText.count {
        bytes.append(UInt8(String(decoding: hexText[index...index + 1], as: UTF8.self), radix: 16)!)
        index += 2
      }
      return (String(parts[0]), bytes)
    }
  }

  func writeEntries(_ entries: [(name: String, bytes: [UInt8])], to url: URL) throws {
    let text = entries.map { "\($0.name) \($0.bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined())" }
    try Data((text.joined(separator: "\n") + "\n").utf8).write(to: url)
  }

  func reencode(name: String, bytes: [UInt8]) throws -> [UInt8] {
    switch name {
    case Tandem_Test_Everything.protoMessageName:
      let message = try Tandem_Test_Everything(serializedBytes: bytes)
      let again = try message.serializedBytes()
      XCTAssertEqual(try Tandem_Test_Everything(serializedBytes: again), message)
      return again
    case Tandem_Test2_Proto2.protoMessageName:
      let message = try Tandem_Test2_Proto2(serializedBytes: bytes)
      let again = try message.serializedBytes()
      XCTAssertEqual(try Tandem_Test2_Proto2(serializedBytes: again), message)
      return again
    default:
      XCTFail("unexpected message type \(name)")
      return []
    }
  }

  func testPythonEncodedMessagesDecodeInSwift() throws {
    let pythonFile = workDirectory.appendingPathComponent("python.txt")
    let swiftFile = workDirectory.appendingPathComponent("swift.txt")
    try runScript(["generate", pythonFile.path, "400", "20261204"])
    let entries = try readEntries(pythonFile)
    XCTAssertEqual(entries.count, 400)
    var reencoded: [(name: String, bytes: [UInt8])] = []
    for entry in entries {
      reencoded.append((entry.name, try reencode(name: entry.name, bytes: entry.bytes)))
    }
    try writeEntries(reencoded, to: swiftFile)
    try runScript(["compare", pythonFile.path, swiftFile.path])
  }

  func testSwiftEncodedMessagesDecodeInPython() throws {
    var random = SplitMix64(state: 20_261_204)
    var everything: [Tandem_Test_Everything] = []
    var proto2: [Tandem_Test2_Proto2] = []
    var entries: [(name: String, bytes: [UInt8])] = []
    for _ in 0..<200 {
      let first = RandomMessages.everything(&random)
      everything.append(first)
      entries.append((Tandem_Test_Everything.protoMessageName, try first.serializedBytes()))
      let second = RandomMessages.proto2(&random, depth: 2)
      proto2.append(second)
      entries.append((Tandem_Test2_Proto2.protoMessageName, try second.serializedBytes()))
    }
    let swiftFile = workDirectory.appendingPathComponent("swift.txt")
    let pythonFile = workDirectory.appendingPathComponent("python.txt")
    try writeEntries(entries, to: swiftFile)
    try runScript(["reencode", swiftFile.path, pythonFile.path])
    let decoded = try readEntries(pythonFile)
    XCTAssertEqual(decoded.count, entries.count)
    for (index, entry) in decoded.enumerated() {
      if index % 2 == 0 {
        XCTAssertEqual(try Tandem_Test_Everything(serializedBytes: entry.bytes), everything[index / 2], "message \(index)")
      } else {
        XCTAssertEqual(try Tandem_Test2_Proto2(serializedBytes: entry.bytes), proto2[index / 2], "message \(index)")
      }
    }
  }
}

/// Random messages of the test schema. Floats are finite or infinite but never NaN, because NaN
/// fields make equal messages compare unequal.
enum RandomMessages {
  static func chance(_ random: inout SplitMix64) -> Bool { Bool.random(using: &random) }

  static func int32(_ random: inout SplitMix64) -> Int32 {
    switch Int.random(in: 0..<4, using: &random) {
    case 0: [Int32.min, .max, 0, -1, 1].randomElement(using: &random)!
    case 1: Int32.random(in: -300...300, using: &random)
    default: Int32.random(in: .min ... .max, using: &random)
    }
  }

  static func int64(_ random: inout SplitMix64) -> Int64 {
    chance(&random) ? Int64(int32(&random)) : Int64.random(in: .min ... .max, using: &random)
  }

  static func uint32(_ random: inout SplitMix64) -> UInt32 { UInt32(truncatingIfNeeded: int32(&random)) }
  static func uint64(_ random: inout SplitMix64) -> UInt64 { UInt64(bitPattern: int64(&random)) }

  static func float(_ random: inout SplitMix64) -> Float {
    [0, -0.0, 1.5, .infinity, -.greatestFiniteMagnitude, .leastNonzeroMagnitude, Float.random(in: -1e6...1e6, using: &random)]
      .randomElement(using: &random)!
  }

  static func double(_ random: inout SplitMix64) -> Double {
    [0, -0.0, 2.5, -.infinity, .greatestFiniteMagnitude, .leastNonzeroMagnitude, Double.random(in: -1e9...1e9, using: &random)]
      .randomElement(using: &random)!
  }

  static func string(_ random: inout SplitMix64) -> String {
    let alphabet: [Character] = ["a", "Z", "0", " ", "é", "中", "😀", "\u{0}", "\n", "_"]
    return String((0..<Int.random(in: 0...10, using: &random)).map { _ in alphabet.randomElement(using: &random)! })
  }

  static func bytes(_ random: inout SplitMix64) -> [UInt8] {
    (0..<Int.random(in: 0...8, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
  }

  static func color(_ random: inout SplitMix64) -> Tandem_Test_Color {
    chance(&random) ? Tandem_Test_Color.allCases.randomElement(using: &random)! : .UNRECOGNIZED([99, -5, .max].randomElement(using: &random)!)
  }

  static func count(_ random: inout SplitMix64) -> Int { Int.random(in: 0...3, using: &random) }

  static func scalars(_ random: inout SplitMix64) -> Tandem_Test_Scalars {
    var message = Tandem_Test_Scalars()
    if chance(&random) { message.int32Value = int32(&random) }
    if chance(&random) { message.int64Value = int64(&random) }
    if chance(&random) { message.uint32Value = uint32(&random) }
    if chance(&random) { message.uint64Value = uint64(&random) }
    if chance(&random) { message.sint32Value = int32(&random) }
    if chance(&random) { message.sint64Value = int64(&random) }
    if chance(&random) { message.fixed32Value = uint32(&random) }
    if chance(&random) { message.fixed64Value = uint64(&random) }
    if chance(&random) { message.sfixed32Value = int32(&random) }
    if chance(&random) { message.sfixed64Value = int64(&random) }
    if chance(&random) { message.floatValue = float(&random) }
    if chance(&random) { message.doubleValue = double(&random) }
    if chance(&random) { message.boolValue = chance(&random) }
    if chance(&random) { message.stringValue = string(&random) }
    if chance(&random) { message.bytesValue = bytes(&random) }
    if chance(&random) { message.color = color(&random) }
    if Int.random(in: 0..<4, using: &random) == 0 {
      // Unknown varint field 100 and length-delimited field 101.
      message.unknownFields = UnknownFields(bytes: [0xA0, 0x06, UInt8.random(in: 0...127, using: &random), 0xAA, 0x06, 0x01, 0x7A])
    }
    return message
  }

  static func repeated(_ random: inout SplitMix64) -> Tandem_Test_Repeated {
    var message = Tandem_Test_Repeated()
    message.int32Values = (0..<count(&random)).map { _ in int32(&random) }
    message.int64Values = (0..<count(&random)).map { _ in int64(&random) }
    message.uint32Values = (0..<count(&random)).map { _ in uint32(&random) }
    message.uint64Values = (0..<count(&random)).map { _ in uint64(&random) }
    message.sint32Values = (0..<count(&random)).map { _ in int32(&random) }
    message.sint64Values = (0..<count(&random)).map { _ in int64(&random) }
    message.fixed32Values = (0..<count(&random)).map { _ in uint32(&random) }
    message.fixed64Values = (0..<count(&random)).map { _ in uint64(&random) }
    message.sfixed32Values = (0..<count(&random)).map { _ in int32(&random) }
    message.sfixed64Values = (0..<count(&random)).map { _ in int64(&random) }
    message.floatValues = (0..<count(&random)).map { _ in float(&random) }
    message.doubleValues = (0..<count(&random)).map { _ in double(&random) }
    message.boolValues = (0..<count(&random)).map { _ in chance(&random) }
    message.stringValues = (0..<count(&random)).map { _ in string(&random) }
    message.bytesValues = (0..<count(&random)).map { _ in bytes(&random) }
    message.colors = (0..<count(&random)).map { _ in color(&random) }
    message.messages = (0..<count(&random)).map { _ in scalars(&random) }
    message.unpackedInt32Values = (0..<count(&random)).map { _ in int32(&random) }
    message.unpackedColors = (0..<count(&random)).map { _ in color(&random) }
    message.unpackedDoubleValues = (0..<count(&random)).map { _ in double(&random) }
    return message
  }

  static func maps(_ random: inout SplitMix64) -> Tandem_Test_Maps {
    var message = Tandem_Test_Maps()
    for _ in 0..<count(&random) {
      message.stringToInt32[string(&random)] = int32(&random)
      message.int32ToString[int32(&random)] = string(&random)
      message.int64ToMessage[int64(&random)] = scalars(&random)
      message.boolToBytes[chance(&random)] = bytes(&random)
      message.uint32ToColor[uint32(&random)] = color(&random)
      message.sint64ToDouble[int64(&random)] = double(&random)
      message.fixed32ToFloat[uint32(&random)] = float(&random)
      message.sfixed64ToInt64[int64(&random)] = int64(&random)
      message.uint64ToUint64[uint64(&random)] = uint64(&random)
      message.sint32ToSfixed32[int32(&random)] = int32(&random)
      message.fixed64ToFixed64[uint64(&random)] = uint64(&random)
      message.sfixed32ToBool[int32(&random)] = chance(&random)
    }
    return message
  }

  static func optionals(_ random: inout SplitMix64) -> Tandem_Test_Optionals {
    var message = Tandem_Test_Optionals()
    if chance(&random) { message.int32Value = chance(&random) ? 0 : int32(&random) }
    if chance(&random) { message.stringValue = chance(&random) ? "" : string(&random) }
    if chance(&random) { message.color = chance(&random) ? .unspecified : color(&random) }
    if chance(&random) { message.message = chance(&random) ? Tandem_Test_Scalars() : scalars(&random) }
    if chance(&random) { message.doubleValue = chance(&random) ? 0 : double(&random) }
    if chance(&random) { message.bytesValue = chance(&random) ? [] : bytes(&random) }
    return message
  }

  static func oneofs(_ random: inout SplitMix64) -> Tandem_Test_Oneofs {
    var message = Tandem_Test_Oneofs()
    switch Int.random(in: 0..<7, using: &random) {
    case 0: message.number = int32(&random)
    case 1: message.text = string(&random)
    case 2: message.message = scalars(&random)
    case 3: message.color = color(&random)
    case 4: message.data = bytes(&random)
    case 5: message.real = double(&random)
    default: break
    }
    if chance(&random) { message.after = string(&random) }
    return message
  }

  static func recursive(_ random: inout SplitMix64, depth: Int) -> Tandem_Test_Recursive {
    var message = Tandem_Test_Recursive()
    if chance(&random) { message.depth = int32(&random) }
    guard depth > 0 else { return message }
    if chance(&random) { message.child = recursive(&random, depth: depth - 1) }
    message.children = (0..<count(&random)).map { _ in recursive(&random, depth: depth - 1) }
    switch Int.random(in: 0..<3, using: &random) {
    case 0: message.left = recursive(&random, depth: depth - 1)
    case 1: message.leaf = int32(&random)
    default: break
    }
    for _ in 0..<count(&random) {
      message.named[string(&random)] = recursive(&random, depth: depth - 1)
    }
    return message
  }

  static func everything(_ random: inout SplitMix64) -> Tandem_Test_Everything {
    var message = Tandem_Test_Everything()
    if chance(&random) { message.scalars = scalars(&random) }
    if chance(&random) { message.repeated = repeated(&random) }
    if chance(&random) { message.maps = maps(&random) }
    if chance(&random) { message.optionals = optionals(&random) }
    if chance(&random) { message.oneofs = oneofs(&random) }
    if chance(&random) { message.recursive = recursive(&random, depth: 3) }
    if chance(&random) { message.ping.pong.ping.value = int32(&random) }
    return message
  }

  static func size(_ random: inout SplitMix64) -> Tandem_Test2_Size {
    Tandem_Test2_Size.allCases.randomElement(using: &random)!
  }

  static func defaults(_ random: inout SplitMix64) -> Tandem_Test2_Defaults {
    var message = Tandem_Test2_Defaults()
    if chance(&random) { message.int32Value = int32(&random) }
    if chance(&random) { message.int64Value = int64(&random) }
    if chance(&random) { message.uint32Value = uint32(&random) }
    if chance(&random) { message.uint64Value = uint64(&random) }
    if chance(&random) { message.sint32Value = int32(&random) }
    if chance(&random) { message.sint64Value = int64(&random) }
    if chance(&random) { message.fixed32Value = uint32(&random) }
    if chance(&random) { message.fixed64Value = uint64(&random) }
    if chance(&random) { message.sfixed32Value = int32(&random) }
    if chance(&random) { message.sfixed64Value = int64(&random) }
    if chance(&random) { message.floatValue = float(&random) }
    if chance(&random) { message.doubleValue = double(&random) }
    if chance(&random) { message.nanValue = double(&random) }
    if chance(&random) { message.boolValue = chance(&random) }
    if chance(&random) { message.stringValue = string(&random) }
    if chance(&random) { message.bytesValue = bytes(&random) }
    if chance(&random) { message.size = size(&random) }
    if chance(&random) { message.infFloat = float(&random) }
    return message
  }

  static func proto2(_ random: inout SplitMix64, depth: Int) -> Tandem_Test2_Proto2 {
    var message = Tandem_Test2_Proto2()
    message.id = int32(&random)
    if chance(&random) { message.defaults = defaults(&random) }
    message.unpacked = (0..<count(&random)).map { _ in int32(&random) }
    message.packed = (0..<count(&random)).map { _ in int32(&random) }
    message.sizes = (0..<count(&random)).map { _ in size(&random) }
    message.packedSizes = (0..<count(&random)).map { _ in size(&random) }
    if chance(&random) {
      if chance(&random) { message.data.a = int32(&random) }
      if chance(&random) { message.data.b = string(&random) }
      if !message.hasData { message.data = Tandem_Test2_Proto2.DataMessage() }
    }
    message.item = (0..<count(&random)).map { _ in
      var item = Tandem_Test2_Proto2.Item()
      if chance(&random) { item.value = int32(&random) }
      return item
    }
    for _ in 0..<count(&random) {
      message.counts[string(&random)] = int32(&random)
      message.levels[int32(&random)] = Tandem_Test2_Level.allCases.randomElement(using: &random)!
    }
    switch Int.random(in: 0..<3, using: &random) {
    case 0: message.choiceInt = int32(&random)
    case 1: message.choiceString = string(&random)
    default: break
    }
    if chance(&random) { message.size = size(&random) }
    if depth > 0 && chance(&random) { message.child = proto2(&random, depth: depth - 1) }
    return message
  }
}
