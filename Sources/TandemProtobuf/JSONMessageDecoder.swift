/// Reads protobuf JSON that the parser has turned into a tree. Generated `decodeJSON(from:)`
/// methods call it; users call ``JSONCodableMessage/init(jsonString:options:)`` instead.
///
/// The decoder points at one JSON value at a time. ``beginObject()`` with
/// ``nextMember(_:)``, and ``beginArray()`` with ``nextElement(_:)``, move it to each member or
/// element in turn and keep the JSONPath that errors report.
public struct JSONMessageDecoder {
  /// The settings that the generated code and the `decode…` methods follow.
  public let options: JSONDecodingOptions
  var current: JSONValue
  var path: [JSONPathComponent] = []

  init(value: JSONValue, options: JSONDecodingOptions) {
    self.current = value
    self.options = options
  }

  /// The JSON type of the current value.
  public enum ValueType: Sendable, Hashable {
    case null, bool, number, string, array, object
  }

  /// The JSON type of the value the decoder points at.
  public var currentType: ValueType {
    switch current {
    case .null: .null
    case .bool: .bool
    case .number: .number
    case .string: .string
    case .array: .array
    case .object: .object
    }
  }

  /// `true` when the current value is `null`.
  public var isNull: Bool {
    if case .null = current { return true }
    return false
  }

  // MARK: Errors

  var currentPath: String { JSONPathComponent.render(path) }

  func error(_ kind: JSONDecodingError.Kind) -> JSONDecodingError {
    JSONDecodingError(kind: kind, path: currentPath)
  }

  private func typeError(expected: String) -> JSONDecodingError {
    if case .null = current {
      return error(.nullNotAllowed)
    }
    return error(.unexpectedType(expected: expected, found: current.typeName))
  }

  // MARK: Objects

  /// The members of an object being decoded, and the fields and oneofs already set from them.
  public struct ObjectMembers {
    fileprivate let members: [JSONMember]
    fileprivate var index = 0
    fileprivate var claimedFields: [Int] = []
    fileprivate var claimedOneofs: [Int] = []
  }

  /// Starts reading the current value as an object.
  ///
  /// - Throws: ``JSONDecodingError/Kind/unexpectedType(expected:found:)`` when it is not an object,
  ///   ``JSONDecodingError/Kind/nullNotAllowed`` when it is `null`.
  public func beginObject() throws(JSONDecodingError) -> ObjectMembers {
    guard case .object(let members) = current else { throw typeError(expected: "object") }
    return ObjectMembers(members: members)
  }

  /// Moves to the next member of `members` and returns its key; nil after the last one.
  public mutating func nextMember(_ members: inout ObjectMembers) -> String? {
    if members.index > 0 {
      path.removeLast()
    }
    guard members.index < members.members.count else { return nil }
    let member = members.members[members.index]
    members.index += 1
    current = member.value
    path.append(.key(member.key))
    return member.key
  }

  /// Records that the current member sets field `number`.
  ///
  /// - Throws: ``JSONDecodingError/Kind/duplicateField(name:)`` when an earlier member of the same
  ///   object set it, under either of its names.
  public func claimField(_ number: Int, name: String, in members: inout ObjectMembers) throws(JSONDecodingError) {
    if members.claimedFields.contains(number) {
      throw error(.duplicateField(name: name))
    }
    members.claimedFields.append(number)
  }

  /// Records that the current member sets a field of oneof `index`. Generated code calls it only
  /// for non-null values, because `null` leaves a oneof unset.
  ///
  /// - Throws: ``JSONDecodingError/Kind/multipleOneofFields(oneof:)`` when an earlier member of the
  ///   same object set a field of the same oneof.
  public func claimOneof(_ index: Int, name: String, in members: inout ObjectMembers) throws(JSONDecodingError) {
    if members.claimedOneofs.contains(index) {
      throw error(.multipleOneofFields(oneof: name))
    }
    members.claimedOneofs.append(index)
  }

  /// Handles a member whose key names no field of `messageName`.
  ///
  /// - Throws: ``JSONDecodingError/Kind/unknownField(name:messageName:)`` unless
  ///   ``JSONDecodingOptions/ignoreUnknownFields`` is set.
  public func skipUnknownField(_ key: String, messageName: String) throws(JSONDecodingError) {
    if !options.ignoreUnknownFields {
      throw error(.unknownField(name: key, messageName: messageName))
    }
  }

  // MARK: Arrays

  /// The elements of an array being decoded.
  public struct ArrayElements {
    fileprivate let elements: [JSONValue]
    fileprivate var index = 0
  }

  /// Starts reading the current value as an array.
  ///
  /// - Throws: ``JSONDecodingError/Kind/unexpectedType(expected:found:)`` when it is not an array.
  public func beginArray() throws(JSONDecodingError) -> ArrayElements {
    guard case .array(let elements) = current else { throw typeError(expected: "array") }
    return ArrayElements(elements: elements)
  }

