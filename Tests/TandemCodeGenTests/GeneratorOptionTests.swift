import Foundation
import TandemProtobuf
import XCTest

@testable import TandemCodeGen

/// Module mappings, service names that clash with messages, and generation of every proto that
/// Debian's protobuf packages install.
final class GeneratorOptionTests: XCTestCase {
  func protoc() throws -> String {
    guard let path = MessageGenerationSupport.findExecutable("protoc") else {
      throw XCTSkip("protoc not found in PATH; install the Debian package protobuf-compiler")
    }
    return path
  }

  func swiftc() throws -> String {
    guard let path = MessageGenerationSupport.findExecutable("swiftc") else { throw XCTSkip("swiftc not found in PATH") }
    return path
  }

  func modules() throws -> URL {
    guard let modules = MessageGenerationSupport.moduleDirectory else {
      throw XCTSkip("TandemProtobuf.swiftmodule not found next to the test binary")
    }
    return modules
  }

  func temporaryDirectory() throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-options-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
    return directory
  }

  func generate(_ protos: [String], parameter: String) throws -> Google_Protobuf_Compiler_CodeGeneratorResponse {
    let request = try MessageGenerationSupport.makeRequest(protos: protos, parameter: parameter, protoc: protoc())
    return CodeGenerator.generate(request: request)
  }

  /// Writes `files` into `directory` and returns their paths.
  func write(_ files: [Google_Protobuf_Compiler_CodeGeneratorResponse.File], to directory: URL) throws -> [String] {
    try files.map { file in
      let url = directory.appendingPathComponent(file.name.replacingOccurrences(of: "/", with: "_"))
      try Data(file.content.utf8).write(to: url)
      return url.path
    }
  }

  // MARK: Module mappings

  func testMappingsFileParses() throws {
    let text = """
      # Comment line.
      mapping {
        module_name: "Base"
        proto_file_path: "mapped/base.proto"
        proto_file_path: 'mapped/more.proto'
      }
      mapping { module_name: "Other", proto_file_path: "x.proto" }
      """
    XCTAssertEqual(
      try ModuleMappingsFile.parse(text),
      ["mapped/base.proto": "Base", "mapped/more.proto": "Base", "x.proto": "Other"])
  }

  func testMappingsFileErrorsNameTheLine() {
    let cases: [(String, String)] = [
      ("mapping {\n  module: \"A\"\n}", "module mappings line 2: unknown field 'module'"),
      ("mapping {\n  proto_file_path: \"a.proto\"\n}", "module mappings line 1: mapping has no module_name"),
      ("mapping {\n  module_name: \"A\"\n", "module mappings: missing '}' for the mapping that starts on line 1"),
      ("mapping {\n  module_name: \"A-B\"\n}", "invalid module name 'A-B' on module mappings line 1"),
      ("mapping { module_name: \"A\" proto_file_path: \"a.proto\" }\nmapping { module_name: \"B\" proto_file_path: \"a.proto\" }",
       "a.proto is mapped to two modules, A and B"),
      ("mapping {\n  module_name: \"A\n}", "module mappings line 2: unterminated string"),
    ]
    for (text, expected) in cases {
      XCTAssertThrowsError(try ModuleMappingsFile.parse(text), text) { error in
        XCTAssertTrue((error as? GeneratorError)?.message.hasPrefix(expected) == true, "\(error) for \(text)")
      }
    }
  }

  func testModuleMappingParameter() throws {
    let options = try GeneratorOptions(parameter: "ModuleMapping=Base:mapped/base.proto,ModuleMapping=Base:b.proto")
    XCTAssertEqual(options.moduleMappings, ["mapped/base.proto": "Base", "b.proto": "Base"])
    XCTAssertThrowsError(try GeneratorOptions(parameter: "ModuleMapping=mapped/base.proto"))
    XCTAssertThrowsError(try GeneratorOptions(parameter: "ModuleMapping=:a.proto"))
  }

  func testMappedTypesAreQualifiedAndImported() throws {
    let response = try generate(["mapped/user.proto"], parameter: "ModuleMapping=BaseProtos:mapped/base.proto")
    XCTAssertFalse(response.hasError, response.error)
    let text = response.file.first?.content ?? ""
    XCTAssertTrue(text.contains("\nimport BaseProtos\n"), text)
    XCTAssertTrue(text.contains("var item: BaseProtos.Mapped_Base_Item {"), text)
    XCTAssertTrue(text.contains("var details: [BaseProtos.Mapped_Base_Item.Detail] = []"), text)
    XCTAssertTrue(text.contains("MessageExtension<OptionalExtensionField<ProtobufEnumType<BaseProtos.Mapped_Base_Kind>>, BaseProtos.Mapped_Base_Item>"), text)
  }

  func testMappingsFileOptionIsRead() throws {
    let directory = try temporaryDirectory()
    let mappings = directory.appendingPathComponent("mappings.asciipb")
    try Data("mapping { module_name: \"BaseProtos\" proto_file_path: \"mapped/base.proto\" }\n".utf8).write(to: mappings)
    let response = try generate(["mapped/user.proto"], parameter: "ProtoPathModuleMappings=\(mappings.path)")
    XCTAssertFalse(response.hasError, response.error)
    XCTAssertTrue(response.file.first?.content.contains("\nimport BaseProtos\n") == true)

    let missing = try generate(["mapped/user.proto"], parameter: "ProtoPathModuleMappings=\(directory.path)/absent")
    XCTAssertTrue(missing.error.hasPrefix("cannot read ProtoPathModuleMappings file \(directory.path)/absent"), missing.error)
  }

  func testOwnFileMappingIsIgnored() throws {
    let response = try generate(["mapped/base.proto"], parameter: "ModuleMapping=BaseProtos:mapped/base.proto")
    let text = response.file.first?.content ?? ""
    XCTAssertFalse(text.contains("BaseProtos"), text)
  }

  func testMappedModulesCompileTogether() throws {
    let directory = try temporaryDirectory()
    let base = try generate(["mapped/base.proto"], parameter: "Visibility=Public")
    let user = try generate(["mapped/user.proto"], parameter: "Visibility=Public,ModuleMapping=BaseProtos:mapped/base.proto")
    var usage = Google_Protobuf_Compiler_CodeGeneratorResponse.File()
    usage.name = "usage.swift"
    usage.content = """
      import BaseProtos
      import TandemProtobuf

      public func roundTrip() throws -> Bool {
        var item = Mapped_Base_Item.with { $0.name = "n" }
        item[extension: Mapped_User_User_Extensions.holder] = .with { $0.kinds["a"] = .special }
        let bytes = try item.serializedBytes()
        let options = DecodingOptions(extensions: Mapped_User_User_Extensions.registry)
        return try Mapped_Base_Item(serializedBytes: bytes, options: options) == item
      }
      """

    let baseOutput = directory.appendingPathComponent("base")
    try FileManager.default.createDirectory(at: baseOutput, withIntermediateDirectories: true)
    let baseResult = try MessageGenerationSupport.run(try swiftc(), [
      "-emit-module", "-parse-as-library", "-swift-version", "6", "-module-name", "BaseProtos",
      "-I", try modules().path, "-emit-module-path", baseOutput.appendingPathComponent("BaseProtos.swiftmodule").path,
    ] + write(base.file, to: directory))
    XCTAssertEqual(baseResult.status, 0, baseResult.output)

    let userResult = try MessageGenerationSupport.run(try swiftc(), [
      "-typecheck", "-parse-as-library", "-swift-version", "6", "-module-name", "UserProtos",
      "-I", try modules().path, "-I", baseOutput.path,
    ] + write(user.file + [usage], to: directory))
    XCTAssertEqual(userResult.status, 0, userResult.output)
    XCTAssertFalse(userResult.output.contains("warning:"), userResult.output)
  }

  // MARK: Name collisions with services

  func testServiceNamedLikeMessageGetsSuffix() throws {
    // protoc rejects a message and a service of one name in one package, so the message comes from
    // another package whose swift_prefix gives it the service's Swift name, Echo_V1_Echo.
    let response = try generate(["service_clash_types.proto", "service_clash.proto"], parameter: "")
    XCTAssertFalse(response.hasError, response.error)
    let text = response.file.last?.content ?? ""
    XCTAssertTrue(text.contains("enum Echo_V1_EchoService {"), text)
    XCTAssertTrue(text.contains("Echo_V1_Echo"), text)
    XCTAssertTrue(text.contains("public static let serviceName = \"echo.v1.Echo\"") || text.contains("static let serviceName = \"echo.v1.Echo\""), text)
    XCTAssertTrue(text.contains("enum Echo_V1_Class {"), text)
    XCTAssertTrue(response.file.first?.content.contains("struct Echo_V1_Echo: Sendable") == true)

    let directory = try temporaryDirectory()
    let result = try MessageGenerationSupport.run(try swiftc(), [
      "-typecheck", "-parse-as-library", "-swift-version", "6", "-module-name", "ClashCheck", "-I", try modules().path,
    ] + write(response.file, to: directory))
    XCTAssertEqual(result.status, 0, result.output)
    XCTAssertFalse(result.output.contains("warning:"), result.output)
  }

  // MARK: Debian's protos

  /// Returns every `.proto` under /usr/include/google/protobuf, relative to /usr/include.
  func debianProtos() throws -> [String] {
    let root = URL(fileURLWithPath: "/usr/include")
    guard let enumerator = FileManager.default.enumerator(atPath: root.appendingPathComponent("google/protobuf").path) else {
      throw XCTSkip("/usr/include/google/protobuf not found; install the Debian package libprotobuf-dev")
    }
    var protos: [String] = []
    while let path = enumerator.nextObject() as? String {
      if path.hasSuffix(".proto") { protos.append("google/protobuf/" + path) }
    }
    if protos.isEmpty { throw XCTSkip("no .proto files under /usr/include/google/protobuf") }
    return protos.sorted()
  }

  func testEveryDebianProtoGeneratesCompilingSwift() throws {
    let protos = try debianProtos()
    XCTAssertTrue(protos.contains("google/protobuf/descriptor.proto"))
    XCTAssertTrue(protos.contains("google/protobuf/compiler/plugin.proto"))
    guard let products = MessageGenerationSupport.productsDirectory else { throw XCTSkip("products directory not found") }
    let plugin = products.appendingPathComponent("protoc-gen-tandem").path
    guard FileManager.default.isExecutableFile(atPath: plugin) else {
      throw XCTSkip("protoc-gen-tandem is not built; run swift build first")
    }

    // protoc runs the real plugin binary over all files at once, so every well-known type is
    // generated into this module instead of resolving to the runtime's copy.
    let directory = try temporaryDirectory()
    let generated = directory.appendingPathComponent("generated")
    try FileManager.default.createDirectory(at: generated, withIntermediateDirectories: true)
    let generation = try MessageGenerationSupport.run(try protoc(), [
      "--plugin=protoc-gen-tandem=\(plugin)", "-I/usr/include",
      "--tandem_out=Visibility=Public,FileNaming=PathToUnderscores:\(generated.path)",
    ] + protos)
    XCTAssertEqual(generation.status, 0, generation.output)
    let outputs = try FileManager.default.contentsOfDirectory(atPath: generated.path).filter { $0.hasSuffix(".swift") }
    XCTAssertEqual(outputs.count, protos.count)

    let result = try MessageGenerationSupport.run(try swiftc(), [
      "-typecheck", "-parse-as-library", "-swift-version", "6", "-module-name", "DebianProtos", "-I", try modules().path,
    ] + outputs.map { generated.appendingPathComponent($0).path })
    XCTAssertEqual(result.status, 0, result.output)
    XCTAssertFalse(result.output.contains("warning:"), result.output)
  }
}
