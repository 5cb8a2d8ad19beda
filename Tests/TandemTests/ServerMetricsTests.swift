import EchoProtos
import Foundation
import TandemCore
import XCTest

@testable import Tandem

/// The server's own call metrics (`tandem_server_*`), over both transports of one server.
final class ServerMetricsTests: XCTestCase {
  private static func call(_ channel: Channel, _ method: MethodDescriptor, text: String = "", payloadCount: Int = 0) async throws {
    let request = Echo_V1_EchoRequest.with {
      $0.text = text
      $0.payload = [UInt8](repeating: 0, count: payloadCount)
    }
    let _: Echo_V1_EchoResponse = try await channel.unary(method, request: request, metadata: [:], options: .defaults) {
      try $0.message
    }
  }

  private func labels(_ transport: String, _ method: MethodDescriptor) -> [(String, String)] {
    [(TandemMetric.Label.transport, transport), (TandemMetric.Label.method, method.path)]
  }

  func testCallsAreCountedByTransportMethodAndStatus() async throws {
    let metrics = PrometheusMetrics()
    var configuration = TestServer.quietConfiguration()
    configuration.metrics = metrics
    let server = try await TestServer.start(tls: true, transports: [.tcp, .quic], configuration: configuration)
    let security = Channel.Security.tls(trust: .caFile(server.certificate!.certificatePath), serverName: "localhost")
    let tcp = try Channel(target: "127.0.0.1:\(server.port)", transport: .tcp, security: security)
    let quic = try Channel(target: "127.0.0.1:\(server.port)", transport: .quic, security: security)

    try await Self.call(tcp, ControlService.transport)
    try await Self.call(tcp, ControlService.transport)
    try await Self.call(quic, ControlService.transport)
    await assertRPCError(.notFound) { try await Self.call(tcp, ControlService.fail, text: "5") }
    // A call the client cancels while the handler sleeps for 10 s.
    let cancelled = Task { [tcp] in try await ServerMetricsTests.call(tcp, ControlService.sleep, payloadCount: 10_000) }
    let sleeping = labels("tcp", ControlService.sleep)
    let started = await eventually { metrics.counterValue(TandemMetric.serverCallsStarted.name, labels: sleeping) == 1 }
    XCTAssertTrue(started, "the sleeping call reached the handler")
    cancelled.cancel()
    let cancelledLabels = sleeping + [(TandemMetric.Label.status, "CANCELLED")]
    let finished = await eventually { metrics.counterValue(TandemMetric.serverCallsFinished.name, labels: cancelledLabels) == 1 }
    XCTAssertTrue(finished, "the server counts the reset call as CANCELLED:\n\(metrics.render())")

    let tcpTransport = labels("tcp", ControlService.transport)
    let quicTransport = labels("quic", ControlService.transport)
    XCTAssertEqual(metrics.counterValue(TandemMetric.serverCallsStarted.name, labels: tcpTransport), 2)
    XCTAssertEqual(metrics.counterValue(TandemMetric.serverCallsStarted.name, labels: quicTransport), 1)
    XCTAssertEqual(
      metrics.counterValue(TandemMetric.serverCallsFinished.name, labels: tcpTransport + [(TandemMetric.Label.status, "OK")]), 2)
    XCTAssertEqual(
      metrics.counterValue(TandemMetric.serverCallsFinished.name, labels: quicTransport + [(TandemMetric.Label.status, "OK")]), 1)
    XCTAssertEqual(
      metrics.counterValue(
        TandemMetric.serverCallsFinished.name,
        labels: labels("tcp", ControlService.fail) + [(TandemMetric.Label.status, "NOT_FOUND")]), 1)
    XCTAssertEqual(metrics.histogramValue(TandemMetric.serverCallDuration.name, labels: tcpTransport)?.count, 2)
    // Each empty request is a 5-byte message prefix; each response carries the transport's name.
    XCTAssertEqual(metrics.counterValue(TandemMetric.serverReceivedBytes.name, labels: tcpTransport), 10)
    XCTAssertGreaterThan(metrics.counterValue(TandemMetric.serverSentBytes.name, labels: quicTransport) ?? 0, 5)

    let tcpOnly = [(TandemMetric.Label.transport, "tcp")]
    let quicOnly = [(TandemMetric.Label.transport, "quic")]
    XCTAssertEqual(metrics.counterValue(TandemMetric.serverConnectionsOpened.name, labels: tcpOnly), 1)
    XCTAssertEqual(metrics.counterValue(TandemMetric.serverConnectionsOpened.name, labels: quicOnly), 1)
    XCTAssertEqual(metrics.gaugeValue(TandemMetric.serverConnectionsOpen.name, labels: tcpOnly), 1)
    XCTAssertEqual(metrics.gaugeValue(TandemMetric.serverConnectionsOpen.name, labels: quicOnly), 1)

    tcp.close()
    quic.close()
    let closed = await eventually {
      metrics.gaugeValue(TandemMetric.serverConnectionsOpen.name, labels: tcpOnly) == 0
        && metrics.gaugeValue(TandemMetric.serverConnectionsOpen.name, labels: quicOnly) == 0
    }
    XCTAssertTrue(closed, "both connections close after the channels do:\n\(metrics.render())")
    await server.stop()
  }

  func testMetricsEndpointRecordsServerCalls() async throws {
    let metrics = PrometheusMetrics()
    var configuration = TestServer.quietConfiguration()
    configuration.metricsEndpoint = .init(host: "127.0.0.1", port: 0, metrics: metrics)
    let server = try await TestServer.start(tls: false, configuration: configuration)
    let channel = try server.makeChannel()
    try await Self.call(channel, ControlService.transport)
    XCTAssertEqual(
      metrics.counterValue(TandemMetric.serverCallsStarted.name, labels: labels("tcp", ControlService.transport)), 1,
      "without Configuration.metrics, the endpoint's store records the server's calls")
    channel.close()
    await server.stop()
  }
}
