import Synchronization
import TandemCore
import TandemHTTP
import TandemIO

/// Spreads calls over one ``ConnectionPool`` per address of the target, in turn
/// (``Channel/LoadBalancing/roundRobin``).
///
/// The addresses are resolved on the first call. Each call takes the next pool in turn when it
/// has an open connection. Otherwise that pool connects in the background and the call takes the
/// following pool that has one. When none has one, the pools are asked in turn, and a pool that
/// is backing off after a failure is skipped, so calls go to the healthy addresses.
final class RoundRobinSource: HTTPConnectionSource, Sendable {
  let authority: String
  let scheme: String
  private let makePool: @Sendable (ChannelTarget) -> ConnectionPool
  private let target: ChannelTarget
  private let state = Mutex(State())

  private struct State {
    var pools: [ConnectionPool]?
    var next = 0
    var closed = false
  }

  init(target: ChannelTarget, scheme: String, makePool: @escaping @Sendable (ChannelTarget) -> ConnectionPool) {
    self.target = target
    self.authority = target.authority
    self.scheme = scheme
    self.makePool = makePool
  }

  func connection(deadline: ContinuousClock.Instant?) async throws -> any HTTPClientConnection {
    let (pools, start) = try await poolsAndStart()
    if let connection = pools[start].openConnection() {
      return connection
    }
    // This address's turn finds no connection: it connects in the background for later turns,
    // and this call takes the next address that has one.
    let turn = pools[start]
    Task { _ = try? await turn.connection(deadline: nil) }
    for offset in 1..<pools.count {
      if let connection = pools[(start + offset) % pools.count].openConnection() {
        return connection
      }
    }
    var firstError: (any Error)?
    for offset in 0..<pools.count {
      do {
        return try await pools[(start + offset) % pools.count].connection(deadline: deadline)
      } catch {
        if firstError == nil { firstError = error }
      }
    }
    throw firstError ?? RPCError(code: .unavailable, message: "no address of \(target.name) connected")
  }

  func connectionFailed(_ connection: any HTTPClientConnection) {
    for pool in state.withLock({ $0.pools ?? [] }) {
      pool.connectionFailed(connection)
    }
  }

  func close() {
    for pool in closePools() { pool.close() }
  }

  /// Closes every pool as `shutdown()` does, and returns once all of them are idle.
  func shutdown() async {
    for pool in closePools() { await pool.shutdown() }
  }

  private func closePools() -> [ConnectionPool] {
    state.withLock { state -> [ConnectionPool] in
      state.closed = true
      return state.pools ?? []
    }
  }

  /// Returns the pools, created on the first call, and the index this call starts at.
  private func poolsAndStart() async throws -> ([ConnectionPool], Int) {
    if let ready = state.withLock({ state -> ([ConnectionPool], Int)? in
      guard let pools = state.pools else { return nil }
      state.next &+= 1
      return (pools, state.next % pools.count)
    }) {
      return ready
    }
    var addresses: [SocketAddress] = []
    for endpoint in target.endpoints {
      addresses += try await SocketAddress.resolveInBackground(host: endpoint.host, port: endpoint.port)
    }
    var seen: Set<SocketAddress> = []
    let unique = addresses.filter { seen.insert($0).inserted }
    guard !unique.isEmpty else {
      throw RPCError(code: .unavailable, message: "\(target.name) resolved to no address")
    }
    let created = unique.map { address in
      var single = target
      single.endpoints = [ChannelTarget.Endpoint(host: address.ipAddress, port: address.port)]
      return makePool(single)
    }
    return try state.withLock { state in
      if state.closed { throw RPCError(code: .unavailable, message: "the channel to \(target.name) is closed") }
      let pools = state.pools ?? created
      state.pools = pools
      state.next &+= 1
      return (pools, state.next % pools.count)
    }
  }
}
