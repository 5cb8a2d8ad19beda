import Foundation
import TandemProtobuf
import XCTest

/// Differential test of the JSON mapping against Python protobuf's json_format (upb): JSON written
/// by one runtime must read back in the other as the message that the binary encoding carries.
///
/// The Python side is Interop/json_differential.py, run with the virtualenv at `<repository>/.venv`
/// (or the interpreter in `TANDEM_PYTHON`); the test is skipped when neither exists.
final class JSONDifferentialTests: XCTestCase {
  static let testsDirectory = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
  static let script = testsDirectory.appendingPathComponent("Interop/json_differential.py").path

  static let registry = JSONTypeRegistry([Tandem_Jsontest_Inner.self])
  var workDirectory: URL!

  override func setUpWithError() throws {
    workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-json-differential-\(UUID().uuidString)")
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

  /// Runs json_differential.py with `arguments` and fails the test when it exits with an error.
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
    XCTAssertEqual(process.terminationStatus, 0, "json_differential.py \(arguments.first ?? ""): \(output)")
  }

  func readEntries(_ url: URL) throws -> [(binary: [UInt8], json: String)] {
    try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { line in
      // An empty message has an empty hex column, so empty parts must be kept.
      let parts = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
      let hexText = Array(parts[0].utf8)
      var bytes: [UInt8] = []
      var index = 0
      while index + 1 < hexText.count {
        bytes.append(UInt8(String(decoding: hexText[index...index + 1], as: UTF8.self), radix: 16)!)
        index += 2
      }
      return (bytes, parts.count > 1 ? String(parts[1]) : "")
    }
  }

  func writeEntries(_ entries: [(binary: [UInt8], json: String)], to url: URL) throws {
    let lines = entries.map { entry in
      entry.binary.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() + "\t" + entry.json
    }
    try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
  }

  func testPythonJSONDecodesInSwift() throws {
    let pythonFile = workDirectory.appendingPathComponent("python.txt")
    try runScript(["generate", pythonFile.path, "300", "20261205"])
    let entries = try readEntries(pythonFile)
    XCTAssertEqual(entries.count, 300)
    let decoding = JSONDecodingOptions(typeRegistry: Self.registry)
    let encoding = JSONEncodingOptions(typeRegistry: Self.registry)
    var swiftEntries: [(binary: [UInt8], json: String)] = []
    for (index, entry) in entries.enumerated() {
      let fromBinary = try Tandem_Jsontest_Root(serializedBytes: entry.binary)
      let fromJSON = try Tandem_Jsontest_Root(jsonString: entry.json, options: decoding)
      XCTAssertTrue(fromJSON == fromBinary, "message \(index) decodes differently from JSON: \(entry.json)")
      swiftEntries.append((entry.binary, try fromBinary.jsonString(options: encoding)))
    }
    // Python must read Swift's JSON of the same messages back as the same messages.
    let swiftFile = workDirectory.appendingPathComponent("swift.txt")
    try writeEntries(swiftEntries, to: swiftFile)
    try runScript(["check", swiftFile.path])
  }

  func testSwiftJSONDecodesInPython() throws {
    var random = SplitMix64(state: 20_261_205)
    var entries: [(binary: [UInt8], json: String)] = []
    let encoding = JSONEncodingOptions(typeRegistry: Self.registry)
    let decoding = JSONDecodingOptions(typeRegistry: Self.registry)
    for _ in 0..<300 {
      let message = try RandomJSONMessages.root(&random)
      let json = try message.jsonString(options: encoding)
      let decoded = try Tandem_Jsontest_Root(jsonString: json, options: decoding)
      XCTAssertTrue(decoded == message, "JSON does not round-trip: \(json)")
      entries.append((try message.serializedBytes(), json))
    }
    let swiftFile = workDirectory.appendingPathComponent("swift.txt")
    try writeEntries(entries, to: swiftFile)
    try runScript(["check", swiftFile.path])
  }

  func testEmitDefaultsAndProtoNamesMatchPython() throws {
    var random = SplitMix64(state: 7)
    var entries: [(binary: [UInt8], json: String)] = []
    let options = JSONEncodingOptions(
      alwaysPrintFieldsWithoutPresence: true, preserveProtoFieldNames: true, alwaysPrintEnumsAsInts: true,
      typeRegistry: Self.registry)
    for _ in 0..<50 {
      let message = try RandomJSONMessages.root(&random)
      entries.append((try message.serializedBytes(), try message.jsonString(options: options)))
    }
    entries.append((try Tandem_Jsontest_Root().serializedBytes(), try Tandem_Jsontest_Root().jsonString(options: options)))
    let swiftFile = workDirectory.appendingPathComponent("swift.txt")
    try writeEntries(entries, to: swiftFile)
    try runScript(["check", swiftFile.path])
  }
}

