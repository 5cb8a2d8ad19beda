import EchoProtos
import Tandem

#if canImport(Glibc)
import Glibc
#endif

/// Command-line options of echo-client.
struct ClientOptions {
  var target = ""
  var transport = "tcp"
  var caPath: String?
  var insecure = false
  var plaintext = false
  var serverName: String?
  var timeoutSeconds: Double?
  var metadata: [(String, String)] = []
  var command = ""
  var texts: [String] = []
  var repeatCount = 1
  var intervalMilliseconds = 0
  var printsMetrics = false
  var quicIdleTimeoutSeconds: Double?

  static let usage = """
    usage: echo-client --target HOST:PORT [--transport tcp|quic|hybrid|adaptive]
                       [--ca FILE | --insecure] [--plaintext] [--server-name NAME]
                       [--timeout SECONDS] [--metadata KEY=VALUE]...
                       [--repeat N] [--interval-ms N] [--print-metrics] [--quic-idle-timeout SECONDS]
                       get|expand|collect|update TEXT...

      --target HOST:PORT   the server, e.g. 127.0.0.1:50051 or [::1]:50051
      --transport KIND     tcp (HTTP/2), quic (HTTP/3 over QUIC, needs TLS), hybrid (QUIC
                           raced against TCP, needs TLS) or adaptive (chosen from measured
                           round trips, needs TLS); default tcp
      --ca FILE            trust the CA certificates in this PEM file (default: system store)
      --insecure           use TLS without verifying the server (tests only)
      --plaintext          HTTP/2 without TLS (h2c)
      --server-name NAME   the name to verify in the server certificate (default: the host)
      --timeout SECONDS    deadline of the call (default: none)
      --metadata KEY=VALUE request metadata; keys ending in -bin take the value's UTF-8 bytes
      --repeat N           get only: make the call N times on the same channel, 1...1000
                           (default 1); a failed call is printed and the next one goes on
      --interval-ms N      the pause between repeated calls, 0...60000 ms (default 0)
      --print-metrics      print the channel's metrics (Prometheus text) at the end
      --quic-idle-timeout SECONDS
                           close a QUIC connection after this long without packets
                           (default 30), so a blocked path is noticed sooner
    Commands:
      get TEXT...      one unary call with the words as one text
      expand TEXT...   one server-streaming call; one response per word
      collect TEXT...  one client-streaming call; one request per argument
      update TEXT...   one bidirectional call; one request per argument
    """

