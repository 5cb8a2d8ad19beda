import EchoProtos
import Foundation
import Tandem
import XCTest

/// A running server on 127.0.0.1 with a free port, and a channel to it.
struct TestServer {
  let server: Server
  let task: Task<Void, any Error>
  let port: Int
  let certificate: SelfSignedCertificate?
  let observations: Observations
  let quic: Bool

  /// Starts the Echo and Control services, with TLS when `tls` is true, over HTTP/3 on QUIC
  /// (always with TLS) when `quic` is true.
  static func start(
    tls: Bool,
    quic: Bool = false,
    transports: Set<Server.Transport>? = nil,
    port: Int = 0,
    reusing existing: SelfSignedCertificate? = nil,
    configuration: Server.Configuration = TestServer.quietConfiguration()
  ) async throws -> TestServer {
    var certificate: SelfSignedCertificate?
    var serverTLS: ServerTLS?
    if let existing {
      certificate = existing
      serverTLS = .pem(certificateChain: existing.certificatePath, privateKey: existing.privateKeyPath)
    } else if tls || quic || transports?.contains(.quic) == true {
      let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("tandem-tests-\(UUID().uuidString)").path
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
      let generated = try SelfSignedCertificate.generate(in: directory)
      certificate = generated
      serverTLS = .pem(certificateChain: generated.certificatePath, privateKey: generated.privateKeyPath)
    }
    let observations = Observations()
    let server = Server(
      services: [TestEchoService(), ControlService(observations: observations)],
      listening: .init(host: "127.0.0.1", port: port, transports: transports ?? (quic ? [.quic] : [.tcp])),
      tls: serverTLS,
      configuration: configuration
    )
    let task = Task { try await server.run() }
    let port = try await server.listeningPort
    return TestServer(
      server: server, task: task, port: port, certificate: certificate, observations: observations, quic: quic)
  }

  static func quietConfiguration() -> Server.Configuration {
    var configuration = Server.Configuration.defaults
    configuration.logHandler = StandardErrorLogHandler(minimumLevel: .warning)
    return configuration
  }

  /// Creates a channel that trusts this server's certificate, or a plaintext one.
  func makeChannel(serverName: String? = nil, configuration: Channel.Configuration = .defaults) throws -> Channel {
    let security: Channel.Security
    if let certificate {
      security = .tls(trust: .caFile(certificate.certificatePath), serverName: serverName ?? "localhost")
    } else {
      security = .plaintext
    }
    return try Channel(
      target: "127.0.0.1:\(port)", transport: quic ? .quic : .tcp, security: security, configuration: configuration)
  }

  func stop() async {
    server.shutdown(gracePeriod: .seconds(2))
    _ = await task.result
  }
}

/// Asserts that `body` throws an `RPCError` with `code`, and returns it.
@discardableResult
func assertRPCError<T>(
  _ code: StatusCode,
  file: StaticString = #filePath,
  line: UInt = #line,
  _ body: () async throws -> T
) async -> RPCError? {
  do {
    _ = try await body()
    XCTFail("expected an RPCError with \(code), but the call succeeded", file: file, line: line)
    return nil
  } catch let error as RPCError {
    XCTAssertEqual(error.code, code, "unexpected status: \(error)", file: file, line: line)
    return error
  } catch {
    XCTFail("expected an RPCError with \(code), got \(error)", file: file, line: line)
    return nil
  }
}
