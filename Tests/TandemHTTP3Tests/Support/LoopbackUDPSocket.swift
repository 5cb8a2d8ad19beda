#if canImport(Glibc)
import Glibc
#endif

/// A blocking IPv4 UDP socket on 127.0.0.1 for tests: plain system calls, no event loop, so
/// it can play a client or a target of ``UDPRelay`` from the test thread.
final class LoopbackUDPSocket {
  /// A failed system call, with its errno.
  struct Failure: Error, CustomStringConvertible {
    var operation: String
    var code: Int32
    var description: String { "\(operation) failed with errno \(code)" }
  }

  let fd: Int32

  /// The port the kernel picked.
  let port: Int

  /// Binds a socket to 127.0.0.1 with a free port.
  init() throws {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { throw Failure(operation: "socket", code: errno) }
    var address = LoopbackUDPSocket.loopback(port: 0)
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else {
      let code = errno
      close(fd)
      throw Failure(operation: "bind", code: code)
    }
    var local = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &local) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    self.fd = fd
    port = Int(UInt16(bigEndian: local.sin_port))
  }

  deinit {
    close(fd)
  }

  /// Sends one datagram to 127.0.0.1:`port`.
  func send(_ bytes: [UInt8], toPort port: Int) throws {
    var address = LoopbackUDPSocket.loopback(port: port)
    let sent = bytes.withUnsafeBytes { buffer in
      withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          sendto(fd, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
      }
    }
    guard sent == bytes.count else { throw Failure(operation: "sendto", code: errno) }
  }

  /// Waits up to `timeout` for one datagram and returns its bytes and the sender's port, or
  /// `nil` when none arrived in time.
  func receive(timeout: Duration) throws -> (bytes: [UInt8], port: Int)? {
    let milliseconds = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
    var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    let ready = poll(&poller, 1, max(milliseconds, 1))
    guard ready > 0 else {
      if ready < 0 { throw Failure(operation: "poll", code: errno) }
      return nil
    }
    var buffer = [UInt8](repeating: 0, count: 65_536)
    var sender = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let count = buffer.withUnsafeMutableBytes { raw in
      withUnsafeMutablePointer(to: &sender) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, raw.baseAddress, raw.count, 0, $0, &length) }
      }
    }
    guard count >= 0 else { throw Failure(operation: "recvfrom", code: errno) }
    return (Array(buffer[0..<count]), Int(UInt16(bigEndian: sender.sin_port)))
  }

  private static func loopback(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    return address
  }
}
