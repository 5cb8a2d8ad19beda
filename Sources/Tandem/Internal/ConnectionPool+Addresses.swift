import Synchronization
import TandemCore
import TandemHTTP
import TandemIO

extension ConnectionPool {
  /// The delay between the starts of two connection attempts to different addresses: 250 ms,
  /// as RFC 8305, section 5 recommends.
  static let addressAttemptDelay: Duration = .milliseconds(250)

  /// Returns the target's addresses, or the target's host at `port` when given: every endpoint
  /// resolved, duplicates removed, IPv6 and IPv4 interleaved starting with the first family
  /// the resolver returned (RFC 8305, section 4).
  ///
  /// - Throws: ``IOError`` when a name does not resolve.
  func resolveAddresses(port: Int?) async throws -> [SocketAddress] {
    let endpoints = port.map { [ChannelTarget.Endpoint(host: target.host, port: $0)] } ?? target.endpoints
    var seen: Set<SocketAddress> = []
    var resolved: [SocketAddress] = []
    for endpoint in endpoints {
      for address in try await SocketAddress.resolveInBackground(host: endpoint.host, port: endpoint.port)
      where seen.insert(address).inserted {
        resolved.append(address)
      }
    }
    return Self.interleaved(resolved)
  }

  /// Alternates the address families of `addresses`, starting with the first one's family.
  static func interleaved(_ addresses: [SocketAddress]) -> [SocketAddress] {
    guard let first = addresses.first else { return [] }
    var preferred = addresses.filter { $0.family == first.family }
    var other = addresses.filter { $0.family != first.family }
    var result: [SocketAddress] = []
    while !preferred.isEmpty || !other.isEmpty {
      if !preferred.isEmpty { result.append(preferred.removeFirst()) }
      if !other.isEmpty { result.append(other.removeFirst()) }
    }
    return result
  }

  /// Opens `transport` to the first of the target's addresses that connects, Happy Eyeballs
  /// style (``AddressRace``), and closes connections that complete later.
  ///
  /// - Throws: the first address's error when every attempt fails.
  func openAny(
    _ transport: ConnectionRace.Transport, tls: TLSClientConfiguration?, port: Int?, provingPath: Bool
  ) async throws -> (any HTTPClientConnection, Duration?) {
    let addresses = try await resolveAddresses(port: port)
    guard addresses.count > 1 else {
      let host = addresses.first?.ipAddress ?? target.host
      return try await open(transport, tls: tls, host: host, port: addresses.first?.port ?? port ?? target.port, provingPath: provingPath)
    }
    let runner = AddressRaceRunner(pool: self, transport: transport, tls: tls, addresses: addresses, provingPath: provingPath)
    return try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { continuation in
        runner.begin(continuation: continuation)
      }
    } onCancel: {
      runner.cancel()
    }
  }
}

/// Runs one ``AddressRace``: connects to the addresses it starts and performs its actions.
final class AddressRaceRunner: Sendable {
  typealias Outcome = (any HTTPClientConnection, Duration?)

  private let pool: ConnectionPool
  private let transport: ConnectionRace.Transport
  private let tls: TLSClientConfiguration?
  private let addresses: [SocketAddress]
  private let provingPath: Bool
  private let machine: Mutex<AddressRace>
  private let outcomes = Mutex<[Int: Outcome]>([:])
  private let errors = Mutex<[Int: any Error]>([:])
  private let continuation = OnceContinuation<Outcome>()
  /// The attempts started so far, which a cancellation stops.
  private let attempts = Mutex<[Task<Void, Never>]>([])

  init(
    pool: ConnectionPool, transport: ConnectionRace.Transport, tls: TLSClientConfiguration?, addresses: [SocketAddress],
    provingPath: Bool
  ) {
    self.pool = pool
    self.transport = transport
    self.tls = tls
    self.addresses = addresses
    self.provingPath = provingPath
    self.machine = Mutex(AddressRace(count: addresses.count))
  }

  /// Starts the first address; the outcome resumes `continuation`.
  func begin(continuation: CheckedContinuation<Outcome, any Error>) {
    self.continuation.set(continuation)
    perform(machine.withLock { $0.begin() })
  }

  /// Ends the race when the connection attempt is cancelled, and stops every attempt.
  func cancel() {
    perform(machine.withLock { $0.cancel() })
    for attempt in attempts.withLock({ $0 }) {
      attempt.cancel()
    }
  }

  private func start(_ index: Int) {
    let address = addresses[index]
    let attempt = Task {
      do {
        let outcome = try await pool.open(
          transport, tls: tls, host: address.ipAddress, port: address.port, provingPath: provingPath)
        outcomes.withLock { $0[index] = outcome }
        perform(machine.withLock { $0.connected(index) })
      } catch {
        errors.withLock { $0[index] = error }
        pool.configuration.logHandler.log(
          level: .debug, message: "connecting to one address of the target failed",
          metadata: [("target", pool.targetName), ("address", address.description), ("error", "\(error)")])
        perform(machine.withLock { $0.failed(index) })
      }
    }
    attempts.withLock { $0.append(attempt) }
    // The next address starts after the attempt delay unless this one settles the race first.
    Task {
      try? await Task.sleep(for: ConnectionPool.addressAttemptDelay)
      perform(machine.withLock { $0.delayElapsed() })
    }
  }

  /// Returns the error for a race in which every address failed: the first four addresses
  /// with their errors.
  private func failure() -> RPCError {
    let failed = errors.withLock { $0.sorted { $0.key < $1.key } }
    var parts = failed.prefix(4).map { "\(addresses[$0.key]): \(($0.value as? RPCError)?.message ?? "\($0.value)")" }
    if failed.count > 4 {
      parts.append("and \(failed.count - 4) more")
    }
    return RPCError(
      code: .unavailable,
      message: "connecting to each of the \(addresses.count) addresses of \(pool.targetName) failed: "
        + parts.joined(separator: "; "))
  }

  private func resume(_ result: Result<Outcome, any Error>) {
    continuation.resume(with: result)
  }

  private func perform(_ actions: [AddressRace.Action]) {
    for action in actions {
      switch action {
      case .start(let index):
        start(index)
      case .win(let index):
        guard let outcome = outcomes.withLock({ $0[index] }) else { continue }
        resume(.success(outcome))
      case .close(let index):
        outcomes.withLock { $0.removeValue(forKey: index) }?.0.close()
      case .fail:
        resume(.failure(failure()))
      case .cancel:
        resume(.failure(CancellationError()))
      }
    }
  }
}
