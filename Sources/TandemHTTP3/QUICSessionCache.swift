import Synchronization

/// Session tickets, server transport parameters and address-validation tokens that a QUIC
/// client keeps per server, so that its next connection to the same server resumes the TLS
/// session, skips the Retry round trip and can send calls in 0-RTT.
///
/// Entries are keyed by server name, port and address and expire after ``lifetime``. The cache
/// keeps at most ``capacity`` servers and drops the oldest entry beyond that. It is safe to
/// share between threads and connections; ``shared`` is the process-wide default.
public final class QUICSessionCache: Sendable {
  /// The process-wide cache that connections use unless they are given another.
  public static let shared = QUICSessionCache()

  /// The maximum number of servers kept. Default 256.
  public let capacity: Int
  /// How long an entry is used after it was stored. Default 2 hours; GnuTLS servers issue
  /// tickets valid for 6 hours by default, and a server may also refuse older ones.
  public let lifetime: Duration

  struct Entry: Sendable {
    var ticket: [UInt8]?
    var transportParameters: RememberedTransportParameters?
    var token: [UInt8]?
    var storedAt: ContinuousClock.Instant
  }

  private let entries = Mutex<[String: Entry]>([:])

  /// Creates an empty cache.
  ///
  /// - Parameters:
  ///   - capacity: servers kept at most, default 256; values below 1 count as 1.
  ///   - lifetime: how long an entry is used, default 2 hours.
  public init(capacity: Int = 256, lifetime: Duration = .seconds(7200)) {
    self.capacity = max(1, capacity)
    self.lifetime = lifetime
  }

  /// The number of servers with an entry.
  public var count: Int { entries.withLock { $0.count } }

  /// Returns whether a session ticket is stored for the server, which allows resumption and 0-RTT.
  public func hasTicket(serverName: String, port: Int) -> Bool {
    entries.withLock { table in
      table.first { $0.key.hasPrefix(Self.prefix(serverName: serverName, port: port)) }?.value.ticket != nil
    }
  }

  /// Forgets everything, for example after the network changed.
  public func removeAll() {
    entries.withLock { $0.removeAll() }
  }

  static func prefix(serverName: String, port: Int) -> String {
    "\(serverName)|\(port)|"
  }

  static func key(serverName: String, port: Int, address: String) -> String {
    prefix(serverName: serverName, port: port) + address
  }

  func entry(for key: String) -> Entry? {
    entries.withLock { table in
      guard let entry = table[key] else { return nil }
      if entry.storedAt.duration(to: .now) > lifetime {
        table[key] = nil
        return nil
      }
      return entry
    }
  }

  func update(_ key: String, _ change: (inout Entry) -> Void) {
    entries.withLock { table in
      var entry = table[key] ?? Entry(ticket: nil, transportParameters: nil, token: nil, storedAt: .now)
      change(&entry)
      entry.storedAt = .now
      table[key] = entry
      if table.count > capacity, let oldest = table.min(by: { $0.value.storedAt < $1.value.storedAt })?.key {
        table[oldest] = nil
      }
    }
  }

  /// Removes the ticket so that it is not offered again, after a server rejected it.
  func removeTicket(_ key: String) {
    entries.withLock { table in
      table[key]?.ticket = nil
      table[key]?.transportParameters = nil
    }
  }
}

/// The server's transport parameters that a client must respect when it sends 0-RTT data
/// (RFC 9000, section 7.4.1).
struct RememberedTransportParameters: Sendable, Hashable {
  var initialMaxStreamDataBidiLocal: UInt64
  var initialMaxStreamDataBidiRemote: UInt64
  var initialMaxStreamDataUni: UInt64
  var initialMaxData: UInt64
  var initialMaxStreamsBidi: UInt64
  var initialMaxStreamsUni: UInt64
  var activeConnectionIDLimit: UInt64
  var maxDatagramFrameSize: UInt64
}
