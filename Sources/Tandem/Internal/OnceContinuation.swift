import Synchronization

/// A continuation that the first of several racing outcomes resumes, and later outcomes leave
/// alone. An outcome that comes before the continuation is set, such as a cancellation, is
/// kept and delivered when it is set.
final class OnceContinuation<Value: Sendable>: Sendable {
  private enum Stage {
    case empty
    case waiting(CheckedContinuation<Value, any Error>)
    case finishedEarly(Result<Value, any Error>)
    case resumed
  }

  private let stage = Mutex(Stage.empty)

  /// Sets the continuation, and resumes it at once with an outcome that came earlier.
  func set(_ continuation: CheckedContinuation<Value, any Error>) {
    let early = stage.withLock { stage -> Result<Value, any Error>? in
      guard case .finishedEarly(let result) = stage else {
        stage = .waiting(continuation)
        return nil
      }
      stage = .resumed
      return result
    }
    if let early { continuation.resume(with: early) }
  }

  /// Resumes the continuation with `result` unless an earlier outcome did.
  func resume(with result: Result<Value, any Error>) {
    let continuation = stage.withLock { stage -> CheckedContinuation<Value, any Error>? in
      switch stage {
      case .empty:
        stage = .finishedEarly(result)
        return nil
      case .waiting(let continuation):
        stage = .resumed
        return continuation
      case .finishedEarly, .resumed:
        return nil
      }
    }
    continuation?.resume(with: result)
  }
}
