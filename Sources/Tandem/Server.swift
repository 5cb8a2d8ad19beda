import Glibc
import Synchronization
import TandemCore
import TandemHTTP
import TandemHTTP2
import TandemHTTP3
import TandemIO

/// A gRPC server that serves generated services over HTTP/2 on TCP, HTTP/3 on QUIC, or both
/// at the same port number.
///
/// ```swift
/// let server = Server(
///   services: [EchoService()],
///   listening: .init(host: "127.0.0.1", port: 8443),
///   tls: .pem(certificateChain: "server.crt", privateKey: "server.key")
/// )
/// try await server.run()   // until shutdown(gracePeriod:) or task cancellation
/// ```
///
/// ``run()`` binds, serves until ``shutdown(gracePeriod:)`` is called or the task running it is
/// cancelled, then shuts down gracefully: it stops accepting connections, sends GOAWAY, lets
/// running calls finish within the grace period, then resets what is left and returns.
///
/// When it serves both transports, every HTTP/2 response carries
/// `Alt-Svc: h3=":PORT"; ma=86400`: clients learn that HTTP/3 is available at the same port
/// for the next 24 hours.
public final class Server: Sendable {
  /// The services, the listening address, TLS and the configuration this server was made with.
  public let services: [any RPCService]
  public let listenAddress: ListenAddress
  public let tls: ServerTLS?
  public let configuration: Configuration

  /// The `ma` (max-age) of the `Alt-Svc` field: 86,400 seconds.
  static let alternativeServiceMaxAge = 86_400

  private let state = Mutex(State())
  private let portWaiters = Mutex<[CheckedContinuation<Int, any Error>]>([])
  private let shutdownSignal = Mutex<ShutdownSignal>(.none)

  private struct State {
    var phase: Phase = .idle
    var port: Int?
    var startupError: (any Error)?
    var transports: [any HTTPServerTransport] = []
    var metricsPort: Int?
  }

  private enum Phase { case idle, running, stopped }

  private enum ShutdownSignal {
    case none
    case waiting(CheckedContinuation<Duration, Never>)
    case requested(Duration)
  }

  /// Creates a server. Nothing is bound until ``run()``.
  ///
  /// - Parameters:
  ///   - services: the services to serve. Each method path must be unique across them.
  ///   - listening: the host, port and transports to listen on.
  ///   - tls: the certificate and key for TLS, or `nil` for plaintext HTTP/2 (h2c). QUIC
  ///     needs it.
  ///   - configuration: limits, HTTP/2 settings and logging; ``Configuration/defaults``.
  public init(
    services: [any RPCService],
    listening: ListenAddress,
    tls: ServerTLS? = nil,
    configuration: Configuration = .defaults
  ) {
    self.services = services
    self.listenAddress = listening
    self.tls = tls
    self.configuration = configuration
  }

  /// The port of the metrics endpoint (``Configuration/metricsEndpoint``) once ``listeningPort``
  /// has returned, or `nil` when the server serves no metrics.
  public var metricsPort: Int? {
    state.withLock { $0.metricsPort }
  }

  /// The bound port, once the server listens (TCP and UDP use the same number). Useful with
  /// port 0.
  ///
  /// - Throws: the startup error when binding failed, or ``ServerError`` when the server
  ///   stopped before it listened.
  public var listeningPort: Int {
    get async throws {
      try await withCheckedThrowingContinuation { continuation in
        let ready: Result<Int, any Error>? = state.withLock { state in
          if let port = state.port { return .success(port) }
          if let error = state.startupError { return .failure(error) }
          if state.phase == .stopped {
            return .failure(ServerError(.notRunning, "the server stopped before it listened"))
          }
          return nil
        }
        if let ready {
          continuation.resume(with: ready)
        } else {
          portWaiters.withLock { $0.append(continuation) }
          // The port may have been published between the two locks.
          publishPortIfKnown()
        }
      }
    }
  }

  /// Binds, serves until shutdown, then drains and returns.
  ///
  /// - Throws: ``ServerError`` when the configuration is invalid: no transport, QUIC without
  ///   TLS, or two services with the same method path. ``HTTP2ConfigurationError`` or
  ///   ``HTTPTransportError`` of kind `invalidConfiguration` when a value of
  ///   `configuration.http2` or `configuration.http3` is outside its range. ``TLSError`` when the certificate or
  ///   key cannot be loaded. ``IOError`` when binding fails, also when both transports are
  ///   requested and the UDP port with the TCP port's number is taken, or when the metrics
  ///   endpoint cannot bind. ``MetricsConfigurationError`` for an invalid metrics endpoint.
  public func run() async throws {
    let alreadyRunning = state.withLock { state -> Bool in
      if state.phase != .idle { return true }
      state.phase = .running
      return false
    }
    if alreadyRunning {
      throw ServerError(.alreadyRunning, "run() was called on a server that has already run")
    }
    let logger = configuration.logHandler

    do {
      try await serve(logger: logger)
    } catch {
      state.withLock { state in
        state.startupError = state.startupError ?? error
        state.phase = .stopped
      }
      failPortWaiters(error)
      throw error
    }
  }

