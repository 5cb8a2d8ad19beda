/// Command-line options of tandem-bench.
struct BenchOptions {
  /// The measurement to run.
  enum Workload: String, CaseIterable {
    case unary
    case stream
    case bulk
    case handshakes
    case firstCall = "first-call"
  }

  var target = ""
  var transport = "quic"
  var caPath: String?
  var serverName: String?
  var workload = Workload.unary
  var calls = 10_000
  var concurrency = 1
  var warmupCalls: Int?
  var payloadBytes = 10
  var messageBytes = 1 << 20
  var messages = 64
  var bytes = 64 << 20
  var chunkBytes = 1 << 20
  var count = 200
  var zeroRTT = false
  var rounds = 5
  var serverPID: Int32?
  var timeLimitSeconds = 120
  var quicStreamWindow: Int?
  var quicHighWaterMark: Int?
  /// The client's HTTP3Configuration.loopbackUDPPayloadSize: `.some(nil)` turns it off.
  var quicLoopbackPayload: Int??

  /// The maximum payload bytes in one message. The server accepts 4 MiB per message by default,
  /// and the text field and protobuf framing need a few bytes of that.
  static let maxMessagePayloadBytes = (4 << 20) - 1024

  static let usage = """
    usage: tandem-bench --target HOST:PORT [--transport tcp|quic] [--ca FILE] [--server-name NAME]
                        --workload unary|stream|bulk|handshakes|first-call [workload options]
                        [--server-pid PID] [--time-limit SECONDS]

    Drives Tandem's echo-server (echo.v1.Echo) through a Channel and prints one line
    "RESULT key=value ..." on stdout. Both transports use TLS.

      --target HOST:PORT     the server, e.g. 127.0.0.1:50051
      --transport KIND       tcp (HTTP/2 over TLS) or quic (HTTP/3) (default quic)
      --ca FILE              trust the CA certificates in this PEM file (default: system store)
      --server-name NAME     the name to verify in the server certificate (default: the host)
      --server-pid PID       also report the CPU time (utime + stime from /proc/PID/stat) that
                             this process used during the measured part
      --time-limit SECONDS   stop with an error when the measured part takes longer, 1...3600
                             (default 120)
      --quic-stream-window N the client's QUIC receive window per stream in bytes, 1024...1073741824
                             (default: HTTP3Configuration's, 1 MiB); the connection window becomes
                             at least 8 times this
      --quic-high-water N    the client's buffered bytes per stream above which writes wait,
                             1...1073741824 (default: HTTP3Configuration's, 256 KiB)
      --quic-loopback-payload N|off
                             the client's UDP payload size towards a loopback server, 1200...65527,
                             or off for path MTU discovery as on other paths (default:
                             HTTP3Configuration's, 65507)
    Workloads:
      unary       echo.v1.Echo/Get calls; reports calls/s and p50/p99 latency
        --calls N            measured calls, 1...10000000 (default 10000)
        --concurrency N      calls in flight at once on one channel, 1...10000 (default 1)
        --warmup N           calls before the measurement, 0...1000000 (default calls / 10,
                             at most 1000)
        --payload-bytes N    payload of each request, 0...4193280 (default 10)
      stream      one echo.v1.Echo/Update call: --messages requests of --message-bytes
                  payload each, every one echoed back; reports MB/s of payload in one direction
        --message-bytes N    payload per message, 1...4193280 (default 1048576)
        --messages N         1...100000 (default 64)
      bulk        one echo.v1.Echo/Collect call carrying --bytes payload bytes to the server
                  in messages of --chunk-bytes; the response is one short message
        --bytes N            1...68719476736 (default 67108864)
        --chunk-bytes N      1...4193280 (default 1048576)
      handshakes  a new channel (new connection and handshake) for each of --count Get calls,
                  one after another
        --count N            1...100000 (default 200)
        --zero-rtt           QUIC only: reuse one session cache, warmed by one call before the
                             measurement, and mark the calls safe to replay so they go out in 0-RTT
      first-call  time from creating a channel to the first response, per round: a full
                  handshake (no session cache), a resumed session without early data, and 0-RTT
                  (QUIC only; with tcp only the full handshake is measured)
        --rounds N           1...1000 (default 5)
    """

