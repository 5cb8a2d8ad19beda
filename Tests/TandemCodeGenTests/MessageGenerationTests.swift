import Foundation
import TandemProtobuf
import XCTest

@testable import TandemCodeGen

final class MessageGenerationTests: XCTestCase {
  static let messageProtos = ["message_naming.proto", "message_proto2.proto", "nopackage.proto"]

  func protoc() throws -> String {
    guard let path = MessageGenerationSupport.findExecutable("protoc") else {
      throw XCTSkip("protoc not found in PATH; install the Debian package protobuf-compiler")
    }
    return path
  }

  func generate(_ protos: [String], parameter: String = "") throws -> Google_Protobuf_Compiler_CodeGeneratorResponse {
    let request = try MessageGenerationSupport.makeRequest(protos: protos, parameter: parameter, protoc: protoc())
    return CodeGenerator.generate(request: request)
  }

  func source(_ response: Google_Protobuf_Compiler_CodeGeneratorResponse, _ name: String) -> String {
    response.file.first { $0.name == name }?.content ?? ""
  }

  /// Compiles `files` against the built TandemProtobuf module and returns the compiler output.
  func compile(_ files: [Google_Protobuf_Compiler_CodeGeneratorResponse.File], extraFlags: [String]) throws -> String {
    guard let modules = MessageGenerationSupport.moduleDirectory else {
      throw XCTSkip("TandemProtobuf.swiftmodule not found next to the test binary")
    }
    guard let swiftc = MessageGenerationSupport.findExecutable("swiftc") else {
      throw XCTSkip("swiftc not found in PATH")
    }
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-generated-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    var paths: [String] = []
    for file in files {
      let url = directory.appendingPathComponent(file.name.replacingOccurrences(of: "/", with: "_"))
      try Data(file.content.utf8).write(to: url)
      paths.append(url.path)
    }
    let result = try MessageGenerationSupport.run(swiftc, [
      "-c", "-wmo", "-parse-as-library", "-swift-version", "6", "-module-name", "GeneratedMessages",
      "-I", modules.path, "-o", directory.appendingPathComponent("out.o").path,
    ] + extraFlags + paths)
    XCTAssertEqual(result.status, 0, result.output)
    return result.output
  }

  func testGeneratedMessagesCompileWithoutWarnings() throws {
    let response = try generate(Self.messageProtos, parameter: "Services=false")
    XCTAssertFalse(response.hasError, response.error)
    XCTAssertEqual(response.file.count, 3)
    let output = try compile(response.file, extraFlags: [])
    XCTAssertFalse(output.contains("warning:"), output)
    XCTAssertFalse(output.contains("error:"), output)
  }

  func testGeneratedMessagesCompileWithMainActorDefaultIsolation() throws {
    let response = try generate(Self.messageProtos, parameter: "Services=false,Visibility=Public")
    // Code in the same main-actor module uses the messages from a nonisolated context and a task.
    var usage = Google_Protobuf_Compiler_CodeGeneratorResponse.File()
    usage.name = "usage.swift"
    usage.content = """
      import TandemProtobuf

      nonisolated func roundTrip(_ data: Foo_BarBaz_Data) throws -> Foo_BarBaz_Data {
        let bytes = try data.serializedBytes()
        return try Foo_BarBaz_Data(serializedBytes: bytes)
      }

      nonisolated func useInTask() async throws -> Int {
        let settings = P2Settings.with { $0.name = "n"; $0.level = .low }
        let task = Task.detached { try settings.serializedBytes().count }
        return try await task.value
      }

      func useOnMainActor() throws -> Bool {
        var message = Foo_BarBaz_class.with { $0.`class` = 1; $0.self_p = "s" }
        message.clearFoo()
        return try roundTrip(Foo_BarBaz_Data.with { $0.string = "x" }).string == "x" && !message.hasFoo
      }
      """
    let output = try compile(response.file + [usage], extraFlags: ["-default-isolation", "MainActor"])
    XCTAssertFalse(output.contains("warning:"), output)
    XCTAssertFalse(output.contains("error:"), output)
  }

  func testGeneratedMessagesCompileAsPackageVisibility() throws {
    let response = try generate(Self.messageProtos, parameter: "Services=false,Visibility=Package")
    XCTAssertTrue(source(response, "nopackage.tandem.swift").contains("package struct MessageMessage"))
    let output = try compile(response.file, extraFlags: ["-package-name", "GeneratedCheck"])
    XCTAssertFalse(output.contains("warning:"), output)
  }

