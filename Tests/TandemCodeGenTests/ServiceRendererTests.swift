import XCTest

@testable import TandemCodeGen

final class ServiceRendererTests: XCTestCase {
  private func method(
    _ protoName: String,
    swiftName: String? = nil,
    clientStreaming: Bool = false,
    serverStreaming: Bool = false,
    comments: [String] = []
  ) -> MethodModel {
    MethodModel(
      protoName: protoName,
      swiftName: swiftName ?? protoName,
      inputSwiftType: "T_Ping",
      outputSwiftType: "T_Pong",
      clientStreaming: clientStreaming,
      serverStreaming: serverStreaming,
      comments: comments
    )
  }

  private func echoService() -> ServiceModel {
    func echoMethod(_ name: String, _ swiftName: String, client: Bool, server: Bool, comment: String) -> MethodModel {
      MethodModel(
        protoName: name,
        swiftName: swiftName,
        inputSwiftType: "Echo_V1_EchoRequest",
        outputSwiftType: "Echo_V1_EchoResponse",
        clientStreaming: client,
        serverStreaming: server,
        comments: [comment]
      )
    }
    return ServiceModel(
      protoName: "echo.v1.Echo",
      swiftNamespace: "Echo_V1_Echo",
      comments: [],
      methods: [
        echoMethod("Get", "get", client: false, server: false, comment: " Returns the same text."),
        echoMethod("Expand", "expand", client: false, server: true, comment: " One response per word."),
        echoMethod("Collect", "collect", client: true, server: false, comment: " Joins the texts."),
        echoMethod("Update", "update", client: true, server: true, comment: " One response per request."),
      ]
    )
  }

  private func names(_ methods: [MethodModel]) -> [String] {
    ServiceNaming.methodNames(for: methods).map(\.escaped)
  }

  func testEchoNamespaceAndDescriptors() {
    let source = ServiceRenderer.render([echoService()], accessLevel: "public")

    XCTAssertTrue(source.contains("nonisolated public enum Echo_V1_Echo {\n"))
    XCTAssertTrue(source.contains("public static let serviceName = \"echo.v1.Echo\"\n"))
    XCTAssertTrue(source.contains("  public enum Method {\n"))
    XCTAssertTrue(source.contains(
      "public static let get = TandemCore.MethodDescriptor(service: \"echo.v1.Echo\", method: \"Get\", kind: .unary)"
    ))
    XCTAssertTrue(source.contains("method: \"Expand\", kind: .serverStreaming)"))
    XCTAssertTrue(source.contains("method: \"Collect\", kind: .clientStreaming)"))
    XCTAssertTrue(source.contains("method: \"Update\", kind: .bidirectionalStreaming)"))
  }

  func testEchoServiceProtocol() {
    let source = ServiceRenderer.render([echoService()], accessLevel: "public")

    XCTAssertTrue(source.contains("public protocol Service: TandemCore.RPCService {\n"))
    XCTAssertTrue(source.contains(
      "func get(_ request: Echo_V1_EchoRequest, context: TandemCore.ServerContext) async throws -> Echo_V1_EchoResponse\n"
    ))
    XCTAssertTrue(source.contains(
      "func expand(_ request: Echo_V1_EchoRequest, responses: TandemCore.ResponseWriter<Echo_V1_EchoResponse>, "
        + "context: TandemCore.ServerContext) async throws\n"
    ))
    XCTAssertTrue(source.contains(
      "func collect(_ requests: TandemCore.RequestStream<Echo_V1_EchoRequest>, context: TandemCore.ServerContext) "
        + "async throws -> Echo_V1_EchoResponse\n"
    ))
    XCTAssertTrue(source.contains(
      "func update(_ requests: TandemCore.RequestStream<Echo_V1_EchoRequest>, "
        + "responses: TandemCore.ResponseWriter<Echo_V1_EchoResponse>, context: TandemCore.ServerContext) async throws\n"
    ))
    XCTAssertTrue(source.contains("    /// Returns the same text.\n    func get("))
  }

  func testEchoRegistration() {
    let source = ServiceRenderer.render([echoService()], accessLevel: "public")

    XCTAssertTrue(source.contains("nonisolated extension Echo_V1_Echo.Service {\n"))
    XCTAssertTrue(source.contains(
      "public func registerMethods(with router: inout TandemCore.ServiceRouter) {\n"
    ))
    XCTAssertTrue(source.contains("router.registerUnary(Echo_V1_Echo.Method.get) {"))
    XCTAssertTrue(source.contains("router.registerServerStreaming(Echo_V1_Echo.Method.expand) {"))
    XCTAssertTrue(source.contains("router.registerClientStreaming(Echo_V1_Echo.Method.collect) {"))
    XCTAssertTrue(source.contains("router.registerBidirectionalStreaming(Echo_V1_Echo.Method.update) {"))
    XCTAssertTrue(source.contains("try await self.update(requests, responses: responses, context: context)\n"))
  }