  init(arguments: [String]) throws(UsageError) {
    var index = 0
    func value(for flag: String) throws(UsageError) -> String {
      index += 1
      guard index < arguments.count else { throw UsageError("\(flag) needs a value") }
      return arguments[index]
    }
    var positional: [String] = []
    while index < arguments.count {
      let argument = arguments[index]
      switch argument {
      case "--target": target = try value(for: argument)
      case "--transport":
        let text = try value(for: argument)
        guard ["tcp", "quic", "hybrid", "adaptive"].contains(text) else {
          throw UsageError("invalid --transport '\(text)': expected tcp, quic, hybrid or adaptive")
        }
        transport = text
      case "--ca": caPath = try value(for: argument)
      case "--insecure": insecure = true
      case "--plaintext": plaintext = true
      case "--server-name": serverName = try value(for: argument)
      case "--timeout":
        let text = try value(for: argument)
        guard let seconds = Double(text), seconds > 0, seconds.isFinite else {
          throw UsageError("invalid --timeout '\(text)': expected a positive number of seconds")
        }
        timeoutSeconds = seconds
      case "--metadata":
        let text = try value(for: argument)
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
          throw UsageError("invalid --metadata '\(text)': expected KEY=VALUE")
        }
        metadata.append((String(text[..<equals]).lowercased(), String(text[text.index(after: equals)...])))
      case "--repeat":
        let text = try value(for: argument)
        guard let count = Int(text), (1...1000).contains(count) else {
          throw UsageError("invalid --repeat '\(text)': expected 1...1000")
        }
        repeatCount = count
      case "--interval-ms":
        let text = try value(for: argument)
        guard let milliseconds = Int(text), (0...60_000).contains(milliseconds) else {
          throw UsageError("invalid --interval-ms '\(text)': expected 0...60000")
        }
        intervalMilliseconds = milliseconds
      case "--print-metrics": printsMetrics = true
      case "--quic-idle-timeout":
        let text = try value(for: argument)
        guard let seconds = Double(text), seconds > 0, seconds <= 3600 else {
          throw UsageError("invalid --quic-idle-timeout '\(text)': expected a number of seconds in (0, 3600]")
        }
        quicIdleTimeoutSeconds = seconds
      case "--help", "-h": throw UsageError(nil)
      default:
        if argument.hasPrefix("--") { throw UsageError("unknown option '\(argument)'") }
        positional.append(argument)
      }
      index += 1
    }
    guard !target.isEmpty else { throw UsageError("--target is required") }
    guard let first = positional.first else { throw UsageError("a command is required: get, expand, collect or update") }
    guard ["get", "expand", "collect", "update"].contains(first) else {
      throw UsageError("unknown command '\(first)': expected get, expand, collect or update")
    }
    if plaintext && (caPath != nil || insecure) {
      throw UsageError("--plaintext cannot be combined with --ca or --insecure")
    }
    if caPath != nil && insecure {
      throw UsageError("--ca and --insecure cannot be combined")
    }
    command = first
    texts = Array(positional.dropFirst())
  }
}

/// A command-line error, or a request for help when `message` is `nil`.
struct UsageError: Error {
  var message: String?
  init(_ message: String?) { self.message = message }
}

/// Writes `text` and a newline to file descriptor `descriptor` at once, without stdio buffering,
/// so a process that reads the output through a pipe gets each line as it is written.
func writeLine(_ text: String, to descriptor: Int32 = 1) {
  var line = Array(text.utf8)
  line.append(UInt8(ascii: "\n"))
  line.withUnsafeBytes { buffer in
    var offset = 0
    while offset < buffer.count {
      let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
      if written <= 0 { return }
      offset += written
    }
  }
}

func printError(_ text: String) {
  writeLine(text, to: 2)
}

func describe(_ metadata: Metadata) -> String {
  if metadata.isEmpty { return "(none)" }
  return metadata.map { key, value in
    switch value {
    case .string(let text): return "\(key)=\(text)"
    case .binary(let bytes): return "\(key)=<\(bytes.count) bytes: \(String(decoding: bytes, as: UTF8.self))>"
    }
  }.joined(separator: ", ")
}

func describe(_ response: Echo_V1_EchoResponse) -> String {
  response.payload.isEmpty ? "\"\(response.text)\"" : "\"\(response.text)\" + \(response.payload.count) payload bytes"
}

let options: ClientOptions
do {
  options = try ClientOptions(arguments: Array(CommandLine.arguments.dropFirst()))
} catch {
  if let message = error.message {
    printError("echo-client: \(message)\n\n\(ClientOptions.usage)")
    exit(2)
  }
  writeLine(ClientOptions.usage)
  exit(0)
}

let security: Channel.Security
if options.plaintext {
  security = .plaintext
} else if options.insecure {
  security = .tls(trust: .noVerification, serverName: options.serverName)
} else if let ca = options.caPath {
  security = .tls(trust: .caFile(ca), serverName: options.serverName)
} else {
  security = .tls(trust: .systemTrustStore, serverName: options.serverName)
}

let policy: TransportPolicy
switch options.transport {
case "quic": policy = .quic
case "hybrid": policy = .hybrid(preferred: .quic)
case "adaptive": policy = .adaptive
default: policy = .tcp
}

