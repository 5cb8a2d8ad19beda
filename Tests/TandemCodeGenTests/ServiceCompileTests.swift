import XCTest

/// Compiles generated services against the real TandemCore and TandemProtobuf.
///
/// The `full` fixture package (see PluginFixtureTests.swift) runs protoc, protoc-gen-tandem and the
/// build plugin on `tricky.proto`, then compiles the output with `Usage.swift`, which implements and
/// calls every method under its expected Swift name. The same sources compile twice: in `Fixtures`
/// with default isolation and in `MainActorFixtures` with `.defaultIsolation(MainActor.self)`.
final class ServiceCompileTests: XCTestCase {
  private static let trickyFile = "tricky__tricky.tandem.swift"

  private func outcome() throws -> FullFixture.Outcome {
    try FullFixture.sharedOutcome()
  }

  private func assertBuilt(_ outcome: FullFixture.Outcome, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertTrue(
      outcome.build.succeeded,
      "swift build of the fixture package failed (exit \(outcome.build.exitCode)):\n\(outcome.build.summary)",
      file: file,
      line: line
    )
  }

  func testTrickyServiceCompiles() throws {
    let outcome = try outcome()

    assertBuilt(outcome)
    XCTAssertTrue(outcome.build.output.contains("Compiling Fixtures"), outcome.build.summary)
  }

  func testTrickyServiceCompilesWithMainActorDefault() throws {
    let outcome = try outcome()

    assertBuilt(outcome)
    XCTAssertTrue(outcome.build.output.contains("Compiling MainActorFixtures"), outcome.build.summary)
    XCTAssertNotNil(outcome.mainActorGeneratedFiles[Self.trickyFile])
  }

  func testGeneratedAndUsageCodeHasNoWarnings() throws {
    let outcome = try outcome()
    let warnings = outcome.build.output
      .split(separator: "\n")
      .filter { $0.contains("warning:") && ($0.contains(".tandem.swift") || $0.contains("Usage.swift")) }

    XCTAssertEqual(warnings, [], "warnings in generated or fixture code")
  }

  func testTrickyMethodNames() throws {
    let outcome = try outcome()
    let source = try XCTUnwrap(outcome.generatedFiles[Self.trickyFile], "missing \(Self.trickyFile)")

    XCTAssertTrue(source.contains("public static let `do` = TandemCore.MethodDescriptor("))
    XCTAssertTrue(source.contains("public static let `init` = TandemCore.MethodDescriptor("))
    XCTAssertTrue(source.contains("public static let type = TandemCore.MethodDescriptor("))
    XCTAssertTrue(source.contains("public static let self_ = TandemCore.MethodDescriptor("))
    XCTAssertTrue(source.contains("public static let Foo = TandemCore.MethodDescriptor("))
    XCTAssertTrue(source.contains("public static let foo = TandemCore.MethodDescriptor("))
    XCTAssertTrue(source.contains("public static let getHTTPStatus = TandemCore.MethodDescriptor("))
  }

  func testProtoCommentsBecomeDocComments() throws {
    let outcome = try outcome()
    let source = try XCTUnwrap(outcome.generatedFiles[Self.trickyFile], "missing \(Self.trickyFile)")

    XCTAssertTrue(source.contains("/// Methods named like Swift keywords or colliding after camel-casing.\n"))
    XCTAssertTrue(source.contains("    /// A unary method named like the `do` statement.\n    func `do`("))
  }
}

extension FixtureSources {
  static let trickyProto = """
    syntax = "proto3";
    package tricky.v1;

    import "a/x.proto";
    import "b/x.proto";

    message Ping { string text = 1; }
    message Pong { string text = 1; }

    // Methods named like Swift keywords or colliding after camel-casing.
    service Tricky {
      // A unary method named like the `do` statement.
      rpc Do(Ping) returns (Pong);
      rpc Init(Ping) returns (stream Pong);
      rpc Type(stream Ping) returns (Pong);
      rpc Self(stream Ping) returns (stream Pong);
      rpc Foo(Ping) returns (Pong);
      rpc foo(stream Ping) returns (stream Pong);
      rpc Func(Ping) returns (stream Pong);
      rpc Default(stream Ping) returns (Pong);
      rpc Protocol(stream Ping) returns (stream Pong);
      rpc Channel(Ping) returns (Pong);
      rpc RegisterMethods(Ping) returns (Pong);
      rpc get_http_status(Ping) returns (Pong);
      rpc UsesImports(fixture.a.X) returns (fixture.b.X);
    }

    service Empty {}

    """

