import TandemIO

/// A parsed channel target: a host and a port, or a list of them.
struct ChannelTarget: Sendable, Hashable {
  /// The first endpoint's host, used for `:authority` and TLS verification.
  var host: String
  var port: Int
  /// Every endpoint: one for `host:port`, several for `ipv4:` or `ipv6:` address lists.
  var endpoints: [Endpoint]
  /// The target as the caller wrote it, which names it in metrics, logs, errors and the
  /// per-target transport health.
  var name: String

  struct Endpoint: Sendable, Hashable {
    var host: String
    var port: Int
  }

  /// The `:authority` value: `host:port`, with brackets around an IPv6 literal.
  var authority: String {
    host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
  }

  /// The maximum number of endpoints in a list.
  static let maxEndpoints = 64
  /// The maximum host length in bytes: 253, the longest DNS name.
  static let maxHostLength = 253
  /// The maximum length of one label of a host name in bytes: 63, as DNS allows.
  static let maxLabelLength = 63
  /// The maximum target length in bytes: 4,096, room for a list of 64 IPv6 endpoints.
  static let maxTargetLength = 4_096
  /// The maximum number of characters of the target that an error message quotes: 100.
  static let quotedLength = 100

  /// Parses `host:port`, `[ipv6]:port`, `dns:///host:port`, `ipv4:a.b.c.d:port[,a.b.c.d:port...]`
  /// or `ipv6:[addr]:port[,[addr]:port...]` (gRPC's naming), with at most ``maxEndpoints``.
  init(parsing target: String) throws(ChannelError) {
    guard target.utf8.count <= Self.maxTargetLength else {
      throw Self.invalid(target, "it has \(target.utf8.count) bytes, more than \(Self.maxTargetLength)")
    }
    var rest = Substring(target)
    var family: SocketAddress.Family?
    for scheme in ["unix:", "unix-abstract:", "vsock:"] where rest.hasPrefix(scheme) {
      throw Self.invalid(target, "'\(scheme)' targets are not supported; Tandem connects over TCP and UDP only")
    }
    if rest.hasPrefix("dns://") && !rest.hasPrefix("dns:///") {
      throw Self.invalid(target, "a DNS server in dns://SERVER/HOST:PORT is not supported; use dns:///HOST:PORT")
    }
    for prefix in ["dns:///", "dns:", "ipv4:", "ipv6:"] where rest.hasPrefix(prefix) {
      rest = rest.dropFirst(prefix.count)
      if prefix == "ipv4:" {
        family = .ipv4
      } else if prefix == "ipv6:" {
        family = .ipv6
      }
      break
    }
    if rest.contains("://") {
      throw Self.invalid(target, "a URL scheme such as http:// is not part of a target")
    }
    let isList = family != nil
    var endpoints: [Endpoint] = []
    let elements = isList ? rest.split(separator: ",", omittingEmptySubsequences: false) : [rest]
    guard elements.count <= Self.maxEndpoints else {
      throw Self.invalid(target, "it lists \(elements.count) addresses, more than \(Self.maxEndpoints)")
    }
    if isList && rest.isEmpty {
      throw Self.invalid(target, "the list names no address")
    }
    for element in elements {
      guard !element.isEmpty else {
        throw Self.invalid(target, isList ? "an address in the list is empty" : "it is empty")
      }
      let endpoint = try Self.endpoint(element, target: target)
      if let family {
        // ipv4: and ipv6: lists name numeric addresses of that family only.
        guard let address = try? SocketAddress(ipAddress: endpoint.host, port: endpoint.port), address.family == family else {
          throw Self.invalid(target, "'\(endpoint.host)' is not a numeric \(family == .ipv4 ? "IPv4" : "IPv6") address")
        }
      }
      endpoints.append(endpoint)
    }
    self.host = endpoints[0].host
    self.port = endpoints[0].port
    self.endpoints = endpoints
    self.name = target
  }

  private static func endpoint(_ rest: Substring, target: String) throws(ChannelError) -> Endpoint {
    let hostPart: Substring
    let portPart: Substring
    let bracketed = rest.hasPrefix("[")
    if bracketed {
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
    guard hostPart.utf8.count <= Self.maxHostLength else {
      throw Self.invalid(target, "the host has \(hostPart.utf8.count) bytes, more than \(Self.maxHostLength)")
    }
    if bracketed {
      // An IPv6 literal, with an optional zone after '%' such as fe80::1%eth0.
      let address = hostPart.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false)[0]
      guard hostPart.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value != 0x7F && $0 != "/" && $0 != "@" }),
        let parsed = try? SocketAddress(ipAddress: String(address), port: 1), parsed.family == .ipv6
      else {
        throw Self.invalid(target, "\(quoted(String(hostPart))) in brackets is not an IPv6 address")
      }
    } else {
      // A DNS name or an IPv4 address: letters, digits, '-', '.' and '_' (used by some
      // service names). Other names, such as internationalized ones, go in their IDNA form.
      if let bad = hostPart.unicodeScalars.first(where: { !Self.isHostNameCharacter($0) }) {
        throw Self.invalid(
          target,
          "the host contains \(Self.quoted(String(bad))), but a host name has only letters, digits, '-', '.' and '_'; "
            + "write an internationalized name in its IDNA (xn--) form")
      }
      if let label = hostPart.split(separator: ".").first(where: { $0.utf8.count > Self.maxLabelLength }) {
        throw Self.invalid(target, "a label of the host has \(label.utf8.count) bytes, more than \(Self.maxLabelLength)")
      }
    }
    guard !portPart.isEmpty, portPart.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let port = Int(portPart),
      (1...65_535).contains(port)
    else {
      throw Self.invalid(target, "the port \(quoted(String(portPart))) is not a number from 1 to 65535")
    }
    return Endpoint(host: String(hostPart), port: port)
  }

  private static func isHostNameCharacter(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar {
    case "a"..."z", "A"..."Z", "0"..."9", "-", ".", "_": return true
    default: return false
    }
  }

  /// Returns `text` in single quotes for an error message: control and non-ASCII characters
  /// escaped as `\u{...}`, and cut after ``quotedLength`` characters with the total length.
  static func quoted(_ text: String) -> String {
    var result = "'"
    for (index, scalar) in text.unicodeScalars.enumerated() {
      if index == quotedLength {
        result += "...' (\(text.utf8.count) bytes)"
        return result
      }
      if scalar.value < 0x20 || scalar.value == 0x7F || !scalar.isASCII {
        result += "\\u{\(String(scalar.value, radix: 16))}"
      } else {
        result.unicodeScalars.append(scalar)
      }
    }
    return result + "'"
  }

  private static func invalid(_ target: String, _ reason: String) -> ChannelError {
    ChannelError(.invalidTarget, "invalid target \(quoted(target)): \(reason); expected HOST:PORT")
  }
}
