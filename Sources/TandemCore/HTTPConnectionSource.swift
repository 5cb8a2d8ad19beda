import TandemHTTP

/// Supplies the HTTP connections that a ``ClientCallExecutor`` opens call streams on.
///
/// `Tandem.Channel` implements it with its transport policy, connection pool and
/// reconnection; tests implement it with an in-memory transport.
public protocol HTTPConnectionSource: Sendable {
  /// The `:authority` of every request, such as `echo.example.com:8443`.
  var authority: String { get }
  /// The `:scheme` of every request: `http` or `https`.
  var scheme: String { get }

  /// Returns a connection that accepts new streams, connecting first when needed.
  ///
  /// - Parameter deadline: when the call's deadline passes; the source should give up by then.
  /// - Throws: an ``RPCError`` (used as it is), or any other error, which fails the call with
  ///   ``StatusCode/unavailable`` naming the error. Cancellation of the calling task should
  ///   end the wait.
  func connection(deadline: ContinuousClock.Instant?) async throws -> any HTTPClientConnection

  /// Reports that `connection` rejected a new stream, so the source can replace it.
  func connectionFailed(_ connection: any HTTPClientConnection)
}
