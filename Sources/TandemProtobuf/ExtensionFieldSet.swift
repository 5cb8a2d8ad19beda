/// The extension values set on one message, keyed by field number. Generated code sizes and writes
/// them in field-number order at the position of each extension range, which is the order of the C++
/// runtime (its `ExtensionSet` serializes one `[start, end)` range at a time, see protobuf 3.21's
/// `extension_set.h`). Python's upb runtime writes extensions after all regular fields instead, and
/// both orders decode to the same message.
public struct ExtensionFieldSet: Sendable, Hashable {
  var values: [Int: any ExtensionFieldValueBox] = [:]

  public init() {}

  /// `true` when no extension is set.
  public var isEmpty: Bool { values.isEmpty }

  /// Field numbers of the set extensions, ascending.
  public var fieldNumbers: [Int] { values.keys.sorted() }

  func value<Codec, Extended>(of extension: MessageExtension<Codec, Extended>) -> Codec.Value? {
    (values[`extension`.fieldNumber] as? ExtensionFieldValue<Codec>)?.value
  }

  mutating func setValue<Codec, Extended>(_ value: Codec.Value, of extension: MessageExtension<Codec, Extended>) {
    if Codec.isUnset(value) {
      values[`extension`.fieldNumber] = nil
      return
    }
    values[`extension`.fieldNumber] = ExtensionFieldValue<Codec>(
      fieldNumber: `extension`.fieldNumber, fullName: `extension`.fullName, value: value)
  }

  mutating func removeValue(forFieldNumber fieldNumber: Int) {
    values[fieldNumber] = nil
  }

  /// `true` when the required fields inside every message-valued extension are set.
  public var isInitialized: Bool {
    for value in values.values where !value.isInitialized {
      return false
    }
    return true
  }

  /// Appends the paths of required fields that are not set inside extension values, each as
  /// `prefix(full.name).field`, the form the C++ runtime uses.
  public func collectMissingRequiredFields(prefix: String, into paths: inout [String]) {
    for fieldNumber in fieldNumbers {
      values[fieldNumber]!.collectMissingRequiredFields(prefix: prefix, into: &paths)
    }
  }

  /// Returns the encoded size of the extensions numbered `range.lowerBound` up to `range.upperBound`
  /// (exclusive), recording nested sizes in `sizes` in the order ``encode(_:to:)`` reads them.
  public func encodedSize(_ range: Range<Int>, into sizes: inout SizeCache) -> Int {
    if values.isEmpty { return 0 }
    var total = 0
    for fieldNumber in fieldNumbers where range.contains(fieldNumber) {
      total += values[fieldNumber]!.encodedSize(into: &sizes)
    }
    return total
  }

  /// Writes the extensions numbered in `range` in field-number order.
  public func encode(_ range: Range<Int>, to encoder: inout WireEncoder) {
    if values.isEmpty { return }
    for fieldNumber in fieldNumbers where range.contains(fieldNumber) {
      values[fieldNumber]!.encode(to: &encoder)
    }
  }

  public static func == (lhs: ExtensionFieldSet, rhs: ExtensionFieldSet) -> Bool {
    guard lhs.values.count == rhs.values.count else { return false }
    for (fieldNumber, value) in lhs.values {
      guard let other = rhs.values[fieldNumber], value.isEqual(to: other) else { return false }
    }
    return true
  }

  public func hash(into hasher: inout Hasher) {
    for fieldNumber in fieldNumbers {
      hasher.combine(fieldNumber)
      values[fieldNumber]!.hash(into: &hasher)
    }
  }
}

/// One stored extension value with the operations the set needs without knowing its type.
protocol ExtensionFieldValueBox: Sendable {
  var isInitialized: Bool { get }
  func collectMissingRequiredFields(prefix: String, into paths: inout [String])
  func encodedSize(into sizes: inout SizeCache) -> Int
  func encode(to encoder: inout WireEncoder)
  func isEqual(to other: any ExtensionFieldValueBox) -> Bool
  func hash(into hasher: inout Hasher)
}

struct ExtensionFieldValue<Codec: ExtensionFieldCodec>: ExtensionFieldValueBox {
  var fieldNumber: Int
  var fullName: String
  var value: Codec.Value

  var isInitialized: Bool {
    var paths: [String] = []
    collectMissingRequiredFields(prefix: "", into: &paths)
    return paths.isEmpty
  }

  func collectMissingRequiredFields(prefix: String, into paths: inout [String]) {
    Codec.collectMissingRequiredFields(in: value, prefix: "\(prefix)(\(fullName)).", into: &paths)
  }

  func encodedSize(into sizes: inout SizeCache) -> Int {
    Codec.encodedSize(of: value, fieldNumber: fieldNumber, into: &sizes)
  }

  func encode(to encoder: inout WireEncoder) {
    Codec.encode(value, fieldNumber: fieldNumber, to: &encoder)
  }

  func isEqual(to other: any ExtensionFieldValueBox) -> Bool {
    guard let other = other as? ExtensionFieldValue<Codec> else { return false }
    return fieldNumber == other.fieldNumber && value == other.value
  }

  func hash(into hasher: inout Hasher) {
    hasher.combine(value)
  }
}
