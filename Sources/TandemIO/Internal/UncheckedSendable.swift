/// Carries a value that is used only on one event loop thread across a `@Sendable` boundary.
struct UncheckedSendable<Value>: @unchecked Sendable {
  var value: Value
  init(_ value: Value) { self.value = value }
}
