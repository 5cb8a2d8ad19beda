/// A service implementation that registers its methods with a ``ServiceRouter``.
///
/// Generated service protocols provide `registerMethods(with:)`, so an implementation
/// usually only writes the methods themselves.
public protocol RPCService: Sendable {
  /// Registers one handler per method of the service.
  func registerMethods(with router: inout ServiceRouter)
}
