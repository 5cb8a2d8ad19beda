/// Accumulates indented Swift source lines for ``ServiceRenderer``.
struct ServiceSourceWriter {
  private(set) var text = ""
  private var indentation = 0

  /// Appends one line at the current indentation. An empty line gets no trailing spaces.
  mutating func line(_ content: String = "") {
    if content.isEmpty {
      text += "\n"
    } else {
      text += String(repeating: "  ", count: indentation) + content + "\n"
    }
  }

  /// Runs `body` one indentation level deeper.
  mutating func indented(_ body: (inout ServiceSourceWriter) -> Void) {
    indentation += 1
    body(&self)
    indentation -= 1
  }

  /// Appends `opening`, runs `body` one level deeper, then appends `closing`.
  mutating func block(_ opening: String, closing: String = "}", _ body: (inout ServiceSourceWriter) -> Void) {
    line(opening)
    indentation += 1
    body(&self)
    indentation -= 1
    line(closing)
  }

  /// Appends proto comment lines as a `///` documentation comment, or `fallback` when there are none.
  mutating func documentation(_ comments: [String], fallback: [String] = []) {
    let lines = ServiceSourceWriter.trimmedCommentLines(comments)
    for comment in lines.isEmpty ? fallback : lines {
      if comment.isEmpty {
        line("///")
      } else if comment.hasPrefix(" ") {
        line("///" + comment)
      } else {
        line("/// " + comment)
      }
    }
  }

  /// Splits embedded line breaks, drops trailing whitespace and removes blank lines at both ends.
  static func trimmedCommentLines(_ comments: [String]) -> [String] {
    var lines: [String] = []
    for comment in comments {
      for piece in comment.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) {
        var trimmed = Substring(piece)
        while let last = trimmed.last, last == " " || last == "\t" {
          trimmed = trimmed.dropLast()
        }
        lines.append(String(trimmed))
      }
    }
    while let first = lines.first, first.isEmpty {
      lines.removeFirst()
    }
    while let last = lines.last, last.isEmpty {
      lines.removeLast()
    }
    return lines
  }
}
