// tandem-bench: a load client for Tandem's echo-server over HTTP/2 (TLS) or HTTP/3 (QUIC).
// Benchmarks/quic/run.sh runs it; `tandem-bench --help` lists the workloads and options.
import Tandem

#if canImport(Glibc)
import Glibc
#endif

/// Writes `text` and a newline to file descriptor `descriptor` in one `write` loop, without
/// stdio buffering.
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

let options: BenchOptions
do {
  options = try BenchOptions(arguments: Array(CommandLine.arguments.dropFirst()))
} catch {
  if let message = error.message {
    writeLine("tandem-bench: \(message)\n\n\(BenchOptions.usage)", to: 2)
    exit(2)
  }
  writeLine(BenchOptions.usage)
  exit(0)
}

do {
  let fields = try await Bench(options: options).run()
  writeLine((["RESULT", "workload=\(options.workload.rawValue)", "transport=\(options.transport)"] + fields).joined(separator: " "))
} catch let error as RPCError {
  writeLine("tandem-bench: a call failed with \(error.code): \(error.message)", to: 2)
  exit(1)
} catch {
  writeLine("tandem-bench: \(error)", to: 2)
  exit(1)
}
