/// A protobuf message type. Generated message structs conform to it.
///
/// Generated code implements the requirements in terms of ``WireDecoder``, ``WireEncoder`` and
/// ``SizeCache``. A hand-written conformance may leave out the requirements with default
/// implementations: `encodedSize(of:into:)`, `encode(_:to:)`, `isInitialized` and
/// `collectMissingRequiredFields(prefix:into:)`. Users call the entry points in the extension
/// (`init(serializedBytes:)`, `serializedBytes()`, `merge(serializedBytes:)`, `with(_:)`).
public protocol Message: Sendable, Hashable {
  init()
  /// Fully qualified proto name, for example `echo.v1.EchoRequest`.
  static var protoMessageName: String { get }
  /// Fields the schema did not define, as raw wire bytes re-emitted after the known fields.
  var unknownFields: UnknownFields { get set }
  /// Merges the fields of one encoded message into `self`: singular scalars take the last value,
  /// singular messages merge, repeated fields and maps append.
  mutating func decodeMessage(from decoder: inout WireDecoder) throws(ProtobufDecodingError)
  /// Returns the exact encoded size in bytes and records nested sizes in `sizes` in pre-order.
  func encodedSize(into sizes: inout SizeCache) -> Int
  /// Writes the fields in field-number order, then the unknown fields. Must be called after
  /// ``encodedSize(into:)`` filled the encoder's size cache.
  func encode(to encoder: inout WireEncoder)
  /// Returns the exact encoded size of the message at `message` and records nested sizes, as
  /// ``encodedSize(into:)`` does. The message must stay valid and unchanged during the call.
  ///
  /// Elements of repeated fields and sub-messages of such elements are sized through this
  /// requirement. Calling a method on an element in the array's storage copies the element first,
  /// with a retain and a release of each of its strings, arrays and sub-messages. The compiler
  /// cannot prove that the encoder's writes leave that storage unchanged. Generated code implements
  /// it with the body of ``encodedSize(into:)``, reading fields through the pointer. The default
  /// implementation calls ``encodedSize(into:)`` on a copy.
  static func encodedSize(of message: UnsafePointer<Self>, into sizes: inout SizeCache) -> Int
  /// Writes the message at `message` as ``encode(to:)`` does, without copying it (see
  /// ``encodedSize(of:into:)``). The message must stay valid and unchanged during the call. The
  /// default implementation calls ``encode(to:)`` on a copy.
  static func encode(_ message: UnsafePointer<Self>, to encoder: inout WireEncoder)
  /// `true` when every proto2 required field of this message, of its sub-messages (singular, repeated,
  /// map values and oneof members) and of its extension values is set. The default implementation
  /// returns `true`; generated code overrides it for messages that can reach a required field or an
  /// extension range.
  var isInitialized: Bool { get }
  /// Appends the path of every required field that is not set to `paths`, each starting with
  /// `prefix`: `id` for a field of this message, `inner.id` for a singular sub-message, `items[2].id`
  /// for a repeated one, `counts[key].id` for a map value and `(pkg.ext).id` for an extension.
  /// The default implementation appends nothing.
  func collectMissingRequiredFields(prefix: String, into paths: inout [String])
}

extension Message {
  @inlinable
  public var isInitialized: Bool { true }

  @inlinable
  public static func encodedSize(of message: UnsafePointer<Self>, into sizes: inout SizeCache) -> Int {
    message.pointee.encodedSize(into: &sizes)
  }

  @inlinable
  public static func encode(_ message: UnsafePointer<Self>, to encoder: inout WireEncoder) {
    message.pointee.encode(to: &encoder)
  }

  @inlinable
  public func collectMissingRequiredFields(prefix: String, into paths: inout [String]) {}

  /// Paths of the required fields that are not set, in the form described by
  /// ``collectMissingRequiredFields(prefix:into:)``; empty when ``isInitialized`` is `true`.
  public var missingRequiredFields: [String] {
    var paths: [String] = []
    collectMissingRequiredFields(prefix: "", into: &paths)
    return paths
  }

