import EchoProtos
import Foundation
import Synchronization
import TandemCore
import TandemHTTP
import TandemHTTP2
import TandemIO
import XCTest

@testable import Tandem
@testable import TandemTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The hybrid transport policy over real sockets: races between TCP and QUIC, fallback when
/// one transport is missing or silent, and QUIC broken marks.
final class HybridTransportTests: XCTestCase {
  private func hybridChannel(
    port: Int, certificate: SelfSignedCertificate, preferred: TransportPolicy.Preference,
    configuration: Channel.Configuration = .defaults
  ) throws -> Channel {
    var configuration = configuration
    configuration.logHandler = StandardErrorLogHandler(minimumLevel: .error)
    return try Channel(
      target: "127.0.0.1:\(port)", transport: .hybrid(preferred: preferred),
      security: .tls(trust: .caFile(certificate.certificatePath), serverName: "localhost"), configuration: configuration)
  }

  private func transport(of channel: Channel) async throws -> String {
    let response: Echo_V1_EchoResponse = try await channel.unary(
      ControlService.transport, request: Echo_V1_EchoRequest(), metadata: [:], options: .defaults
    ) { try $0.message }
    return response.text
  }

  func testPrefersQUICWhenBothServe() async throws {
    let server = try await TestServer.start(tls: true, transports: [.tcp, .quic])
    let channel = try hybridChannel(port: server.port, certificate: server.certificate!, preferred: .quic)
    let used = try await transport(of: channel)
    XCTAssertEqual(used, "HTTP/3")
    XCTAssertFalse(TransportHealth.shared.isQUICBroken("127.0.0.1:\(server.port)"))
    channel.close()
    await server.stop()
  }

  func testPrefersTCPWhenAskedTo() async throws {
    let server = try await TestServer.start(tls: true, transports: [.tcp, .quic])
    let channel = try hybridChannel(port: server.port, certificate: server.certificate!, preferred: .tcp)
    let used = try await transport(of: channel)
    XCTAssertEqual(used, "HTTP/2")
    channel.close()
    await server.stop()
  }

  func testFallsBackToTCPWithoutQUICServer() async throws {
    let server = try await TestServer.start(tls: true, transports: [.tcp])
    let target = "127.0.0.1:\(server.port)"
    let channel = try hybridChannel(port: server.port, certificate: server.certificate!, preferred: .quic)
    let used = try await transport(of: channel)
    XCTAssertEqual(used, "HTTP/2")
    let marked = await eventually { TransportHealth.shared.isQUICBroken(target) }
    XCTAssertTrue(marked, "QUIC failed while TCP worked, so it is marked broken")
    let again = try await transport(of: channel)
    XCTAssertEqual(again, "HTTP/2", "later calls stay on the TCP connection")
    channel.close()
    await server.stop()
    Channel.clearBrokenTransportMarks()
    XCTAssertFalse(TransportHealth.shared.isQUICBroken(target))
  }

  func testFallbackIsVisibleInMetrics() async throws {
    let server = try await TestServer.start(tls: true, transports: [.tcp])
    let target = "127.0.0.1:\(server.port)"
    let metrics = PrometheusMetrics()
    var configuration = Channel.Configuration.defaults
    configuration.metrics = metrics
    let channel = try hybridChannel(
      port: server.port, certificate: server.certificate!, preferred: .quic, configuration: configuration)
    let used = try await transport(of: channel)
    XCTAssertEqual(used, "HTTP/2")
    let tcp = [(TandemMetric.Label.transport, "tcp"), (TandemMetric.Label.target, target)]
    let quic = [(TandemMetric.Label.transport, "quic"), (TandemMetric.Label.target, target)]
    let marked = await eventually { metrics.counterValue(TandemMetric.brokenMarks.name, labels: quic) == 1 }
    XCTAssertTrue(marked, metrics.render())
    // A call reports its end when its status arrives, which can be just after the caller has
    // its response.
    let finished = await eventually {
      metrics.counterValue(TandemMetric.callsFinished.name, labels: tcp + [(TandemMetric.Label.status, "OK")]) == 1
    }
    XCTAssertTrue(finished, metrics.render())
    XCTAssertEqual(metrics.counterValue(TandemMetric.connectionsOpened.name, labels: tcp), 1)
    XCTAssertEqual(metrics.counterValue(TandemMetric.connectionsFailed.name, labels: quic), 1)
    XCTAssertEqual(metrics.counterValue(TandemMetric.racesWon.name, labels: tcp), 1)
    XCTAssertEqual(metrics.counterValue(TandemMetric.fallbacks.name, labels: tcp), 1)
    XCTAssertEqual(metrics.gaugeValue(TandemMetric.connectionsOpen.name, labels: tcp), 1)
    XCTAssertNotNil(metrics.gaugeValue(TandemMetric.roundTripTime.name, labels: tcp))
    XCTAssertEqual(metrics.histogramValue(TandemMetric.handshakeDuration.name, labels: tcp)?.count, 1)
    XCTAssertTrue(metrics.render().contains("tandem_races_won_total{"), metrics.render())
    XCTAssertEqual(metrics.counterValue(TandemMetric.callsStarted.name, labels: tcp), 1)
    XCTAssertEqual(
      metrics.counterValue(TandemMetric.callsFinished.name, labels: tcp + [(TandemMetric.Label.status, "OK")]), 1,
      metrics.render())
    XCTAssertEqual(metrics.counterValue(TandemMetric.sentBytes.name, labels: tcp), 5, "one empty request: the 5-byte prefix")
    XCTAssertGreaterThan(metrics.counterValue(TandemMetric.receivedBytes.name, labels: tcp) ?? 0, 5)
    XCTAssertEqual(metrics.histogramValue(TandemMetric.callDuration.name, labels: tcp)?.count, 1)
    channel.close()
    let closed = await eventually { metrics.gaugeValue(TandemMetric.connectionsOpen.name, labels: tcp) == 0 }
    XCTAssertTrue(closed, metrics.render())
    await server.stop()
  }

  func testCallWithoutConnectionCountsAsStarted() async throws {
    // Bind and release a port, so that nothing listens on it.
    let server = try await TestServer.start(tls: false)
    let port = server.port
    await server.stop()
    let metrics = PrometheusMetrics()
    var configuration = Channel.Configuration.defaults
    configuration.metrics = metrics
    configuration.logHandler = StandardErrorLogHandler(minimumLevel: .error)
    let channel = try Channel(target: "127.0.0.1:\(port)", transport: .tcp, security: .plaintext, configuration: configuration)
    await assertRPCError(.unavailable) { try await self.transport(of: channel) }
    let none = [(TandemMetric.Label.transport, "none"), (TandemMetric.Label.target, "127.0.0.1:\(port)")]
    XCTAssertEqual(metrics.counterValue(TandemMetric.callsStarted.name, labels: none), 1, metrics.render())
    XCTAssertEqual(
      metrics.counterValue(TandemMetric.callsFinished.name, labels: none + [(TandemMetric.Label.status, "UNAVAILABLE")]), 1,
      metrics.render())
    channel.close()
  }

