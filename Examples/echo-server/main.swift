import Dispatch
import Foundation
import Tandem

#if canImport(Glibc)
import Glibc
#endif

/// Command-line options of echo-server.
struct ServerOptions {
  var host = "127.0.0.1"
  var port = 50051
  var transport = "tcp"
  var certificatePath: String?
  var keyPath: String?
  var plaintext = false
  var metricsPort: Int?

  static let usage = """
    usage: echo-server [--host HOST] [--port PORT] [--transport tcp|quic|both]
                       [--tls-cert FILE --tls-key FILE | --plaintext] [--metrics-port PORT]

      --host HOST        address to bind (default 127.0.0.1; 0.0.0.0 for every interface)
      --port PORT        TCP port, 0 for a free one (default 50051)
      --transport KIND   tcp (HTTP/2), quic (HTTP/3 over QUIC, always with TLS) or both, on
                         the same port number (default tcp)
      --tls-cert FILE    PEM certificate chain for TLS
      --tls-key FILE     PEM private key for TLS
      --plaintext        serve HTTP/2 without TLS (h2c)
      --metrics-port PORT
                         also serve the server's call metrics in the Prometheus text format
                         at http://HOST:PORT/metrics, 0 for a free port (default: off)
    Without --tls-cert/--tls-key and without --plaintext, the server generates a self-signed
    certificate for localhost at start and prints where it wrote it.
    """

  init(arguments: [String]) throws(UsageError) {
    var index = 0
    func value(for flag: String) throws(UsageError) -> String {
      index += 1
      guard index < arguments.count else { throw UsageError("\(flag) needs a value") }
      return arguments[index]
    }
    while index < arguments.count {
      let argument = arguments[index]
      switch argument {
      case "--host": host = try value(for: argument)
      case "--port":
        let text = try value(for: argument)
        guard let number = Int(text), (0...65_535).contains(number) else {
          throw UsageError("invalid --port '\(text)': expected a number from 0 to 65535")
        }
        port = number
      case "--transport":
        let text = try value(for: argument)
        guard ["tcp", "quic", "both"].contains(text) else {
          throw UsageError("invalid --transport '\(text)': expected tcp, quic or both")
        }
        transport = text
      case "--metrics-port":
        let text = try value(for: argument)
        guard let number = Int(text), (0...65_535).contains(number) else {
          throw UsageError("invalid --metrics-port '\(text)': expected a number from 0 to 65535")
        }
        metricsPort = number
      case "--tls-cert": certificatePath = try value(for: argument)
      case "--tls-key": keyPath = try value(for: argument)
      case "--plaintext": plaintext = true
      case "--help", "-h": throw UsageError(nil)
      default: throw UsageError("unknown argument '\(argument)'")
      }
      index += 1
    }
    if (certificatePath == nil) != (keyPath == nil) {
      throw UsageError("--tls-cert and --tls-key go together")
    }
    if plaintext && certificatePath != nil {
      throw UsageError("--plaintext cannot be combined with --tls-cert/--tls-key")
    }
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

let options: ServerOptions
do {
  options = try ServerOptions(arguments: Array(CommandLine.arguments.dropFirst()))
} catch {
  if let message = error.message {
    printError("echo-server: \(message)\n\n\(ServerOptions.usage)")
    exit(2)
  }
  writeLine(ServerOptions.usage)
  exit(0)
}

if options.transport != "tcp" && options.plaintext {
  printError("echo-server: --transport \(options.transport) needs TLS, because QUIC always encrypts; drop --plaintext")
  exit(2)
}

var tls: ServerTLS?
/// The folder of a generated certificate, removed when the server stops.
var generatedDirectory: String?
if let certificate = options.certificatePath, let key = options.keyPath {
  tls = .pem(certificateChain: certificate, privateKey: key)
} else if !options.plaintext {
  var template = Array("/tmp/tandem-echo-XXXXXX".utf8CString)
  guard let directory = mkdtemp(&template) else {
    printError("echo-server: cannot create a directory for the self-signed certificate: \(String(cString: strerror(errno)))")
    exit(1)
  }
  do {
    generatedDirectory = String(cString: directory)
    let generated = try SelfSignedCertificate.generate(in: String(cString: directory))
    tls = .pem(certificateChain: generated.certificatePath, privateKey: generated.privateKeyPath)
    writeLine("generated a self-signed certificate for localhost: \(generated.certificatePath) (key: \(generated.privateKeyPath))")
    writeLine("clients can trust it with: echo-client --ca \(generated.certificatePath) ...")
  } catch {
    printError("echo-server: \(error)")
    exit(1)
  }
}

var configuration = Server.Configuration.defaults
if let metricsPort = options.metricsPort {
  configuration.metricsEndpoint = .init(host: options.host, port: metricsPort, metrics: PrometheusMetrics())
}
let server = Server(
  services: [EchoService()],
  listening: .init(
    host: options.host, port: options.port,
    transports: options.transport == "both" ? [.tcp, .quic] : options.transport == "quic" ? [.quic] : [.tcp]),
  tls: tls,
  configuration: configuration
)

/// Starts a graceful shutdown of `server` on SIGINT and SIGTERM. The handlers run on a
/// global dispatch queue, so this function is nonisolated: closures made in top-level code
/// would be main-actor isolated and trap when run off the main thread.
nonisolated func installSignalHandlers(for server: Server) -> [any DispatchSourceSignal] {
  [SIGINT, SIGTERM].map { number in
    signal(number, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
    source.setEventHandler { server.shutdown(gracePeriod: .seconds(5)) }
    source.resume()
    return source
  }
}

let signalSources = installSignalHandlers(for: server)

let announcer = Task {
  let port = try await server.listeningPort
  let scheme: String
  switch options.transport {
  case "quic": scheme = "HTTP/3 over QUIC (UDP)"
  case "both": scheme = "HTTP/2 over TLS (TCP) and HTTP/3 over QUIC (UDP)"
  default: scheme = tls == nil ? "plaintext HTTP/2 (h2c)" : "HTTP/2 over TLS"
  }
  let host = options.host.contains(":") ? "[\(options.host)]" : options.host
  writeLine("echo-server listening on \(host):\(port) with \(scheme)")
  if let metricsPort = server.metricsPort {
    writeLine("echo-server serves metrics at http://\(host):\(metricsPort)/metrics")
  }
}

/// Deletes the generated certificate and key, which are valid only for this run.
nonisolated func removeGeneratedCertificate(in directory: String?) {
  if let directory {
    try? FileManager.default.removeItem(atPath: directory)
  }
}

do {
  try await server.run()
  _ = await announcer.result
  withExtendedLifetime(signalSources) {}
  removeGeneratedCertificate(in: generatedDirectory)
} catch {
  removeGeneratedCertificate(in: generatedDirectory)
  printError("echo-server: \(error)")
  exit(1)
}