/// Random messages of the JSON test schema. Floats are never NaN, because NaN fields make equal
/// messages compare unequal; `Value` numbers are always finite, because JSON cannot express others.
enum RandomJSONMessages {
  static func chance(_ random: inout SplitMix64) -> Bool { Bool.random(using: &random) }
  static func count(_ random: inout SplitMix64) -> Int { Int.random(in: 0...3, using: &random) }

  static func int32(_ random: inout SplitMix64) -> Int32 {
    chance(&random) ? [Int32.min, .max, 0, -1, 1].randomElement(using: &random)! : Int32.random(in: .min ... .max, using: &random)
  }

  static func int64(_ random: inout SplitMix64) -> Int64 {
    chance(&random) ? [Int64.min, .max, 0, 1 << 53 + 1].randomElement(using: &random)! : Int64.random(in: .min ... .max, using: &random)
  }

  static func uint64(_ random: inout SplitMix64) -> UInt64 { UInt64(bitPattern: int64(&random)) }
  static func uint32(_ random: inout SplitMix64) -> UInt32 { UInt32(bitPattern: int32(&random)) }

  static func float(_ random: inout SplitMix64) -> Float {
    [0, -0.0, 1.5, 0.1, .infinity, -.infinity, .greatestFiniteMagnitude, .leastNonzeroMagnitude,
     Float.random(in: -1e6...1e6, using: &random)].randomElement(using: &random)!
  }

  static func double(_ random: inout SplitMix64) -> Double {
    [0, -0.0, 0.1, 1e21, -.infinity, .infinity, .greatestFiniteMagnitude, .leastNonzeroMagnitude,
     Double.random(in: -1e9...1e9, using: &random)].randomElement(using: &random)!
  }

  static func string(_ random: inout SplitMix64) -> String {
    let alphabet: [Character] = ["a", "Z", "0", " ", "\"", "\\", "/", "é", "中", "😀", "\u{0}", "\n", "\u{1F}", "\u{2028}", "_"]
    return String((0..<Int.random(in: 0...10, using: &random)).map { _ in alphabet.randomElement(using: &random)! })
  }

