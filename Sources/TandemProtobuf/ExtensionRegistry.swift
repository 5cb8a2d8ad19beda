/// The extensions that decoding turns into typed values, looked up by extended message and field
/// number. Generated code provides a registry per `.proto` file (`<Prefix><File>_Extensions.registry`);
/// combine several with ``formUnion(_:)`` or an array literal of descriptors.
public struct ExtensionRegistry: Sendable, Hashable, ExpressibleByArrayLiteral {
  struct Key: Hashable {
    var messageName: String
    var fieldNumber: Int
  }

  var extensions: [Key: any AnyMessageExtension] = [:]

  public init() {}

  public init(_ extensions: [any AnyMessageExtension]) {
    for item in extensions {
      insert(item)
    }
  }

  public init(arrayLiteral elements: (any AnyMessageExtension)...) {
    self.init(elements)
  }

  /// `true` when the registry contains no extension.
  public var isEmpty: Bool { extensions.isEmpty }

  /// Number of extensions.
  public var count: Int { extensions.count }

  /// Adds `extension`, replacing one with the same extended message and field number.
  public mutating func insert(_ extension: any AnyMessageExtension) {
    extensions[Key(messageName: `extension`.extendedMessageName, fieldNumber: `extension`.fieldNumber)] = `extension`
  }

  /// Adds every extension of `other`.
  public mutating func formUnion(_ other: ExtensionRegistry) {
    extensions.merge(other.extensions) { _, new in new }
  }

  /// Returns the extension of the message `messageName` (fully qualified proto name) numbered
  /// `fieldNumber`, or nil when none is registered.
  public func extensionField(messageName: String, fieldNumber: Int) -> (any AnyMessageExtension)? {
    if extensions.isEmpty { return nil }
    return extensions[Key(messageName: messageName, fieldNumber: fieldNumber)]
  }

  /// Registries are equal when they map the same message and field numbers to extensions of the
  /// same full name.
  public static func == (lhs: ExtensionRegistry, rhs: ExtensionRegistry) -> Bool {
    guard lhs.extensions.count == rhs.extensions.count else { return false }
    for (key, value) in lhs.extensions {
      guard let other = rhs.extensions[key], other.fullName == value.fullName else { return false }
    }
    return true
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(extensions.count)
  }
}
