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
    --port N            UDP port to listen on, 0 for a free one (default 0)
    --delay-ms N        delay added to each datagram in each direction, 0...10000 ms (default 0)
    --drop P            share of datagrams dropped in each direction, 0...1 (default 0)
    --reorder P         share of datagrams sent after the next one, 0...1 (default 0)
    --seed N            seed of the random decisions (default 1)
    --black-hole-after-ms N
                        drop every datagram from N ms after the start on, 0...86400000
                        (default: never), as when a network starts blocking UDP
    --exit-after S      stop after S seconds, 1...86400 (default 600)
    --control           read commands from standard input, one a line, to change the
                        relay while it runs: "block" (drop every datagram), "unblock",
                        "delay MS" (0...10000), "drop P" (0...1) and "counters"
  Prints "LISTENING <port>" when ready, and the counters on stderr when it stops
  (SIGTERM, SIGINT or --exit-after).
  """

struct UsageError: Error {
  var message: String
}

struct Options {
  var target: SocketAddress
  var host: String
  var port: Int
  var impairment: UDPRelay.Impairment
  var seed: UInt64
  var exitAfter: Int
  var blackHoleAfter: Duration?
  var control: Bool
}

func parseArguments(_ arguments: [String]) throws(UsageError) -> Options {
  var blackHoleAfter: Duration?
  var target: SocketAddress?
  var host = "127.0.0.1"
  var port = 0
  var control = false
  var impairment = UDPRelay.Impairment()
  var seed: UInt64 = 1
  var exitAfter = 600
  var index = 0
  while index < arguments.count {
    let option = arguments[index]
    if option == "--control" {
      control = true
      index += 1
      continue
    }
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
    case "--port":
      guard let number = Int(value), (0...65_535).contains(number) else {
        throw UsageError(message: "invalid --port '\(value)': expected 0...65535")
      }
      port = number
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
  return Options(
    target: target, host: host, port: port, impairment: impairment, seed: seed, exitAfter: exitAfter,
    blackHoleAfter: blackHoleAfter, control: control)
}

/// Applies one `--control` command to `relay` and returns the line to print on stderr.
func apply(command line: String, to relay: UDPRelay) -> String {
  let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
  guard let verb = words.first else { return "" }
  switch (verb, words.count) {
  case ("block", 1):
    relay.setBlackHole(true)
    return "quic-relay: dropping every datagram from now on"
  case ("unblock", 1):
    relay.setBlackHole(false)
    return "quic-relay: forwarding datagrams again"
  case ("delay", 2):
    guard let milliseconds = Int(words[1]), (0...10_000).contains(milliseconds) else {
      return "quic-relay: invalid delay '\(words[1])': expected 0...10000 ms"
    }
    var impairment = relay.impairment(for: .toTarget)
    impairment.delay = .milliseconds(milliseconds)
    do {
      try relay.setImpairment(impairment)
    } catch {
      return "quic-relay: \(error)"
    }
    return "quic-relay: delay \(milliseconds) ms in each direction from now on"
  case ("drop", 2):
    guard let probability = Double(words[1]), (0.0...1.0).contains(probability) else {
      return "quic-relay: invalid drop '\(words[1])': expected a number in 0...1"
    }
    var impairment = relay.impairment(for: .toTarget)
    impairment.dropProbability = probability
    do {
      try relay.setImpairment(impairment)
    } catch {
      return "quic-relay: \(error)"
    }
    return "quic-relay: dropping a share of \(probability) of datagrams from now on"
  case ("counters", 1):
    return UDPRelay.Direction.allCases.map { counterLine(relay, $0) }.joined(separator: "\n")
  default:
    return "quic-relay: unknown command '\(line)': expected block, unblock, delay MS, drop P or counters"
  }
}

func counterLine(_ relay: UDPRelay, _ direction: UDPRelay.Direction) -> String {
  let counters = relay.counters(for: direction)
  return "quic-relay: \(direction): received \(counters.received), forwarded \(counters.forwarded), "
    + "dropped \(counters.dropped), reordered \(counters.reordered), delayed \(counters.delayed), failed \(counters.failed)"
}

/// Reads the complete lines waiting on standard input without blocking. Returns `nil` once
/// standard input has ended.
func readAvailableLines(into pending: inout [UInt8]) -> [String]? {
  var descriptor = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
  guard poll(&descriptor, 1, 0) > 0 else { return [] }
  var buffer = [UInt8](repeating: 0, count: 4096)
  let count = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
  guard count > 0 else { return nil }
  pending += buffer[..<count]
  // Input without a line feed in 64 KiB is dropped rather than kept growing.
  if pending.count > 65_536 && !pending.contains(UInt8(ascii: "\n")) { pending.removeAll() }
  var lines: [String] = []
  while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
    lines.append(String(decoding: pending[..<newline], as: UTF8.self).trimmingCharacters())
    pending.removeSubrange(...newline)
  }
  return lines
}

extension String {
  /// Removes the brackets of an IPv6 literal such as `[::1]`.
  func trimmingBrackets() -> String {
    hasPrefix("[") && hasSuffix("]") ? String(dropFirst().dropLast()) : self
  }

  /// Removes spaces, tabs and carriage returns at both ends.
  func trimmingCharacters() -> String {
    let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
    return String(drop(while: blank).reversed().drop(while: blank).reversed())
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
let options: Options
do {
  options = try parseArguments(arguments)
} catch {
  printError("quic-relay: \(error.message)\n\(usage)")
  exit(2)
}
let target = options.target
let impairment = options.impairment
let seed = options.seed

signal(SIGTERM) { _ in stopRequested.store(true, ordering: .relaxed) }
signal(SIGINT) { _ in stopRequested.store(true, ordering: .relaxed) }

let group = EventLoopGroup(threadCount: 1)
let relay: UDPRelay
do {
  relay = try UDPRelay(
    target: target, host: options.host, port: options.port, on: group.next(), seed: seed, impairment: impairment)
} catch {
  printError("quic-relay: cannot start the relay to \(target): \(error)")
  exit(1)
}
writeLine("LISTENING \(relay.port)", to: 1)
printError(
  "quic-relay: forwarding \(options.host):\(relay.port) to \(target) with delay \(impairment.delay), "
    + "drop \(impairment.dropProbability), reorder \(impairment.reorderProbability), seed \(seed)")

let clock = ContinuousClock()
let started = clock.now
let deadline = started + .seconds(options.exitAfter)
var blackHoled = false
var controlOpen = options.control
var pendingInput: [UInt8] = []
while !stopRequested.load(ordering: .relaxed), clock.now < deadline {
  try? await Task.sleep(for: .milliseconds(50))
  if controlOpen {
    if let lines = readAvailableLines(into: &pendingInput) {
      for line in lines where !line.isEmpty {
        printError(apply(command: line, to: relay))
      }
    } else {
      // Standard input ended: the relay runs on with its current settings.
      controlOpen = false
    }
  }
  if !blackHoled, let after = options.blackHoleAfter, clock.now - started >= after {
    relay.setBlackHole(true)
    blackHoled = true
    printError("quic-relay: dropping every datagram from now on")
  }
}

for direction in UDPRelay.Direction.allCases {
  printError(counterLine(relay, direction))
}
await relay.close()
await group.shutdownGracefully()