  /// Code that implements and calls every generated method. `isolation` prefixes the server structs,
  /// because a target with MainActor default isolation must opt them out to serve concurrently.
  static func usage(isolation: String) -> String {
    """
    // Written by TandemCodeGenTests; changes are overwritten on the next test run.
    import TandemCore
    import TandemProtobuf

    typealias Ping = Tricky_V1_Ping
    typealias Pong = Tricky_V1_Pong

    \(isolation)struct TrickyServer: Tricky_V1_Tricky.Service {
      func `do`(_ request: Ping, context: ServerContext) async throws -> Pong { Pong() }

      func `init`(_ request: Ping, responses: ResponseWriter<Pong>, context: ServerContext) async throws {
        try await responses.write(Pong())
      }

      func type(_ requests: RequestStream<Ping>, context: ServerContext) async throws -> Pong {
        var count = 0
        for try await _ in requests {
          count += 1
        }
        var pong = Pong()
        pong.text = String(count)
        return pong
      }

      func self_(_ requests: RequestStream<Ping>, responses: ResponseWriter<Pong>, context: ServerContext) async throws {
        for try await ping in requests {
          var pong = Pong()
          pong.text = ping.text
          try await responses.write(pong)
        }
      }

      func Foo(_ request: Ping, context: ServerContext) async throws -> Pong { Pong() }

      func foo(_ requests: RequestStream<Ping>, responses: ResponseWriter<Pong>, context: ServerContext) async throws {}

      func `func`(_ request: Ping, responses: ResponseWriter<Pong>, context: ServerContext) async throws {}

      func `default`(_ requests: RequestStream<Ping>, context: ServerContext) async throws -> Pong { Pong() }

      func `protocol`(_ requests: RequestStream<Ping>, responses: ResponseWriter<Pong>, context: ServerContext) async throws {}

      func channel(_ request: Ping, context: ServerContext) async throws -> Pong { Pong() }

      func registerMethods(_ request: Ping, context: ServerContext) async throws -> Pong { Pong() }

      func getHTTPStatus(_ request: Ping, context: ServerContext) async throws -> Pong { Pong() }

      func usesImports(_ request: Fixture_A_X, context: ServerContext) async throws -> Fixture_B_X { Fixture_B_X() }
    }

    \(isolation)struct EmptyServer: Tricky_V1_Empty.Service {}

    nonisolated func makeRouter() -> ServiceRouter {
      var router = ServiceRouter()
      TrickyServer().registerMethods(with: &router)
      EmptyServer().registerMethods(with: &router)
      let services: [any RPCService] = [TrickyServer(), EmptyServer()]
      _ = ServiceRouter(services: services)
      return router
    }

    nonisolated func allDescriptors() -> [MethodDescriptor] {
      [
        Tricky_V1_Tricky.Method.do, Tricky_V1_Tricky.Method.`init`, Tricky_V1_Tricky.Method.type,
        Tricky_V1_Tricky.Method.self_, Tricky_V1_Tricky.Method.Foo, Tricky_V1_Tricky.Method.foo,
        Tricky_V1_Tricky.Method.func, Tricky_V1_Tricky.Method.default, Tricky_V1_Tricky.Method.protocol,
        Tricky_V1_Tricky.Method.channel, Tricky_V1_Tricky.Method.registerMethods,
        Tricky_V1_Tricky.Method.getHTTPStatus, Tricky_V1_Tricky.Method.usesImports,
        Fixture_A_Svc.Method.get, Fixture_B_Svc.Method.get,
      ]
    }

    nonisolated func callEverything(_ channel: any RPCChannel) async throws -> [String] {
      let client = Tricky_V1_Tricky.Client(channel: channel)
      let pings = [Ping(), Ping()]
      var texts: [String] = [Tricky_V1_Tricky.serviceName]

      let pong: Pong = try await client.do(Ping())
      texts.append(pong.text)
      let text = try await client.do(Ping(), metadata: ["key": "value"], options: .defaults) { response in
        try response.message.text
      }
      texts.append(text)
      for try await pong in client.`init`(Ping()) {
        texts.append(pong.text)
      }
      texts.append(try await client.type(pings).text)
      texts.append(try await client.type(requestProducer: { writer in try await writer.write(Ping()) }).text)
      for try await pong in client.self_(pings) {
        texts.append(pong.text)
      }
      let stream = client.self_(metadata: [:]) { writer in
        try await writer.write(Ping())
      }
      for try await pong in stream {
        texts.append(pong.text)
      }
      texts.append(try await client.Foo(Ping()).text)
      for try await pong in client.foo(pings) {
        texts.append(pong.text)
      }
      for try await pong in client.func(Ping()) {
        texts.append(pong.text)
      }
      texts.append(try await client.default(pings).text)
      for try await pong in client.protocol(pings) {
        texts.append(pong.text)
      }
      texts.append(try await client.channel(Ping()).text)
      let sameChannel: any RPCChannel = client.channel
      _ = sameChannel
      texts.append(try await client.registerMethods(Ping()).text)
      texts.append(try await client.getHTTPStatus(Ping()).text)
      let imported: Fixture_B_X = try await client.usesImports(Fixture_A_X())
      texts.append(String(imported.number))
      return texts
    }

    @MainActor func callFromMainActor(_ channel: any RPCChannel) async throws -> String {
      let client = Tricky_V1_Tricky.Client(channel: channel)
      var text = try await client.do(Ping()).text
      for try await pong in client.foo([Ping()]) {
        text += pong.text
      }
      return text
    }

    """
  }
}
