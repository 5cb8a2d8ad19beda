extension Duration {
  /// The duration in whole milliseconds, such as `1018ms`, for log records.
  var millisecondsText: String {
    let (seconds, attoseconds) = components
    return "\(seconds * 1000 + attoseconds / 1_000_000_000_000_000)ms"
  }
}
