/// A min-heap of timer deadlines, ordered by deadline and then by the order they were added.
///
/// Cancelled timers stay in the heap; the loop skips an entry whose id no longer has work.
struct TimerHeap {
  struct Entry {
    var deadline: UInt64
    var id: UInt64
  }

  private var entries: [Entry] = []

  var isEmpty: Bool { entries.isEmpty }

  var first: Entry? { entries.first }

  mutating func insert(_ entry: Entry) {
    entries.append(entry)
    var child = entries.count - 1
    while child > 0 {
      let parent = (child - 1) / 2
      guard Self.precedes(entries[child], entries[parent]) else { break }
      entries.swapAt(child, parent)
      child = parent
    }
  }

  mutating func removeFirst() -> Entry? {
    guard !entries.isEmpty else { return nil }
    let result = entries[0]
    let last = entries.removeLast()
    if !entries.isEmpty {
      entries[0] = last
      var parent = 0
      while true {
        let left = 2 * parent + 1
        let right = left + 1
        var smallest = parent
        if left < entries.count, Self.precedes(entries[left], entries[smallest]) { smallest = left }
        if right < entries.count, Self.precedes(entries[right], entries[smallest]) { smallest = right }
        if smallest == parent { break }
        entries.swapAt(parent, smallest)
        parent = smallest
      }
    }
    return result
  }

  var count: Int { entries.count }

  /// Drops the entries for which `keep` returns false and restores the heap order.
  mutating func filter(_ keep: (Entry) -> Bool) {
    let kept = entries.filter(keep)
    entries = []
    entries.reserveCapacity(kept.count)
    for entry in kept {
      insert(entry)
    }
  }

  private static func precedes(_ a: Entry, _ b: Entry) -> Bool {
    // Ids grow with each timer, so equal deadlines fire in the order they were scheduled.
    a.deadline != b.deadline ? a.deadline < b.deadline : a.id < b.id
  }
}
