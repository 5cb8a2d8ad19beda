import TandemCore
import TandemHTTP2
import TandemHTTP3
import TandemIO

extension Server {
  /// A transport a server listens on.
  public enum Transport: Sendable, Hashable {
    /// HTTP/2 over TCP.
    case tcp
    /// HTTP/3 over QUIC on UDP, at the same port number as TCP when both are listed. QUIC
    /// always uses TLS, so the server needs a certificate.
    case quic
  }

  /// The address and transports a server listens on.
  public struct ListenAddress: Sendable, Hashable {
    /// The host or address to bind, such as `0.0.0.0`, `::` or `127.0.0.1`.
    public var host: String
    /// The port; 0 picks a free port, which ``Server/listeningPort`` then returns.
    public var port: Int
    /// The transports to serve. Default `[.tcp]`.
    public var transports: Set<Transport>

    public init(host: String, port: Int, transports: Set<Transport> = [.tcp]) {
      self.host = host
      self.port = port
      self.transports = transports
    }
  }

  /// Limits, protocol settings and logging of a server.
  public struct Configuration: Sendable {
    /// gRPC call limits: message sizes, buffered bytes per call.
    public var calls: ServerCallConfiguration
    /// HTTP/2 settings: windows, concurrent streams, header list size.
    public var http2: HTTP2Configuration
    /// HTTP/3 and QUIC settings: stream limits, windows, idle timeout, Retry, 0-RTT.
    public var http3: HTTP3Configuration
    /// The event loops that run connections; `nil` uses ``EventLoopGroup/shared``.
    public var eventLoopGroup: EventLoopGroup?
    /// The destination of log records. Default: ``StandardErrorLogHandler`` at `.info`.
    public var logHandler: any LogHandler
    /// The grace period for the shutdown that cancelling ``Server/run()`` starts. Default 5 s.
    public var cancellationGracePeriod: Duration
    /// The address at which the server also serves Prometheus metrics over plain HTTP
    /// (``MetricsServer``, `GET /metrics`) from its start until it stops. Default `nil`: none.
    public var metricsEndpoint: MetricsEndpoint?
    /// The recorder of the server's call metrics (the `tandem_server_*` names of
    /// ``TandemMetric``), by transport and method. Default `nil`: the ``MetricsEndpoint/metrics``
    /// of ``metricsEndpoint`` when one is set, and no recording otherwise.
    public var metrics: (any MetricsRecorder)?

    /// The default configuration.
    public static var defaults: Configuration {
      Configuration(
        calls: .defaults,
        http2: HTTP2Configuration(),
        http3: HTTP3Configuration(),
        eventLoopGroup: nil,
        logHandler: StandardErrorLogHandler(),
        cancellationGracePeriod: .seconds(5)
      )
    }

    public init(
      calls: ServerCallConfiguration = .defaults,
      http2: HTTP2Configuration = HTTP2Configuration(),
      http3: HTTP3Configuration = HTTP3Configuration(),
      eventLoopGroup: EventLoopGroup? = nil,
      logHandler: any LogHandler = StandardErrorLogHandler(),
      cancellationGracePeriod: Duration = .seconds(5),
      metrics: (any MetricsRecorder)? = nil
    ) {
      self.calls = calls
      self.http2 = http2
      self.http3 = http3
      self.eventLoopGroup = eventLoopGroup
      self.logHandler = logHandler
      self.cancellationGracePeriod = cancellationGracePeriod
      self.metrics = metrics
    }
  }

  /// An address at which a ``Server`` serves the text of a ``PrometheusMetrics``, for example
  /// the one its process's channels report to.
  public struct MetricsEndpoint: Sendable {
    /// The numeric address to listen on, such as `127.0.0.1`.
    public var host: String
    /// The TCP port, or 0 for one the system picks (see ``Server/metricsPort``).
    public var port: Int
    /// The metrics to serve.
    public var metrics: PrometheusMetrics
    /// The endpoint's limits: connections (64), request head size (8 KiB) and the time to send
    /// it (5 s), see ``MetricsServer/Configuration``. Its `logHandler` is replaced by the
    /// server's.
    public var limits: MetricsServer.Configuration

    public init(
      host: String, port: Int, metrics: PrometheusMetrics, limits: MetricsServer.Configuration = .defaults
    ) {
      self.host = host
      self.port = port
      self.metrics = metrics
      self.limits = limits
    }
  }
}

/// The certificate chain and private key a server presents for TLS.
public struct ServerTLS: Sendable, Hashable {
  /// The PEM file with the server certificate first, then any intermediates.
  public var certificateChainPath: String
  /// The PEM file with the private key.
  public var privateKeyPath: String

  /// TLS with the certificate chain and key read from PEM files when the server starts.
  public static func pem(certificateChain: String, privateKey: String) -> ServerTLS {
    ServerTLS(certificateChainPath: certificateChain, privateKeyPath: privateKey)
  }
}

/// Errors from ``Server``.
public struct ServerError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The kind of failure.
  public enum Kind: Sendable, Hashable {
    /// ``Server/run()`` was called twice.
    case alreadyRunning
    /// The server is not running.
    case notRunning
    /// A requested transport is not available, such as QUIC without a certificate or an
    /// empty transport set.
    case transportUnavailable
    /// Two services register the same method path.
    case duplicateMethod
  }

  public var kind: Kind
  public var message: String

  public init(_ kind: Kind, _ message: String) {
    self.kind = kind
    self.message = message
  }

  public var description: String { message }
}
