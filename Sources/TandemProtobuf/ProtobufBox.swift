/// An immutable heap box for a message field whose type contains the enclosing message
/// (directly or through other messages). Generated code stores such fields in a box so the
/// struct has a finite size. Equality and hashing use the boxed value.
public struct ProtobufBox<Value> {
  // The stored value is immutable, so reads need no exclusivity check and sharing across threads
  // is safe. Setting `value` allocates a new storage object. In-place mutation would save no
  // allocation, because generated code replaces the whole box when it sets or decodes the field.
  @usableFromInline
  final class Storage: @unchecked Sendable {
    @usableFromInline let value: Value

    @inlinable
    init(_ value: Value) {
      self.value = value
    }
  }

  @usableFromInline var storage: Storage

  @inlinable
  public init(_ value: Value) {
    storage = Storage(value)
  }

  @inlinable
  public var value: Value {
    get { storage.value }
    set { storage = Storage(newValue) }
  }

}

extension ProtobufBox: @unchecked Sendable where Value: Sendable {}

extension ProtobufBox: Equatable where Value: Equatable {
  @inlinable
  public static func == (lhs: Self, rhs: Self) -> Bool {
    lhs.storage === rhs.storage || lhs.storage.value == rhs.storage.value
  }

}

extension ProtobufBox: Hashable where Value: Hashable {
  @inlinable
  public func hash(into hasher: inout Hasher) {
    hasher.combine(storage.value)
  }
}
