import EchoProtos
import Foundation
import Tandem
import XCTest

/// A QUIC server completes a handshake that arrives at once after it starts. Its UDP socket
/// reads from the moment it is bound, before the server's start has finished, and a server that
/// sent no response to such an early Initial left the client waiting for its connect timeout.
final class QUICServerStartTests: XCTestCase {
  /// A log handler that takes every record, as a verbose log does, and keeps none. The logging
  /// slows both sides a little, which widens the race.
  private struct VerboseLogHandler: LogHandler {
    var minimumLevel: LogLevel { .trace }
    func log(level: LogLevel, message: String, metadata: [(String, String)]) {}
  }

  func testFirstHandshakeRightAfterStart() async throws {
    // Each round races a new server's start against a client's first Initial. Before the fix,
    // runs on a machine with both cores busy stalled in most runs of 60 rounds.
    var serverConfiguration = TestServer.quietConfiguration()
    serverConfiguration.logHandler = VerboseLogHandler()
    for round in 0..<60 {
      let server = try await TestServer.start(tls: true, quic: true, configuration: serverConfiguration)
      var configuration = Channel.Configuration.defaults
      configuration.connectTimeout = .seconds(5)
      configuration.logHandler = VerboseLogHandler()
      let channel = try server.makeChannel(configuration: configuration)
      do {
        let response: Echo_V1_EchoResponse = try await channel.unary(
          ControlService.transport, request: Echo_V1_EchoRequest(), metadata: [:], options: .defaults
        ) { try $0.message }
        XCTAssertEqual(response.text, "HTTP/3", "round \(round)")
      } catch {
        XCTFail("round \(round): the first call to a server that has just started failed: \(error)")
      }
      channel.close()
      await server.stop()
    }
  }
}
