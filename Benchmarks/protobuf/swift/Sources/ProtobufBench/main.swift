// Swift side of the protobuf benchmark: the same messages as ../../cpp/bench.cc.
//
// Usage:
//   ProtobufBench time SCALE              nanoseconds and allocations per operation for every case
//   ProtobufBench run CASE OPERATION N    only N operations, for instruction counts under callgrind
// CASE is small, medium, large, depth1, depth10 or depth100; OPERATION is encode or decode.
// Allocations are counted only when the alloc_counter.c shim is preloaded (LD_PRELOAD).
import TandemProtobuf

#if canImport(Glibc)
  import Glibc
#endif

typealias AllocationCounter = @convention(c) () -> UInt64

let allocationCounter: AllocationCounter? = dlsym(nil, "tandem_alloc_count").map {
  unsafeBitCast($0, to: AllocationCounter.self)
}

func allocations() -> UInt64 { allocationCounter?() ?? 0 }

func nowNanoseconds() -> Double {
  var time = timespec()
  clock_gettime(CLOCK_MONOTONIC, &time)
  return Double(time.tv_sec) * 1e9 + Double(time.tv_nsec)
}

/// Writes `message` and a newline to standard error.
func printError(_ message: String) {
  var line = message + "\n"
  line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

func makeSmall(_ index: Int) -> Tandem_Bench_Small {
  var small = Tandem_Bench_Small()
  small.id = Int32(12345 + index)
  small.timestamp = 1_733_360_000_123 + Int64(index)
  small.flags = 0x8001
  small.delta = Int32(-77 - index)
  small.hash_p = 0x0123_4567_89AB_CDEF
  small.score = 98.625
  small.ratio = 0.75
  small.active = true
  small.name = "bench-user-0042 with a name of about forty"
  small.kind = .user
  return small
}

func makeItem(_ index: Int) -> Tandem_Bench_Item {
  var item = Tandem_Bench_Item()
  item.id = Int32(index)
  item.title = "item title number \(index)"
  item.tags = [Int32(index), Int32(index * 7), Int32(index * 13), Int32(300 + index)]
  item.price = Double(index) * 1.25
  item.detail = makeSmall(index)
  return item
}

func makeMedium() -> Tandem_Bench_Medium {
  var medium = Tandem_Bench_Medium()
  medium.requestID = "req-7f3a9c2e-4b1d-4e8f-9a6b-2c5d8e1f0a3b"
  medium.items = (0..<12).map(makeItem)
  for index in 0..<8 {
    medium.counters["counter-\(index)"] = Int64(index) * 1000
  }
  medium.header = makeSmall(0)
  medium.labels = (0..<5).map { "label-\($0)" }
  medium.checksum = (0..<32).map { UInt8(truncatingIfNeeded: $0 * 37) }
  return medium
}

func makeLarge() -> Tandem_Bench_Large {
  var large = Tandem_Bench_Large()
  large.blob = (0..<524_288).map { UInt8(truncatingIfNeeded: $0 * 31) }
  large.records = (0..<3500).map(makeItem)
  return large
}

func makeChain(depth: Int) -> Tandem_Bench_Node {
  var node = Tandem_Bench_Node()
  for level in stride(from: depth - 1, through: 0, by: -1) {
    var parent = Tandem_Bench_Node()
    parent.value = Int32(level)
    parent.label = "node"
    if level + 1 < depth {
      parent.child = node
    }
    node = parent
  }
  return node
}

nonisolated(unsafe) var sink = 0

@inline(never)
func run<M: Message>(_ message: M, bytes: [UInt8], encode: Bool, count: Int) {
  for _ in 0..<count {
    if encode {
      let output = try! message.serializedBytes()
      sink &+= output.count
    } else {
      let decoded = try! M(serializedBytes: bytes)
      sink &+= decoded.unknownFields.isEmpty ? 1 : 0
    }
  }
}

func measure<M: Message>(_ name: String, _ message: M, count: Int) {
  let bytes = try! message.serializedBytes()
  for encode in [true, false] {
    run(message, bytes: bytes, encode: encode, count: count / 10 + 1)  // warm-up
    let allocationsBefore = allocations()
    let start = nowNanoseconds()
    run(message, bytes: bytes, encode: encode, count: count)
    let elapsed = nowNanoseconds() - start
    let allocationDelta = allocations() - allocationsBefore
    let nanoseconds = elapsed / Double(count)
    let perOperation = Double(allocationDelta) / Double(count)
    print("\(name) \(encode ? "encode" : "decode") \(nanoseconds) \(perOperation) \(bytes.count)")
  }
}

func runNamed<M: Message>(_ message: M, operation: String, count: Int) {
  let bytes = try! message.serializedBytes()
  run(message, bytes: bytes, encode: operation == "encode", count: count)
}

let arguments = CommandLine.arguments
if arguments.count == 3, arguments[1] == "time", let scale = Int(arguments[2]) {
  measure("small", makeSmall(0), count: 2000 * scale)
  measure("medium", makeMedium(), count: 200 * scale)
  measure("large", makeLarge(), count: scale)
  measure("depth1", makeChain(depth: 1), count: 2000 * scale)
  measure("depth10", makeChain(depth: 10), count: 500 * scale)
  measure("depth100", makeChain(depth: 100), count: 50 * scale)
} else if arguments.count == 5, arguments[1] == "run", let count = Int(arguments[4]) {
  switch arguments[2] {
  case "small": runNamed(makeSmall(0), operation: arguments[3], count: count)
  case "medium": runNamed(makeMedium(), operation: arguments[3], count: count)
  case "large": runNamed(makeLarge(), operation: arguments[3], count: count)
  case "depth1": runNamed(makeChain(depth: 1), operation: arguments[3], count: count)
  case "depth10": runNamed(makeChain(depth: 10), operation: arguments[3], count: count)
  case "depth100": runNamed(makeChain(depth: 100), operation: arguments[3], count: count)
  default:
    printError("ProtobufBench: unknown case '\(arguments[2])'. Use small, medium, large, depth1, depth10 or depth100.")
    exit(2)
  }
} else {
  printError("usage: ProtobufBench time SCALE | ProtobufBench run CASE encode|decode N")
  exit(2)
}
printError("checksum \(sink)")
