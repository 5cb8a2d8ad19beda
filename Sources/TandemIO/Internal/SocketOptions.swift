#if canImport(Glibc)
import Glibc
#endif
import CTandemShims

enum SocketOptions {
  static func setInt(_ fd: Int32, level: Int32, option: Int32, value: Int32) -> Bool {
    var value = value
    return setsockopt(fd, level, option, &value, socklen_t(MemoryLayout<Int32>.size)) == 0
  }

  /// Returns an integer socket option, or `nil` when getsockopt fails.
  static func getInt(_ fd: Int32, level: Int32, option: Int32) -> Int32? {
    var value: Int32 = 0
    var length = socklen_t(MemoryLayout<Int32>.size)
    guard getsockopt(fd, level, option, &value, &length) == 0 else { return nil }
    return value
  }

  /// Turns off Nagle's algorithm, because writes are already batched per loop turn.
  static func setNoDelay(_ fd: Int32) {
    _ = setInt(fd, level: Int32(IPPROTO_TCP), option: TCP_NODELAY, value: 1)
  }

  /// Returns the pending error of a socket (SO_ERROR), 0 when there is none.
  static func pendingError(_ fd: Int32) -> Int32 {
    var value: Int32 = 0
    var length = socklen_t(MemoryLayout<Int32>.size)
    guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) == 0 else { return errno }
    return value
  }
}

/// epoll event bits as UInt32.
enum EpollEvents {
  static let input = EPOLLIN.rawValue
  static let output = EPOLLOUT.rawValue
  static let error = EPOLLERR.rawValue
  static let hangUp = EPOLLHUP.rawValue
}
