import EchoProtos
import Tandem
import TandemHTTP3

extension Bench {
  /// The host part of `--target`, without brackets.
  private var targetHost: String {
    var host = String(options.target[..<(options.target.lastIndex(of: ":") ?? options.target.endIndex)])
    if host.hasPrefix("[") && host.hasSuffix("]") {
      host = String(host.dropFirst().dropLast())
    }
    return host
  }

  /// The port part of `--target`, or 0 when it has none.
  private var targetPort: Int {
    guard let colon = options.target.lastIndex(of: ":") else { return 0 }
    return Int(options.target[options.target.index(after: colon)...]) ?? 0
  }

  /// Makes one Get call on a new channel, closes the channel and returns the time from
  /// creating the channel to the response, in ms.
  private func timeFirstCall(sessionCache: QUICSessionCache?, safeToReplay: Bool) async throws -> Double {
    let start = clock.now
    let channel = try makeChannel(sessionCache: sessionCache)
    defer { channel.close() }
    let echo = Echo_V1_Echo.Client(channel: channel)
    let response = try await echo.get(.with { $0.text = "first" }, options: CallOptions(safeToReplay: safeToReplay))
    let elapsed = milliseconds(clock.now - start)
    guard response.text == "first" else {
      throw BenchError.wrongResponse("Get returned text '\(response.text)'")
    }
    return elapsed
  }

  /// Returns whether `cache` contains a session ticket for the target, which allows 0-RTT.
  private func hasTicket(_ cache: QUICSessionCache) -> Bool {
    cache.hasTicket(serverName: options.serverName ?? targetHost, port: targetPort)
  }

  /// Makes `--count` Get calls, each on a new channel, one after another. With `--zero-rtt`
  /// the channels share one session cache and the calls are marked safe to replay.
  func runHandshakes() async throws -> [String] {
    let cache: QUICSessionCache? = options.zeroRTT ? QUICSessionCache() : nil
    // One call before the measurement: it loads the code paths and, with --zero-rtt, stores
    // the first session ticket.
    _ = try await timeFirstCall(sessionCache: cache, safeToReplay: options.zeroRTT)

    var withTicket = 0
    let cpuBefore = CPUTime.sample(serverPID: options.serverPID)
    let start = clock.now
    for _ in 0..<options.count {
      try checkDeadline()
      if let cache, hasTicket(cache) {
        withTicket += 1
      }
      _ = try await timeFirstCall(sessionCache: cache, safeToReplay: options.zeroRTT)
    }
    let elapsed = clock.now - start
    let cpuAfter = CPUTime.sample(serverPID: options.serverPID)

    let seconds = milliseconds(elapsed) / 1e3
    return [
      "handshakes=\(options.count)",
      "zero_rtt=\(options.zeroRTT)",
      // NOTE: a cached ticket means the call was offered as 0-RTT. Channel does not show
      // whether the server accepted the early data.
      "with_ticket=\(withTicket)",
      "seconds=\(format(seconds, digits: 4))",
      "handshakes_per_s=\(format(Double(options.count) / seconds, digits: 1))",
    ] + cpuAfter.fields(since: cpuBefore, per: options.count, unit: "handshake")
  }

  /// Measures `--rounds` times the time from creating a channel to the first response: with a
  /// full handshake, with a resumed session but no early data, and with the call in 0-RTT.
  /// Over tcp only the full handshake is measured.
  func runFirstCall() async throws -> [String] {
    let isQUIC = options.transport == "quic"
    let cache = QUICSessionCache()
    _ = try await timeFirstCall(sessionCache: isQUIC ? cache : nil, safeToReplay: false)

    var full: [Double] = []
    var resumed: [Double] = []
    var early: [Double] = []
    var withTicket = 0
    for _ in 0..<options.rounds {
      try checkDeadline()
      full.append(try await timeFirstCall(sessionCache: nil, safeToReplay: false))
      guard isQUIC else { continue }
      resumed.append(try await timeFirstCall(sessionCache: cache, safeToReplay: false))
      if hasTicket(cache) {
        withTicket += 1
      }
      early.append(try await timeFirstCall(sessionCache: cache, safeToReplay: true))
    }

    func list(_ values: [Double]) -> String {
      values.isEmpty ? "none" : values.map { format($0, digits: 1) }.joined(separator: ",")
    }
    var fields = [
      "rounds=\(options.rounds)",
      "full_ms=\(format(median(full), digits: 1))",
      "full_runs=\(list(full))",
    ]
    if isQUIC {
      fields += [
        "resumed_ms=\(format(median(resumed), digits: 1))",
        "resumed_runs=\(list(resumed))",
        "zero_rtt_ms=\(format(median(early), digits: 1))",
        "zero_rtt_runs=\(list(early))",
        "zero_rtt_with_ticket=\(withTicket)",
      ]
    }
    return fields
  }
}
