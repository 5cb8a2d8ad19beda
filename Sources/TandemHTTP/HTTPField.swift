/// One HTTP header or trailer field.
///
/// Names are lowercase ASCII, as HTTP/2 (RFC 9113, section 8.2.1) and HTTP/3 (RFC 9114,
/// section 4.2) require on the wire. Pseudo-header names keep their leading colon
/// (`:method`, `:path`, `:status`). Values are kept as the peer sent them; transports reject
/// fields that HPACK or QPACK could not carry.
public struct HTTPField: Sendable, Hashable {
  /// The lowercase field name.
  public var name: String
  /// The field value.
  public var value: String

  /// Creates a field. The caller passes a lowercase `name`.
  public init(name: String, value: String) {
    self.name = name
    self.value = value
  }
}

extension Array where Element == HTTPField {
  /// Returns the value of the first field named `name`, or `nil` when there is none.
  public func first(named name: String) -> String? {
    for field in self where field.name == name {
      return field.value
    }
    return nil
  }
}
