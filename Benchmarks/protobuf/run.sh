#!/usr/bin/env bash
# Builds the protobuf benchmark (Swift with TandemProtobuf, C++ with Debian's libprotobuf) and
# prints, for each case and operation: callgrind instructions per operation for both, their ratio,
# allocations per operation, and wall-clock nanoseconds per operation from interleaved runs.
#
# Usage: Benchmarks/protobuf/run.sh [ROUNDS]
#   ROUNDS  interleaved timing rounds per program (default 3); the median is printed.
# Needs protoc, g++, libprotobuf-dev, valgrind and a Swift toolchain. Work files go to
# $TMPDIR/tandem-protobuf-bench (default /tmp).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rounds=${1:-3}
work=${TMPDIR:-/tmp}/tandem-protobuf-bench
mkdir -p "$work"

echo "building the allocation counter, the C++ program and the Swift program" >&2
gcc -O2 -shared -fPIC -o "$work/libtandem_alloc_counter.so" "$here/alloc_counter.c"
protoc -I"$here" --cpp_out="$work" "$here/bench.proto"
g++ -O2 -std=c++17 -I"$work" -o "$work/bench_cpp" "$here/cpp/bench.cc" "$work/bench.pb.cc" -lprotobuf -ldl
swift build -c release --package-path "$here/swift" >&2
swift_bench="$here/swift/.build/release/ProtobufBench"
cpp_bench="$work/bench_cpp"

# Instructions per operation: the difference between N2 and N1 operations divided by N2 - N1, so
# that process start and message setup cancel out.
instructions() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 | awk '/Collected/ { gsub(",", "", $4); print $4 }'
}
per_operation() {
  local binary=$1 name=$2 operation=$3 low=$4 high=$5
  local a b
  a=$(instructions "$binary" run "$name" "$operation" "$low")
  b=$(instructions "$binary" run "$name" "$operation" "$high")
  echo $(((b - a) / (high - low)))
}

echo
echo "Instructions per operation (valgrind --tool=callgrind)"
printf "%-9s %-7s %12s %12s %7s\n" case op swift cpp ratio
for spec in small:200:1200 medium:20:120 large:1:3 depth1:200:1200 depth10:50:300 depth100:5:30; do
  IFS=: read -r name low high <<<"$spec"
  for operation in encode decode; do
    swift_ir=$(per_operation "$swift_bench" "$name" "$operation" "$low" "$high")
    cpp_ir=$(per_operation "$cpp_bench" "$name" "$operation" "$low" "$high")
    ratio=$(awk -v s="$swift_ir" -v c="$cpp_ir" 'BEGIN { printf "%.2f", s / c }')
    printf "%-9s %-7s %12d %12d %7s\n" "$name" "$operation" "$swift_ir" "$cpp_ir" "$ratio"
  done
done

echo
echo "Wall clock and allocations per operation (median of $rounds interleaved rounds, LD_PRELOAD counter)"
rm -f "$work"/time-*.txt
for round in $(seq "$rounds"); do
  LD_PRELOAD="$work/libtandem_alloc_counter.so" "$swift_bench" time 10 >>"$work/time-swift.txt" 2>/dev/null
  LD_PRELOAD="$work/libtandem_alloc_counter.so" "$cpp_bench" time 10 >>"$work/time-cpp.txt" 2>/dev/null
done
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
printf "%-9s %-7s %8s %12s %12s %7s %12s %12s\n" case op bytes swift_ns cpp_ns ratio swift_alloc cpp_alloc
for name in small medium large depth1 depth10 depth100; do
  for operation in encode decode; do
    swift_ns=$(awk -v n="$name" -v o="$operation" '$1 == n && $2 == o { print $3 }' "$work/time-swift.txt" | median)
    cpp_ns=$(awk -v n="$name" -v o="$operation" '$1 == n && $2 == o { print $3 }' "$work/time-cpp.txt" | median)
    swift_alloc=$(awk -v n="$name" -v o="$operation" '$1 == n && $2 == o { print $4 }' "$work/time-swift.txt" | median)
    cpp_alloc=$(awk -v n="$name" -v o="$operation" '$1 == n && $2 == o { print $4 }' "$work/time-cpp.txt" | median)
    bytes=$(awk -v n="$name" -v o="$operation" '$1 == n && $2 == o { print $5; exit }' "$work/time-swift.txt")
    ratio=$(awk -v s="$swift_ns" -v c="$cpp_ns" 'BEGIN { printf "%.2f", s / c }')
    printf "%-9s %-7s %8s %12.0f %12.0f %7s %12s %12s\n" "$name" "$operation" "$bytes" "$swift_ns" "$cpp_ns" "$ratio" "$swift_alloc" "$cpp_alloc"
  done
done
