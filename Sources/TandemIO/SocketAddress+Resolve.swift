import Dispatch

extension SocketAddress {
  /// Resolves `host` as ``resolve(host:port:)`` does, without blocking the calling thread.
  ///
  /// A numeric address returns at once. A name is resolved on a Dispatch global queue, so a
  /// slow resolver occupies one of Dispatch's threads instead of a thread of Swift's cooperative
  /// pool. Cancelling the calling task does not stop a lookup that has started.
  ///
  /// - Throws: ``IOError`` as ``resolve(host:port:)`` does.
  public static func resolveInBackground(host: String, port: Int) async throws -> [SocketAddress] {
    let literal = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    if (0...65_535).contains(port), let address = try? SocketAddress(ipAddress: literal, port: port) {
      return [address]
    }
    return try await withCheckedThrowingContinuation { continuation in
      DispatchQueue.global().async {
        continuation.resume(with: Result { try resolve(host: host, port: port) })
      }
    }
  }
}