var metadata = Metadata()
for (key, value) in options.metadata {
  if key.hasSuffix("-bin") {
    metadata.addBinary(Array(value.utf8), forKey: key)
  } else {
    metadata.addString(value, forKey: key)
  }
}
var callOptions = CallOptions.defaults
if let seconds = options.timeoutSeconds {
  callOptions.timeout = .milliseconds(Int64(seconds * 1000))
}

let metrics = PrometheusMetrics()
var channelConfiguration = Channel.Configuration.defaults
if options.printsMetrics {
  channelConfiguration.metrics = metrics
}
if let seconds = options.quicIdleTimeoutSeconds {
  channelConfiguration.http3.idleTimeout = .milliseconds(Int64(seconds * 1000))
}

do {
  let channel = try Channel(target: options.target, transport: policy, security: security, configuration: channelConfiguration)
  let echo = Echo_V1_Echo.Client(channel: channel)
  let text = options.texts.joined(separator: " ")
  // shutdown() waits until the channel's connections and connection attempts have ended, so
  // nothing of the channel still runs when the process exits. It runs on every path.
  do {
    switch options.command {
    case "get" where options.repeatCount > 1:
      var succeeded = 0
      for number in 1...options.repeatCount {
        if number > 1 { try await Task.sleep(for: .milliseconds(options.intervalMilliseconds)) }
        do {
          let response = try await echo.get(.with { $0.text = text }, metadata: metadata, options: callOptions) { $0 }
          succeeded += 1
          writeLine("get \(number): received \(describe(try response.message)); initial metadata: \(describe(response.initialMetadata))")
        } catch let error as RPCError {
          writeLine("get \(number): failed with \(error.code): \(error.message)")
        }
      }
      if succeeded == 0 {
        throw RPCError(code: .unavailable, message: "every one of the \(options.repeatCount) calls failed")
      }

    case "get":
      let response = try await echo.get(.with { $0.text = text }, metadata: metadata, options: callOptions) { response in
        response
      }
      writeLine("get: sent \"\(text)\", received \(describe(try response.message))")
      writeLine("  initial metadata: \(describe(response.initialMetadata))")
      writeLine("  trailing metadata: \(describe(response.trailingMetadata))")

    case "expand":
      let responses = echo.expand(.with { $0.text = text }, metadata: metadata, options: callOptions)
      writeLine("expand: sent \"\(text)\"")
      var count = 0
      for try await response in responses {
        count += 1
        writeLine("  response \(count): \(describe(response))")
      }
      writeLine("  \(count) responses; initial metadata: \(describe(try await responses.initialMetadata))")
      writeLine("  trailing metadata: \(describe(try await responses.trailingMetadata))")

    case "collect":
      let texts = options.texts
      let response = try await echo.collect(metadata: metadata, options: callOptions) { writer in
        for item in texts {
          try await writer.write(.with { $0.text = item })
        }
      } onResponse: { response in
        response
      }
      writeLine("collect: sent \(texts.count) requests, received \(describe(try response.message))")
      writeLine("  initial metadata: \(describe(response.initialMetadata))")
      writeLine("  trailing metadata: \(describe(response.trailingMetadata))")

    default:
      let texts = options.texts
      let responses = echo.update(metadata: metadata, options: callOptions) { writer in
        for item in texts {
          try await writer.write(.with { $0.text = item })
        }
      }
      writeLine("update: sending \(texts.count) requests")
      var count = 0
      for try await response in responses {
        count += 1
        writeLine("  response \(count): \(describe(response))")
      }
      writeLine("  \(count) responses; trailing metadata: \(describe(try await responses.trailingMetadata))")
    }
  } catch {
    await channel.shutdown()
    throw error
  }
  await channel.shutdown()
  if options.printsMetrics {
    writeLine("metrics:")
    writeLine(metrics.render())
  }
} catch let error as RPCError {
  printError("echo-client: the call failed with \(error.code): \(error.message)")
  exit(1)
} catch {
  printError("echo-client: \(error)")
  exit(1)
}