  /// Starts a graceful shutdown: stop accepting, send GOAWAY, let running calls finish for up
  /// to `gracePeriod` (default 10 seconds), then reset the rest. ``run()`` returns when done.
  public func shutdown(gracePeriod: Duration = .seconds(10)) {
    let continuation: CheckedContinuation<Duration, Never>? = shutdownSignal.withLock { signal in
      switch signal {
      case .none:
        signal = .requested(gracePeriod)
        return nil
      case .waiting(let continuation):
        signal = .requested(gracePeriod)
        return continuation
      case .requested:
        return nil
      }
    }
    continuation?.resume(returning: gracePeriod)
  }

  private func serve(logger: any LogHandler) async throws {
    if listenAddress.transports.isEmpty {
      throw ServerError(.transportUnavailable, "the listen address has no transport; use [.tcp], [.quic] or both")
    }
    if listenAddress.transports.contains(.quic) && tls == nil {
      throw ServerError(.transportUnavailable, "QUIC always uses TLS: pass a certificate and key with tls:")
    }
    var router = ServiceRouter()
    for service in services {
      var serviceRouter = ServiceRouter()
      service.registerMethods(with: &serviceRouter)
      let known = Set(router.methods.map(\.path))
      if let duplicate = serviceRouter.methods.first(where: { known.contains($0.path) }) {
        throw ServerError(
          .duplicateMethod,
          "two services register the method \(duplicate.path); each method path must be unique"
        )
      }
      service.registerMethods(with: &router)
    }

    let recorder = configuration.metrics ?? configuration.metricsEndpoint?.metrics
    let acceptor = ServerCallAcceptor(
      router: router, configuration: configuration.calls,
      logger: { line in logger.log(level: .warning, message: line, metadata: []) },
      observer: recorder.map { ServerCallMetrics(metrics: $0) })
    let (port, transports) = try await startTransports(acceptor: acceptor)
    var metricsServer: MetricsServer?
    if let endpoint = configuration.metricsEndpoint {
      do {
        var metricsConfiguration = endpoint.limits
        metricsConfiguration.logHandler = logger
        metricsServer = try await MetricsServer.start(
          host: endpoint.host, port: endpoint.port, metrics: endpoint.metrics,
          group: configuration.eventLoopGroup ?? .shared, configuration: metricsConfiguration)
      } catch {
        for transport in transports {
          transport.closeNow()
          await transport.waitUntilClosed()
        }
        throw error
      }
    }
    state.withLock { state in
      state.port = port
      state.transports = transports
      state.metricsPort = metricsServer?.port
    }
    publishPortIfKnown()
    let names = [Transport.tcp, .quic].filter { listenAddress.transports.contains($0) }.map { $0 == .tcp ? "tcp" : "quic" }
    logger.log(
      level: .info,
      message: "server listening",
      metadata: [
        ("host", listenAddress.host), ("port", String(port)), ("transport", names.joined(separator: "+")),
        ("tls", tls == nil ? "off" : "on"),
      ]
    )

    let gracePeriod = await waitForShutdownRequest()
    logger.log(
      level: .info,
      message: "server shutting down",
      metadata: [("port", String(port)), ("grace_period", gracePeriod.millisecondsText)]
    )
    for transport in transports { transport.beginGracefulShutdown() }
    let drained = await waitUntilClosed(transports, within: gracePeriod)
    if !drained {
      logger.log(
        level: .warning,
        message: "the grace period ended before every connection closed; closing the rest now",
        metadata: [("port", String(port))]
      )
      for transport in transports {
        transport.closeNow()
        await transport.waitUntilClosed()
      }
    }
    await metricsServer?.stop()
    state.withLock { $0.phase = .stopped }
    logger.log(level: .info, message: "server stopped", metadata: [("port", String(port))])
  }

