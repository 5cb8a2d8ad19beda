import TandemCore
import TandemHTTP2
import TandemHTTP3
import TandemIO

/// The rule by which a channel chooses between TCP and QUIC.
public struct TransportPolicy: Sendable, Hashable, CustomStringConvertible {
  enum Kind: Hashable {
    case tcp
    case quic
    case hybrid(preferQUIC: Bool)
    case adaptive
  }

  let kind: Kind

  /// HTTP/2 over TCP only.
  public static let tcp = TransportPolicy(kind: .tcp)
  /// HTTP/3 over QUIC only. QUIC always uses TLS.
  public static let quic = TransportPolicy(kind: .quic)
  /// Tries the preferred transport first and races the other after a delay, Happy Eyeballs
  /// style: the other starts after 1.5 times the round-trip time last measured to the target
  /// (the smaller of TCP's and QUIC's; 100 ms to 2 s, 300 ms when none is known), or at once
  /// when QUIC is preferred but marked broken. The first connection to complete its handshake
  /// carries the calls; calls made during the race wait for it within their deadline. Needs
  /// TLS, because QUIC always uses it.
  ///
  /// With either preference, a channel whose calls go over TCP moves new calls to QUIC once the
  /// server advertises HTTP/3 in `Alt-Svc` and a QUIC connection comes up. It stays on TCP when
  /// QUIC's handshake round trip is over 1.5 times TCP's plus 10 ms.
  public static func hybrid(preferred: Preference) -> TransportPolicy {
    TransportPolicy(kind: .hybrid(preferQUIC: preferred == .quic))
  }
  /// The transport chosen for each new connection from what was measured to the target over
  /// each transport. QUIC is chosen unless it is marked broken, failed more than half of its
  /// last handshakes, or is clearly slower than TCP. Clearly slower means a median call latency
  /// or round-trip time over 1.5 times TCP's plus 10 ms, or under two thirds of TCP's goodput on
  /// bulk calls. Call latencies count while both transports carried calls within the probe
  /// interval (``Channel/Configuration/Adaptive/probeInterval``), round-trip times otherwise. A
  /// transport without a recent measurement is probed by starting both at once. The choice then races like
  /// ``hybrid(preferred:)``, so a failing transport still falls back. Each choice is counted in
  /// ``TandemMetric/adaptiveDecisions`` with its reason, and the figures behind it are reported
  /// as the `tandem_adaptive_*` gauges. Needs TLS, because QUIC always uses it.
  public static let adaptive = TransportPolicy(kind: .adaptive)

  /// The transport a hybrid policy tries first.
  public enum Preference: Sendable, Hashable {
    case tcp, quic
  }

  public var description: String {
    switch kind {
    case .tcp: return ".tcp"
    case .quic: return ".quic"
    case .hybrid(let preferQUIC): return ".hybrid(preferred: \(preferQUIC ? ".quic" : ".tcp"))"
    case .adaptive: return ".adaptive"
    }
  }
}

extension Channel {
  /// Whether a channel uses TLS, and how it verifies the server.
  public struct Security: Sendable, Hashable {
    enum Mode: Hashable {
      case plaintext
      case tls(Trust, serverName: String?)
    }

    /// The trust anchors the client checks the server's certificate against.
    public enum Trust: Sendable, Hashable {
      /// The operating system's trust store.
      case systemTrustStore
      /// The CA certificates in a PEM file.
      case caFile(String)
      /// No verification at all. For tests only: anyone can impersonate the server.
      case noVerification
    }

    let mode: Mode

    /// HTTP/2 over plain TCP with prior knowledge (h2c).
    public static let plaintext = Security(mode: .plaintext)

    /// TLS with ALPN `h2`, verifying the chain with `trust` and the host name against
    /// `serverName` (default: the target's host).
    public static func tls(trust: Trust = .systemTrustStore, serverName: String? = nil) -> Security {
      Security(mode: .tls(trust, serverName: serverName))
    }

    /// TLS verified against the system trust store.
    public static let systemTrustStore = Security.tls(trust: .systemTrustStore)

    /// TLS verified against the CA certificates in the PEM file at `path`.
    public static func caFile(_ path: String) -> Security { .tls(trust: .caFile(path)) }

    /// TLS without verification. For tests only.
    public static let insecure = Security.tls(trust: .noVerification)

    var isSecure: Bool {
      if case .tls = mode { return true }
      return false
    }
  }

