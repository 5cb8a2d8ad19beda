import CQUIC
import TandemHTTP

/// Builds the `nghttp3_nv` array for a header list. nghttp3 copies names and values when it
/// is called (flag NONE), so the storage lives only for the call.
enum HTTP3HeaderList {
  static func withNameValuePairs<Result>(
    _ fields: [HTTPField], _ body: (UnsafePointer<nghttp3_nv>, Int) -> Result
  ) -> Result {
    var storage: [UInt8] = []
    var offsets: [(name: Int, nameCount: Int, value: Int, valueCount: Int)] = []
    offsets.reserveCapacity(fields.count)
    for field in fields {
      let name = storage.count
      storage.append(contentsOf: field.name.utf8)
      let value = storage.count
      storage.append(contentsOf: field.value.utf8)
      offsets.append((name, field.name.utf8.count, value, field.value.utf8.count))
    }
    if storage.isEmpty { storage.append(0) }
    return storage.withUnsafeMutableBufferPointer { bytes in
      let base = bytes.baseAddress!
      var pairs = offsets.map { entry in
        nghttp3_nv(
          name: base + entry.name, value: base + entry.value, namelen: entry.nameCount,
          valuelen: entry.valueCount, flags: UInt8(NGHTTP3_NV_FLAG_NONE))
      }
      return pairs.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
    }
  }

  /// Returns a description of the first field that HTTP/3 cannot carry, or `nil`.
  static func firstInvalidField(in fields: [HTTPField]) -> String? {
    for field in fields {
      let name = Array(field.name.utf8)
      let value = Array(field.value.utf8)
      if name.isEmpty { return "header field with an empty name" }
      let isPseudo = name[0] == UInt8(ascii: ":")
      let nameOK = isPseudo || name.withUnsafeBufferPointer { nghttp3_check_header_name($0.baseAddress, $0.count) != 0 }
      if !nameOK { return "header field name \"\(field.name)\" is not a lowercase token" }
      let valueOK = value.isEmpty || value.withUnsafeBufferPointer { nghttp3_check_header_value($0.baseAddress, $0.count) != 0 }
      if !valueOK { return "header field \"\(field.name)\" has a value with forbidden characters" }
    }
    return nil
  }
}