  /// Decodes a message from the binary wire format.
  ///
  /// - Throws: ``ProtobufDecodingError`` naming the failure, its byte offset and field path, also
  ///   when a required field is not set unless ``DecodingOptions/allowPartial`` is `true`.
  @inlinable
  public init(serializedBytes: [UInt8], options: DecodingOptions = DecodingOptions()) throws(ProtobufDecodingError) {
    self.init()
    try merge(serializedBytes: serializedBytes, options: options)
  }

  /// Decodes a message from a borrowed buffer.
  ///
  /// - Throws: ``ProtobufDecodingError`` naming the failure, its byte offset and field path.
  @inlinable
  public init(
    serializedBytes: UnsafeRawBufferPointer,
    options: DecodingOptions = DecodingOptions()
  ) throws(ProtobufDecodingError) {
    self.init()
    try merge(serializedBytes: serializedBytes, options: options)
  }

  /// Merges an encoded message into `self` with the rules of ``decodeMessage(from:)``.
  ///
  /// - Throws: ``ProtobufDecodingError``; after a successful read also
  ///   ``ProtobufDecodingError/Kind/missingRequiredFields(paths:)`` when a required field of the merged
  ///   message is not set and ``DecodingOptions/allowPartial`` is `false`.
  @inlinable
  public mutating func merge(
    serializedBytes: [UInt8],
    options: DecodingOptions = DecodingOptions()
  ) throws(ProtobufDecodingError) {
    let result: Result<Void, ProtobufDecodingError> = serializedBytes.withUnsafeBytes { buffer in
      do throws(ProtobufDecodingError) {
        try merge(serializedBytes: buffer, options: options)
        return .success(())
      } catch {
        return .failure(error)
      }
    }
    try result.get()
  }

  /// Merges an encoded message from a borrowed buffer into `self`.
  @inlinable
  public mutating func merge(
    serializedBytes: UnsafeRawBufferPointer,
    options: DecodingOptions = DecodingOptions()
  ) throws(ProtobufDecodingError) {
    var decoder = WireDecoder(buffer: serializedBytes, options: options)
    try decodeMessage(from: &decoder)
    if !options.allowPartial && !isInitialized {
      throw ProtobufDecodingError(
        kind: .missingRequiredFields(paths: missingRequiredFields), offset: serializedBytes.count)
    }
  }

  /// Returns the exact encoded size in bytes. For a message whose sub-messages nest deeper than
  /// ``SizeCache/maxDepth`` (500) levels, which does not encode, the value is not meaningful.
  @inlinable
  public var serializedSize: Int {
    var sizes = SizeCache()
    return encodedSize(into: &sizes)
  }

  /// Encodes the message in the binary wire format: known fields and extensions in field-number
  /// order, then the unknown fields. Map entries follow the dictionary's iteration order.
  ///
  /// - Parameter partial: when `true`, encodes the message even if proto2 required fields are not set.
  ///   Default `false`.
  /// - Throws: ``ProtobufEncodingError`` when the message is larger than 2,147,483,647 bytes, when
  ///   sub-messages nest deeper than ``SizeCache/maxDepth`` (500) levels, or when a required field
  ///   is not set and `partial` is `false`.
  @inlinable
  public func serializedBytes(partial: Bool = false) throws(ProtobufEncodingError) -> [UInt8] {
    if !partial && !isInitialized {
      throw ProtobufEncodingError(kind: .missingRequiredFields(paths: missingRequiredFields))
    }
    var sizes = SizeCache()
    let size = encodedSize(into: &sizes)
    if sizes.depthExceeded {
      throw ProtobufEncodingError(kind: .nestingTooDeep(limit: SizeCache.maxDepth))
    }
    if size > WireFormat.maxLength {
      throw ProtobufEncodingError(kind: .messageTooLarge(size: size))
    }
    var bytes = WireEncoder.allocateOutput(count: size)
    bytes.withUnsafeMutableBytes { buffer in
      var encoder = WireEncoder(buffer: buffer, sizes: sizes)
      encode(to: &encoder)
      precondition(encoder.count == size, "encode(to:) wrote \(encoder.count) bytes, encodedSize(into:) computed \(size)")
    }
    return bytes
  }

  /// Returns a message built by `populator`, for example `.with { $0.text = "hi" }`.
  @inlinable
  public static func with(_ populator: (inout Self) throws -> Void) rethrows -> Self {
    var message = Self()
    try populator(&message)
    return message
  }
}
