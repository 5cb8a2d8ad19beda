extension Google_Protobuf_FieldMask: ExpressibleByArrayLiteral {
  /// Creates a field mask of proto field paths such as `"user.display_name"`.
  public init(paths: [String]) {
    self.init()
    self.paths = paths
  }

  public init(arrayLiteral paths: String...) {
    self.init(paths: paths)
  }
}
