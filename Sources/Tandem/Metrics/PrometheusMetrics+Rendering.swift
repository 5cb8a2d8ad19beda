extension PrometheusMetrics {
  /// Renders every series in the Prometheus text exposition format 0.0.4.
  ///
  /// Metrics are sorted by name and series by labels, so equal contents render to equal
  /// text. Each metric starts with a `# HELP` line when ``Configuration/help`` has a text for
  /// it, then a `# TYPE` line. A histogram renders one `_bucket` line per bound, with the `le`
  /// label last and a final `le="+Inf"`, then `_sum` and `_count`. Label values are escaped
  /// (backslash, double quote, line feed) and the text ends with a line feed.
  /// `tandem_metrics_dropped_series_total` is always present, with value 0 when nothing was
  /// dropped.
  public func render() -> String {
    let store = copyStore()
    var output = ""
    output.reserveCapacity(64 * (store.seriesCount + 8))
    for name in store.families.keys.sorted() {
      guard let family = store.families[name], !family.isEmpty else { continue }
      if let help = configuration.help[name] {
        output += "# HELP \(name) "
        PrometheusTextFormat.appendEscapedHelp(help, to: &output)
        output += "\n"
      }
      output += "# TYPE \(name) \(family.kind.rawValue)\n"
      switch family.kind {
      case .counter:
        for (labels, value) in family.counters.sorted(by: { $0.key < $1.key }) {
          Self.appendSample(name: name, labelText: Self.labelText(labels.labels), value: String(value), to: &output)
        }
      case .gauge:
        for (labels, value) in family.gauges.sorted(by: { $0.key < $1.key }) {
          let valueText = PrometheusTextFormat.format(value)
          Self.appendSample(name: name, labelText: Self.labelText(labels.labels), value: valueText, to: &output)
        }
      case .histogram:
        let boundTexts = family.bounds.map(PrometheusTextFormat.format) + ["+Inf"]
        for (labels, state) in family.histograms.sorted(by: { $0.key < $1.key }) {
          Self.appendHistogram(
            name: name, labelText: Self.labelText(labels.labels), state: state, boundTexts: boundTexts, to: &output)
        }
      }
    }
    return output
  }

  /// Appends the `_bucket` lines, then `_sum` and `_count`. `boundTexts` contains the
  /// formatted bounds followed by `+Inf`.
  private static func appendHistogram(
    name: String, labelText: String, state: PrometheusHistogramState, boundTexts: [String], to output: inout String
  ) {
    let bucketPrefix = labelText.isEmpty ? name + "_bucket{le=\"" : name + "_bucket{" + labelText + ",le=\""
    var cumulative: UInt64 = 0
    for (index, boundText) in boundTexts.enumerated() {
      cumulative &+= state.bucketCounts[index]
      output += bucketPrefix
      output += boundText
      output += "\"} "
      output += String(cumulative)
      output += "\n"
    }
    appendSample(name: name + "_sum", labelText: labelText, value: PrometheusTextFormat.format(state.sum), to: &output)
    appendSample(name: name + "_count", labelText: labelText, value: String(state.count), to: &output)
  }

  /// Returns the labels as `name="value",...` with escaped values, without braces.
  private static func labelText(_ labels: [PrometheusLabel]) -> String {
    var text = ""
    for (index, label) in labels.enumerated() {
      if index > 0 { text += "," }
      text += label.name
      text += "=\""
      PrometheusTextFormat.appendEscapedLabelValue(label.value, to: &text)
      text += "\""
    }
    return text
  }

  /// Appends `name{labels} value` and a line feed, without braces when there are no labels.
  private static func appendSample(name: String, labelText: String, value: String, to output: inout String) {
    output += name
    if !labelText.isEmpty {
      output += "{"
      output += labelText
      output += "}"
    }
    output += " "
    output += value
    output += "\n"
  }
}