  /// Moves to the next element of `elements`; `false` after the last one.
  public mutating func nextElement(_ elements: inout ArrayElements) -> Bool {
    if elements.index > 0 {
      path.removeLast()
    }
    guard elements.index < elements.elements.count else { return false }
    current = elements.elements[elements.index]
    path.append(.index(elements.index))
    elements.index += 1
    return true
  }

  // MARK: Messages

  /// Merges the current value into `value` through its ``JSONCodableMessage/decodeJSON(from:)``.
  public mutating func decodeMessage<M: JSONCodableMessage>(_ value: inout M) throws(JSONDecodingError) {
    try value.decodeJSON(from: &self)
  }

  // MARK: Scalars

  /// Decodes `true` or `false`; strings and numbers are rejected.
  public func decodeBool() throws(JSONDecodingError) -> Bool {
    guard case .bool(let value) = current else { throw typeError(expected: "true or false") }
    return value
  }

  /// Decodes a JSON string.
  public func decodeString() throws(JSONDecodingError) -> String {
    guard case .string(let value) = current else { throw typeError(expected: "string") }
    return value
  }

  /// Decodes base64 in the standard or URL-safe alphabet, padded or not.
  public func decodeBytes() throws(JSONDecodingError) -> [UInt8] {
    guard case .string(let text) = current else { throw typeError(expected: "base64 string") }
    guard let bytes = JSONBase64.decode(text) else {
      throw error(.invalidValue("\"\(text)\"", expected: "base64 in the standard or URL-safe alphabet"))
    }
    return bytes
  }

  /// Returns the text of an integer given as a JSON number or a string.
  private func integerText(_ typeName: String) throws(JSONDecodingError) -> String {
    switch current {
    case .number(let text): return text
    case .string(let text): return text
    default: throw typeError(expected: "\(typeName) as a number or string")
    }
  }

  private func integer(_ typeName: String, min: Int64, max: UInt64) throws(JSONDecodingError) -> (negative: Bool, magnitude: UInt64) {
    let text = try integerText(typeName)
    switch JSONNumberParsing.parseInteger(text) {
    case .invalid:
      throw error(.invalidValue(describeCurrent(), expected: "an integer"))
    case .outOfRange:
      throw error(.invalidValue(describeCurrent(), expected: "an \(typeName) in \(min) ... \(max)"))
    case .value(let negative, let magnitude):
      let fits = negative ? magnitude <= min.magnitude : magnitude <= max
      guard fits else {
        throw error(.invalidValue(describeCurrent(), expected: "an \(typeName) in \(min) ... \(max)"))
      }
      return (negative, magnitude)
    }
  }

  private func describeCurrent() -> String {
    switch current {
    case .number(let text): return text
    case .string(let text): return "\"\(text)\""
    default: return current.typeName
    }
  }

  /// Decodes an integer given as a JSON number or a string, such as `5`, `"5"`, `5.0` or `5e0`.
  ///
  /// - Throws: ``JSONDecodingError/Kind/invalidValue(_:expected:)`` for a fractional value or one
  ///   outside the type's range, ``JSONDecodingError/Kind/unexpectedType(expected:found:)`` for
  ///   other JSON types. ``decodeInt64()``, ``decodeUInt32()`` and ``decodeUInt64()`` work the same way.
  public func decodeInt32() throws(JSONDecodingError) -> Int32 {
    let (negative, magnitude) = try integer("int32", min: Int64(Int32.min), max: UInt64(Int32.max))
    return negative ? Int32(truncatingIfNeeded: 0 &- magnitude) : Int32(magnitude)
  }

  public func decodeInt64() throws(JSONDecodingError) -> Int64 {
    let (negative, magnitude) = try integer("int64", min: Int64.min, max: UInt64(Int64.max))
    return negative ? Int64(truncatingIfNeeded: 0 &- magnitude) : Int64(magnitude)
  }

  public func decodeUInt32() throws(JSONDecodingError) -> UInt32 {
    let (negative, magnitude) = try integer("uint32", min: 0, max: UInt64(UInt32.max))
    return negative ? 0 : UInt32(magnitude)
  }

  public func decodeUInt64() throws(JSONDecodingError) -> UInt64 {
    let (negative, magnitude) = try integer("uint64", min: 0, max: UInt64.max)
    return negative ? 0 : magnitude
  }

