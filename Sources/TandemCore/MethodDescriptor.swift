/// Names one RPC method of a service.
public struct MethodDescriptor: Sendable, Hashable, CustomStringConvertible {
  /// The fully qualified service name, such as `echo.v1.Echo`.
  public var service: String
  /// The method name as declared in the service, such as `Get`.
  public var method: String
  /// The RPC's shape.
  public var kind: RPCKind

  /// The HTTP `:path` of the method: `/` service `/` method, such as `/echo.v1.Echo/Get`.
  public var path: String { "/\(service)/\(method)" }

  /// Creates a descriptor.
  public init(service: String, method: String, kind: RPCKind) {
    self.service = service
    self.method = method
    self.kind = kind
  }

  public var description: String { path }
}
