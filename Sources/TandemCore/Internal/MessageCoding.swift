import Synchronization
import TandemProtobuf

/// Decodes a received message, mapping a decoding failure to INTERNAL.
func decodeMessage<M: Message>(_ type: M.Type, from bytes: [UInt8]) throws(RPCError) -> M {
  do {
    return try M(serializedBytes: bytes)
  } catch {
    throw RPCError(code: .internalError, message: "Failed to decode a \(M.protoMessageName) message: \(error)")
  }
}

/// Encodes a message for sending, mapping an encoding failure to INTERNAL.
func encodeMessage<M: Message>(_ message: M) throws(RPCError) -> [UInt8] {
  do {
    return try message.serializedBytes()
  } catch {
    throw RPCError(code: .internalError, message: "Failed to encode a \(M.protoMessageName) message: \(error)")
  }
}

/// An iterator over a fixed array that is safe to share between tasks.
final class LockedIterator<Element: Sendable>: Sendable {
  private let state: Mutex<(elements: [Element], index: Int)>

  init(_ elements: [Element]) {
    state = Mutex((elements, 0))
  }

  func next() -> Element? {
    state.withLock { state in
      guard state.index < state.elements.count else { return nil }
      defer { state.index += 1 }
      return state.elements[state.index]
    }
  }
}
