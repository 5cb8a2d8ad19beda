#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 socket address with a port.
///
/// The description is `127.0.0.1:50051` or `[::1]:50051`.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
  /// The address family.
  public enum Family: Sendable, Hashable {
    case ipv4
    case ipv6
  }

  /// The address family.
  public let family: Family

  /// The address in network byte order: 4 bytes for IPv4, 16 for IPv6.
  public let addressBytes: [UInt8]

  /// The port, 0 through 65535.
  public var port: Int

  /// The IPv6 scope (interface index) of a link-local address, 0 otherwise.
  public var scopeID: UInt32

  /// Creates an address from a numeric IPv4 or IPv6 string such as `127.0.0.1` or `::1`.
  ///
  /// - Throws: ``IOError`` when `ipAddress` is not a numeric address or `port` is outside 0...65535.
  public init(ipAddress: String, port: Int) throws {
    try SocketAddress.checkPort(port, host: ipAddress)
    var v4 = in_addr()
    if inet_pton(AF_INET, ipAddress, &v4) == 1 {
      self.init(family: .ipv4, addressBytes: withUnsafeBytes(of: &v4) { Array($0) }, port: port, scopeID: 0)
      return
    }
    var v6 = in6_addr()
    if inet_pton(AF_INET6, ipAddress, &v6) == 1 {
      self.init(family: .ipv6, addressBytes: withUnsafeBytes(of: &v6) { Array($0) }, port: port, scopeID: 0)
      return
    }
    throw IOError(
      operation: "parse address", address: ipAddress, errnoCode: nil,
      reason: "'\(ipAddress)' is not a numeric IPv4 or IPv6 address")
  }

  init(family: Family, addressBytes: [UInt8], port: Int, scopeID: UInt32) {
    self.family = family
    self.addressBytes = addressBytes
    self.port = port
    self.scopeID = scopeID
  }

  /// Resolves `host` with `getaddrinfo` for TCP, in the order the resolver returns.
  ///
  /// `host` is a name such as `localhost` or a numeric IPv4 or IPv6 address. IPv6 literals
  /// may be written with or without brackets. This call blocks while the resolver works;
  /// ``resolveInBackground(host:port:)`` does not.
  ///
  /// - Throws: ``IOError`` when the port is outside 0...65535 or the name does not resolve,
  ///   with the resolver's message.
  public static func resolve(host: String, port: Int) throws -> [SocketAddress] {
    try checkPort(port, host: host)
    var name = host
    if name.hasPrefix("["), name.hasSuffix("]") {
      name = String(name.dropFirst().dropLast())
    }
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    hints.ai_protocol = Int32(IPPROTO_TCP)
    var list: UnsafeMutablePointer<addrinfo>?
    let status = getaddrinfo(name, String(port), &hints, &list)
    guard status == 0 else {
      let text = String(cString: gai_strerror(status))
      throw IOError(operation: "resolve", address: "\(host):\(port)", errnoCode: nil, reason: text)
    }
    defer { freeaddrinfo(list) }

    var result: [SocketAddress] = []
    var entry = list
    while let info = entry {
      if let address = info.pointee.ai_addr, let converted = SocketAddress(sockaddr: address) {
        if !result.contains(converted) {
          result.append(converted)
        }
      }
      entry = info.pointee.ai_next
    }
    guard !result.isEmpty else {
      throw IOError(
        operation: "resolve", address: "\(host):\(port)", errnoCode: nil,
        reason: "no IPv4 or IPv6 address found")
    }
    return result
  }

  /// The address without the port: `127.0.0.1` or `::1`.
  public var ipAddress: String {
    var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
    let domain = family == .ipv4 ? AF_INET : AF_INET6
    addressBytes.withUnsafeBytes { bytes in
      _ = inet_ntop(domain, bytes.baseAddress, &buffer, socklen_t(buffer.count))
    }
    return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
  }

  public var description: String {
    switch family {
    case .ipv4: return "\(ipAddress):\(port)"
    case .ipv6: return "[\(ipAddress)]:\(port)"
    }
  }

  /// Whether the address is a loopback address: 127.0.0.0/8, `::1`, or an IPv4-mapped
  /// `::ffff:127.x.y.z`. Traffic to such an address never leaves the host.
  public var isLoopback: Bool {
    switch family {
    case .ipv4:
      return addressBytes.first == 127
    case .ipv6:
      guard addressBytes.count == 16, addressBytes[0..<10].allSatisfy({ $0 == 0 }) else { return false }
      if addressBytes[10] == 0xFF && addressBytes[11] == 0xFF { return addressBytes[12] == 127 }
      return addressBytes[10..<15].allSatisfy({ $0 == 0 }) && addressBytes[15] == 1
    }
  }

  /// The peer in gRPC's notation: `ipv4:127.0.0.1:50051` or `ipv6:[::1]:50051`.
  public var grpcPeerDescription: String {
    switch family {
    case .ipv4: return "ipv4:\(description)"
    case .ipv6: return "ipv6:\(description)"
    }
  }

  private static func checkPort(_ port: Int, host: String) throws {
    guard (0...65535).contains(port) else {
      throw IOError(
        operation: "resolve", address: "\(host):\(port)", errnoCode: nil,
        reason: "port \(port) is outside 0...65535")
    }
  }
}

