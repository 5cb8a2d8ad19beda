/// The gRPC content types this implementation reads: `application/grpc` and
/// `application/grpc+proto`, case-insensitive, with any `;` parameters ignored.
enum GRPCContentType {
  /// Returns whether `value` is a gRPC content type whose messages are protobuf.
  static func isProtobuf(_ value: String) -> Bool {
    var mediaType = Substring(value)
    if let semicolon = mediaType.firstIndex(of: ";") {
      mediaType = mediaType[..<semicolon]
    }
    let normalized = mediaType.trimmingSpaces().lowercased()
    return normalized == "application/grpc" || normalized == "application/grpc+proto"
  }
}

extension Substring {
  fileprivate func trimmingSpaces() -> Substring {
    var trimmed = self
    while trimmed.first == " " || trimmed.first == "\t" { trimmed = trimmed.dropFirst() }
    while trimmed.last == " " || trimmed.last == "\t" { trimmed = trimmed.dropLast() }
    return trimmed
  }
}