  init(arguments: [String]) throws(UsageError) {
    var index = 0
    func value(for flag: String) throws(UsageError) -> String {
      index += 1
      guard index < arguments.count else { throw UsageError("\(flag) needs a value") }
      return arguments[index]
    }
    func integer(for flag: String, in range: ClosedRange<Int>) throws(UsageError) -> Int {
      let text = try value(for: flag)
      guard let number = Int(text), range.contains(number) else {
        throw UsageError("invalid \(flag) '\(text)': expected an integer in \(range.lowerBound)...\(range.upperBound)")
      }
      return number
    }
    var workloadGiven = false
    while index < arguments.count {
      let argument = arguments[index]
      switch argument {
      case "--target": target = try value(for: argument)
      case "--transport":
        let text = try value(for: argument)
        guard text == "tcp" || text == "quic" else {
          throw UsageError("invalid --transport '\(text)': expected tcp or quic")
        }
        transport = text
      case "--ca": caPath = try value(for: argument)
      case "--server-name": serverName = try value(for: argument)
      case "--workload":
        let text = try value(for: argument)
        guard let parsed = Workload(rawValue: text) else {
          let names = Workload.allCases.map(\.rawValue).joined(separator: ", ")
          throw UsageError("invalid --workload '\(text)': expected one of \(names)")
        }
        workload = parsed
        workloadGiven = true
      case "--calls": calls = try integer(for: argument, in: 1...10_000_000)
      case "--concurrency": concurrency = try integer(for: argument, in: 1...10_000)
      case "--warmup": warmupCalls = try integer(for: argument, in: 0...1_000_000)
      case "--payload-bytes": payloadBytes = try integer(for: argument, in: 0...Self.maxMessagePayloadBytes)
      case "--message-bytes": messageBytes = try integer(for: argument, in: 1...Self.maxMessagePayloadBytes)
      case "--messages": messages = try integer(for: argument, in: 1...100_000)
      case "--bytes": bytes = try integer(for: argument, in: 1...(1 << 36))
      case "--chunk-bytes": chunkBytes = try integer(for: argument, in: 1...Self.maxMessagePayloadBytes)
      case "--count": count = try integer(for: argument, in: 1...100_000)
      case "--zero-rtt": zeroRTT = true
      case "--rounds": rounds = try integer(for: argument, in: 1...1000)
      case "--server-pid": serverPID = Int32(try integer(for: argument, in: 1...Int(Int32.max)))
      case "--time-limit": timeLimitSeconds = try integer(for: argument, in: 1...3600)
      case "--quic-stream-window": quicStreamWindow = try integer(for: argument, in: 1024...(1 << 30))
      case "--quic-high-water": quicHighWaterMark = try integer(for: argument, in: 1...(1 << 30))
      case "--quic-loopback-payload":
        let text = try value(for: argument)
        if text == "off" {
          quicLoopbackPayload = .some(nil)
        } else if let number = Int(text), (1200...65527).contains(number) {
          quicLoopbackPayload = .some(number)
        } else {
          throw UsageError("invalid \(argument) '\(text)': expected off or an integer in 1200...65527")
        }
      case "--help", "-h": throw UsageError(nil)
      default: throw UsageError("unknown option '\(argument)'")
      }
      index += 1
    }
    guard !target.isEmpty else { throw UsageError("--target is required") }
    guard workloadGiven else { throw UsageError("--workload is required") }
    if zeroRTT && transport != "quic" {
      throw UsageError("--zero-rtt needs --transport quic, because 0-RTT is a QUIC feature here")
    }
    if zeroRTT && workload != .handshakes {
      throw UsageError("--zero-rtt applies to --workload handshakes only; first-call always measures both")
    }
  }

  /// Calls before the measurement: `--warmup`, or a tenth of the measured calls, at most 1000.
  var effectiveWarmupCalls: Int { warmupCalls ?? min(calls / 10, 1000) }
}

/// A command-line error, or a request for help when `message` is `nil`.
struct UsageError: Error {
  var message: String?
  init(_ message: String?) { self.message = message }
}
