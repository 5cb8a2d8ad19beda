/// Formats `value` with `digits` decimals, without Foundation.
func format(_ value: Double, digits: Int) -> String {
  guard value.isFinite else { return "n/a" }
  var scale = 1.0
  for _ in 0..<digits { scale *= 10 }
  let scaled = (abs(value) * scale).rounded()
  let whole = Int64(scaled / scale)
  var text = (value < 0 && scaled != 0 ? "-" : "") + String(whole)
  if digits > 0 {
    let fraction = String(Int64(scaled) - whole * Int64(scale))
    text += "." + String(repeating: "0", count: digits - fraction.count) + fraction
  }
  return text
}

/// Returns `duration` in milliseconds.
func milliseconds(_ duration: Duration) -> Double {
  let parts = duration.components
  return Double(parts.seconds) * 1e3 + Double(parts.attoseconds) / 1e15
}

/// Returns the value at percentile `percent` of `sorted` (ascending) by the nearest-rank method.
func percentile(_ sorted: [Double], _ percent: Double) -> Double {
  guard !sorted.isEmpty else { return .nan }
  let rank = Int((percent / 100 * Double(sorted.count)).rounded(.up))
  return sorted[min(max(rank, 1), sorted.count) - 1]
}

/// Returns the median of `values`: the middle one, or the mean of the two middle ones.
func median(_ values: [Double]) -> Double {
  guard !values.isEmpty else { return .nan }
  let sorted = values.sorted()
  let middle = sorted.count / 2
  return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