  /// Connection, backoff and call settings of a channel.
  public struct Configuration: Sendable {
    /// gRPC call settings: default message limits and the user agent.
    public var calls: ClientCallConfiguration
    /// HTTP/2 settings: windows, header list size, keepalive.
    public var http2: HTTP2Configuration
    /// HTTP/3 and QUIC settings for the `.quic` transport: windows, idle timeout, keepalive, 0-RTT.
    public var http3: HTTP3Configuration
    /// Where QUIC session tickets and tokens are kept for resumption and 0-RTT; default the
    /// process-wide ``QUICSessionCache/shared``, `nil` to disable resumption.
    public var quicSessionCache: QUICSessionCache?
    /// How long one connection attempt (TCP and TLS handshake) may take. Default 20 s.
    public var connectTimeout: Duration
    /// Waiting between failed connection attempts.
    public var backoff: Backoff
    /// The event loops that run connections; `nil` uses ``EventLoopGroup/shared``.
    public var eventLoopGroup: EventLoopGroup?
    /// The destination of log records. Default: ``StandardErrorLogHandler`` at `.warning`.
    public var logHandler: any LogHandler
    /// Settings of the hybrid policy: how long QUIC stays marked broken.
    public var hybrid: Hybrid
    /// Settings of the adaptive policy: how often the measurements are refreshed.
    public var adaptive: Adaptive
    /// The spreading of calls over the target's addresses. Default ``LoadBalancing/pickFirst``.
    public var loadBalancing: LoadBalancing
    /// The recorder of the channel's metrics (``TandemMetric``), per transport and target:
    /// connections opened, failed and open, handshake and round-trip time, races won, fallbacks,
    /// broken marks, and calls started and finished by status with their duration and message
    /// bytes. Default ``NoMetrics``, which records nothing.
    public var metrics: any MetricsRecorder

    /// The default configuration.
    public static var defaults: Configuration { Configuration() }

    public init(
      calls: ClientCallConfiguration = .defaults,
      http2: HTTP2Configuration = HTTP2Configuration(),
      http3: HTTP3Configuration = HTTP3Configuration(),
      quicSessionCache: QUICSessionCache? = .shared,
      connectTimeout: Duration = .seconds(20),
      backoff: Backoff = .defaults,
      eventLoopGroup: EventLoopGroup? = nil,
      logHandler: any LogHandler = StandardErrorLogHandler(minimumLevel: .warning),
      hybrid: Hybrid = .defaults,
      adaptive: Adaptive = .defaults,
      loadBalancing: LoadBalancing = .pickFirst,
      metrics: any MetricsRecorder = NoMetrics()
    ) {
      self.calls = calls
      self.http2 = http2
      self.http3 = http3
      self.quicSessionCache = quicSessionCache
      self.connectTimeout = connectTimeout
      self.backoff = backoff
      self.eventLoopGroup = eventLoopGroup
      self.logHandler = logHandler
      self.hybrid = hybrid
      self.adaptive = adaptive
      self.loadBalancing = loadBalancing
      self.metrics = metrics
    }

    /// Throws ``ChannelError`` of kind `invalidConfiguration` naming the first value out of range.
    func validate() throws(ChannelError) {
      func check(_ name: String, _ valid: Bool, _ value: Any, _ range: String) throws(ChannelError) {
        guard valid else {
          throw ChannelError(.invalidConfiguration, "Channel.Configuration.\(name) is \(value); it must be \(range)")
        }
      }
      try check("connectTimeout", connectTimeout > .zero && connectTimeout <= .seconds(3600), connectTimeout, "in (0, 3600] seconds")
      try check("backoff.initial", backoff.initial > .zero && backoff.initial <= .seconds(3600), backoff.initial, "in (0, 3600] seconds")
      try check("backoff.maximum", backoff.maximum >= backoff.initial && backoff.maximum <= .seconds(86_400), backoff.maximum, "in [initial, 86400] seconds")
      try check("backoff.multiplier", backoff.multiplier.isFinite && backoff.multiplier >= 1 && backoff.multiplier <= 10, backoff.multiplier, "in 1...10")
      try check("backoff.jitter", backoff.jitter.isFinite && backoff.jitter >= 0 && backoff.jitter < 1, backoff.jitter, "in 0..<1")
      try check(
        "hybrid.quicBrokenDuration", hybrid.quicBrokenDuration > .zero && hybrid.quicBrokenDuration <= .seconds(172_800),
        hybrid.quicBrokenDuration, "in (0, 172800] seconds")
      try check(
        "hybrid.maxQUICBrokenDuration",
        hybrid.maxQUICBrokenDuration >= hybrid.quicBrokenDuration && hybrid.maxQUICBrokenDuration <= .seconds(172_800),
        hybrid.maxQUICBrokenDuration, "in [quicBrokenDuration, 172800] seconds")
      try check(
        "adaptive.probeInterval", adaptive.probeInterval > .zero && adaptive.probeInterval <= .seconds(86_400),
        adaptive.probeInterval, "in (0, 86400] seconds")
    }
  }