extension SocketAddress {
  /// Converts a `sockaddr_in` or `sockaddr_in6`; returns `nil` for other families.
  public init?(sockaddr pointer: UnsafePointer<sockaddr>) {
    switch Int32(pointer.pointee.sa_family) {
    case AF_INET:
      let v4 = UnsafeRawPointer(pointer).loadUnaligned(as: sockaddr_in.self)
      var address = v4.sin_addr
      self.init(
        family: .ipv4, addressBytes: withUnsafeBytes(of: &address) { Array($0) },
        port: Int(UInt16(bigEndian: v4.sin_port)), scopeID: 0)
    case AF_INET6:
      let v6 = UnsafeRawPointer(pointer).loadUnaligned(as: sockaddr_in6.self)
      var address = v6.sin6_addr
      self.init(
        family: .ipv6, addressBytes: withUnsafeBytes(of: &address) { Array($0) },
        port: Int(UInt16(bigEndian: v6.sin6_port)), scopeID: v6.sin6_scope_id)
    default:
      return nil
    }
  }

  /// The address family constant, `AF_INET` or `AF_INET6`.
  var domain: Int32 {
    family == .ipv4 ? AF_INET : AF_INET6
  }

  /// Calls `body` with this address as a `sockaddr` and its length. The pointer is valid only
  /// during the call.
  public func withSockAddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> Result) rethrows -> Result {
    switch family {
    case .ipv4:
      var v4 = sockaddr_in()
      v4.sin_family = sa_family_t(AF_INET)
      v4.sin_port = UInt16(port).bigEndian
      withUnsafeMutableBytes(of: &v4.sin_addr) { $0.copyBytes(from: addressBytes) }
      return try withUnsafePointer(to: &v4) {
        try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          try body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
      }
    case .ipv6:
      var v6 = sockaddr_in6()
      v6.sin6_family = sa_family_t(AF_INET6)
      v6.sin6_port = UInt16(port).bigEndian
      v6.sin6_scope_id = scopeID
      withUnsafeMutableBytes(of: &v6.sin6_addr) { $0.copyBytes(from: addressBytes) }
      return try withUnsafePointer(to: &v6) {
        try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          try body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
        }
      }
    }
  }

  /// Reads the local (`getsockname`) or remote (`getpeername`) address of `fd`.
  static func of(fd: Int32, peer: Bool) -> SocketAddress? {
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let status = withUnsafeMutablePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
        peer ? getpeername(fd, pointer, &length) : getsockname(fd, pointer, &length)
      }
    }
    guard status == 0 else { return nil }
    return withUnsafePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress(sockaddr: $0) }
    }
  }
}