  /// Starts the requested transports: TCP first, then UDP at the port number TCP got, so that
  /// both share it even for port 0. Returns that port and the started transports.
  ///
  /// With port 0, the UDP port with the number TCP got may be taken. Then both are closed
  /// and the pair is tried again with a new port, up to 5 times.
  private func startTransports(acceptor: ServerCallAcceptor) async throws -> (Int, [any HTTPServerTransport]) {
    var attempt = 1
    while true {
      do {
        return try await startTransportsOnce(acceptor: acceptor)
      } catch let error as IOError
        where error.errnoCode == EADDRINUSE && listenAddress.port == 0 && listenAddress.transports.count == 2 && attempt < 5
      {
        configuration.logHandler.log(
          level: .info, message: "UDP port taken after TCP bound it; retrying with another port",
          metadata: [("attempt", String(attempt)), ("error", "\(error)")])
        attempt += 1
      }
    }
  }

  private func startTransportsOnce(acceptor: ServerCallAcceptor) async throws -> (Int, [any HTTPServerTransport]) {
    let group = configuration.eventLoopGroup ?? .shared
    var transports: [any HTTPServerTransport] = []
    var port = listenAddress.port
    do {
      if listenAddress.transports.contains(.tcp) {
        let tlsConfiguration = try tls.map { tls in
          try TLSServerConfiguration.pem(
            certificateChainFile: tls.certificateChainPath, privateKeyFile: tls.privateKeyPath, alpn: ["h2"])
        }
        let transport = HTTP2ServerTransport(
          host: listenAddress.host, port: port, group: group, tls: tlsConfiguration, configuration: configuration.http2,
          logger: configuration.logHandler.transportLogger)
        port = try await transport.start(acceptor: acceptor)
        transports.append(transport)
      }
      if listenAddress.transports.contains(.quic), let tls {
        let quicTLS = try QUICServerTLSConfiguration.pem(
          certificateChainFile: tls.certificateChainPath, privateKeyFile: tls.privateKeyPath)
        let transport = HTTP3ServerTransport(
          host: listenAddress.host, port: port, group: group, tls: quicTLS, configuration: configuration.http3,
          logger: configuration.logHandler.transportLogger)
        port = try await transport.start(acceptor: acceptor)
        transports.append(transport)
        // Tell HTTP/2 clients that the same port serves HTTP/3 (RFC 7838, RFC 9114 section 3.1.1).
        for case let tcp as HTTP2ServerTransport in transports {
          tcp.alternativeService = "h3=\":\(port)\"; ma=\(Self.alternativeServiceMaxAge)"
        }
      }
    } catch {
      for transport in transports {
        transport.closeNow()
        await transport.waitUntilClosed()
      }
      throw error
    }
    return (port, transports)
  }

  /// Suspends until ``shutdown(gracePeriod:)`` is called or the task is cancelled, and returns
  /// the grace period to use.
  private func waitForShutdownRequest() async -> Duration {
    await withTaskCancellationHandler {
      await withCheckedContinuation { continuation in
        let requested: Duration? = shutdownSignal.withLock { signal in
          if case .requested(let grace) = signal { return grace }
          signal = .waiting(continuation)
          return nil
        }
        if let requested { continuation.resume(returning: requested) }
      }
    } onCancel: {
      self.shutdown(gracePeriod: configuration.cancellationGracePeriod)
    }
  }

  /// Returns `true` when every connection closed within `limit`, `false` when the limit
  /// passed first. It does not wait for the transport after the limit.
  private func waitUntilClosed(_ transports: [any HTTPServerTransport], within limit: Duration) async -> Bool {
    let outcome = ResumeOnce()
    return await withCheckedContinuation { continuation in
      outcome.set(continuation)
      Task {
        for transport in transports { await transport.waitUntilClosed() }
        outcome.resume(returning: true)
      }
      Task {
        try? await Task.sleep(for: limit)
        outcome.resume(returning: false)
      }
    }
  }

  private func publishPortIfKnown() {
    guard let port = state.withLock({ $0.port }) else { return }
    let waiters = portWaiters.withLock { waiters in
      defer { waiters.removeAll() }
      return waiters
    }
    for waiter in waiters { waiter.resume(returning: port) }
  }

  private func failPortWaiters(_ error: any Error) {
    let waiters = portWaiters.withLock { waiters in
      defer { waiters.removeAll() }
      return waiters
    }
    for waiter in waiters { waiter.resume(throwing: error) }
  }
}

/// A continuation that the first of several racing tasks resumes; later resumes do nothing.
private final class ResumeOnce: Sendable {
  private let slot = Mutex<CheckedContinuation<Bool, Never>?>(nil)

  func set(_ continuation: CheckedContinuation<Bool, Never>) {
    slot.withLock { $0 = continuation }
  }

  func resume(returning value: Bool) {
    let continuation = slot.withLock { slot -> CheckedContinuation<Bool, Never>? in
      defer { slot = nil }
      return slot
    }
    continuation?.resume(returning: value)
  }
}
