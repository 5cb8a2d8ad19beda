import CNGHTTP2
import TandemHTTP

/// Reusable storage that turns ``HTTPField`` arrays into the `nghttp2_nv` arrays that
/// nghttp2's submit functions copy.
struct HeaderBlock {
  private var bytes: [UInt8] = []
  private var offsets: [(name: Int, nameCount: Int, value: Int, valueCount: Int)] = []
  private var nvs: [nghttp2_nv] = []

  /// Returns a sentence naming the first field that HPACK must not carry, or `nil` when all
  /// are valid. Names must be lowercase tokens, with a leading colon for pseudo-headers.
  /// Values must not contain NUL, CR or LF or start or end with a space or tab (RFC 9113,
  /// section 8.2.1). nghttp2 1.52 applies the same checks to the fields it receives.
  static func firstInvalidField(in fields: [HTTPField]) -> String? {
    for field in fields {
      var name = field.name
      let nameValid = name.withUTF8 { utf8 -> Bool in
        guard !utf8.isEmpty else { return false }
        if utf8[0] == UInt8(ascii: ":") {
          return utf8.count > 1 && nghttp2_check_header_name(utf8.baseAddress! + 1, utf8.count - 1) != 0
        }
        return nghttp2_check_header_name(utf8.baseAddress!, utf8.count) != 0
      }
      if !nameValid {
        return "header field name \"\(field.name)\" is invalid: names must be non-empty lowercase tokens"
      }
      var value = field.value
      let valueValid = value.withUTF8 { utf8 -> Bool in
        guard let base = utf8.baseAddress else { return true }
        return nghttp2_check_header_value_rfc9113(base, utf8.count) != 0
      }
      if !valueValid {
        return "header field \"\(field.name)\" has an invalid value: values must not contain NUL, CR or LF or start or end with a space or tab"
      }
    }
    return nil
  }

  /// Returns the size of `fields` as SETTINGS_MAX_HEADER_LIST_SIZE counts it (RFC 9113,
  /// section 6.5.2): the octets of each name and value plus 32 per field, pseudo-headers included.
  static func listSize(of fields: [HTTPField]) -> Int {
    var size = 0
    for field in fields {
      size += field.name.utf8.count + field.value.utf8.count + 32
    }
    return size
  }

  /// Calls `body` with an `nghttp2_nv` array for `fields`. The pointers are valid only during the call.
  mutating func withNameValuePairs<R>(
    _ fields: [HTTPField], _ body: (UnsafePointer<nghttp2_nv>?, Int) -> R
  ) -> R {
    bytes.removeAll(keepingCapacity: true)
    offsets.removeAll(keepingCapacity: true)
    nvs.removeAll(keepingCapacity: true)
    for field in fields {
      let nameStart = bytes.count
      bytes.append(contentsOf: field.name.utf8)
      let valueStart = bytes.count
      bytes.append(contentsOf: field.value.utf8)
      offsets.append((nameStart, valueStart - nameStart, valueStart, bytes.count - valueStart))
    }
    // One byte more so that an empty list still has a valid base address.
    bytes.append(0)
    return bytes.withUnsafeMutableBufferPointer { storage in
      let base = storage.baseAddress!
      for entry in offsets {
        nvs.append(
          nghttp2_nv(
            name: base + entry.name, value: base + entry.value,
            namelen: entry.nameCount, valuelen: entry.valueCount,
            flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue)))
      }
      return nvs.withUnsafeBufferPointer { body($0.baseAddress, $0.count) }
    }
  }
}