  func testEchoClient() {
    let source = ServiceRenderer.render([echoService()], accessLevel: "public")

    XCTAssertTrue(source.contains("public struct Client: Swift.Sendable {\n"))
    XCTAssertTrue(source.contains("public let channel: any TandemCore.RPCChannel\n"))
    XCTAssertTrue(source.contains("public init(channel: any TandemCore.RPCChannel) {\n"))
    XCTAssertTrue(source.contains("public func get<Result: Swift.Sendable>(\n"))
    XCTAssertTrue(source.contains(
      "onResponse: @escaping @Sendable (TandemCore.ClientResponse<Echo_V1_EchoResponse>) async throws -> Result"
        + " = { try $0.message }\n    ) async throws -> Result {\n"
    ))
    XCTAssertTrue(source.contains("metadata: TandemCore.Metadata = [:],\n"))
    XCTAssertTrue(source.contains("options: TandemCore.CallOptions = .defaults"))
    XCTAssertTrue(source.contains(") -> TandemCore.ResponseStream<Echo_V1_EchoResponse> {\n"))
    XCTAssertTrue(source.contains("_ requests: some Swift.Sequence<Echo_V1_EchoRequest> & Swift.Sendable,\n"))
    XCTAssertTrue(source.contains("    ) async throws -> Echo_V1_EchoResponse {\n"))
    XCTAssertTrue(source.contains("self.channel.bidirectionalStreaming(Echo_V1_Echo.Method.update,"))
  }

  func testSequenceOverloadsOnlyForRequestStreaming() {
    let source = ServiceRenderer.render([echoService()], accessLevel: "public")

    XCTAssertEqual(source.components(separatedBy: "_ requests: some Swift.Sequence<").count - 1, 2)
    XCTAssertTrue(source.contains("public func collect(\n      _ requests: some Swift.Sequence<"))
    XCTAssertTrue(source.contains("public func update(\n      _ requests: some Swift.Sequence<"))
  }

  func testKeywordMethodNames() {
    let methods = [method("Do"), method("Init"), method("Type"), method("Self"), method("Func"), method("Default")]

    XCTAssertEqual(names(methods), ["`do`", "`init`", "type", "self_", "`func`", "`default`"])
  }

  func testKeywordNamesInEveryPosition() {
    let service = ServiceModel(
      protoName: "t.Tricky",
      swiftNamespace: "T_Tricky",
      comments: [],
      methods: [method("Do"), method("Init", serverStreaming: true), method("Self", clientStreaming: true)]
    )
    let source = ServiceRenderer.render([service], accessLevel: "internal")

    XCTAssertTrue(source.contains("static let `do` = TandemCore.MethodDescriptor("))
    XCTAssertTrue(source.contains("    func `do`(_ request: T_Ping, context: TandemCore.ServerContext)"))
    XCTAssertTrue(source.contains("func `do`<Result: Swift.Sendable>(\n"))
    XCTAssertTrue(source.contains("router.registerUnary(T_Tricky.Method.`do`) {"))
    XCTAssertTrue(source.contains("try await self.`do`(request, context: context)"))
    XCTAssertTrue(source.contains("try await self.`init`(request, responses: responses, context: context)"))
    XCTAssertTrue(source.contains("router.registerClientStreaming(T_Tricky.Method.self_) {"))
    XCTAssertTrue(source.contains("try await self.self_(\n"))
  }

  func testModelSwiftNameIsNotUsed() {
    XCTAssertEqual(names([method("Foo", swiftName: "foo"), method("foo", swiftName: "foo_")]), ["Foo", "foo"])
    XCTAssertEqual(names([method("GetThing", swiftName: "")]), ["getThing"])
  }

  func testCollidingNamesKeepProtoSpelling() {
    let methods = [method("Foo"), method("Bar"), method("foo", clientStreaming: true)]

    XCTAssertEqual(names(methods), ["Foo", "bar", "foo"])
  }

  func testCollidingReservedNamesStayDistinct() {
    let methods = [method("Type"), method("type"), method("Type_", swiftName: "type")]

    let result = names(methods)

    XCTAssertEqual(result, ["Type_", "type", "Type__"])
    XCTAssertEqual(Set(result).count, 3)
  }

