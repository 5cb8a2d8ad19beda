import TandemHTTP

/// Settings of HTTP/3 connections over QUIC, for clients and servers.
///
/// Every value has a default; ``validate()`` names the first value outside its range.
public struct HTTP3Configuration: Sendable, Hashable {
  /// When a server replies to new connections with a Retry packet to validate the client's
  /// address (RFC 9000, section 8.1) before it keeps any state for them.
  public enum AddressValidation: Sendable, Hashable {
    /// Every new connection without a valid token gets a Retry: one more round trip each.
    case always
    /// A Retry only while more than `halfOpenLimit` handshakes are in progress, which is
    /// what a flood of spoofed Initial packets causes.
    case automatic(halfOpenLimit: Int)
    /// Never; the server relies on QUIC's limit of three times the received bytes.
    case never
  }

  /// Congestion controllers that ngtcp2 0.12 provides.
  public enum CongestionControl: Sendable, Hashable {
    case cubic
    case reno
    case bbr
  }

  /// The number of request streams the peer may have open at once (QUIC's
  /// `initial_max_streams_bidi`, raised by one as each stream closes). Servers use it;
  /// clients grant none, as HTTP/3 servers open no request streams. Default 100.
  public var maxConcurrentStreams = 100
  /// The receive window of each stream in bytes, the most a peer may send ahead of the
  /// application's reading. Default 1 MiB.
  public var initialStreamWindowSize = 1 << 20
  /// The receive window of the whole connection in bytes. Default 8 MiB.
  public var connectionWindowSize = 8 << 20
  /// The largest header list accepted, counted as in HTTP/2 (name + value + 32 per field).
  /// Default 16 KiB. A server rejects a larger request with status 431.
  // NOTE: nghttp3 0.8 treats one header value above 64 KiB as a connection error, so such a
  // request closes its whole connection (H3_GENERAL_PROTOCOL_ERROR) instead of getting 431.
  public var maxHeaderListSize = 16 * 1024
  /// A connection without any packet for this long closes silently (QUIC's
  /// `max_idle_timeout`; the smaller of both peers' values applies). Default 30 s.
  public var idleTimeout: Duration = .seconds(30)
  /// When set, a PING goes out after this long without sending, so that idle connections
  /// and NAT bindings stay open. Default `nil` (off).
  public var keepaliveInterval: Duration?
  /// The time a handshake may take. Default 10 s.
  public var handshakeTimeout: Duration = .seconds(10)
  /// Buffered outbound bytes of one stream above which `writeData` reports back-pressure.
  /// Bytes count until the peer acknowledges them. Default 256 KiB.
  public var streamHighWaterMark = 256 * 1024
  /// The level below which a stream that reported back-pressure becomes writable again.
  /// Default 64 KiB.
  public var streamLowWaterMark = 64 * 1024
  /// Server only: when to send Retry packets. Default `.automatic(halfOpenLimit: 256)`.
  public var addressValidation = AddressValidation.automatic(halfOpenLimit: 256)
  /// Whether 0-RTT is used: a server accepts early data, a client sends calls marked safe
  /// to replay in it. Default `true`.
  public var earlyData = true
  /// The largest UDP payload sent, in bytes, 1200 through 65527; default 1452 (a 1500-byte
  /// Ethernet MTU less the IPv6 and UDP headers).
  ///
  /// Packets start at 1,200 bytes and path MTU discovery raises them up to this size. ngtcp2
  /// 0.12 probes 1,232, 1,342, 1,406 and 1,444 bytes only, so sizes above 1,444 take effect
  /// on loopback alone (see ``loopbackUDPPayloadSize``).
  public var maxUDPPayloadSize = 1452
  /// The UDP payload size used when the peer's address is a loopback address, 1200 through
  /// 65527. Default 65,507; `nil` treats loopback like any other path.
  ///
  /// Traffic to a loopback address never leaves the host, so the loopback interface's MTU
  /// (65,536 on Linux by default) is the path MTU. Once the handshake is confirmed, a
  /// connection to such a peer sends packets without path MTU discovery. Their size is the
  /// smallest of this value, that MTU less the IP and UDP headers (65,507 bytes over IPv4 and
  /// 65,488 over IPv6 at the default MTU), 65,507, and the peer's `max_udp_payload_size`.
  /// Large packets cut the per-packet cost (header protection, encryption calls,
  /// acknowledgments) of a bulk transfer between processes on one host. A value at or below
  /// ``maxUDPPayloadSize`` has no effect.
  public var loopbackUDPPayloadSize: Int? = 65_507
  /// The number of probe timeouts in a row, with nothing acknowledged, after which an
  /// established connection closes because its path seems blocked (a UDP black hole). 2
  /// through 20, or `nil` to wait for the idle timeout. Default 4. Each probe timeout doubles
  /// the wait, so 4 take about 15 times the probe timeout: about 0.5 s on loopback and a few
  /// seconds on a 100 ms path, instead of the 30 s idle timeout.
  public var maxProbeTimeouts: Int? = 4
  /// The congestion controller. Default CUBIC.
  public var congestionControl = CongestionControl.cubic
  /// How long a server waits between its first GOAWAY (the notice) and the final one during
  /// graceful shutdown, so that requests already in flight arrive. Default 100 ms.
  public var goAwayNoticeDelay: Duration = .milliseconds(100)

  public init() {}

  /// Checks every value.
  ///
  /// - Throws: ``HTTPTransportError`` of kind `invalidConfiguration` naming the first value
  ///   out of range and the range.
  public func validate() throws {
    func check(_ name: String, _ value: Int, _ range: ClosedRange<Int>) throws {
      guard range.contains(value) else {
        throw HTTPTransportError(.invalidConfiguration, "HTTP3Configuration.\(name) is \(value), outside \(range.lowerBound)...\(range.upperBound)")
      }
    }
    try check("maxConcurrentStreams", maxConcurrentStreams, 1...(1 << 20))
    try check("initialStreamWindowSize", initialStreamWindowSize, 1024...(1 << 30))
    try check("connectionWindowSize", connectionWindowSize, 1024...(1 << 32))
    try check("maxHeaderListSize", maxHeaderListSize, 1024...(1 << 24))
    try check("streamLowWaterMark", streamLowWaterMark, 0...(streamHighWaterMark))
    try check("streamHighWaterMark", streamHighWaterMark, 1...(1 << 30))
    try check("maxUDPPayloadSize", maxUDPPayloadSize, 1200...65527)
    if let loopbackUDPPayloadSize { try check("loopbackUDPPayloadSize", loopbackUDPPayloadSize, 1200...65527) }
    if let maxProbeTimeouts { try check("maxProbeTimeouts", maxProbeTimeouts, 2...20) }
    if case .automatic(let limit) = addressValidation {
      try check("addressValidation.halfOpenLimit", limit, 0...(1 << 20))
    }
    func positive(_ name: String, _ value: Duration) throws {
      guard value > .zero, value <= .seconds(3600) else {
        throw HTTPTransportError(.invalidConfiguration, "HTTP3Configuration.\(name) is \(value), outside 0 (exclusive)...3600 seconds")
      }
    }
    try positive("idleTimeout", idleTimeout)
    try positive("handshakeTimeout", handshakeTimeout)
    if let keepaliveInterval { try positive("keepaliveInterval", keepaliveInterval) }
    guard goAwayNoticeDelay >= .zero, goAwayNoticeDelay <= .seconds(60) else {
      throw HTTPTransportError(.invalidConfiguration, "HTTP3Configuration.goAwayNoticeDelay is \(goAwayNoticeDelay), outside 0...60 seconds")
    }
  }
}