  func testUsesQUICWhenTCPIsClosed() async throws {
    let server = try await TestServer.start(tls: true, transports: [.quic])
    let channel = try hybridChannel(port: server.port, certificate: server.certificate!, preferred: .tcp)
    let used = try await transport(of: channel)
    XCTAssertEqual(used, "HTTP/3")
    channel.close()
    await server.stop()
  }

  func testSilentUDPFallsBackThenRecovers() async throws {
    // A UDP socket that never replies is bound to the port, so QUIC handshakes time out. TCP is served.
    let silent = try SilentSocket(SOCK_DGRAM)
    let port = silent.port
    let tcpServer = try await TestServer.start(tls: true, transports: [.tcp], port: port)
    let target = "127.0.0.1:\(port)"

    var configuration = Channel.Configuration.defaults
    configuration.http3.handshakeTimeout = .seconds(1)
    configuration.hybrid = .init(quicBrokenDuration: .milliseconds(500), maxQUICBrokenDuration: .seconds(5))
    let first = try hybridChannel(port: port, certificate: tcpServer.certificate!, preferred: .quic, configuration: configuration)
    let firstUsed = try await transport(of: first)
    XCTAssertEqual(firstUsed, "HTTP/2", "TCP wins after the race delay while QUIC gets no answer")
    let marked = await eventually { TransportHealth.shared.isQUICBroken(target) }
    XCTAssertTrue(marked, "the QUIC handshake timed out while TCP worked")
    first.close()

    // The path comes back: a QUIC server replaces the silent socket on the same port.
    silent.close()
    let quicServer = try await TestServer.start(
      tls: true, transports: [.quic], port: port, reusing: tcpServer.certificate)
    let expired = await eventually { !TransportHealth.shared.isQUICBroken(target) }
    XCTAssertTrue(expired, "the mark lasts 500 ms")
    let second = try hybridChannel(port: port, certificate: tcpServer.certificate!, preferred: .quic, configuration: configuration)
    let secondUsed = try await transport(of: second)
    XCTAssertEqual(secondUsed, "HTTP/3", "calls use QUIC again once the mark has expired")
    second.close()
    await quicServer.stop()
    await tcpServer.stop()
  }

  func testBlackHoleMidConnectionMovesCallsToTCP() async throws {
    // QUIC reaches the server through a relay that can black-hole it; TCP at the relay's
    // port number reaches a second server with the same services and certificate.
    let quicServer = try await TestServer.start(tls: true, transports: [.quic])
    let group = EventLoopGroup(threadCount: 1)
    let relay = try UDPRelay(target: try SocketAddress(ipAddress: "127.0.0.1", port: quicServer.port), on: group.next())
    let tcpServer = try await TestServer.start(
      tls: true, transports: [.tcp], port: relay.port, reusing: quicServer.certificate)
    let target = "127.0.0.1:\(relay.port)"

    // The default 30 s idle timeout stays: the probe timeouts (maxProbeTimeouts, 4) notice the
    // silent path within about half a second on loopback.
    var configuration = Channel.Configuration.defaults
    configuration.http3.handshakeTimeout = .seconds(1)
    configuration.hybrid = .init(quicBrokenDuration: .milliseconds(500), maxQUICBrokenDuration: .seconds(5))
    let channel = try hybridChannel(
      port: relay.port, certificate: quicServer.certificate!, preferred: .quic, configuration: configuration)
    let first = try await transport(of: channel)
    XCTAssertEqual(first, "HTTP/3")

    relay.setBlackHole(true)
    // Calls on the silent QUIC connection fail with UNAVAILABLE once it times out; after
    // that, a new race puts new calls on TCP.
    var outcomes: [String] = []
    let deadline = ContinuousClock.now + .seconds(15)
    while outcomes.last != "HTTP/2" && ContinuousClock.now < deadline {
      do {
        outcomes.append(try await transport(of: channel))
      } catch let error as RPCError {
        XCTAssertEqual(error.code, .unavailable, "\(error)")
        outcomes.append("unavailable: \(error.message)")
      }
    }
    XCTAssertEqual(outcomes.last, "HTTP/2", "new calls move to TCP: \(outcomes)")
    let marked = await eventually { TransportHealth.shared.isQUICBroken(target) }
    XCTAssertTrue(marked, "the black-holed QUIC handshake failed while TCP worked")
    channel.close()

    relay.setBlackHole(false)
    let expired = await eventually { !TransportHealth.shared.isQUICBroken(target) }
    XCTAssertTrue(expired)
    let later = try hybridChannel(
      port: relay.port, certificate: quicServer.certificate!, preferred: .quic, configuration: configuration)
    let recovered = try await transport(of: later)
    XCTAssertEqual(recovered, "HTTP/3", "QUIC carries calls again once the path is back and the mark expired")
    later.close()
    await relay.close()
    await tcpServer.stop()
    await quicServer.stop()
    await group.shutdownGracefully()
  }

