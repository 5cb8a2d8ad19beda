/// Accumulates generated source with two-space indentation.
struct CodePrinter {
  private(set) var output = ""
  private var indentation = ""

  mutating func line(_ text: String = "") {
    if text.isEmpty {
      output += "\n"
    } else {
      output += indentation + text + "\n"
    }
  }

  mutating func indent() { indentation += "  " }
  mutating func outdent() { indentation.removeLast(2) }

  /// Prints `header {`, the body indented, then `}`.
  mutating func block(_ header: String, _ body: (inout CodePrinter) -> Void) {
    line(header + " {")
    indent()
    body(&self)
    outdent()
    line("}")
  }

  /// Prints `header {`, the body at the same indentation (for `switch`, whose `case` labels align
  /// with it), then `}`.
  mutating func switchBlock(_ header: String, _ body: (inout CodePrinter) -> Void) {
    line(header + " {")
    body(&self)
    line("}")
  }

  /// Prints proto comments as `///` doc comments.
  mutating func docComment(_ comments: [String]) {
    for comment in comments {
      line(comment.isEmpty ? "///" : "/// " + comment)
    }
  }
}
