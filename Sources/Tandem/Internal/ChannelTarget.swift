/// A parsed channel target: a host and a port.
struct ChannelTarget: Sendable, Hashable {
  var host: String
  var port: Int

  /// The `:authority` value: `host:port`, with brackets around an IPv6 literal.
  var authority: String {
    host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
  }

  /// Parses `host:port`, `[ipv6]:port`, `dns:///host:port`, `ipv4:a.b.c.d:port` or
  /// `ipv6:[addr]:port`.
  init(parsing target: String) throws(ChannelError) {
    var rest = Substring(target)
    for prefix in ["dns:///", "dns:", "ipv4:", "ipv6:"] where rest.hasPrefix(prefix) {
      rest = rest.dropFirst(prefix.count)
      break
    }
    let hostPart: Substring
    let portPart: Substring
    if rest.hasPrefix("[") {
      guard let close = rest.firstIndex(of: "]") else {
        throw Self.invalid(target, "an IPv6 address in brackets has no closing ']'")
      }
      hostPart = rest[rest.index(after: rest.startIndex)..<close]
      let afterBracket = rest[rest.index(after: close)...]
      guard afterBracket.hasPrefix(":") else {
        throw Self.invalid(target, "expected ':PORT' after the IPv6 address")
      }
      portPart = afterBracket.dropFirst()
    } else {
      guard let colon = rest.lastIndex(of: ":") else {
        throw Self.invalid(target, "the port is missing")
      }
      hostPart = rest[..<colon]
      portPart = rest[rest.index(after: colon)...]
      if hostPart.contains(":") {
        throw Self.invalid(target, "put an IPv6 address in brackets, as in [::1]:50051")
      }
    }
    guard !hostPart.isEmpty else {
      throw Self.invalid(target, "the host is empty")
    }
    guard let port = Int(portPart), (1...65_535).contains(port) else {
      throw Self.invalid(target, "the port '\(portPart)' is not a number from 1 to 65535")
    }
    self.host = String(hostPart)
    self.port = port
  }

  private static func invalid(_ target: String, _ reason: String) -> ChannelError {
    ChannelError(.invalidTarget, "invalid target '\(target)': \(reason); expected HOST:PORT")
  }
}
