import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// A socket on 127.0.0.1 that never reads or replies: QUIC handshakes to a UDP one get no
/// response, and TCP connections to a listening TCP one complete in the kernel but TLS never
/// starts. ``close()`` closes it.
struct SilentSocket {
  let descriptor: Int32
  let port: Int

  /// Binds a socket of `type` (`SOCK_DGRAM` or `SOCK_STREAM`, which also listens) to
  /// 127.0.0.1:`port`, 0 for a free port.
  init(_ type: __socket_type, port: Int = 0) throws {
    descriptor = socket(AF_INET, Int32(type.rawValue), 0)
    guard descriptor >= 0 else {
      throw SilentSocketError(description: "socket() failed: \(String(cString: strerror(errno)))")
    }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let descriptor = self.descriptor
    let bound = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
          && (type != SOCK_STREAM || listen(descriptor, 16) == 0)
      }
    }
    guard bound else {
      let reason = String(cString: strerror(errno))
      Glibc.close(descriptor)
      throw SilentSocketError(description: "binding a silent socket to 127.0.0.1:\(port) failed: \(reason)")
    }
    self.port = Int(UInt16(bigEndian: address.sin_port))
  }

  func close() {
    Glibc.close(descriptor)
  }
}

struct SilentSocketError: Error, CustomStringConvertible {
  let description: String
}

/// Waits up to `limit` for `condition`, polling every 20 ms, and returns whether it became true.
func eventually(within limit: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
  let deadline = ContinuousClock.now + limit
  while ContinuousClock.now < deadline {
    if condition() { return true }
    try? await Task.sleep(for: .milliseconds(20))
  }
  return condition()
}
