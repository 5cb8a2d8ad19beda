import TandemProtobuf

/// A message with one string field, `text = 1`, written by hand the way generated code is.
struct TestMessage: Message {
  static let protoMessageName = "tandem.test.TestMessage"

  var text = ""
  var unknownFields = UnknownFields()

  init() {}

  init(_ text: String) {
    self.text = text
  }

  mutating func decodeMessage(from decoder: inout WireDecoder) throws(ProtobufDecodingError) {
    while let tag = try decoder.nextTag() {
      switch tag.fieldNumber {
      case 1: text = try decoder.decodeString()
      default: try decoder.skipField(tag, into: &unknownFields)
      }
    }
  }

  func encodedSize(into sizes: inout SizeCache) -> Int {
    var size = unknownFields.count
    if !text.isEmpty { size += 1 + WireFormat.stringSize(text) }
    return size
  }

  func encode(to encoder: inout WireEncoder) {
    if !text.isEmpty {
      encoder.writeTag(1 << 3 | 2)
      encoder.writeString(text)
    }
    encoder.writeUnknownFields(unknownFields)
  }

  /// The size of the encoded message, for tests that check size limits and flow control.
  var encodedByteCount: Int { serializedSize }
}
