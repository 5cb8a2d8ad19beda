/// A timer scheduled with ``EventLoop/scheduleTimer(after:_:)``.
public struct TimerHandle: Sendable {
  let loop: EventLoop
  let id: UInt64

  /// Cancels the timer, so its work does not run. Does nothing when the timer already fired.
  ///
  /// On the loop thread the cancellation takes effect at once. From another thread it is
  /// queued with ``EventLoop/execute(_:)``, so the timer may still fire before it lands.
  public func cancel() {
    if loop.inEventLoop {
      loop.cancelTimer(id: id)
    } else {
      let loop = self.loop
      let id = self.id
      loop.execute { loop.cancelTimer(id: id) }
    }
  }
}
