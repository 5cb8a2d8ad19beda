extension HTTP2Stream {
  /// The stream's event loop, which runs tasks on the thread that owns the connection.
  var taskExecutor: (any TaskExecutor)? { eventLoop }
}
