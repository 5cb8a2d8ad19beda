/// Key-value pairs sent with a call: request metadata, initial response metadata and
/// trailing response metadata.
///
/// `Metadata` is an ordered multimap: a key may appear several times, and iteration returns
/// the entries in the order they were added.
///
/// ```swift
/// var metadata: Metadata = ["authorization": "Bearer abc"]
/// metadata.addString("v2", forKey: "x-api-version")
/// metadata.addBinary([0x01, 0x02], forKey: "trace-bin")
/// for (key, value) in metadata { print(key, value) }
/// let versions = metadata[stringValues: "x-api-version"]   // ["v2"]
/// ```
///
/// Rules, following gRPC's HTTP/2 protocol:
/// - Keys are stored lowercase. When the call layer sends metadata, each key must consist of
///   `0-9`, `a-z`, `_`, `-` and `.`, and must not be reserved (see ``validate()``).
/// - A key ending in `-bin` carries binary values. The call layer sends them base64-encoded
///   with padding and accepts padded or unpadded base64, including several comma-separated
///   values in one field. A received binary entry that is not valid base64 ends the call
///   with INTERNAL, on the server and on the client.
/// - A string value may contain only printable ASCII (0x20 through 0x7E). A string value
///   added under a `-bin` key is sent as it is, so it must already be base64.
public struct Metadata: Sendable, Hashable {
  /// One metadata value.
  public enum Value: Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// A printable ASCII value.
    case string(String)
    /// A binary value, for a key ending in `-bin`.
    case binary([UInt8])

    public init(stringLiteral value: String) {
      self = .string(value)
    }

    public var description: String {
      switch self {
      case .string(let value): return value
      case .binary(let bytes): return Base64.encode(bytes)
      }
    }
  }

  /// One key-value pair.
  public typealias Element = (key: String, value: Value)

  @usableFromInline
  struct Entry: Sendable, Hashable {
    var key: String
    var value: Value
  }

  @usableFromInline
  var entries: [Entry]

  /// Creates empty metadata.
  public init() {
    entries = []
  }

  /// The number of entries, counting every value of a repeated key.
  public var count: Int { entries.count }

  /// Whether there are no entries.
  public var isEmpty: Bool { entries.isEmpty }

  /// Appends a string value under `key`, which is lowercased.
  public mutating func addString(_ value: String, forKey key: String) {
    entries.append(Entry(key: key.lowercased(), value: .string(value)))
  }

  /// Appends a binary value under `key`, which is lowercased and should end in `-bin`.
  public mutating func addBinary(_ value: [UInt8], forKey key: String) {
    entries.append(Entry(key: key.lowercased(), value: .binary(value)))
  }

  /// Appends `value` under `key`, which is lowercased.
  public mutating func add(_ value: Value, forKey key: String) {
    entries.append(Entry(key: key.lowercased(), value: value))
  }

  /// Appends every entry of `other`, in order.
  public mutating func add(contentsOf other: Metadata) {
    entries.append(contentsOf: other.entries)
  }

  /// Removes every value stored under `key`.
  public mutating func removeAllValues(forKey key: String) {
    let key = key.lowercased()
    entries.removeAll { $0.key == key }
  }

  /// Replaces every value under `key` with the single string `value`.
  public mutating func replaceOrAddString(_ value: String, forKey key: String) {
    removeAllValues(forKey: key)
    addString(value, forKey: key)
  }

  /// Returns the string values stored under `key`, in order, skipping binary values.
  public subscript(stringValues key: String) -> [String] {
    let key = key.lowercased()
    var result: [String] = []
    for entry in entries where entry.key == key {
      if case .string(let value) = entry.value { result.append(value) }
    }
    return result
  }

  /// Returns the binary values stored under `key`, in order, skipping string values.
  public subscript(binaryValues key: String) -> [[UInt8]] {
    let key = key.lowercased()
    var result: [[UInt8]] = []
    for entry in entries where entry.key == key {
      if case .binary(let value) = entry.value { result.append(value) }
    }
    return result
  }

  /// Returns the first value stored under `key`, or `nil`.
  public func firstValue(forKey key: String) -> Value? {
    let key = key.lowercased()
    return entries.first { $0.key == key }?.value
  }
}

extension Metadata: ExpressibleByDictionaryLiteral {
  /// Creates metadata from literal pairs, keeping their order.
  public init(dictionaryLiteral elements: (String, Value)...) {
    entries = elements.map { Entry(key: $0.0.lowercased(), value: $0.1) }
  }
}

extension Metadata: Sequence {
  public struct Iterator: IteratorProtocol {
    var base: IndexingIterator<[Entry]>

    public mutating func next() -> Element? {
      guard let entry = base.next() else { return nil }
      return (entry.key, entry.value)
    }
  }

  public func makeIterator() -> Iterator {
    Iterator(base: entries.makeIterator())
  }
}

extension Metadata: CustomStringConvertible {
  public var description: String {
    "[" + entries.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "]"
  }
}
