/// The metrics that Tandem reports to a ``MetricsRecorder``, with their Prometheus names,
/// types, label keys and help texts.
///
/// Names start with `tandem_`, counters end in `_total`, and units come before that suffix
/// (`_seconds`, `_bytes`). Durations are in seconds. A channel's series carry two labels:
///
/// - ``Label/transport``: `"tcp"` (HTTP/2) or `"quic"` (HTTP/3), see ``Transport``.
/// - ``Label/target``: the channel's target as the caller wrote it, such as
///   `"example.com:443"` or `"ipv4:10.0.0.1:443,10.0.0.2:443"`.
///
/// A server's series (names starting with `tandem_server_`) carry ``Label/transport``, and
/// those of calls also ``Label/method``, the path of the called method.
///
/// ```swift
/// recorder.increment(
///   counter: TandemMetric.callsFinished.name, by: 1,
///   labels: [(TandemMetric.Label.transport, TandemMetric.Transport.quic),
///            (TandemMetric.Label.target, "example.com:443"),
///            (TandemMetric.Label.status, StatusCode.ok.description)])
/// ```
public enum TandemMetric: String, CaseIterable, Sendable {
  /// Connections opened, counted once the handshake (TLS and ALPN included) finished.
  case connectionsOpened = "tandem_connections_opened_total"

  /// Connection attempts that failed: refused, timed out, or a failed handshake.
  case connectionsFailed = "tandem_connections_failed_total"

  /// Connections open now: +1 when one opens, -1 when it closes.
  case connectionsOpen = "tandem_connections_open"

  /// Time from the start of a connection attempt to the end of its handshake, TLS and ALPN
  /// included, in seconds.
  case handshakeDuration = "tandem_handshake_duration_seconds"

  /// Calls started. A call that never got a stream (no connection) counts when it ends, with
  /// the transport `none`.
  case callsStarted = "tandem_calls_started_total"

  /// Calls finished, by gRPC status (label ``Label/status``).
  case callsFinished = "tandem_calls_finished_total"

  /// Time from the start of a call to its status, in seconds.
  case callDuration = "tandem_call_duration_seconds"

  /// gRPC message bytes that calls sent, 5-byte message prefixes included (HTTP framing and
  /// encryption not counted).
  case sentBytes = "tandem_sent_bytes_total"

  /// gRPC message bytes that calls received, 5-byte message prefixes included (HTTP framing
  /// and encryption not counted).
  case receivedBytes = "tandem_received_bytes_total"

  /// Connections a server accepted, counted once their TLS or QUIC handshake finished, by
  /// transport.
  case serverConnectionsOpened = "tandem_server_connections_opened_total"

  /// Connections open on a server now, by transport.
  case serverConnectionsOpen = "tandem_server_connections_open"

  /// Calls a server routed to a handler, by the transport they came in on and the method.
  case serverCallsStarted = "tandem_server_calls_started_total"

  /// Server calls finished, by the gRPC status sent (label ``Label/status``); `CANCELLED` when
  /// the client reset the stream first.
  case serverCallsFinished = "tandem_server_calls_finished_total"

  /// Time from a server call's request headers to its status, in seconds.
  case serverCallDuration = "tandem_server_call_duration_seconds"

  /// gRPC message bytes that server calls sent, 5-byte message prefixes included.
  case serverSentBytes = "tandem_server_sent_bytes_total"

  /// gRPC message bytes that server calls received, 5-byte message prefixes included.
  case serverReceivedBytes = "tandem_server_received_bytes_total"

  /// The last smoothed round-trip time measured on a connection, in seconds.
  case roundTripTime = "tandem_rtt_seconds"

  /// Transport races won: the ``Label/transport`` label names the winner.
  case racesWon = "tandem_races_won_total"

  /// Races won by the transport that was not preferred, because the preferred one failed, was
  /// marked broken or was slower: the ``Label/transport`` label names the transport used.
  case fallbacks = "tandem_fallbacks_total"

  /// Times a transport was marked broken for a target: the ``Label/transport`` label names the
  /// broken transport.
  case brokenMarks = "tandem_broken_marks_total"

  /// Transport choices of the adaptive policy, by the transport chosen
  /// (label ``Label/chosen``) and the reason (label ``Label/reason``).
  case adaptiveDecisions = "tandem_adaptive_decisions_total"

  /// The call latency quantiles the adaptive policy compared at its last decision, by
  /// quantile (label ``Label/quantile``: `"0.5"` or `"0.95"`), in seconds.
  case adaptiveLatency = "tandem_adaptive_latency_seconds"

  /// The goodput of bulk calls (64 KiB or more) the adaptive policy compared at its last
  /// decision, in bytes per second.
  case adaptiveGoodput = "tandem_adaptive_goodput_bytes_per_second"

  /// The share of handshakes that succeeded, as the adaptive policy's moving average, 0 to 1.
  case adaptiveHandshakeSuccess = "tandem_adaptive_handshake_success_ratio"

  /// Updates that ``PrometheusMetrics`` dropped because they would have created a series past
  /// its series limit.
  case droppedSeries = "tandem_metrics_dropped_series_total"

  /// Updates that ``PrometheusMetrics`` dropped as invalid, by reason (label
  /// ``Label/reason``): an invalid metric or label name, a type conflict, a negative counter
  /// increment, or a value out of range.
  case invalidSamples = "tandem_metrics_invalid_samples_total"

