import EchoProtos
import Tandem

extension Bench {
  /// Sends `--warmup` and then `--calls` Get calls, `--concurrency` at a time on one channel.
  func runUnary() async throws -> [String] {
    let channel = try makeChannel(sessionCache: nil)
    defer { channel.close() }
    let echo = Echo_V1_Echo.Client(channel: channel)
    let request = Echo_V1_EchoRequest.with {
      $0.text = "hello"
      $0.payload = [UInt8](repeating: 0x61, count: options.payloadBytes)
    }

    _ = try await sendUnaryCalls(options.effectiveWarmupCalls, through: echo, request: request)

    let cpuBefore = CPUTime.sample(serverPID: options.serverPID)
    let start = clock.now
    var latencies = try await sendUnaryCalls(options.calls, through: echo, request: request)
    let elapsed = clock.now - start
    let cpuAfter = CPUTime.sample(serverPID: options.serverPID)

    latencies.sort()
    let seconds = milliseconds(elapsed) / 1e3
    return [
      "calls=\(options.calls)",
      "concurrency=\(options.concurrency)",
      "seconds=\(format(seconds, digits: 4))",
      "calls_per_s=\(format(Double(options.calls) / seconds, digits: 0))",
      "mean_us=\(format(latencies.reduce(0, +) / Double(max(latencies.count, 1)) * 1e3, digits: 0))",
      "p50_us=\(format(percentile(latencies, 50) * 1e3, digits: 0))",
      "p99_us=\(format(percentile(latencies, 99) * 1e3, digits: 0))",
      "p999_us=\(format(percentile(latencies, 99.9) * 1e3, digits: 0))",
      "max_us=\(format((latencies.last ?? .nan) * 1e3, digits: 0))",
      "calls_over_10ms=\(latencies.count { $0 > 10 })",
    ] + cpuAfter.fields(since: cpuBefore, per: options.calls, unit: "call")
  }

  /// Sends `total` Get calls with `--concurrency` workers and returns each call's latency in ms.
  private func sendUnaryCalls(
    _ total: Int,
    through echo: Echo_V1_Echo.Client,
    request: Echo_V1_EchoRequest
  ) async throws -> [Double] {
    guard total > 0 else { return [] }
    let counter = CallCounter()
    let workers = min(options.concurrency, total)
    return try await withThrowingTaskGroup(of: [Double].self) { group in
      for _ in 0..<workers {
        group.addTask {
          var latencies: [Double] = []
          latencies.reserveCapacity(total / workers + 1)
          while counter.take() < total {
            try checkDeadline()
            let callStart = clock.now
            let response = try await echo.get(request)
            latencies.append(milliseconds(clock.now - callStart))
            guard response.text == request.text, response.payload.count == request.payload.count else {
              throw BenchError.wrongResponse("Get returned text '\(response.text)' and \(response.payload.count) payload bytes")
            }
          }
          return latencies
        }
      }
      var all: [Double] = []
      all.reserveCapacity(total)
      for try await latencies in group {
        all += latencies
      }
      return all
    }
  }

  /// Sends `--messages` requests of `--message-bytes` payload on one Update call and reads
  /// every echo. The rate counts the payload in one direction, although it crosses twice.
  func runStream() async throws -> [String] {
    let channel = try makeChannel(sessionCache: nil)
    defer { channel.close() }
    let echo = Echo_V1_Echo.Client(channel: channel)
    let request = Echo_V1_EchoRequest.with { $0.payload = [UInt8](repeating: 0x5a, count: options.messageBytes) }

    // One short call first, so that the connection and handshake are not part of the timing.
    _ = try await echo.get(.with { $0.text = "warm-up" })

    let cpuBefore = CPUTime.sample(serverPID: options.serverPID)
    let start = clock.now
    let messages = options.messages
    let responses = echo.update { writer in
      for _ in 0..<messages {
        try checkDeadline()
        try await writer.write(request)
      }
    }
    var received = 0
    var receivedBytes = 0
    for try await response in responses {
      try checkDeadline()
      received += 1
      receivedBytes += response.payload.count
    }
    let elapsed = clock.now - start
    let cpuAfter = CPUTime.sample(serverPID: options.serverPID)

    guard received == messages, receivedBytes == messages * options.messageBytes else {
      throw BenchError.wrongResponse("Update returned \(received) messages with \(receivedBytes) payload bytes for \(messages) sent")
    }
    let bytes = messages * options.messageBytes
    let seconds = milliseconds(elapsed) / 1e3
    return [
      "messages=\(messages)",
      "message_bytes=\(options.messageBytes)",
      "bytes=\(bytes)",
      "seconds=\(format(seconds, digits: 4))",
      "mb_per_s=\(format(Double(bytes) / seconds / 1e6, digits: 1))",
    ] + cpuAfter.fields(since: cpuBefore, per: messages, unit: "message")
  }

  /// Sends `--bytes` payload bytes to the server on one Collect call, in messages of
  /// `--chunk-bytes`, and waits for its response.
  func runBulk() async throws -> [String] {
    let channel = try makeChannel(sessionCache: nil)
    defer { channel.close() }
    let echo = Echo_V1_Echo.Client(channel: channel)
    let chunkSize = options.chunkBytes
    let chunk = Echo_V1_EchoRequest.with { $0.payload = [UInt8](repeating: 0x42, count: chunkSize) }
    let total = options.bytes
    let lastSize = total % chunkSize
    let last = Echo_V1_EchoRequest.with { $0.payload = [UInt8](repeating: 0x42, count: lastSize) }
    let messageCount = total / chunkSize + (lastSize > 0 ? 1 : 0)

    _ = try await echo.get(.with { $0.text = "warm-up" })

    let cpuBefore = CPUTime.sample(serverPID: options.serverPID)
    let start = clock.now
    let response = try await echo.collect { writer in
      for index in 0..<messageCount {
        try checkDeadline()
        try await writer.write(index == messageCount - 1 && lastSize > 0 ? last : chunk)
      }
    }
    let elapsed = clock.now - start
    let cpuAfter = CPUTime.sample(serverPID: options.serverPID)

    // Collect joins the (empty) texts of all requests with single spaces.
    guard response.text.count == messageCount - 1 else {
      throw BenchError.wrongResponse("Collect returned a text of \(response.text.count) characters for \(messageCount) requests")
    }
    let seconds = milliseconds(elapsed) / 1e3
    return [
      "bytes=\(total)",
      "messages=\(messageCount)",
      "seconds=\(format(seconds, digits: 4))",
      "mb_per_s=\(format(Double(total) / seconds / 1e6, digits: 1))",
    ] + cpuAfter.fields(since: cpuBefore, per: messageCount, unit: "message")
  }
}
