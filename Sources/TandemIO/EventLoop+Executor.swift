extension EventLoop: SerialExecutor, TaskExecutor {
  /// Queues a job to run on the loop thread, after the work queued before it.
  public func enqueue(_ job: consuming ExecutorJob) {
    // NOTE: a job enqueued after the loop shut down is dropped, so its task never resumes.
    enqueue(.job(UnownedJob(job)))
  }

  public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
    UnownedSerialExecutor(ordinary: self)
  }

  public func asUnownedTaskExecutor() -> UnownedTaskExecutor {
    UnownedTaskExecutor(ordinary: self)
  }

  /// Stops the process unless the caller runs on this loop's thread.
  public func checkIsolated() {
    assertInEventLoop()
  }
}
