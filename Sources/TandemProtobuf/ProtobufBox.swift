/// A copy-on-write heap box for a message field whose type contains the enclosing message
/// (directly or through other messages). Generated code stores such fields in a box so the
/// struct has a finite size. Equality and hashing use the boxed value.
public struct ProtobufBox<Value> {
  @usableFromInline
  final class Storage: @unchecked Sendable {
    // Mutated only while uniquely referenced (see `value`'s setter), so sharing across threads is safe.
    @usableFromInline var value: Value

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
    set {
      if isKnownUniquelyReferenced(&storage) {
        storage.value = newValue
      } else {
        storage = Storage(newValue)
      }
    }
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
