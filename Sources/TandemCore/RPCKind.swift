/// The shape of an RPC: how many request and response messages it carries.
public enum RPCKind: Sendable, Hashable, CustomStringConvertible {
  /// One request message, one response message.
  case unary
  /// One request message, any number of response messages.
  case serverStreaming
  /// Any number of request messages, one response message.
  case clientStreaming
  /// Any number of request and response messages.
  case bidirectionalStreaming

  /// Whether the client sends a stream of request messages instead of exactly one.
  public var isRequestStreaming: Bool {
    self == .clientStreaming || self == .bidirectionalStreaming
  }

  /// Whether the server sends a stream of response messages instead of exactly one.
  public var isResponseStreaming: Bool {
    self == .serverStreaming || self == .bidirectionalStreaming
  }

  public var description: String {
    switch self {
    case .unary: return "unary"
    case .serverStreaming: return "server streaming"
    case .clientStreaming: return "client streaming"
    case .bidirectionalStreaming: return "bidirectional streaming"
    }
  }
}