  /// Decodes a JSON number, or a string holding a number or `"NaN"`, `"Infinity"`, `"-Infinity"`.
  public func decodeDouble() throws(JSONDecodingError) -> Double {
    let text: String
    switch current {
    case .number(let number):
      text = number
    case .string(let string):
      switch string {
      case "NaN": return .nan
      case "Infinity": return .infinity
      case "-Infinity": return -.infinity
      default: text = string
      }
    default:
      throw typeError(expected: "double as a number or string")
    }
    guard JSONNumberParsing.isNumber(text), let value = Double(text) else {
      throw error(.invalidValue(describeCurrent(), expected: "a number, \"NaN\", \"Infinity\" or \"-Infinity\""))
    }
    guard value.isFinite else {
      throw error(.invalidValue(describeCurrent(), expected: "a double in the finite range"))
    }
    return value
  }

  /// Decodes like ``decodeDouble()`` and also rejects finite values beyond the `Float` range.
  public func decodeFloat() throws(JSONDecodingError) -> Float {
    let text: String
    switch current {
    case .number(let number):
      text = number
    case .string(let string):
      switch string {
      case "NaN": return .nan
      case "Infinity": return .infinity
      case "-Infinity": return -.infinity
      default: text = string
      }
    default:
      throw typeError(expected: "float as a number or string")
    }
    guard JSONNumberParsing.isNumber(text), let value = Float(text) else {
      throw error(.invalidValue(describeCurrent(), expected: "a number, \"NaN\", \"Infinity\" or \"-Infinity\""))
    }
    guard value.isFinite else {
      throw error(.invalidValue(describeCurrent(), expected: "a float in the finite range"))
    }
    return value
  }

  /// Decodes an enum from its value name or number.
  ///
  /// - Returns: nil for an unknown name when ``JSONDecodingOptions/ignoreUnknownFields`` is set; the
  ///   caller then leaves the field, element or map entry out.
  /// - Throws: ``JSONDecodingError/Kind/unknownEnumValue(_:enumName:)`` for an unknown name, or a
  ///   number that a closed enum does not define.
  public func decodeEnum<E: JSONCodableEnum>(_ type: E.Type) throws(JSONDecodingError) -> E? {
    let enumName = String(describing: E.self)
    if case .string(let name) = current, let number = E._protobufNumber(ofName: name) {
      return E(rawValue: number)
    }
    let number: Int32
    switch current {
    case .number:
      number = try decodeInt32()
    case .string(let name):
      guard case .value = JSONNumberParsing.parseInteger(name) else {
        if options.ignoreUnknownFields { return nil }
        throw error(.unknownEnumValue("\"\(name)\"", enumName: enumName))
      }
      number = try decodeInt32()
    default:
      throw typeError(expected: "enum value name or number")
    }
    guard let value = E(rawValue: number) else {
      throw error(.unknownEnumValue(String(number), enumName: enumName))
    }
    return value
  }

  // MARK: Map keys

  /// Converts a map key, which JSON always gives as a string, to the key type.
  ///
  /// - Throws: ``JSONDecodingError/Kind/invalidValue(_:expected:)`` naming the key.
  public func mapKeyBool(_ key: String) throws(JSONDecodingError) -> Bool {
    switch key {
    case "true": return true
    case "false": return false
    default: throw error(.invalidValue("map key \"\(key)\"", expected: "\"true\" or \"false\""))
    }
  }

  private func mapKeyInteger(_ key: String, typeName: String, min: Int64, max: UInt64) throws(JSONDecodingError) -> (Bool, UInt64) {
    guard case .value(let negative, let magnitude) = JSONNumberParsing.parseInteger(key),
      negative ? magnitude <= min.magnitude : magnitude <= max
    else {
      throw error(.invalidValue("map key \"\(key)\"", expected: "an \(typeName) in \(min) ... \(max)"))
    }
    return (negative, magnitude)
  }

  public func mapKeyInt32(_ key: String) throws(JSONDecodingError) -> Int32 {
    let (negative, magnitude) = try mapKeyInteger(key, typeName: "int32", min: Int64(Int32.min), max: UInt64(Int32.max))
    return negative ? Int32(truncatingIfNeeded: 0 &- magnitude) : Int32(magnitude)
  }

  public func mapKeyInt64(_ key: String) throws(JSONDecodingError) -> Int64 {
    let (negative, magnitude) = try mapKeyInteger(key, typeName: "int64", min: Int64.min, max: UInt64(Int64.max))
    return negative ? Int64(truncatingIfNeeded: 0 &- magnitude) : Int64(magnitude)
  }

  public func mapKeyUInt32(_ key: String) throws(JSONDecodingError) -> UInt32 {
    let (negative, magnitude) = try mapKeyInteger(key, typeName: "uint32", min: 0, max: UInt64(UInt32.max))
    return negative ? 0 : UInt32(magnitude)
  }

  public func mapKeyUInt64(_ key: String) throws(JSONDecodingError) -> UInt64 {
    let (negative, magnitude) = try mapKeyInteger(key, typeName: "uint64", min: 0, max: UInt64.max)
    return negative ? 0 : magnitude
  }
}