  /// The Prometheus metric type of a metric.
  public enum Kind: String, Sendable, Hashable, CaseIterable {
    /// A value that only goes up.
    case counter
    /// A value that goes up and down.
    case gauge
    /// Observations counted in buckets, with their sum and count.
    case histogram
  }

  /// The label keys Tandem uses.
  public enum Label {
    /// `"transport"`: `"tcp"` or `"quic"`, see ``TandemMetric/Transport``.
    public static let transport = "transport"
    /// `"target"`: the channel's target as the caller wrote it.
    public static let target = "target"
    /// `"method"`: the path of a called method, such as `"/echo.v1.Echo/Get"`.
    public static let method = "method"
    /// `"status"`: the gRPC status code name, as `StatusCode.description` writes it, such as
    /// `"OK"` or `"UNAVAILABLE"`.
    public static let status = "status"
    /// `"chosen"`: the transport an adaptive decision picked, `"tcp"` or `"quic"`.
    public static let chosen = "chosen"
    /// `"reason"`: why an adaptive decision was made, or why an update was dropped.
    public static let reason = "reason"
    /// `"quantile"`: the quantile of a latency, such as `"0.5"`.
    public static let quantile = "quantile"
  }

  /// The values of the ``Label/transport`` and ``Label/chosen`` labels.
  public enum Transport {
    /// HTTP/2 over TCP.
    public static let tcp = "tcp"
    /// HTTP/3 over QUIC.
    public static let quic = "quic"
  }

  /// The metric name, such as `tandem_calls_started_total`.
  public var name: String { rawValue }

  /// The Prometheus metric type.
  public var kind: Kind {
    switch self {
    case .connectionsOpen, .roundTripTime, .adaptiveLatency, .adaptiveGoodput, .adaptiveHandshakeSuccess,
      .serverConnectionsOpen:
      return .gauge
    case .handshakeDuration, .callDuration, .serverCallDuration:
      return .histogram
    case .connectionsOpened, .connectionsFailed, .callsStarted, .callsFinished, .sentBytes, .receivedBytes,
      .racesWon, .fallbacks, .brokenMarks, .adaptiveDecisions, .droppedSeries, .invalidSamples,
      .serverCallsStarted, .serverCallsFinished, .serverSentBytes, .serverReceivedBytes, .serverConnectionsOpened:
      return .counter
    }
  }

  /// The label keys of the metric's series, in the order Tandem reports them.
  public var labelKeys: [String] {
    switch self {
    case .callsFinished:
      return [Label.transport, Label.target, Label.status]
    case .serverCallsFinished:
      return [Label.transport, Label.method, Label.status]
    case .serverCallsStarted, .serverCallDuration, .serverSentBytes, .serverReceivedBytes:
      return [Label.transport, Label.method]
    case .serverConnectionsOpened, .serverConnectionsOpen:
      return [Label.transport]
    case .adaptiveDecisions:
      return [Label.target, Label.chosen, Label.reason]
    case .adaptiveLatency:
      return [Label.transport, Label.target, Label.quantile]
    case .adaptiveGoodput, .adaptiveHandshakeSuccess:
      return [Label.transport, Label.target]
    case .droppedSeries:
      return []
    case .invalidSamples:
      return [Label.reason]
    case .connectionsOpened, .connectionsFailed, .connectionsOpen, .handshakeDuration, .callsStarted,
      .callDuration, .sentBytes, .receivedBytes, .roundTripTime, .racesWon, .fallbacks, .brokenMarks:
      return [Label.transport, Label.target]
    }
  }

  /// The text of the metric's `# HELP` line.
  public var help: String {
    switch self {
    case .connectionsOpened: return "Connections opened, counted after the handshake finished."
    case .connectionsFailed: return "Connection attempts that failed."
    case .connectionsOpen: return "Connections open now."
    case .handshakeDuration: return "Connection handshake duration, TLS and ALPN included, in seconds."
    case .callsStarted: return "Calls started."
    case .callsFinished: return "Calls finished, by gRPC status."
    case .callDuration: return "Call duration from start to status, in seconds."
    case .sentBytes: return "gRPC message bytes sent by calls, prefixes included."
    case .receivedBytes: return "gRPC message bytes received by calls, prefixes included."
    case .serverConnectionsOpened: return "Connections a server accepted, counted after the handshake finished."
    case .serverConnectionsOpen: return "Connections open on a server now."
    case .serverCallsStarted: return "Server calls started, by transport and method."
    case .serverCallsFinished: return "Server calls finished, by transport, method and gRPC status."
    case .serverCallDuration: return "Server call duration from request headers to status, in seconds."
    case .serverSentBytes: return "gRPC message bytes sent by server calls, prefixes included."
    case .serverReceivedBytes: return "gRPC message bytes received by server calls, prefixes included."
    case .roundTripTime: return "Last smoothed round-trip time of a connection, in seconds."
    case .racesWon: return "Transport races won, by winning transport."
    case .fallbacks: return "Races won by the transport that was not preferred, by the transport used."
    case .brokenMarks: return "Times a transport was marked broken for a target."
    case .adaptiveDecisions: return "Transport choices of the adaptive policy, by chosen transport and reason."
    case .adaptiveLatency: return "Call latency quantiles behind the adaptive policy's last choice, in seconds."
    case .adaptiveGoodput: return "Bulk call goodput behind the adaptive policy's last choice, in bytes per second."
    case .adaptiveHandshakeSuccess: return "Share of handshakes that succeeded, as the adaptive policy's moving average."
    case .droppedSeries: return "Updates dropped because the series limit was reached."
    case .invalidSamples: return "Updates dropped as invalid, by reason."
    }
  }
}
