// quic-relay: runs the test UDPRelay (Tests/TandemTestSupport) as a process, so that
// Benchmarks/quic/run.sh, Tests/Interop/h3/run.sh and scripts/demo.sh can add delay or loss,
// or block UDP, on loopback where `tc netem` is missing. Benchmarks/quic/build_relay.sh builds it.

#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import TandemIO

let usage = """
  usage: quic-relay --target HOST:PORT [options]
    --target HOST:PORT  where datagrams from clients go (numeric address)
    --host ADDRESS      address to listen on (default 127.0.0.1)
    --delay-ms N        delay added to each datagram in each direction, 0...10000 ms (default 0)
    --drop P            share of datagrams dropped in each direction, 0...1 (default 0)
    --reorder P         share of datagrams sent after the next one, 0...1 (default 0)
    --seed N            seed of the random decisions (default 1)
    --black-hole-after-ms N
                        drop every datagram from N ms after the start on, 0...86400000
                        (default: never), as when a network starts blocking UDP
    --exit-after S      stop after S seconds, 1...86400 (default 600)
  Prints "LISTENING <port>" when ready, and the counters on stderr when it stops
  (SIGTERM, SIGINT or --exit-after).
  """

struct UsageError: Error {
  var message: String
}

func parseArguments(
  _ arguments: [String]
) throws(UsageError) -> (SocketAddress, String, UDPRelay.Impairment, UInt64, Int, Duration?) {
  var blackHoleAfter: Duration?
  var target: SocketAddress?
  var host = "127.0.0.1"
  var impairment = UDPRelay.Impairment()
  var seed: UInt64 = 1
  var exitAfter = 600
  var index = 0
  while index < arguments.count {
    let option = arguments[index]
    guard index + 1 < arguments.count else { throw UsageError(message: "missing value for \(option)") }
    let value = arguments[index + 1]
    index += 2
    switch option {
    case "--target":
      guard let colon = value.lastIndex(of: ":"), let port = Int(value[value.index(after: colon)...]),
        let address = try? SocketAddress(ipAddress: String(value[..<colon]).trimmingBrackets(), port: port)
      else {
        throw UsageError(message: "invalid --target '\(value)': expected a numeric HOST:PORT such as 127.0.0.1:4433")
      }
      target = address
    case "--host":
      host = value
    case "--delay-ms":
      guard let milliseconds = Int(value), (0...10_000).contains(milliseconds) else {
        throw UsageError(message: "invalid --delay-ms '\(value)': expected 0...10000")
      }
      impairment.delay = .milliseconds(milliseconds)
    case "--drop", "--reorder":
      guard let probability = Double(value), (0.0...1.0).contains(probability) else {
        throw UsageError(message: "invalid \(option) '\(value)': expected a number in 0...1")
      }
      if option == "--drop" {
        impairment.dropProbability = probability
      } else {
        impairment.reorderProbability = probability
      }
    case "--seed":
      guard let number = UInt64(value) else { throw UsageError(message: "invalid --seed '\(value)': expected 0...2^64-1") }
      seed = number
    case "--black-hole-after-ms":
      guard let milliseconds = Int(value), (0...86_400_000).contains(milliseconds) else {
        throw UsageError(message: "invalid --black-hole-after-ms '\(value)': expected 0...86400000")
      }
      blackHoleAfter = .milliseconds(milliseconds)
    case "--exit-after":
      guard let seconds = Int(value), (1...86_400).contains(seconds) else {
        throw UsageError(message: "invalid --exit-after '\(value)': expected 1...86400 seconds")
      }
      exitAfter = seconds
    default:
      throw UsageError(message: "unknown option \(option)")
    }
  }
  guard let target else { throw UsageError(message: "missing --target") }
  return (target, host, impairment, seed, exitAfter, blackHoleAfter)
}

extension String {
  /// Removes the brackets of an IPv6 literal such as `[::1]`.
  func trimmingBrackets() -> String {
    hasPrefix("[") && hasSuffix("]") ? String(dropFirst().dropLast()) : self
  }
}

/// Writes a line to a file descriptor directly; Swift 6 rejects the C `stdout` and `stderr` globals.
func writeLine(_ text: String, to descriptor: Int32) {
  let bytes = Array((text + "\n").utf8)
  _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
}

func printError(_ text: String) {
  writeLine(text, to: 2)
}

let stopRequested = Atomic<Bool>(false)

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("--help") || arguments.contains("-h") {
  writeLine(usage, to: 1)
  exit(0)
}
let options: (SocketAddress, String, UDPRelay.Impairment, UInt64, Int, Duration?)
do {
  options = try parseArguments(arguments)
} catch {
  printError("quic-relay: \(error.message)\n\(usage)")
  exit(2)
}
let (target, host, impairment, seed, exitAfter, blackHoleAfter) = options

signal(SIGTERM) { _ in stopRequested.store(true, ordering: .relaxed) }
signal(SIGINT) { _ in stopRequested.store(true, ordering: .relaxed) }

let group = EventLoopGroup(threadCount: 1)
let relay: UDPRelay
do {
  relay = try UDPRelay(target: target, host: host, on: group.next(), seed: seed, impairment: impairment)
} catch {
  printError("quic-relay: cannot start the relay to \(target): \(error)")
  exit(1)
}
writeLine("LISTENING \(relay.port)", to: 1)
printError(
  "quic-relay: forwarding 127.0.0.1:\(relay.port) to \(target) with delay \(impairment.delay), "
    + "drop \(impairment.dropProbability), reorder \(impairment.reorderProbability), seed \(seed)")

let clock = ContinuousClock()
let started = clock.now
let deadline = started + .seconds(exitAfter)
var blackHoled = false
while !stopRequested.load(ordering: .relaxed), clock.now < deadline {
  try? await Task.sleep(for: .milliseconds(50))
  if !blackHoled, let after = blackHoleAfter, clock.now - started >= after {
    relay.setBlackHole(true)
    blackHoled = true
    printError("quic-relay: dropping every datagram from now on")
  }
}

for direction in UDPRelay.Direction.allCases {
  let counters = relay.counters(for: direction)
  printError(
    "quic-relay: \(direction): received \(counters.received), forwarded \(counters.forwarded), "
      + "dropped \(counters.dropped), reordered \(counters.reordered), delayed \(counters.delayed), failed \(counters.failed)")
}
await relay.close()
await group.shutdownGracefully()