  func testLowerCamelCase() {
    XCTAssertEqual(ServiceNaming.lowerCamelCase("GetThing"), "getThing")
    XCTAssertEqual(ServiceNaming.lowerCamelCase("get_thing"), "getThing")
    XCTAssertEqual(ServiceNaming.lowerCamelCase("get_http_status"), "getHTTPStatus")
    XCTAssertEqual(ServiceNaming.lowerCamelCase("HTTPGet"), "httpGet")
    XCTAssertEqual(ServiceNaming.lowerCamelCase("URL"), "url")
    XCTAssertEqual(ServiceNaming.lowerCamelCase("_Leading"), "leading")
    XCTAssertEqual(ServiceNaming.lowerCamelCase("Get2"), "get2")
  }

  func testUnderscoreOnlyNameGetsPlaceholder() {
    XCTAssertEqual(names([method("_")]), ["method"])
  }

  func testProtoCommentsBecomeDocComments() {
    let service = ServiceModel(
      protoName: "t.Commented",
      swiftNamespace: "T_Commented",
      comments: ["", " First line.", "", " Second paragraph.  ", ""],
      methods: [method("Get", comments: [" Line one.\n Line two.", "No leading space."])]
    )
    let source = ServiceRenderer.render([service], accessLevel: "public")

    XCTAssertTrue(source.hasPrefix("/// First line.\n///\n/// Second paragraph.\nnonisolated public enum T_Commented {\n"))
    XCTAssertTrue(source.contains("    /// Line one.\n    /// Line two.\n    /// No leading space.\n    func get("))
    XCTAssertTrue(source.contains("    /// Line one.\n    /// Line two.\n    /// No leading space.\n    ///\n    /// Calls `t.Commented/Get` (unary)"))
  }

  func testMissingCommentsGetFallbackDocs() {
    let service = ServiceModel(protoName: "t.Plain", swiftNamespace: "T_Plain", comments: [], methods: [method("Get")])
    let source = ServiceRenderer.render([service], accessLevel: "public")

    XCTAssertTrue(source.hasPrefix("/// The `t.Plain` service: method descriptors, the server protocol and the client.\n"))
    XCTAssertTrue(source.contains("    /// Handles `t.Plain/Get`.\n    func get("))
  }

  func testInternalAccessWritesNoModifier() {
    let source = ServiceRenderer.render([echoService()], accessLevel: "internal")

    XCTAssertFalse(source.contains("public"))
    XCTAssertFalse(source.contains("internal "))
    XCTAssertTrue(source.hasSuffix("}\n"))
    XCTAssertTrue(source.contains("\nnonisolated enum Echo_V1_Echo {\n"))
    XCTAssertTrue(source.contains("  static let serviceName"))
  }

  func testPackageAccess() {
    let source = ServiceRenderer.render([echoService()], accessLevel: "Package")

    XCTAssertTrue(source.contains("nonisolated package enum Echo_V1_Echo {\n"))
    XCTAssertTrue(source.contains("package struct Client: Swift.Sendable {\n"))
    XCTAssertTrue(source.contains("package func registerMethods(with router:"))
  }

  func testResultGenericAvoidsMessageName() {
    let service = ServiceModel(
      protoName: "Results",
      swiftNamespace: "Results",
      comments: [],
      methods: [
        MethodModel(
          protoName: "Get", swiftName: "get", inputSwiftType: "Result", outputSwiftType: "Result",
          clientStreaming: false, serverStreaming: false, comments: []
        )
      ]
    )
    let source = ServiceRenderer.render([service], accessLevel: "public")

    XCTAssertTrue(source.contains("func get<Result_: Swift.Sendable>(\n"))
    XCTAssertTrue(source.contains("async throws -> Result_ = { try $0.message }"))
    XCTAssertFalse(source.contains("<Result:"))
  }

  func testEmptyInputRendersNothing() {
    XCTAssertEqual(ServiceRenderer.render([], accessLevel: "public"), "")
  }

  func testServiceWithoutMethods() {
    let service = ServiceModel(protoName: "t.Empty", swiftNamespace: "T_Empty", comments: [], methods: [])
    let source = ServiceRenderer.render([service], accessLevel: "public")

    XCTAssertTrue(source.contains("public enum Method {\n  }\n"))
    XCTAssertTrue(source.contains("public func registerMethods(with router: inout TandemCore.ServiceRouter) {\n  }\n"))
  }

  func testTwoServicesAreSeparated() {
    let other = ServiceModel(protoName: "t.Other", swiftNamespace: "T_Other", comments: [], methods: [method("Ping")])
    let source = ServiceRenderer.render([echoService(), other], accessLevel: "public")

    XCTAssertTrue(source.contains("}\n\n/// The `t.Other` service"))
    XCTAssertTrue(source.contains("nonisolated extension T_Other.Service {"))
  }
}
