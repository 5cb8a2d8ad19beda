import Foundation
import EchoProtos
import Tandem
import XCTest

/// Compiles the code examples of the README and the DocC comments on `Server` and `Channel`,
/// line for line, so a change that breaks them fails the build. Each example runs against a
/// real server on a free port.
final class DocumentationExampleTests: XCTestCase {
  /// The README's tutorial service: only `get` differs from the test service.
  struct EchoService: Echo_V1_Echo.Service {
    func get(_ request: Echo_V1_EchoRequest, context: ServerContext) async throws -> Echo_V1_EchoResponse {
      .with { $0.text = request.text }
    }

    func expand(
      _ request: Echo_V1_EchoRequest, responses: ResponseWriter<Echo_V1_EchoResponse>, context: ServerContext
    ) async throws {
      try await TestEchoService().expand(request, responses: responses, context: context)
    }

    func collect(_ requests: RequestStream<Echo_V1_EchoRequest>, context: ServerContext) async throws -> Echo_V1_EchoResponse {
      try await TestEchoService().collect(requests, context: context)
    }

    func update(
      _ requests: RequestStream<Echo_V1_EchoRequest>, responses: ResponseWriter<Echo_V1_EchoResponse>,
      context: ServerContext
    ) async throws {
      try await TestEchoService().update(requests, responses: responses, context: context)
    }
  }

  func testReadmeTutorialRuns() async throws {
    // README step 3, with port 0 and plaintext so the test needs no files.
    let server = Server(
      services: [EchoService()],
      listening: .init(host: "127.0.0.1", port: 0),
      tls: nil,
      configuration: TestServer.quietConfiguration()
    )
    let running = Task { try await server.run() }
    let port = try await server.listeningPort

    // README step 4.
    let channel = try Channel(target: "127.0.0.1:\(port)", security: .plaintext)
    let echo = Echo_V1_Echo.Client(channel: channel)

    let reply = try await echo.get(.with { $0.text = "hi" }, options: .init(timeout: .seconds(2)))
    var words: [String] = []
    for try await word in echo.expand(.with { $0.text = "a b c" }) {
      words.append(word.text)
    }

    XCTAssertEqual(reply.text, "hi")
    XCTAssertEqual(words, ["a", "b", "c"])
    channel.close()
    server.shutdown(gracePeriod: .seconds(1))
    try await running.value
  }

  func testReadmeQUICExampleRuns() async throws {
    // README step 3 with both transports, and the QUIC and hybrid snippets of step 4, with the
    // test's self-signed certificate in place of ca.crt.
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-doc-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let certificate = try SelfSignedCertificate.generate(in: directory)
    let server = Server(
      services: [EchoService()],
      listening: .init(host: "127.0.0.1", port: 0, transports: [.tcp, .quic]),
      tls: .pem(certificateChain: certificate.certificatePath, privateKey: certificate.privateKeyPath),
      configuration: TestServer.quietConfiguration()
    )
    let running = Task { try await server.run() }
    let port = try await server.listeningPort

    let quic = try Channel(target: "127.0.0.1:\(port)", transport: .quic, security: .caFile(certificate.certificatePath))
    let fast = try await Echo_V1_Echo.Client(channel: quic).get(
      .with { $0.text = "hi" }, options: .init(timeout: .seconds(2), safeToReplay: true))
    let tcp = try Channel(target: "127.0.0.1:\(port)", security: .caFile(certificate.certificatePath))
    let overTCP = try await Echo_V1_Echo.Client(channel: tcp).get(.with { $0.text = "tcp" })

    let either = try Channel(
      target: "127.0.0.1:\(port)", transport: .hybrid(preferred: .quic), security: .caFile(certificate.certificatePath))
    let reply = try await Echo_V1_Echo.Client(channel: either).get(.with { $0.text = "hi" })

    XCTAssertEqual(fast.text, "hi")
    XCTAssertEqual(overTCP.text, "tcp")
    XCTAssertEqual(reply.text, "hi")
    quic.close()
    tcp.close()
    either.close()
    server.shutdown(gracePeriod: .seconds(1))
    try await running.value
  }

  func testReadmeMetricsExampleRuns() async throws {
    // README step 4's metrics endpoint, with port 0 for both ports.
    var serverConfiguration = Server.Configuration.defaults
    serverConfiguration.metricsEndpoint = .init(host: "127.0.0.1", port: 0, metrics: PrometheusMetrics())
    serverConfiguration.logHandler = StandardErrorLogHandler(minimumLevel: .warning)
    let observed = Server(
      services: [EchoService()], listening: .init(host: "127.0.0.1", port: 0),
      configuration: serverConfiguration)
    let running = Task { try await observed.run() }
    let port = try await observed.listeningPort
    XCTAssertNotNil(observed.metricsPort, "the endpoint listens once listeningPort returns")

    let channel = try Channel(target: "127.0.0.1:\(port)", security: .plaintext)
    _ = try await Echo_V1_Echo.Client(channel: channel).get(.with { $0.text = "hi" })
    XCTAssertEqual(
      serverConfiguration.metricsEndpoint?.metrics.counterValue(
        TandemMetric.serverCallsStarted.name, labels: [("transport", "tcp"), ("method", "/echo.v1.Echo/Get")]),
      1, "the endpoint's store records the server's calls")
    channel.close()
    observed.shutdown(gracePeriod: .seconds(1))
    try await running.value
  }

  func testServerDocExampleCompiles() throws {
    // The `Server` DocC example, built but not run: it names files that do not exist here.
    let server = Server(
      services: [EchoService()],
      listening: .init(host: "127.0.0.1", port: 8443),
      tls: .pem(certificateChain: "server.crt", privateKey: "server.key")
    )
    XCTAssertEqual(server.listenAddress.port, 8443)
    XCTAssertEqual(server.tls?.certificateChainPath, "server.crt")
  }

  func testChannelDocExampleCompiles() throws {
    // The `Channel` DocC example; a channel connects only on its first call.
    let channel = try Channel(target: "127.0.0.1:50051", security: .plaintext)
    let echo = Echo_V1_Echo.Client(channel: channel)
    _ = echo
    XCTAssertEqual(channel.target, "127.0.0.1:50051")
    channel.close()
  }

  func testReadmeConfigurationTypesAreVisible() throws {
    // The README names these types; `import Tandem` alone must make them available.
    var http3 = HTTP3Configuration()
    http3.loopbackUDPPayloadSize = nil
    let http2 = HTTP2Configuration()
    var configuration = Channel.Configuration(http2: http2, http3: http3, quicSessionCache: QUICSessionCache.shared)
    configuration.metrics = PrometheusMetrics()
    XCTAssertNoThrow(try Channel(target: "127.0.0.1:1", transport: .quic, security: .insecure, configuration: configuration))
    http3.maxUDPPayloadSize = 70_000
    XCTAssertThrowsError(try http3.validate()) { error in
      XCTAssertEqual((error as? HTTPTransportError)?.kind, .invalidConfiguration)
    }
  }
}
