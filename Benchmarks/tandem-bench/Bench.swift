import EchoProtos
import Synchronization
import Tandem
import TandemHTTP3

/// Runs one workload of tandem-bench against an echo-server and returns the `RESULT` fields.
struct Bench {
  let options: BenchOptions
  let transport: TransportPolicy
  let security: Channel.Security
  let clock = ContinuousClock()
  let deadline: ContinuousClock.Instant

  init(options: BenchOptions) {
    self.options = options
    transport = options.transport == "quic" ? .quic : .tcp
    if let ca = options.caPath {
      security = .tls(trust: .caFile(ca), serverName: options.serverName)
    } else {
      security = .tls(trust: .systemTrustStore, serverName: options.serverName)
    }
    deadline = ContinuousClock.now + .seconds(options.timeLimitSeconds)
  }

  /// Creates a channel whose QUIC connections use `sessionCache` (`nil`: no resumption).
  func makeChannel(sessionCache: QUICSessionCache?) throws -> Channel {
    var configuration = Channel.Configuration(quicSessionCache: sessionCache)
    if let window = options.quicStreamWindow {
      configuration.http3.initialStreamWindowSize = window
      configuration.http3.connectionWindowSize = max(configuration.http3.connectionWindowSize, 8 * window)
    }
    if let loopbackPayload = options.quicLoopbackPayload {
      configuration.http3.loopbackUDPPayloadSize = loopbackPayload
    }
    if let highWaterMark = options.quicHighWaterMark {
      configuration.http3.streamHighWaterMark = highWaterMark
      configuration.http3.streamLowWaterMark = min(configuration.http3.streamLowWaterMark, highWaterMark)
    }
    return try Channel(target: options.target, transport: transport, security: security, configuration: configuration)
  }

  /// Throws ``BenchError/timeLimitExceeded`` once `--time-limit` has passed.
  func checkDeadline() throws(BenchError) {
    if clock.now > deadline {
      throw BenchError.timeLimitExceeded(seconds: options.timeLimitSeconds)
    }
  }

  func run() async throws -> [String] {
    switch options.workload {
    case .unary: return try await runUnary()
    case .stream: return try await runStream()
    case .bulk: return try await runBulk()
    case .handshakes: return try await runHandshakes()
    case .firstCall: return try await runFirstCall()
    }
  }
}

/// The reason a benchmark run stopped without a result.
enum BenchError: Error, CustomStringConvertible {
  case timeLimitExceeded(seconds: Int)
  case wrongResponse(String)

  var description: String {
    switch self {
    case .timeLimitExceeded(let seconds):
      return "the measurement took longer than --time-limit \(seconds) s; lower the counts or raise the limit"
    case .wrongResponse(let detail):
      return "the server returned a wrong response: \(detail)"
    }
  }
}

/// The next call index to hand out, shared by the concurrent workers of the unary workload.
final class CallCounter: Sendable {
  private let next = Atomic<Int>(0)

  /// Returns the next index, starting at 0.
  func take() -> Int {
    next.add(1, ordering: .relaxed).oldValue
  }
}