  /// The rule by which a channel spreads calls over its target's addresses.
  public enum LoadBalancing: Sendable, Hashable {
    /// One connection, to the first address that connects (tried Happy Eyeballs style); calls
    /// move to another address only when that connection ends.
    case pickFirst
    /// One connection per address, resolved on the first call. Each call takes the next
    /// address that has an open connection. Addresses that fail are skipped while they back off.
    case roundRobin
  }

  /// Settings of ``TransportPolicy/adaptive``.
  public struct Adaptive: Sendable, Hashable {
    /// The age beyond which a transport's round-trip measurement is refreshed by starting both
    /// transports at once on the next connection. Default 60 s.
    public var probeInterval: Duration

    /// A 60 s probe interval.
    public static let defaults = Adaptive(probeInterval: .seconds(60))

    public init(probeInterval: Duration) {
      self.probeInterval = probeInterval
    }
  }

  /// Settings of ``TransportPolicy/hybrid(preferred:)``.
  ///
  /// When QUIC fails to a target (handshake timeout, unreachable port) while TCP works, QUIC is
  /// marked broken for that target in the whole process. New connections then start TCP at once
  /// and still try QUIC alongside. A QUIC success clears the mark. A mark lasts
  /// ``quicBrokenDuration``, twice as long on each repeat, up to ``maxQUICBrokenDuration``.
  /// ``Channel/clearBrokenTransportMarks()`` clears every mark, for example after a network change.
  public struct Hybrid: Sendable, Hashable {
    /// How long the first broken mark lasts. Default 5 minutes.
    public var quicBrokenDuration: Duration
    /// The maximum duration of a repeated mark. Default 48 hours.
    public var maxQUICBrokenDuration: Duration

    /// 5 minutes, doubling on each repeat, at most 48 hours.
    public static let defaults = Hybrid(quicBrokenDuration: .seconds(300), maxQUICBrokenDuration: .seconds(48 * 3600))

    public init(quicBrokenDuration: Duration, maxQUICBrokenDuration: Duration) {
      self.quicBrokenDuration = quicBrokenDuration
      self.maxQUICBrokenDuration = maxQUICBrokenDuration
    }
  }

  /// Exponential backoff between connection attempts, as gRPC's connection-backoff document
  /// describes: the first wait is `initial`, each next one `multiplier` times longer up to
  /// `maximum`, each randomized by plus or minus `jitter` of itself.
  public struct Backoff: Sendable, Hashable {
    /// The first wait. Default 1 s.
    public var initial: Duration
    /// The growth factor. Default 1.6.
    public var multiplier: Double
    /// The maximum wait. Default 120 s.
    public var maximum: Duration
    /// The random spread, as a fraction of the wait. Default 0.2.
    public var jitter: Double

    /// 1 s, times 1.6 per attempt, at most 120 s, plus or minus 20 %.
    public static let defaults = Backoff(initial: .seconds(1), multiplier: 1.6, maximum: .seconds(120), jitter: 0.2)

    public init(initial: Duration, multiplier: Double, maximum: Duration, jitter: Double) {
      self.initial = initial
      self.multiplier = multiplier
      self.maximum = maximum
      self.jitter = jitter
    }

    /// Returns the wait after `failures` consecutive failed attempts (1 for the first), without jitter.
    func baseDelay(afterFailures failures: Int) -> Duration {
      var delay = initial
      var count = 1
      while count < failures && delay < maximum {
        delay = delay * multiplier
        count += 1
      }
      return min(delay, maximum)
    }
  }
}

/// Errors from ``Channel``.
public struct ChannelError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The kind of failure.
  public enum Kind: Sendable, Hashable {
    /// The target string is not `host:port`.
    case invalidTarget
    /// The transport policy requests a transport that is not available.
    case transportUnavailable
    /// A value of ``Channel/Configuration`` is outside its range.
    case invalidConfiguration
  }

  public var kind: Kind
  public var message: String

  public init(_ kind: Kind, _ message: String) {
    self.kind = kind
    self.message = message
  }

  public var description: String { message }
}
