/// Leading comments of a file's declarations, looked up by SourceCodeInfo path.
struct CommentTable {
  private var comments: [[Int32]: [String]] = [:]

  init(_ info: Google_Protobuf_SourceCodeInfo) {
    for location in info.location where !location.leadingComments.isEmpty {
      var lines = location.leadingComments.split(separator: "\n", omittingEmptySubsequences: false).map { line in
        var text = String(line)
        if text.hasPrefix(" ") { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text
      }
      while lines.last?.isEmpty == true { lines.removeLast() }
      comments[location.path] = lines
    }
  }

  func leading(_ path: [Int32]) -> [String] {
    comments[path] ?? []
  }
}
