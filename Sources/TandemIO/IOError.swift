#if canImport(Glibc)
import Glibc
#endif

/// A failed socket or event-loop operation.
///
/// The description names the operation, the address when there is one, and the system
/// error text with its errno, for example
/// `connect to 127.0.0.1:50051 failed: Connection refused (errno 111)`.
public struct IOError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The operation that failed, such as `connect`, `bind`, `read` or `writev`.
  public var operation: String

  /// The address involved, such as `127.0.0.1:50051`, or `nil` when there is none.
  public var address: String?

  /// The errno value, or `nil` when the failure did not come from a system call
  /// (a timeout, a closed loop).
  public var errnoCode: Int32?

  /// The reason in words: the system error text, or what went wrong otherwise.
  public var reason: String

  /// Whether the operation ran out of time.
  public var isTimeout: Bool

  /// Creates an error from its parts.
  public init(operation: String, address: String?, errnoCode: Int32?, reason: String, isTimeout: Bool = false) {
    self.operation = operation
    self.address = address
    self.errnoCode = errnoCode
    self.reason = reason
    self.isTimeout = isTimeout
  }

  /// Creates an error for a system call that set `errno` to `code`.
  public init(operation: String, address: String? = nil, errno code: Int32) {
    self.init(operation: operation, address: address, errnoCode: code, reason: IOError.systemErrorText(code))
  }

  public var description: String {
    var text = operation
    if let address {
      let preposition = IOError.preposition(for: operation)
      text += preposition.isEmpty ? " \(address)" : " \(preposition) \(address)"
    }
    text += " failed: \(reason)"
    if let errnoCode {
      text += " (errno \(errnoCode))"
    }
    return text
  }

  /// Returns the text of `strerror` for `code`.
  static func systemErrorText(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    // Glibc exposes the XSI strerror_r to Swift, which fills the buffer and returns 0.
    guard strerror_r(code, &buffer, buffer.count) == 0 else { return "unknown error \(code)" }
    return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
  }

  private static func preposition(for operation: String) -> String {
    switch operation {
    case "connect", "bind", "send": return "to"
    case "resolve": return ""
    default: return "on"
    }
  }
}