  func testBothTransportsFailingIsUnavailable() async throws {
    let certificateDirectory = FileManager.default.temporaryDirectory
      .appendingPathComponent("tandem-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: certificateDirectory, withIntermediateDirectories: true)
    let certificate = try SelfSignedCertificate.generate(in: certificateDirectory)
    // Bind and release a port, so that neither TCP nor UDP listens on it.
    let server = try await TestServer.start(tls: true, transports: [.tcp, .quic], reusing: certificate)
    let port = server.port
    await server.stop()
    let channel = try hybridChannel(port: port, certificate: certificate, preferred: .quic)
    let error = await assertRPCError(.unavailable) { try await self.transport(of: channel) }
    XCTAssertTrue(error?.message.contains("failed over TCP") ?? false, "\(String(describing: error))")
    XCTAssertTrue(error?.message.contains("over QUIC") ?? false, "\(String(describing: error))")
    XCTAssertTrue(error?.message.contains("127.0.0.1:\(port)") ?? false, "the message names the target: \(String(describing: error))")
    XCTAssertEqual(error?.message.components(separatedBy: "UNAVAILABLE").count, 1, "no nested status: \(String(describing: error))")
    channel.close()
  }

  func testCloseDuringRaceFailsWaitingCalls() async throws {
    // UDP and TCP sockets on one port that never reply. The QUIC handshake gets no response,
    // and TCP connects (the kernel accepts into the backlog) but TLS never starts, so the race
    // stays open for the whole connect timeout.
    let silentUDP = try SilentSocket(SOCK_DGRAM)
    defer { silentUDP.close() }
    let silentTCP = try SilentSocket(SOCK_STREAM, port: silentUDP.port)
    defer { silentTCP.close() }
    let port = silentUDP.port
    let certificateDirectory = FileManager.default.temporaryDirectory
      .appendingPathComponent("tandem-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: certificateDirectory, withIntermediateDirectories: true)
    let certificate = try SelfSignedCertificate.generate(in: certificateDirectory)

    var configuration = Channel.Configuration.defaults
    configuration.connectTimeout = .seconds(60)
    configuration.http3.handshakeTimeout = .seconds(60)
    let channel = try hybridChannel(port: port, certificate: certificate, preferred: .quic, configuration: configuration)
    let calls = Task {
      await withTaskGroup(of: RPCError?.self) { group in
        for _ in 0..<3 {
          group.addTask {
            do {
              let _: Echo_V1_EchoResponse = try await channel.unary(
                ControlService.transport, request: Echo_V1_EchoRequest(), metadata: [:], options: .defaults
              ) { try $0.message }
              return nil
            } catch {
              return error as? RPCError
            }
          }
        }
        var errors: [RPCError?] = []
        for await error in group { errors.append(error) }
        return errors
      }
    }
    // Both transports have started once the race delay (300 ms with no known round-trip time) passed.
    try await Task.sleep(for: .milliseconds(500))
    channel.close()
    let errors = await calls.value
    XCTAssertEqual(errors.count, 3)
    for error in errors {
      XCTAssertEqual(error?.code, .unavailable, "\(String(describing: error))")
      XCTAssertTrue(
        error?.message.contains("is closed") ?? false,
        "the close ends the wait instead of the 60 s handshake timeout: \(String(describing: error))")
    }
  }

  func testHybridNeedsTLS() {
    XCTAssertThrowsError(try Channel(target: "127.0.0.1:1", transport: .hybrid(preferred: .quic), security: .plaintext)) { error in
      XCTAssertEqual((error as? ChannelError)?.kind, .transportUnavailable)
      XCTAssertTrue("\(error)".contains("needs TLS"), "\(error)")
    }
  }

  func testInvalidConfigurationFailsAtCreation() {
    var configuration = Channel.Configuration.defaults
    configuration.http3.loopbackUDPPayloadSize = 0
    XCTAssertThrowsError(try Channel(target: "127.0.0.1:1", transport: .quic, security: .insecure, configuration: configuration)) {
      error in
      XCTAssertEqual((error as? ChannelError)?.kind, .invalidConfiguration)
      XCTAssertTrue("\(error)".contains("loopbackUDPPayloadSize is 0, outside 1200...65527"), "\(error)")
    }
    XCTAssertThrowsError(try configuration.http3.validate()) { error in
      XCTAssertEqual((error as? HTTPTransportError)?.kind, .invalidConfiguration)
    }
    var adaptive = Channel.Configuration.defaults
    adaptive.adaptive = .init(probeInterval: .zero)
    XCTAssertThrowsError(try Channel(target: "127.0.0.1:1", transport: .adaptive, security: .insecure, configuration: adaptive)) {
      error in
      XCTAssertTrue("\(error)".contains("adaptive.probeInterval is 0.0 seconds"), "\(error)")
    }
    var backoff = Channel.Configuration.defaults
    backoff.backoff.multiplier = .nan
    XCTAssertThrowsError(try Channel(target: "127.0.0.1:1", security: .insecure, configuration: backoff)) { error in
      XCTAssertEqual((error as? ChannelError)?.kind, .invalidConfiguration)
    }
  }

  func testRaceDelayFollowsRoundTripTime() {
    XCTAssertEqual(ConnectionPool.raceDelay(roundTripTime: nil), .milliseconds(300))
    XCTAssertEqual(ConnectionPool.raceDelay(roundTripTime: .milliseconds(10)), .milliseconds(100))
    XCTAssertEqual(ConnectionPool.raceDelay(roundTripTime: .milliseconds(200)), .milliseconds(300))
    XCTAssertEqual(ConnectionPool.raceDelay(roundTripTime: .seconds(5)), .seconds(2))
  }

  func testBrokenMarkDoublesUpToMaximum() {
    let health = TransportHealth()
    let start = ContinuousClock.now
    // Each repeat comes once the previous mark has ended.
    var now = start
    var durations: [Duration] = []
    for _ in 0..<5 {
      let duration = health.markQUICBroken("a:1", base: .seconds(300), maximum: .seconds(1000), now: now)
      durations.append(duration ?? .zero)
      now += duration ?? .zero
    }
    XCTAssertEqual(durations, [.seconds(300), .seconds(600), .seconds(1000), .seconds(1000), .seconds(1000)])
    XCTAssertTrue(health.isQUICBroken("a:1", now: now - .seconds(1)))
    XCTAssertFalse(health.isQUICBroken("a:1", now: now))
    XCTAssertFalse(health.isQUICBroken("b:1", now: start))
    health.recordQUICSuccess("a:1", now: now)
    XCTAssertFalse(health.isQUICBroken("a:1", now: now))
    XCTAssertEqual(health.markQUICBroken("a:1", base: .seconds(300), maximum: .seconds(1000), now: now), .seconds(300))
  }

  func testFailureDuringMarkIsNotRepeat() {
    let health = TransportHealth()
    let start = ContinuousClock.now
    XCTAssertEqual(health.markQUICBroken("a:1", base: .seconds(300), maximum: .seconds(1000), now: start), .seconds(300))
    XCTAssertNil(
      health.markQUICBroken("a:1", base: .seconds(300), maximum: .seconds(1000), now: start + .seconds(1)),
      "a second attempt failing during the mark neither extends nor doubles it")
    XCTAssertFalse(health.isQUICBroken("a:1", now: start + .seconds(300)), "the first mark still ends after 300 s")
    XCTAssertEqual(
      health.markQUICBroken("a:1", base: .seconds(300), maximum: .seconds(1000), now: start + .seconds(300)), .seconds(600),
      "a failure after the mark ended is a repeat")
  }

  func testStaleFailureAfterSuccessIsNotMarked() {
    let health = TransportHealth()
    let start = ContinuousClock.now
    health.recordQUICSuccess("a:1", now: start + .seconds(5))
    XCTAssertNil(
      health.markQUICBroken(
        "a:1", base: .seconds(300), maximum: .seconds(1000), attemptStarted: start, now: start + .seconds(10)),
      "an attempt that started before the last success tells nothing new about the path")
    XCTAssertFalse(health.isQUICBroken("a:1", now: start + .seconds(10)))
    XCTAssertEqual(
      health.markQUICBroken(
        "a:1", base: .seconds(300), maximum: .seconds(1000), attemptStarted: start + .seconds(6), now: start + .seconds(10)),
      .seconds(300), "an attempt that started after the success marks")
  }

  func testRoundTripTimeIsSmallerOfTransports() {
    let health = TransportHealth()
    health.recordRoundTripTime("a:1", .milliseconds(3), over: .tcp)
    health.recordRoundTripTime("a:1", .milliseconds(500), over: .quic)
    XCTAssertEqual(health.roundTripTime("a:1"), .milliseconds(3), "a slow QUIC path does not lengthen the race delay")
    XCTAssertEqual(ConnectionPool.raceDelay(roundTripTime: health.roundTripTime("a:1")), .milliseconds(100))
  }

  /// A hybrid channel to a TCP-only server whose port also has a silent UDP socket: the first
  /// call goes over TCP while the QUIC handshake is still running, with `handshakeTimeout`.
  private struct SilentQUICRace {
    let silent: SilentSocket
    let server: TestServer
    let channel: Channel
    let metrics: PrometheusMetrics
    let tcp: [(String, String)]
    let quic: [(String, String)]
  }

  private func startSilentQUICRace(handshakeTimeout: Duration) async throws -> SilentQUICRace {
    let silent = try SilentSocket(SOCK_DGRAM)
    let server = try await TestServer.start(tls: true, transports: [.tcp], port: silent.port)
    let target = "127.0.0.1:\(silent.port)"
    let metrics = PrometheusMetrics()
    var configuration = Channel.Configuration.defaults
    configuration.metrics = metrics
    configuration.http3.handshakeTimeout = handshakeTimeout
    configuration.connectTimeout = handshakeTimeout
    let channel = try hybridChannel(
      port: silent.port, certificate: server.certificate!, preferred: .quic, configuration: configuration)
    let used = try await transport(of: channel)
    XCTAssertEqual(used, "HTTP/2")
    return SilentQUICRace(
      silent: silent, server: server, channel: channel, metrics: metrics,
      tcp: [(TandemMetric.Label.transport, "tcp"), (TandemMetric.Label.target, target)],
      quic: [(TandemMetric.Label.transport, "quic"), (TandemMetric.Label.target, target)])
  }

  func testCloseStopsLosingQUICAttempt() async throws {
    // Closing the channel stops the QUIC handshake after the 1 s grace period, before its 3 s
    // timeout, and QUIC is marked broken then, because it had not finished while TCP worked.
    let race = try await startSilentQUICRace(handshakeTimeout: .seconds(3))
    defer { race.silent.close() }
    let metrics = race.metrics
    race.channel.close()

    let marked = await eventually { metrics.counterValue(TandemMetric.brokenMarks.name, labels: race.quic) == 1 }
    XCTAssertTrue(marked, "the stopped QUIC attempt marks QUIC broken:\n\(metrics.render())")
    XCTAssertTrue(TransportHealth.shared.isQUICBroken("127.0.0.1:\(race.silent.port)"))
    // Past the 3 s handshake timeout, which a running attempt would have reached: it was
    // stopped, so it never failed at the timeout.
    try await Task.sleep(for: .milliseconds(3_500))
    XCTAssertNil(metrics.counterValue(TandemMetric.connectionsFailed.name, labels: race.quic), metrics.render())
    XCTAssertEqual(metrics.counterValue(TandemMetric.brokenMarks.name, labels: race.quic), 1, metrics.render())
    await race.server.stop()
  }

  func testShutdownStopsAttemptsAtOnce() async throws {
    // shutdown() stops the QUIC attempt at once and returns when nothing of the channel runs
    // any more.
    let race = try await startSilentQUICRace(handshakeTimeout: .seconds(30))
    defer { race.silent.close() }
    let metrics = race.metrics

    await race.channel.shutdown()
    XCTAssertEqual(metrics.gaugeValue(TandemMetric.connectionsOpen.name, labels: race.tcp), 0, "the TCP connection has closed")
    XCTAssertNil(
      metrics.counterValue(TandemMetric.connectionsFailed.name, labels: race.quic), "the QUIC attempt was stopped, not failed")
    XCTAssertNil(
      metrics.counterValue(TandemMetric.brokenMarks.name, labels: race.quic),
      "an attempt stopped by shutdown right away shows nothing about QUIC:\n\(metrics.render())")
    await assertRPCError(.unavailable) { try await self.transport(of: race.channel) }
    await race.server.stop()
  }

  func testClearlySlowerThreshold() {
    XCTAssertFalse(AdaptiveChoice.isClearlySlower(.milliseconds(11), than: .milliseconds(1)), "11 ms is within 1.5 x 1 + 10")
    XCTAssertTrue(AdaptiveChoice.isClearlySlower(.milliseconds(12), than: .milliseconds(1)))
    XCTAssertTrue(AdaptiveChoice.isClearlySlower(.milliseconds(400), than: .milliseconds(8)), "a 400 ms QUIC path next to 8 ms TCP")
    XCTAssertFalse(AdaptiveChoice.isClearlySlower(.milliseconds(160), than: .milliseconds(100)))
  }

  func testHealthKeepsBoundedTargets() {
    let health = TransportHealth()
    let start = ContinuousClock.now
    for index in 0..<(TransportHealth.maxTargets + 10) {
      health.recordRoundTripTime("host:\(index)", .milliseconds(1), over: .tcp, now: start + .milliseconds(index))
    }
    XCTAssertNil(health.roundTripTime("host:0"), "the oldest target is dropped")
    XCTAssertNotNil(health.roundTripTime("host:\(TransportHealth.maxTargets + 9)"))
  }
}

/// The adaptive policy over a QUIC path that a relay slows down, and its choice function.
final class AdaptiveTransportTests: XCTestCase {
  func testSlowQUICMovesNewConnectionsToTCPAndBack() async throws {
    let quicServer = try await TestServer.start(tls: true, transports: [.quic])
    let group = EventLoopGroup(threadCount: 1)
    let relay = try UDPRelay(
      target: try SocketAddress(ipAddress: "127.0.0.1", port: quicServer.port), on: group.next(),
      impairment: .init(delay: .milliseconds(50)))
    let tcpServer = try await TestServer.start(
      tls: true, transports: [.tcp], port: relay.port, reusing: quicServer.certificate)
    let target = "127.0.0.1:\(relay.port)"
    let metrics = PrometheusMetrics()
    var configuration = Channel.Configuration.defaults
    configuration.logHandler = StandardErrorLogHandler(minimumLevel: .error)
    configuration.adaptive = .init(probeInterval: .milliseconds(300))
    configuration.metrics = metrics

    func transportOfNewChannel() async throws -> String {
      let channel = try Channel(
        target: target, transport: .adaptive,
        security: .tls(trust: .caFile(quicServer.certificate!.certificatePath), serverName: "localhost"),
        configuration: configuration)
      defer { channel.close() }
      let response: Echo_V1_EchoResponse = try await channel.unary(
        ControlService.transport, request: Echo_V1_EchoRequest(), metadata: [:], options: .defaults
      ) { try $0.message }
      return response.text
    }

    // No measurements yet: both start, and TCP finishes first because QUIC takes 100 ms longer.
    let exploring = try await transportOfNewChannel()
    XCTAssertEqual(exploring, "HTTP/2")
    let measured = await eventually { TransportHealth.shared.roundTripTime(target, over: .quic) != nil }
    XCTAssertTrue(measured, "the QUIC handshake of the probe completes and is measured")
    let slow = try await transportOfNewChannel()
    XCTAssertEqual(slow, "HTTP/2", "QUIC's round trip is 100 ms longer, so TCP is chosen")

    try relay.setImpairment(.init())
    // Once the measurements are older than the probe interval, a new connection probes both
    // transports, and the next ones choose QUIC again. A busy machine may need a few probes.
    var back = ""
    let deadline = ContinuousClock.now + .seconds(15)
    while back != "HTTP/3" && ContinuousClock.now < deadline {
      try await Task.sleep(for: .milliseconds(350))
      back = try await transportOfNewChannel()
    }
    XCTAssertEqual(back, "HTTP/3", "with comparable round trips QUIC is chosen again")

    let decisions = metrics.series(named: TandemMetric.adaptiveDecisions.name)
    XCTAssertFalse(decisions.isEmpty, metrics.render())
    XCTAssertTrue(metrics.render().contains("reason=\"tcp_faster\""), metrics.render())
    XCTAssertTrue(metrics.render().contains("tandem_adaptive_handshake_success_ratio{"), metrics.render())
    await relay.close()
    await tcpServer.stop()
    await quicServer.stop()
    await group.shutdownGracefully()
  }

  func testChoiceFollowsRoundTripTimes() {
    let now = ContinuousClock.now
    func choose(quic: Int?, tcp: Int?, age: Int = 0, broken: Bool = false) -> AdaptiveChoice {
      AdaptiveChoice.decide(
        quic: quic.map { (.milliseconds($0), now - .milliseconds(age)) },
        tcp: tcp.map { (.milliseconds($0), now - .milliseconds(age)) },
        quicBroken: broken, probeInterval: .seconds(60), now: now)
    }
    XCTAssertEqual(choose(quic: nil, tcp: nil), AdaptiveChoice(preferred: .quic, probesBoth: true, reason: "exploring"))
    XCTAssertEqual(choose(quic: 5, tcp: nil), AdaptiveChoice(preferred: .quic, probesBoth: true, reason: "exploring"))
    XCTAssertEqual(choose(quic: 60, tcp: 1), AdaptiveChoice(preferred: .tcp, probesBoth: false, reason: "tcp_faster"))
    XCTAssertEqual(choose(quic: 6, tcp: 1), AdaptiveChoice(preferred: .quic, probesBoth: false, reason: "quic_comparable"))
    XCTAssertEqual(choose(quic: 100, tcp: 80), AdaptiveChoice(preferred: .quic, probesBoth: false, reason: "quic_comparable"))
    XCTAssertEqual(choose(quic: 200, tcp: 80), AdaptiveChoice(preferred: .tcp, probesBoth: false, reason: "tcp_faster"))
    XCTAssertEqual(
      choose(quic: 60, tcp: 1, age: 61_000), AdaptiveChoice(preferred: .tcp, probesBoth: true, reason: "tcp_faster_probing"))
    XCTAssertEqual(choose(quic: 1, tcp: 60, broken: true), AdaptiveChoice(preferred: .tcp, probesBoth: false, reason: "quic_broken"))
  }

  func testChoiceUsesCallStatistics() {
    let now = ContinuousClock.now
    func statistics(latency: Int, bytesPerCall: Int = 100, calls: Int = 8, age: Int = 0, failures: Int = 0) -> TransportStatistics {
      var result = TransportStatistics()
      for _ in 0..<failures { result.recordHandshake(succeeded: false, duration: nil) }
      for _ in 0..<calls {
        result.recordCall(latency: .milliseconds(latency), bytes: bytesPerCall, now: now - .milliseconds(age))
      }
      return result
    }
    func choose(_ quic: TransportStatistics, _ tcp: TransportStatistics) -> AdaptiveChoice {
      AdaptiveChoice.decide(
        quic: (.milliseconds(1), now), tcp: (.milliseconds(1), now), quicStatistics: quic, tcpStatistics: tcp,
        quicBroken: false, probeInterval: .seconds(60), now: now)
    }
    XCTAssertEqual(choose(statistics(latency: 60), statistics(latency: 2)).reason, "tcp_lower_latency")
    XCTAssertEqual(choose(statistics(latency: 60), statistics(latency: 2)).preferred, .tcp)
    XCTAssertEqual(choose(statistics(latency: 3), statistics(latency: 2)).reason, "quic_latency_comparable")
    XCTAssertEqual(
      choose(statistics(latency: 60, bytesPerCall: 100_000), statistics(latency: 50, bytesPerCall: 1_000_000)).reason,
      "tcp_higher_goodput")
    XCTAssertEqual(choose(statistics(latency: 60, age: 61_000), statistics(latency: 2)).reason, "quic_comparable")
    XCTAssertEqual(choose(statistics(latency: 60, calls: 7), statistics(latency: 2)).reason, "quic_comparable")
    XCTAssertEqual(choose(statistics(latency: 1, failures: 4), statistics(latency: 2)).reason, "quic_unreliable")
    var percentiles = TransportStatistics()
    for milliseconds in 1...100 { percentiles.recordCall(latency: .milliseconds(milliseconds), bytes: 0, now: now) }
    XCTAssertEqual(percentiles.latencies.count, TransportStatistics.latencyWindow)
    XCTAssertEqual(percentiles.latencyPercentile(0.5), .milliseconds(69))
    XCTAssertEqual(percentiles.latencyPercentile(0.95), .milliseconds(97))
  }
}

/// Targets with several addresses: Happy Eyeballs across them (RFC 8305).
final class MultipleAddressTests: XCTestCase {
  private func unusedPort() async throws -> Int {
    let server = try await TestServer.start(tls: true, transports: [.tcp, .quic])
    let port = server.port
    await server.stop()
    return port
  }

  private func transport(of channel: Channel) async throws -> String {
    let response: Echo_V1_EchoResponse = try await channel.unary(
      ControlService.transport, request: Echo_V1_EchoRequest(), metadata: [:], options: .defaults
    ) { try $0.message }
    return response.text
  }

  func testRefusedAddressFallsThroughToNext() async throws {
    let server = try await TestServer.start(tls: true, transports: [.tcp])
    let dead = try await unusedPort()
    let channel = try Channel(
      target: "ipv4:127.0.0.1:\(dead),127.0.0.1:\(server.port)", transport: .tcp,
      security: .tls(trust: .caFile(server.certificate!.certificatePath), serverName: "localhost"))
    let used = try await transport(of: channel)
    XCTAssertEqual(used, "HTTP/2")
    channel.close()
    await server.stop()
  }

  func testSilentQUICAddressIsOvertakenByNext() async throws {
    let server = try await TestServer.start(tls: true, transports: [.quic])
    let silent = try SilentSocket(SOCK_DGRAM)
    defer { silent.close() }
    let silentPort = silent.port
    let channel = try Channel(
      target: "ipv4:127.0.0.1:\(silentPort),127.0.0.1:\(server.port)", transport: .quic,
      security: .tls(trust: .caFile(server.certificate!.certificatePath), serverName: "localhost"),
      configuration: .init(quicSessionCache: nil, connectTimeout: .seconds(60)))
    // The silent address never responds, so only a second attempt started alongside it can
    // connect; with the 60 s connect timeout, waiting for the first would outlast the call.
    let used = try await channel.unary(
      ControlService.transport, request: Echo_V1_EchoRequest(), metadata: [:], options: .init(timeout: .seconds(10))
    ) { (response: ClientResponse<Echo_V1_EchoResponse>) in try response.message.text }
    XCTAssertEqual(used, "HTTP/3")
    channel.close()
    await server.stop()
  }

  func testRoundRobinSpreadsCallsOverAddresses() async throws {
    let first = try await TestServer.start(tls: true, transports: [.tcp])
    let second = try await TestServer.start(tls: true, transports: [.tcp], reusing: first.certificate)
    let dead = try await unusedPort()
    var configuration = Channel.Configuration.defaults
    configuration.loadBalancing = .roundRobin
    configuration.logHandler = StandardErrorLogHandler(minimumLevel: .error)
    let channel = try Channel(
      target: "ipv4:127.0.0.1:\(first.port),127.0.0.1:\(dead),127.0.0.1:\(second.port)", transport: .tcp,
      security: .tls(trust: .caFile(first.certificate!.certificatePath), serverName: "localhost"),
      configuration: configuration)
    for index in 0..<30 {
      let response: Echo_V1_EchoResponse = try await channel.unary(
        ControlService.peer, request: Echo_V1_EchoRequest(), metadata: [:], options: .defaults
      ) { try $0.message }
      XCTAssertFalse(response.text.isEmpty, "call \(index)")
      try await Task.sleep(for: .milliseconds(5))
    }
    XCTAssertFalse(first.observations.snapshot.peers.isEmpty, "the first address serves calls")
    XCTAssertFalse(second.observations.snapshot.peers.isEmpty, "the third address serves calls too")
    channel.close()
    await first.stop()
    await second.stop()
  }

  func testPickFirstKeepsOneAddress() async throws {
    let first = try await TestServer.start(tls: true, transports: [.tcp])
    let second = try await TestServer.start(tls: true, transports: [.tcp], reusing: first.certificate)
    let channel = try Channel(
      target: "ipv4:127.0.0.1:\(first.port),127.0.0.1:\(second.port)", transport: .tcp,
      security: .tls(trust: .caFile(first.certificate!.certificatePath), serverName: "localhost"))
    for _ in 0..<10 {
      let _: Echo_V1_EchoResponse = try await channel.unary(
        ControlService.peer, request: Echo_V1_EchoRequest(), metadata: [:], options: .defaults
      ) { try $0.message }
    }
    XCTAssertFalse(first.observations.snapshot.peers.isEmpty)
    XCTAssertTrue(second.observations.snapshot.peers.isEmpty, "pick-first stays on the first address")
    channel.close()
    await first.stop()
    await second.stop()
  }

  func testTargetListsParse() throws {
    let list = try ChannelTarget(parsing: "ipv4:127.0.0.1:1,10.0.0.2:2")
    XCTAssertEqual(list.endpoints, [.init(host: "127.0.0.1", port: 1), .init(host: "10.0.0.2", port: 2)])
    XCTAssertEqual(list.authority, "127.0.0.1:1")
    let six = try ChannelTarget(parsing: "ipv6:[::1]:5,[::2]:6")
    XCTAssertEqual(six.endpoints, [.init(host: "::1", port: 5), .init(host: "::2", port: 6)])
    XCTAssertEqual(try ChannelTarget(parsing: "localhost:7").endpoints, [.init(host: "localhost", port: 7)])
    XCTAssertThrowsError(try ChannelTarget(parsing: "ipv4:127.0.0.1:1,"))
    let rejected = [
      "ipv4:[::1]:1", "ipv6:127.0.0.1:1", "ipv4:localhost:1", "dns://8.8.8.8/host:1", "http://127.0.0.1:1",
      "h st:1", "h\u{0}st:1", "h\nst:1", "host:+1", "host:", String(repeating: "a", count: 254) + ":1", "user@host:1",
    ]
    for text in rejected {
      XCTAssertThrowsError(try ChannelTarget(parsing: text), text.debugDescription) { error in
        XCTAssertEqual((error as? ChannelError)?.kind, .invalidTarget, text.debugDescription)
      }
    }
    let reasons = [
      "ipv4:": "the list names no address", "": "it is empty", "ipv4:127.0.0.1:1,": "an address in the list is empty",
      "unix:/tmp/socket": "'unix:' targets are not supported", "unix-abstract:name": "'unix-abstract:' targets",
      "vsock:3:50051": "'vsock:' targets",
    ]
    for (text, reason) in reasons {
      XCTAssertThrowsError(try ChannelTarget(parsing: text), text.debugDescription) { error in
        XCTAssertTrue("\(error)".contains(reason), "\(text.debugDescription): \(error)")
      }
    }
    // 253 bytes in labels of 63: the longest DNS name.
    let longName = String(repeating: String(repeating: "a", count: 63) + ".", count: 3) + String(repeating: "b", count: 61)
    XCTAssertEqual(longName.utf8.count, 253)
    XCTAssertNoThrow(try ChannelTarget(parsing: longName + ":1"))
    XCTAssertNoThrow(try ChannelTarget(parsing: "[fe80::1%eth0]:1"), "an IPv6 zone is allowed in brackets")
    XCTAssertNoThrow(try ChannelTarget(parsing: "_grpc.example.com:1"))
    let hostile = [
      "127.0.0.1%00:80": "contains '%'", "h\u{e9}llo:80": "IDNA", "\u{1F642}:80": "IDNA",
      String(repeating: "a", count: 64) + ".com:80": "a label of the host has 64 bytes, more than 63",
      "[foo]:80": "is not an IPv6 address", "[127.0.0.1]:80": "is not an IPv6 address",
      String(repeating: "a", count: 5_000): "it has 5000 bytes, more than 4096",
    ]
    for (text, reason) in hostile {
      XCTAssertThrowsError(try ChannelTarget(parsing: text), text.debugDescription) { error in
        XCTAssertTrue("\(error)".contains(reason), "\(text.debugDescription): \(error)")
        XCTAssertLessThan("\(error)".utf8.count, 400, "the message quotes a bounded part of the target")
      }
    }
    XCTAssertThrowsError(try ChannelTarget(parsing: "127.0.0.1\n:80")) { error in
      XCTAssertFalse("\(error)".contains("\n"), "control characters are escaped: \(error)")
      XCTAssertTrue("\(error)".contains("\\u{a}"), "\(error)")
    }
    XCTAssertNoThrow(try ChannelTarget(parsing: "dns:///localhost:1"))
    XCTAssertThrowsError(try ChannelTarget(parsing: "ipv4:" + (1...65).map { "127.0.0.1:\($0)" }.joined(separator: ",")))
  }

  func testFamiliesInterleave() throws {
    let addresses = try ["::1", "::2", "127.0.0.1", "127.0.0.2", "::3"].map { try SocketAddress(ipAddress: $0, port: 1) }
    XCTAssertEqual(ConnectionPool.interleaved(addresses).map(\.ipAddress), ["::1", "127.0.0.1", "::2", "127.0.0.2", "::3"])
  }
}

/// The address race state machine alone.
final class AddressRaceTests: XCTestCase {
  func testDelayStartsNextAndFirstWins() {
    var race = AddressRace(count: 3)
    XCTAssertEqual(race.begin(), [.start(0)])
    XCTAssertEqual(race.delayElapsed(), [.start(1)])
    XCTAssertEqual(race.connected(1), [.win(1)])
    XCTAssertEqual(race.delayElapsed(), [])
    XCTAssertEqual(race.connected(0), [.close(0)])
  }

  func testFailureStartsNextAndAllFailing() {
    var race = AddressRace(count: 2)
    _ = race.begin()
    XCTAssertEqual(race.failed(0), [.start(1)])
    XCTAssertEqual(race.failed(1), [.fail])
    XCTAssertEqual(race.connected(1), [.close(1)])
  }
}

/// The race state machine alone.
final class ConnectionRaceTests: XCTestCase {
  func testPreferredWinsAndLateOtherIsClosed() {
    var race = ConnectionRace(preferred: .quic)
    XCTAssertEqual(race.begin(startBoth: false), [.start(.quic)])
    XCTAssertEqual(race.delayElapsed(), [.start(.tcp)])
    XCTAssertEqual(race.connected(.quic), [.clearQUICMark, .win(.quic)])
    XCTAssertEqual(race.connected(.tcp), [.close(.tcp)])
  }

  func testPreferredFailureStartsOtherAtOnce() {
    var race = ConnectionRace(preferred: .quic)
    _ = race.begin(startBoth: false)
    XCTAssertEqual(race.failed(.quic, reason: "unreachable"), [.start(.tcp)])
    XCTAssertEqual(race.delayElapsed(), [])
    XCTAssertEqual(race.connected(.tcp), [.win(.tcp), .markQUICBroken(reason: "unreachable")])
  }

  func testQUICFailingAfterTCPWonIsMarked() {
    var race = ConnectionRace(preferred: .quic)
    _ = race.begin(startBoth: false)
    _ = race.delayElapsed()
    XCTAssertEqual(race.connected(.tcp), [.win(.tcp)])
    XCTAssertEqual(race.failed(.quic, reason: "handshake timeout"), [.markQUICBroken(reason: "handshake timeout")])
  }

  func testStoppedQUICAfterTCPWonIsMarked() {
    var race = ConnectionRace(preferred: .quic)
    _ = race.begin(startBoth: false)
    _ = race.delayElapsed()
    XCTAssertEqual(race.connected(.tcp), [.win(.tcp)])
    XCTAssertEqual(race.stopped(.quic, reason: "slow"), [.markQUICBroken(reason: "slow")])
  }

  func testStoppedBeforeAnyConnectionMarksNothing() {
    var race = ConnectionRace(preferred: .quic)
    _ = race.begin(startBoth: true)
    XCTAssertEqual(race.cancel(), [.cancel])
    XCTAssertEqual(race.stopped(.quic, reason: "closed"), [], "no transport worked, so QUIC is not singled out")
    XCTAssertEqual(race.stopped(.tcp, reason: "closed"), [])
  }

  func testBothFailing() {
    var race = ConnectionRace(preferred: .tcp)
    XCTAssertEqual(race.begin(startBoth: false), [.start(.tcp)])
    XCTAssertEqual(race.failed(.tcp, reason: "refused"), [.start(.quic)])
    XCTAssertEqual(race.failed(.quic, reason: "unreachable"), [.fail(tcp: "refused", quic: "unreachable")])
    XCTAssertEqual(race.connected(.quic), [.clearQUICMark, .close(.quic)])
  }

  func testBrokenPreferredStartsBoth() {
    var race = ConnectionRace(preferred: .quic)
    XCTAssertEqual(race.begin(startBoth: true), [.start(.quic), .start(.tcp)])
    XCTAssertEqual(race.delayElapsed(), [])
  }
}

/// The `Alt-Svc` field that advertises the server's HTTP/3 port to HTTP/2 clients.
final class AlternativeServiceTests: XCTestCase {
  /// Records the response headers of one stream.
  private final class HeaderRecorder: HTTPStreamDelegate {
    let headers = Mutex<[HTTPField]?>(nil)
    let done = Mutex(false)
    func stream(_ stream: any HTTPStream, didReceiveHeaders fields: [HTTPField], endStream: Bool) {
      headers.withLock { $0 = fields }
    }
    func stream(_ stream: any HTTPStream, didReceiveData bytes: [UInt8], endStream: Bool) { stream.consume(bytes.count) }
    func stream(_ stream: any HTTPStream, didReceiveTrailers fields: [HTTPField]) {}
    func streamDidBecomeWritable(_ stream: any HTTPStream) {}
    func stream(_ stream: any HTTPStream, didCloseWith reason: HTTPStreamCloseReason) { done.withLock { $0 = true } }
  }

  /// Sends one Echo/Get request over a raw HTTP/2 connection and returns the response headers.
  private func responseHeaders(port: Int, certificate: SelfSignedCertificate) async throws -> [HTTPField] {
    let connection = try await HTTP2ClientConnection.connect(
      host: "127.0.0.1", port: port, loop: EventLoopGroup.shared.next(),
      tls: TLSClientConfiguration(trust: .caFile(certificate.certificatePath), serverName: "localhost", alpn: ["h2"]))
    let recorder = HeaderRecorder()
    let stream = try connection.openStream(
      requestHeaders: [
        HTTPField(name: ":method", value: "POST"), HTTPField(name: ":scheme", value: "https"),
        HTTPField(name: ":path", value: "/echo.v1.Echo/Get"), HTTPField(name: ":authority", value: "localhost"),
        HTTPField(name: "content-type", value: "application/grpc"), HTTPField(name: "te", value: "trailers"),
      ],
      endStream: false, delegate: recorder)
    stream.writeData([0, 0, 0, 0, 0], endStream: true)
    let deadline = ContinuousClock.now + .seconds(10)
    while !recorder.done.withLock({ $0 }) && ContinuousClock.now < deadline {
      try await Task.sleep(for: .milliseconds(10))
    }
    connection.close()
    return recorder.headers.withLock { $0 } ?? []
  }

  func testBothTransportsAdvertiseHTTP3() async throws {
    let server = try await TestServer.start(tls: true, transports: [.tcp, .quic])
    let headers = try await responseHeaders(port: server.port, certificate: server.certificate!)
    XCTAssertEqual(headers.first(where: { $0.name == ":status" })?.value, "200")
    XCTAssertEqual(headers.first(where: { $0.name == "alt-svc" })?.value, "h3=\":\(server.port)\"; ma=86400")
    await server.stop()
  }

  func testTCPOnlyServerAdvertisesNothing() async throws {
    let server = try await TestServer.start(tls: true, transports: [.tcp])
    let headers = try await responseHeaders(port: server.port, certificate: server.certificate!)
    XCTAssertEqual(headers.first(where: { $0.name == ":status" })?.value, "200")
    XCTAssertNil(headers.first(where: { $0.name == "alt-svc" }))
    await server.stop()
  }
}

/// Moving a hybrid channel from TCP to QUIC when the server advertises HTTP/3.
final class AlternativeServiceDiscoveryTests: XCTestCase {
  private func channel(port: Int, certificate: SelfSignedCertificate) throws -> Channel {
    var configuration = Channel.Configuration.defaults
    configuration.logHandler = StandardErrorLogHandler(minimumLevel: .error)
    return try Channel(
      target: "127.0.0.1:\(port)", transport: .hybrid(preferred: .tcp),
      security: .tls(trust: .caFile(certificate.certificatePath), serverName: "localhost"), configuration: configuration)
  }

  private func transport(of channel: Channel) async throws -> String {
    let response: Echo_V1_EchoResponse = try await channel.unary(
      ControlService.transport, request: Echo_V1_EchoRequest(), metadata: [:], options: .defaults
    ) { try $0.message }
    return response.text
  }

  func testAdvertisedHTTP3TakesOverNewCalls() async throws {
    let server = try await TestServer.start(tls: true, transports: [.tcp, .quic])
    let channel = try channel(port: server.port, certificate: server.certificate!)
    let first = try await transport(of: channel)
    XCTAssertEqual(first, "HTTP/2", "TCP is preferred and wins the race")
    var seen: [String] = [first]
    let deadline = ContinuousClock.now + .seconds(10)
    while seen.last != "HTTP/3" && ContinuousClock.now < deadline {
      try await Task.sleep(for: .milliseconds(20))
      seen.append(try await transport(of: channel))
    }
    XCTAssertEqual(seen.last, "HTTP/3", "after Alt-Svc, new calls move to QUIC without failing: \(seen)")
    channel.close()
    await server.stop()
  }

  func testAdvertisedHTTP3WaitsForBrokenMarkToEnd() async throws {
    let server = try await TestServer.start(tls: true, transports: [.tcp, .quic])
    let target = "127.0.0.1:\(server.port)"
    _ = TransportHealth.shared.markQUICBroken(target, base: .milliseconds(300), maximum: .seconds(1))
    let channel = try channel(port: server.port, certificate: server.certificate!)
    let first = try await transport(of: channel)
    XCTAssertEqual(first, "HTTP/2")
    var seen: [String] = [first]
    let deadline = ContinuousClock.now + .seconds(10)
    while seen.last != "HTTP/3" && ContinuousClock.now < deadline {
      try await Task.sleep(for: .milliseconds(20))
      seen.append(try await transport(of: channel))
    }
    XCTAssertEqual(seen.last, "HTTP/3", "the channel moves to QUIC once the mark has ended: \(seen.count) calls")
    channel.close()
    await server.stop()
  }

  func testWithoutAdvertisementCallsStayOnTCP() async throws {
    let server = try await TestServer.start(tls: true, transports: [.tcp])
    let channel = try channel(port: server.port, certificate: server.certificate!)
    for _ in 0..<5 {
      let used = try await transport(of: channel)
      XCTAssertEqual(used, "HTTP/2")
      try await Task.sleep(for: .milliseconds(50))
    }
    XCTAssertFalse(TransportHealth.shared.isQUICBroken("127.0.0.1:\(server.port)"), "QUIC was never tried")
    channel.close()
    await server.stop()
  }
}

/// The `Alt-Svc` field value parser.
final class AlternativeServiceParserTests: XCTestCase {
  func testParsesAlternativesAndParameters() {
    XCTAssertEqual(
      AlternativeService.parse(#"h3=":8443"; ma=3600, h2="alt.example:443"; persist=1"#),
      .alternatives([
        AlternativeService(protocolID: "h3", host: "", port: 8443, maxAge: .seconds(3600)),
        AlternativeService(protocolID: "h2", host: "alt.example", port: 443, maxAge: .seconds(86_400)),
      ]))
    XCTAssertEqual(
      AlternativeService.parse(#" h3-29=":1" , ,h%33="[::1]:2";ma="60" "#),
      .alternatives([
        AlternativeService(protocolID: "h3-29", host: "", port: 1, maxAge: .seconds(86_400)),
        AlternativeService(protocolID: "h3", host: "::1", port: 2, maxAge: .seconds(60)),
      ]))
    XCTAssertEqual(AlternativeService.parse("clear"), .clear)
    XCTAssertEqual(AlternativeService.parse(#"h3=":443"; ma=99999999999"#),
      .alternatives([AlternativeService(protocolID: "h3", host: "", port: 443, maxAge: .seconds(AlternativeService.maxMaxAgeSeconds))]))
  }

  func testRejectsMalformedValues() {
    let malformed = [
      "", "clear, h3=\":1\"", "h3", "h3=", "h3=:443", #"h3=":0""#, #"h3=":65536""#, #"h3=":""#, #"h3="host""#,
      #"h3=":443"#, #"h3=":443"; ma=-1"#, #"h3=":443"; ma"#, #"h3=":443" x"#, #"h%3=":443""#, #"h3="a:b:443""#,
      #"h3="[::1:443""#, "h3=\":4\u{1}43\"", String(repeating: "h3=\":1\",", count: 600),
    ]
    for value in malformed {
      XCTAssertNil(AlternativeService.parse(value), value)
    }
  }

  func testKeepsAtMostSixteenAlternatives() {
    let value = (1...40).map { "h3=\":\($0)\"" }.joined(separator: ",")
    guard case .alternatives(let alternatives)? = AlternativeService.parse(value) else {
      return XCTFail("expected alternatives")
    }
    XCTAssertEqual(alternatives.count, AlternativeService.maxAlternatives)
    XCTAssertEqual(alternatives.last?.port, 16)
  }
}
