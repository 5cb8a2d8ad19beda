/// Invalid binary protobuf input: what failed, at which byte offset, and in which field.
public struct ProtobufDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The rule that the input broke.
  public enum Kind: Sendable, Hashable {
    /// The input ends inside a tag, a value or a length-delimited field.
    case truncated
    /// A varint continues past its 10th byte.
    case malformedVarint
    /// A tag carries wire type 6 or 7, which protobuf does not define.
    case invalidWireType(UInt8)
    /// A tag carries field number 0 or one above 536,870,911 (2^29 - 1).
    case invalidFieldNumber(UInt64)
    /// A string field holds bytes that are not valid UTF-8.
    case invalidUTF8
    /// Sub-messages and groups nest deeper than ``DecodingOptions/recursionLimit``.
    case recursionLimitExceeded(limit: Int)
    /// A length prefix is above 2,147,483,647 bytes (2 GiB - 1), the largest length protobuf allows.
    case lengthTooLarge(UInt64)
    /// A length prefix points past the end of the enclosing message or input.
    case lengthExceedsInput(length: Int, remaining: Int)
    /// An end-group tag closes a different field than the open group.
    case mismatchedEndGroup(expected: Int, found: Int)
    /// An end-group tag appears where no group is open.
    case unexpectedEndGroup(fieldNumber: Int)
    /// The input ends while a group is still open.
    case unterminatedGroup(fieldNumber: Int)
    /// proto2 required fields are not set after the whole input was read. Each path names the field
    /// from the top-level message down, for example `outer.inner.id` or `items[2].id`.
    case missingRequiredFields(paths: [String])
  }

  public var kind: Kind
  /// Byte offset in the whole input of the first byte of the item that failed (tag, varint, length
  /// prefix or string data).
  public var offset: Int
  /// Field numbers from the top-level message down to the field being decoded when the error
  /// happened, for example `[3, 1]` for field 1 of the sub-message in field 3. Empty when the error
  /// is in the first tag.
  public var fieldPath: [Int]

  public init(kind: Kind, offset: Int, fieldPath: [Int] = []) {
    self.kind = kind
    self.offset = offset
    self.fieldPath = fieldPath
  }

  public var description: String {
    let location =
      fieldPath.isEmpty
      ? "at byte offset \(offset)"
      : "at byte offset \(offset), field path \(fieldPath.map(String.init).joined(separator: "."))"
    switch kind {
    case .truncated:
      return "protobuf input is truncated \(location)"
    case .malformedVarint:
      return "varint longer than the maximum of 10 bytes \(location)"
    case .invalidWireType(let wireType):
      return "invalid wire type \(wireType) (valid: 0 through 5) \(location)"
    case .invalidFieldNumber(let number):
      return "invalid field number \(number) (valid: 1 through 536870911) \(location)"
    case .invalidUTF8:
      return "string field is not valid UTF-8 \(location)"
    case .recursionLimitExceeded(let limit):
      return "message nesting exceeds the recursion limit of \(limit) \(location)"
    case .lengthTooLarge(let length):
      return "length \(length) exceeds the maximum of 2147483647 bytes \(location)"
    case .lengthExceedsInput(let length, let remaining):
      return "length \(length) exceeds the \(remaining) bytes left in the enclosing message \(location)"
    case .mismatchedEndGroup(let expected, let found):
      return "end-group tag for field \(found) while group \(expected) is open \(location)"
    case .unexpectedEndGroup(let number):
      return "end-group tag for field \(number) outside any group \(location)"
    case .unterminatedGroup(let number):
      return "input ends inside group field \(number) \(location)"
    case .missingRequiredFields(let paths):
      return "required fields are not set: \(paths.joined(separator: ", ")); "
        + "decode with DecodingOptions(allowPartial: true) to accept such messages"
    }
  }
}

/// A message that cannot be encoded.
public struct ProtobufEncodingError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The reason the message cannot be encoded.
  public enum Kind: Sendable, Hashable {
    /// The encoded message would be larger than 2,147,483,647 bytes (2 GiB - 1). `size` is its size in bytes.
    case messageTooLarge(size: Int)
    /// proto2 required fields are not set. Each path names the field from the top-level message down,
    /// for example `outer.inner.id`.
    case missingRequiredFields(paths: [String])
    /// Sub-messages nest deeper than `limit` (``SizeCache/maxDepth``, 500) levels.
    case nestingTooDeep(limit: Int)
  }

  public var kind: Kind

  public init(kind: Kind) {
    self.kind = kind
  }

  /// Encoded size in bytes of a message that is too large. It is 0 when ``kind`` is
  /// ``Kind/missingRequiredFields(paths:)``, because the size pass does not run then.
  public var size: Int {
    if case .messageTooLarge(let size) = kind { return size }
    return 0
  }

  public var description: String {
    switch kind {
    case .messageTooLarge(let size):
      return "encoded message size \(size) exceeds the protobuf maximum of 2147483647 bytes (2 GiB - 1)"
    case .missingRequiredFields(let paths):
      return "required fields are not set: \(paths.joined(separator: ", ")); "
        + "set them or encode with serializedBytes(partial: true)"
    case .nestingTooDeep(let limit):
      return "sub-messages nest deeper than \(limit) levels, the most that encodes"
    }
  }
}