  static func bytes(_ random: inout SplitMix64) -> [UInt8] {
    (0..<Int.random(in: 0...8, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
  }

  static func mood(_ random: inout SplitMix64) -> Tandem_Jsontest_Mood {
    chance(&random) ? Tandem_Jsontest_Mood.allCases.randomElement(using: &random)! : .UNRECOGNIZED([99, -5].randomElement(using: &random)!)
  }

  static func inner(_ random: inout SplitMix64) -> Tandem_Jsontest_Inner {
    var inner = Tandem_Jsontest_Inner()
    if chance(&random) { inner.id = int32(&random) }
    if chance(&random) { inner.note = string(&random) }
    return inner
  }

  static func value(_ random: inout SplitMix64, depth: Int) -> Google_Protobuf_Value {
    switch Int.random(in: 0...(depth > 0 ? 5 : 3), using: &random) {
    case 0: return nil
    case 1: return Google_Protobuf_Value(chance(&random))
    case 2: return Google_Protobuf_Value([0, -1.5, 1e21, 0.1, Double.random(in: -1e6...1e6, using: &random)].randomElement(using: &random)!)
    case 3: return Google_Protobuf_Value(string(&random))
    case 4: return Google_Protobuf_Value(Google_Protobuf_ListValue(values: (0..<count(&random)).map { _ in value(&random, depth: depth - 1) }))
    default:
      var fields: [String: Google_Protobuf_Value] = [:]
      for _ in 0..<count(&random) { fields[string(&random)] = value(&random, depth: depth - 1) }
      return Google_Protobuf_Value(Google_Protobuf_Struct(fields: fields))
    }
  }

  static func scalars(_ random: inout SplitMix64) -> Tandem_Jsontest_Scalars {
    var message = Tandem_Jsontest_Scalars()
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
    if chance(&random) { message.mood = mood(&random) }
    if chance(&random) { message.inner = inner(&random) }
    if chance(&random) { message.renamed = int32(&random) }
    return message
  }

  static func repeated(_ random: inout SplitMix64) -> Tandem_Jsontest_Repeated {
    var message = Tandem_Jsontest_Repeated()
    message.int32Values = (0..<count(&random)).map { _ in int32(&random) }
    message.int64Values = (0..<count(&random)).map { _ in int64(&random) }
    message.uint64Values = (0..<count(&random)).map { _ in uint64(&random) }
    message.floatValues = (0..<count(&random)).map { _ in float(&random) }
    message.doubleValues = (0..<count(&random)).map { _ in double(&random) }
    message.boolValues = (0..<count(&random)).map { _ in chance(&random) }
    message.stringValues = (0..<count(&random)).map { _ in string(&random) }
    message.bytesValues = (0..<count(&random)).map { _ in bytes(&random) }
    message.moods = (0..<count(&random)).map { _ in mood(&random) }
    message.inners = (0..<count(&random)).map { _ in inner(&random) }
    message.sint64Values = (0..<count(&random)).map { _ in int64(&random) }
    message.fixed32Values = (0..<count(&random)).map { _ in uint32(&random) }
    return message
  }

  static func maps(_ random: inout SplitMix64) -> Tandem_Jsontest_Maps {
    var message = Tandem_Jsontest_Maps()
    for _ in 0..<count(&random) {
      message.stringToInt32[string(&random)] = int32(&random)
      message.int32ToString[int32(&random)] = string(&random)
      message.int64ToInner[int64(&random)] = inner(&random)
      message.boolToBytes[chance(&random)] = bytes(&random)
      message.uint32ToMood[uint32(&random)] = mood(&random)
      message.uint64ToDouble[uint64(&random)] = double(&random)
      message.sint32ToFloat[int32(&random)] = float(&random)
      message.fixed64ToInt64[uint64(&random)] = int64(&random)
      message.stringToValue[string(&random)] = value(&random, depth: 2)
    }
    return message
  }

  static func presence(_ random: inout SplitMix64) -> Tandem_Jsontest_Presence {
    var message = Tandem_Jsontest_Presence()
    if chance(&random) { message.int32Value = chance(&random) ? 0 : int32(&random) }
    if chance(&random) { message.stringValue = chance(&random) ? "" : string(&random) }
    if chance(&random) { message.mood = chance(&random) ? .unspecified : mood(&random) }
    if chance(&random) { message.doubleValue = chance(&random) ? 0 : double(&random) }
    switch Int.random(in: 0..<7, using: &random) {
    case 0: message.choiceInt = int32(&random)
    case 1: message.choiceString = string(&random)
    case 2: message.choiceInner = inner(&random)
    case 3: message.choiceMood = mood(&random)
    case 4: message.choiceNull = .nullValue
    case 5: message.choiceValue = value(&random, depth: 2)
    default: break
    }
    return message
  }

  static func timestamp(_ random: inout SplitMix64) throws -> Google_Protobuf_Timestamp {
    let seconds = [-62_135_596_800, 253_402_300_799, 0, Int64.random(in: -62_135_596_800...253_402_300_799, using: &random)]
      .randomElement(using: &random)!
    let nanos = [0, 1_000_000, 1000, 1, 999_999_999, Int32.random(in: 0...999_999_999, using: &random)].randomElement(using: &random)!
    return try Google_Protobuf_Timestamp(seconds: seconds, nanos: nanos)
  }

  static func wellKnown(_ random: inout SplitMix64) throws -> Tandem_Jsontest_WellKnown {
    var message = Tandem_Jsontest_WellKnown()
    if chance(&random) { message.timestamp = try timestamp(&random) }
    if chance(&random) {
      let seconds = Int64.random(in: 0...315_576_000_000, using: &random)
      let nanos = [0, 500_000_000, 1000, 7, Int32.random(in: 0...999_999_999, using: &random)].randomElement(using: &random)!
      message.duration = chance(&random) ? try Google_Protobuf_Duration(seconds: seconds, nanos: nanos)
        : try Google_Protobuf_Duration(seconds: -seconds, nanos: -nanos)
    }
    if chance(&random) {
      switch Int.random(in: 0..<4, using: &random) {
      case 0: message.any = try Google_Protobuf_Any(message: inner(&random))
      case 1: message.any = try Google_Protobuf_Any(message: timestamp(&random))
      // Depth 0 keeps maps out of the payload: map order makes the packed bytes, and so the Any,
      // differ between encodings of equal messages.
      case 2: message.any = try Google_Protobuf_Any(message: value(&random, depth: 0))
      default: message.any = try Google_Protobuf_Any(message: Google_Protobuf_Int64Value(int64(&random)))
      }
    }
    if chance(&random) { message.struct = Google_Protobuf_Struct(fields: ["k": value(&random, depth: 2), string(&random): value(&random, depth: 1)]) }
    if chance(&random) { message.value = value(&random, depth: 2) }
    if chance(&random) { message.listValue = Google_Protobuf_ListValue(values: [value(&random, depth: 1)]) }
    if chance(&random) { message.fieldMask = Google_Protobuf_FieldMask(paths: ["foo_bar.baz_qux", "a", "x1.y2"].shuffled(using: &random)) }
    if chance(&random) { message.empty = Google_Protobuf_Empty() }
    if chance(&random) { message.boolWrapper = Google_Protobuf_BoolValue(chance(&random)) }
    if chance(&random) { message.int32Wrapper = Google_Protobuf_Int32Value(int32(&random)) }
    if chance(&random) { message.int64Wrapper = Google_Protobuf_Int64Value(int64(&random)) }
    if chance(&random) { message.uint32Wrapper = Google_Protobuf_UInt32Value(uint32(&random)) }
    if chance(&random) { message.uint64Wrapper = Google_Protobuf_UInt64Value(uint64(&random)) }
    if chance(&random) { message.floatWrapper = Google_Protobuf_FloatValue(float(&random)) }
    if chance(&random) { message.doubleWrapper = Google_Protobuf_DoubleValue(double(&random)) }
    if chance(&random) { message.stringWrapper = Google_Protobuf_StringValue(string(&random)) }
    if chance(&random) { message.bytesWrapper = Google_Protobuf_BytesValue(bytes(&random)) }
    message.timestamps = try (0..<count(&random)).map { _ in try timestamp(&random) }
    message.anys = try (0..<count(&random)).map { _ in try Google_Protobuf_Any(message: inner(&random)) }
    message.values = (0..<count(&random)).map { _ in value(&random, depth: 1) }
    message.int64Wrappers = (0..<count(&random)).map { _ in Google_Protobuf_Int64Value(int64(&random)) }
    return message
  }

  static func tree(_ random: inout SplitMix64, depth: Int) -> Tandem_Jsontest_Tree {
    var message = Tandem_Jsontest_Tree()
    if chance(&random) { message.depth = int32(&random) }
    guard depth > 0 else { return message }
    if chance(&random) { message.child = tree(&random, depth: depth - 1) }
    message.children = (0..<count(&random)).map { _ in tree(&random, depth: depth - 1) }
    return message
  }

  static func legacy(_ random: inout SplitMix64) -> Tandem_Jsontest2_Legacy {
    var message = Tandem_Jsontest2_Legacy()
    if chance(&random) { message.count = chance(&random) ? 7 : int32(&random) }
    if chance(&random) { message.label = string(&random) }
    if chance(&random) { message.shade = Tandem_Jsontest2_Shade.allCases.randomElement(using: &random)! }
    message.shades = (0..<count(&random)).map { _ in Tandem_Jsontest2_Shade.allCases.randomElement(using: &random)! }
    if chance(&random) {
      var block = Tandem_Jsontest2_Legacy.Block()
      if chance(&random) { block.weight = int64(&random) }
      message.block = block
    }
    for _ in 0..<count(&random) {
      message.shadeByName[string(&random)] = Tandem_Jsontest2_Shade.allCases.randomElement(using: &random)!
    }
    if chance(&random) { message.data = bytes(&random) }
    return message
  }

  static func root(_ random: inout SplitMix64) throws -> Tandem_Jsontest_Root {
    var message = Tandem_Jsontest_Root()
    if chance(&random) { message.scalars = scalars(&random) }
    if chance(&random) { message.repeated = repeated(&random) }
    if chance(&random) { message.maps = maps(&random) }
    if chance(&random) { message.presence = presence(&random) }
    if chance(&random) { message.wellKnown = try wellKnown(&random) }
    if chance(&random) { message.tree = tree(&random, depth: 3) }
    if chance(&random) { message.legacy = legacy(&random) }
    return message
  }
}