  func testPluginBinaryMatchesInProcessGeneration() throws {
    guard let products = MessageGenerationSupport.productsDirectory else { throw XCTSkip("products directory not found") }
    let plugin = products.appendingPathComponent("protoc-gen-tandem").path
    guard FileManager.default.isExecutableFile(atPath: plugin) else {
      throw XCTSkip("protoc-gen-tandem is not built; run swift build first")
    }
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-plugin-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: output) }
    let result = try MessageGenerationSupport.run(try protoc(), [
      "--plugin=protoc-gen-tandem=\(plugin)", "-I", MessageGenerationSupport.protosDirectory.path,
      "--tandem_out=Services=false:\(output.path)",
    ] + Self.messageProtos)
    XCTAssertEqual(result.status, 0, result.output)
    let expected = try generate(Self.messageProtos, parameter: "Services=false")
    for file in expected.file {
      let written = try String(contentsOf: output.appendingPathComponent(file.name), encoding: .utf8)
      XCTAssertEqual(written, file.content, file.name)
    }
  }

  func testKeywordAndReservedNames() throws {
    let text = source(try generate(["message_naming.proto"], parameter: "Services=false"), "message_naming.tandem.swift")
    let expectedFragments = [
      "struct Foo_BarBaz_class: Sendable",
      "var `class`: Int32 = 0",
      "var `func`: String = \"\"",
      "var `default`: Int32 = 0",
      "var self_p: String",
      "var init_p: String",
      "var unknownFields_p: String",
      "var isInitialized_p: String",
      "var hashValue_p: String",
      "var description_p: String",
      "var hasFoo: Bool { self._foo != nil }",
      "mutating func clearFoo() { self._foo = nil }",
      "var hasFoo_p: Int32 = 0",
      "var clearFoo_p: Int32 = 0",
      "var userID: Int32 = 0",
      "struct TypeMessage: Sendable",
      "struct ProtocolMessage: Sendable",
      "struct SelfMessage: Sendable",
      "struct StringMessage: Sendable",
      "struct DataMessage: Sendable",
      "struct IntMessage: Sendable",
      "struct ErrorMessage: Sendable",
      "struct MessageMessage: Sendable",
      "struct WireDecoderMessage: Sendable",
      "struct UnknownFieldsMessage: Sendable",
      "struct SendableMessage: Sendable",
      "struct OptionalMessage: Sendable",
      "enum ResultEnum: TandemProtobuf.ProtobufEnum",
      "enum BoolEnum: TandemProtobuf.ProtobufEnum",
      "case `false` // = 0",
      "var switchCase: OneOf_SwitchCase? = nil",
      "case `internal`(Int32)",
      "var `fileprivate`: OneOf_Fileprivate? = nil",
      "struct Foo_BarBaz_Data: Sendable",
      "struct Foo_BarBaz_String: Sendable",
    ]
    for fragment in expectedFragments {
      XCTAssertTrue(text.contains(fragment), "missing: \(fragment)")
    }
  }

  func testEnumCaseNames() throws {
    let text = source(try generate(["message_naming.proto"], parameter: "Services=false"), "message_naming.tandem.swift")
    let expectedFragments = [
      "case unspecified // = 0", "case red // = 1", "case none // = 2", "case `default` // = 3",
      "case self_ // = 4", "case rawValue_ // = 5", "case allCases_ // = 6", "case unrecognized // = 7",
      "case init_ // = 8", "case `protocol` // = 10", "case `class` // = 11", "case darkBlue // = 12",
      "case UNRECOGNIZED(Int32)",
      // DIGITS_1 would strip to "1", so no value of Digits is stripped.
      "case digitsZero // = 0", "case digits1 // = 1",
      "static let alsoB = Foo_BarBaz_Aliased.b",
    ]
    for fragment in expectedFragments {
      XCTAssertTrue(text.contains(fragment), "missing: \(fragment)")
    }
  }

  func testNoPackageReservedTypeNamesGetSuffix() throws {
    let text = source(try generate(["nopackage.proto"]), "nopackage.tandem.swift")
    for fragment in ["struct MessageMessage", "struct StringMessage", "struct TypeMessage", "struct Int32Message", "enum OptionalEnum"] {
      XCTAssertTrue(text.contains(fragment), "missing: \(fragment)")
    }
  }

  func testProto2DefaultsAndSwiftPrefix() throws {
    let text = source(try generate(["message_proto2.proto"]), "message_proto2.tandem.swift")
    let expectedFragments = [
      "struct P2Settings: Sendable",
      "get { self._retries ?? 3 }",
      "get { self._inf ?? -Float.infinity }",
      "get { self._nan ?? Double.nan }",
      "get { self._magic ?? [0x0, 0x1, 0xff, 0x61, 0x62, 0x63] }",
      "get { self._quote ?? \"say \\\"hi\\\"\\t\\\\\" }",
      "get { self._level ?? P2Level.high }",
      "init?(rawValue: Int32)",
      "var fooBar_2: Int32",
      "var any_4: Int32",
      "var foo_8: Int32",
    ]
    for fragment in expectedFragments {
      XCTAssertTrue(text.contains(fragment), "missing: \(fragment)")
    }
    XCTAssertFalse(text.contains("UNRECOGNIZED"), "closed proto2 enums have no UNRECOGNIZED case")
  }

  func testRecursiveFieldsAreBoxed() throws {
    let text = source(try generate(["message_naming.proto"], parameter: "Services=false"), "message_naming.tandem.swift")
    XCTAssertTrue(text.contains("private var _selfRef: ProtobufBox<Foo_BarBaz_Data>? = nil"))
    XCTAssertTrue(text.contains("private var _back: ProtobufBox<Foo_BarBaz_Outer>? = nil"))
    XCTAssertTrue(text.contains("private var _inner: ProtobufBox<Foo_BarBaz_Outer.Middle.Inner>? = nil"))
    // Middle is reachable from Outer, but Outer -> Middle is the field that closes the cycle too.
    XCTAssertTrue(text.contains("private var _middle: ProtobufBox<Foo_BarBaz_Outer.Middle>? = nil"))
    // class.Type does not lead back to class.
    XCTAssertTrue(text.contains("private var _typeMessage: Foo_BarBaz_class.TypeMessage? = nil"))
  }

  func testBannerImportsAndComments() throws {
    let text = source(try generate(["message_proto2.proto"]), "message_proto2.tandem.swift")
    XCTAssertTrue(text.hasPrefix("// DO NOT EDIT.\n// Generated by protoc-gen-tandem from message_proto2.proto."))
    XCTAssertTrue(text.contains("\nimport TandemProtobuf\n"))
    XCTAssertFalse(text.contains("import TandemCore"))
    XCTAssertTrue(text.contains("/// Names that only collide after camel-casing, which proto3 rejects but proto2 allows.\n"))
    XCTAssertTrue(text.contains("nonisolated extension P2Settings: TandemProtobuf.ExtensibleMessage"))
  }

  func testProto3OptionalFeatureIsAdvertised() throws {
    let response = try generate(["nopackage.proto"])
    XCTAssertEqual(response.supportedFeatures, CodeGenerator.featureProto3Optional)
    XCTAssertEqual(response.supportedFeatures & 1, 1)
  }

  func testUnknownParameterIsRejected() throws {
    let response = try generate(["nopackage.proto"], parameter: "Visibility=Public,Colour=Blue")
    XCTAssertTrue(response.error.contains("'Colour'"), response.error)
    XCTAssertTrue(response.file.isEmpty)
  }

  func testInvalidParameterValues() {
    XCTAssertThrowsError(try GeneratorOptions(parameter: "Visibility=Open"))
    XCTAssertThrowsError(try GeneratorOptions(parameter: "Messages=yes"))
    XCTAssertThrowsError(try GeneratorOptions(parameter: "FileNaming=Flat"))
    XCTAssertThrowsError(try GeneratorOptions(parameter: "Visibility"))
  }

  func testParameterParsing() throws {
    let options = try GeneratorOptions(parameter: "Visibility=Public, Messages=false,Services=true,FileNaming=PathToUnderscores")
    XCTAssertEqual(options.visibility, .public)
    XCTAssertFalse(options.generateMessages)
    XCTAssertTrue(options.generateServices)
    XCTAssertEqual(options.fileNaming, .pathToUnderscores)
    XCTAssertEqual(try GeneratorOptions(parameter: ""), GeneratorOptions())
  }

  func testMessagesFalseOmitsTypes() throws {
    let text = source(try generate(["nopackage.proto"], parameter: "Messages=false"), "nopackage.tandem.swift")
    XCTAssertFalse(text.contains("struct"))
  }

  func testFileNamingFullPath() {
    let options = GeneratorOptions()
    XCTAssertEqual(options.outputFileName(forProto: "foo/bar.proto"), "foo/bar.tandem.swift")
  }

  func testFileNamingPathToUnderscoresIsInjective() throws {
    let options = try GeneratorOptions(parameter: "FileNaming=PathToUnderscores")
    XCTAssertEqual(options.outputFileName(forProto: "foo/bar_baz.proto"), "foo__bar_ubaz.tandem.swift")
    XCTAssertEqual(options.outputFileName(forProto: "foo_bar/baz.proto"), "foo_ubar__baz.tandem.swift")
    let paths = [
      "foo/bar_baz.proto", "foo_bar/baz.proto", "foo/bar/baz.proto", "foo_bar_baz.proto", "a_/b.proto", "a/_b.proto",
      "a__b.proto", "a/b.proto", "a_b.proto", "a//b.proto", "a_u.proto", "a/u.proto", "a_ub.proto",
    ]
    let names = paths.map { options.outputFileName(forProto: $0) }
    XCTAssertEqual(Set(names).count, paths.count, "\(names)")
  }

  func testSwiftTypeNameLookup() throws {
    let request = try MessageGenerationSupport.makeRequest(protos: ["message_naming.proto"], parameter: "", protoc: protoc())
    let generator = try CodeGenerator(request: request)
    XCTAssertEqual(generator.swiftTypeName(forProtoName: ".foo.bar_baz.Data"), "Foo_BarBaz_Data")
    XCTAssertEqual(generator.swiftTypeName(forProtoName: "foo.bar_baz.class.Type"), "Foo_BarBaz_class.TypeMessage")
    XCTAssertEqual(generator.swiftTypeName(forProtoName: ".foo.bar_baz.Outer.Middle.Inner"), "Foo_BarBaz_Outer.Middle.Inner")
    XCTAssertNil(generator.swiftTypeName(forProtoName: ".foo.bar_baz.Missing"))
  }

  func testServiceModelsForRenderer() throws {
    let request = try MessageGenerationSupport.makeRequest(protos: ["message_service.proto"], parameter: "", protoc: protoc())
    let generator = try CodeGenerator(request: request)
    let file = request.protoFile.first { $0.name == "message_service.proto" }!
    let models = try generator.serviceModels(file, comments: CommentTable(file.sourceCodeInfo))
    XCTAssertEqual(models.count, 1)
    let service = models[0]
    XCTAssertEqual(service.protoName, "echo.v1.Echo")
    XCTAssertEqual(service.swiftNamespace, "Echo_V1_Echo")
    XCTAssertEqual(service.comments, ["Echoes text back."])
    XCTAssertEqual(service.methods.map(\.protoName), ["Get", "Import", "Self", "get_all"])
    XCTAssertEqual(service.methods.map(\.swiftName), ["get", "`import`", "`self`", "getAll"])
    XCTAssertEqual(service.methods[0].inputSwiftType, "Echo_V1_EchoRequest")
    XCTAssertEqual(service.methods[0].outputSwiftType, "Echo_V1_EchoResponse")
    XCTAssertEqual(service.methods[0].comments, ["Returns the request text."])
    XCTAssertEqual(service.methods.map(\.clientStreaming), [false, true, false, true])
    XCTAssertEqual(service.methods.map(\.serverStreaming), [false, false, true, true])
  }

  func testServicesGoIntoTheMessageFile() throws {
    let text = source(try generate(["message_service.proto"]), "message_service.tandem.swift")
    XCTAssertTrue(text.contains("import TandemCore"))
    XCTAssertTrue(text.contains("struct Echo_V1_EchoRequest"))
    XCTAssertTrue(text.contains("Echo_V1_Echo"))
  }

  func testCheckedInRuntimeTestMessagesAreCurrent() throws {
    let testsRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent()
    let protos = testsRoot.appendingPathComponent("TandemProtobufTests/Protos")
    let generated = testsRoot.appendingPathComponent("TandemProtobufTests/Generated")
    for name in ["tandem_test", "tandem_test_proto2", "tandem_test_required", "tandem_test_naming"] {
      let request = try MessageGenerationSupport.makeRequest(
        protos: [name + ".proto"], parameter: "", protoc: protoc(), protosDirectory: protos)
      let response = CodeGenerator.generate(request: request)
      let checkedIn = try String(contentsOf: generated.appendingPathComponent(name + ".tandem.swift"), encoding: .utf8)
      XCTAssertEqual(response.file.first?.content, checkedIn, "\(name): run Tests/TandemProtobufTests/Protos/regenerate.sh")
    }
  }

  func testCheckedInDescriptorsAreCurrent() throws {
    let repository = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let include = URL(fileURLWithPath: "/usr/include")
    guard FileManager.default.fileExists(atPath: "/usr/include/google/protobuf/compiler/plugin.proto") else {
      throw XCTSkip("plugin.proto not found; install the Debian package libprotoc-dev")
    }
    for (proto, file) in [("google/protobuf/descriptor.proto", "descriptor"), ("google/protobuf/compiler/plugin.proto", "plugin")] {
      let request = try MessageGenerationSupport.makeRequest(
        protos: [proto], parameter: "Visibility=Public", protoc: protoc(), protosDirectory: include)
      let response = CodeGenerator.generate(request: request)
      let checkedIn = try String(
        contentsOf: repository.appendingPathComponent("Sources/TandemCodeGen/Descriptors/\(file).tandem.swift"), encoding: .utf8)
      let generated = response.file.first?.content ?? ""
      XCTAssertTrue(checkedIn.hasSuffix(generated), "\(file): run Tests/TandemCodeGenTests/Protos/regenerate-descriptors.sh")
    }
  }
}
