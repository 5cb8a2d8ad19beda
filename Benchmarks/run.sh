#!/usr/bin/env bash
# Compare Tandem's echo-server with a gRPC C++ async server on unary echo.v1.Echo/Get over h2c.
#
# Both servers run pinned to one CPU (default CPU 1) and are driven by the same h2load
# command pinned to the other CPU (default CPU 0). Rounds alternate the servers (A B, A B, ...)
# and every server starts fresh in each round. The report is a Markdown table on stdout with
# medians over the rounds; see Benchmarks/README.md for the method.
#
# Usage: Benchmarks/run.sh [options]
#   --rounds N              rounds; each server runs once per round (default 3)
#   --requests N            requests in the 1 connection x 64 streams run (default 100000)
#   --latency-requests N    requests in the 1 connection x 1 stream run (default 20000)
#   --timeout SECONDS       limit for every h2load run (default 120)
#   --retries N             times a block is run again when other work used more than 5%
#                           of either CPU during it (default 2)
#   --servers LIST          comma-separated subset of tandem,cpp (default tandem,cpp)
#   --tandem-bin PATH       use this echo-server binary instead of building it
#   --tandem-args "ARGS"    extra arguments for echo-server (default none)
#   --server-cpu N          CPU for the servers (default 1)
#   --client-cpu N          CPU for h2load and this script (default 0); equal to
#                           --server-cpu gives the same-core variant
#   --proto-root DIR        directory containing echo/v1/echo.proto (default <repo>/Protos)
#   --out FILE              also append the report to FILE
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

rounds=3
throughput_requests=100000
latency_requests=20000
streams=64
run_timeout=120
retries=2
servers=tandem,cpp
tandem_bin=""
tandem_args=""
server_cpu=1
client_cpu=0
proto_root="$repo_root/Protos"
out_file=""

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

fail() {
  echo "run.sh: error: $*" >&2
  exit 1
}

warn() {
  echo "run.sh: WARNING: $*" >&2
  warnings+=("$*")
}

note() { echo "run.sh: $*" >&2; }

require_integer() {  # NAME VALUE MIN
  [[ $2 =~ ^[0-9]+$ ]] && (($2 >= $3)) || fail "invalid $1 '$2': must be an integer >= $3"
}

while (($# > 0)); do
  [[ $1 == -h || $1 == --help ]] && usage
  (($# >= 2)) || fail "missing value for $1"
  case $1 in
    --rounds) rounds=$2 ;;
    --requests) throughput_requests=$2 ;;
    --latency-requests) latency_requests=$2 ;;
    --timeout) run_timeout=$2 ;;
    --retries) retries=$2 ;;
    --servers) servers=$2 ;;
    --tandem-bin) tandem_bin=$2 ;;
    --tandem-args) tandem_args=$2 ;;
    --server-cpu) server_cpu=$2 ;;
    --client-cpu) client_cpu=$2 ;;
    --proto-root) proto_root=$2 ;;
    --out) out_file=$2 ;;
    *) fail "unknown option $1 (see --help)" ;;
  esac
  shift 2
done

require_integer --rounds "$rounds" 1
require_integer --requests "$throughput_requests" 1000
require_integer --latency-requests "$latency_requests" 100
require_integer --timeout "$run_timeout" 1
require_integer --retries "$retries" 0
cpu_count=$(getconf _NPROCESSORS_ONLN)
for cpu in "$server_cpu" "$client_cpu"; do
  require_integer "CPU" "$cpu" 0
  ((cpu < cpu_count)) || fail "invalid CPU $cpu: this machine has CPUs 0...$((cpu_count - 1))"
done

server_list=()
IFS=',' read -r -a requested_servers <<<"$servers"
for name in "${requested_servers[@]}"; do
  case $name in
    tandem | cpp) server_list+=("$name") ;;
    *) fail "invalid server '$name' in --servers: expected tandem or cpp" ;;
  esac
done
((${#server_list[@]} > 0)) || fail "--servers is empty"
wants() { [[ " ${server_list[*]} " == *" $1 "* ]]; }

warnings=()

# ---------------------------------------------------------------------------
# Tools and builds

install_missing_packages() {
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
      || missing+=("$package")
  done
  ((${#missing[@]} == 0)) && return
  note "installing Debian packages: ${missing[*]}"
  local sudo=""
  [[ $EUID -eq 0 ]] || sudo=sudo
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

packages=(nghttp2-client util-linux coreutils procps)
wants cpp && packages+=(g++ make pkg-config protobuf-compiler libprotobuf-dev libgrpc++-dev protobuf-compiler-grpc)
install_missing_packages "${packages[@]}"

if wants cpp; then
  [[ -f $proto_root/echo/v1/echo.proto ]] || fail "proto not found: $proto_root/echo/v1/echo.proto (see --proto-root)"
  note "building the C++ server"
  make -s -C "$repo_root/Benchmarks/cpp" PROTO_ROOT="$proto_root" >&2 \
    || fail "building Benchmarks/cpp failed"
  cpp_bin="$repo_root/.build/bench-cpp/echo_server"
fi

if wants tandem && [[ -z $tandem_bin ]]; then
  note "building echo-server (swift build -c release --product echo-server)"
  (cd "$repo_root" && swift build -c release --product echo-server >&2) \
    || fail "swift build -c release --product echo-server failed"
  tandem_bin="$(cd "$repo_root" && swift build -c release --show-bin-path)/echo-server"
fi
if wants tandem; then
  [[ -x $tandem_bin ]] || fail "echo-server binary not found or not executable: $tandem_bin"
fi

# ---------------------------------------------------------------------------
# Run directory, request body and clean-up

mkdir -p "$repo_root/.build"
work_dir=$(mktemp -d "$repo_root/.build/bench-run.XXXXXX")
server_pid=""

cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    sleep 0.5
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 5-byte gRPC prefix (uncompressed, length 19) + EchoRequest{text: "hello", payload: 10 x "x"}.
request_body="$work_dir/req.bin"
printf '\x00\x00\x00\x00\x13\x0a\x05hello\x12\x0axxxxxxxxxx' >"$request_body"
(($(stat -c %s "$request_body") == 24)) || fail "request body has the wrong size"

# The script and its children (h2load, samplers) stay off the server CPU from here on.
taskset -cp "$client_cpu" $$ >/dev/null

# ---------------------------------------------------------------------------
# Measurements from /proc

process_cpu_ticks() {  # PID -> utime+stime of all threads, in clock ticks
  sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

process_status_kb() {  # PID FIELD -> value in kB, for example VmRSS
  awk -v field="$2:" '$1 == field {print $2}' "/proc/$1/status"
}

# Busy ticks of one CPU since boot: user, nice, system and steal. Interrupt and softirq
# time is left out because the server's own network processing lands there.
cpu_busy_ticks() {  # CPU
  awk -v cpu="cpu$1" '$1 == cpu {print $2 + $3 + $4 + $9}' /proc/stat
}

clock_ticks=$(getconf CLK_TCK)

# Lists processes that used more than 5% of one CPU during a 1-second sample.
busy_processes() {
  local before after
  before=$(snapshot_process_ticks)
  sleep 1
  after=$(snapshot_process_ticks)
  awk -v hz="$clock_ticks" -v self="$$" '
    NR == FNR { ticks[$1] = $2; next }
    ($1 in ticks) && $1 != self {
      percent = ($2 - ticks[$1]) * 100 / hz
      if (percent > 5) printf "%s (pid %s) %.0f%%\n", $3, $1, percent
    }' <(echo "$before") <(echo "$after")
}

snapshot_process_ticks() {
  local file line
  for file in /proc/[0-9]*/stat; do
    read -r line <"$file" 2>/dev/null || continue
    local pid=${line%% *} comm=${line#*(}
    comm=${comm%)*}
    local rest=${line##*) }
    # shellcheck disable=SC2086
    set -- $rest
    echo "$pid $((${12} + ${13})) ${comm// /_}"
  done
}

check_quiet() {  # LABEL
  local busy
  busy=$(busy_processes)
  if [[ -n $busy ]]; then
    warn "box not quiet $1: $(echo "$busy" | paste -sd ';' -)"
  else
    note "box quiet $1 (no process above 5% of a CPU)"
  fi
  ps -eo pid,psr,pcpu,comm --sort=-pcpu | head -4 | sed 's/^/run.sh:   /' >&2
}

# ---------------------------------------------------------------------------
# Servers

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_server() {  # NAME -> sets server_pid, server_port
  local name=$1 log="$work_dir/$1.log"
  : >"$log"  # Empty it first, so a "listening" line from an earlier round cannot match.
  server_port=$(free_port)
  case $name in
    cpp)
      taskset -c "$server_cpu" "$cpp_bin" --host 127.0.0.1 --port "$server_port" >"$log" 2>&1 &
      ;;
    tandem)
      # shellcheck disable=SC2086
      taskset -c "$server_cpu" "$tandem_bin" --host 127.0.0.1 --port "$server_port" \
        --transport tcp --plaintext $tandem_args >"$log" 2>&1 &
      ;;
  esac
  server_pid=$!
  local waited=0
  until grep -q listening "$log"; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      fail "$name server exited before listening; its output: $(tail -5 "$log")"
    fi
    ((waited++ < 150)) || fail "$name server did not print 'listening' within 15 s"
    sleep 0.1
  done
}

stop_server() {
  kill -TERM "$server_pid" 2>/dev/null || true
  local waited=0
  while kill -0 "$server_pid" 2>/dev/null && ((waited++ < 50)); do sleep 0.1; done
  if kill -0 "$server_pid" 2>/dev/null; then
    warn "server pid $server_pid ignored SIGTERM for 5 s; killing it"
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

verify_grpc_status() {  # NAME
  local output
  output=$(timeout 10 nghttp -v -H 'content-type: application/grpc' -H 'te: trailers' \
    -d "$request_body" "http://127.0.0.1:$server_port/echo.v1.Echo/Get" 2>&1 | tr -d '\0' || true)
  if grep -aq 'grpc-status: 0' <<<"$output"; then
    note "$1: nghttp -v shows grpc-status: 0"
  else
    fail "$1: nghttp -v did not show grpc-status: 0; output: $(grep -a -E 'recv \(stream|error' <<<"$output" | head -10)"
  fi
}

# ---------------------------------------------------------------------------
# h2load

# Runs h2load on the client CPU; output goes to FILE. Extra arguments go before the URL.
run_h2load() {  # OUTPUT_FILE REQUESTS STREAMS [h2load options...]
  local output=$1 requests=$2 concurrent=$3
  shift 3
  local status=0
  timeout "$run_timeout" taskset -c "$client_cpu" h2load -n "$requests" -c 1 -m "$concurrent" "$@" \
    -H 'content-type: application/grpc' -H 'te: trailers' -d "$request_body" \
    "http://127.0.0.1:$server_port/echo.v1.Echo/Get" >"$output" 2>&1 || status=$?
  if ((status == 124)); then
    warn "h2load -n $requests -m $concurrent timed out after $run_timeout s"
  elif ((status != 0)); then
    warn "h2load -n $requests -m $concurrent exited with $status: $(tail -3 "$output")"
  fi
}

h2load_succeeded() { sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' "$1"; }
h2load_rate() { sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' "$1"; }

# Mean of "time for request" in microseconds; h2load prints units us, ms or s.
h2load_mean_us() {
  awk '/^time for request:/ {
    value = $6
    if (value ~ /us$/) { sub(/us$/, "", value); print value + 0 }
    else if (value ~ /ms$/) { sub(/ms$/, "", value); print value * 1000 }
    else if (value ~ /s$/) { sub(/s$/, "", value); print value * 1000000 }
  }' "$1"
}

# Percentile of column 3 (request duration in microseconds) of an h2load --log-file.
log_percentile() {  # FILE FRACTION
  awk '{print $3}' "$1" | sort -n | awk -v q="$2" '
    { values[NR] = $1 }
    END {
      if (NR == 0) exit
      index_ = int(NR * q + 0.5); if (index_ < 1) index_ = 1; if (index_ > NR) index_ = NR
      print values[index_]
    }'
}

# ---------------------------------------------------------------------------
# One measured block: start a server, warm it up, measure, stop it.

declare -A results  # results[server,metric] = space-separated values, one per round
declare -A block    # block[metric] = value from the block being measured
declare -A best_block  # the attempt of the current round with the minimum other work

record_block() {  # SERVER
  local metric
  for metric in "${!block[@]}"; do
    results[$1,$metric]="${results[$1,$metric]:-} ${block[$metric]}"
  done
}

# CPU seconds used so far by this shell and its waited-for children (h2load, samplers).
# `times` must run in this shell, not in a $(...) subshell, whose child times start at zero.
record_harness_cpu() {  # VARIABLE
  times >"$work_dir/times.txt"
  printf -v "$1" '%s' "$(harness_cpu_seconds "$work_dir/times.txt")"
}

harness_cpu_seconds() {  # TIMES_OUTPUT_FILE
  awk '
    function seconds(t) { split(t, p, "m"); sub(/s$/, "", p[2]); return p[1] * 60 + p[2] }
    { total += seconds($1) + seconds($2) }
    END { printf "%.3f", total }' "$1"
}

# Percentage of one CPU used by other work: (busy ticks - own seconds) / elapsed seconds.
other_percent() {  # BUSY_TICKS OWN_SECONDS ELAPSED_SECONDS
  awk -v busy="$1" -v own="$2" -v elapsed="$3" -v hz="$clock_ticks" \
    'BEGIN {o = (busy / hz - own) / elapsed * 100; if (o < 0) o = 0; printf "%.1f", o}'
}

# Measures one server once and fills `block`. Sets block_noise to the share of a CPU used by
# other work during the measured runs, the larger of the server CPU and the client CPU.
measure_server() {  # NAME ROUND
  local name=$1 round=$2
  block=()
  start_server "$name"
  if ((round == 1)); then verify_grpc_status "$name"; fi

  local warmup=$((throughput_requests / 10))
  ((warmup > 10000)) && warmup=10000
  run_h2load "$work_dir/warmup.txt" "$warmup" "$streams"

  local server_busy_before client_busy_before harness_before block_ticks_before started
  server_busy_before=$(cpu_busy_ticks "$server_cpu")
  client_busy_before=$(cpu_busy_ticks "$client_cpu")
  record_harness_cpu harness_before
  block_ticks_before=$(process_cpu_ticks "$server_pid")
  started=$(date +%s.%N)

  # Throughput at 1 connection x 64 streams, with VmRSS sampled while h2load runs.
  local ticks_before ticks_after
  ticks_before=$(process_cpu_ticks "$server_pid")
  run_h2load "$work_dir/throughput.txt" "$throughput_requests" "$streams" &
  local loader=$! rss_max=0 rss
  while kill -0 "$loader" 2>/dev/null; do
    rss=$(process_status_kb "$server_pid" VmRSS || echo 0)
    if ((rss > rss_max)); then rss_max=$rss; fi
    sleep 0.2
  done
  wait "$loader" || true
  ticks_after=$(process_cpu_ticks "$server_pid")
  local hwm succeeded
  hwm=$(process_status_kb "$server_pid" VmHWM)
  succeeded=$(h2load_succeeded "$work_dir/throughput.txt")
  succeeded=${succeeded:-0}
  if ((succeeded < throughput_requests)); then
    warn "$name round $round: $succeeded of $throughput_requests requests succeeded at 1x$streams"
  fi
  if ((succeeded > 0)); then
    block[rps]=$(h2load_rate "$work_dir/throughput.txt")
    block[cpu64]=$(awk -v t=$((ticks_after - ticks_before)) -v hz="$clock_ticks" -v n="$succeeded" \
      'BEGIN {printf "%.2f", t / hz * 1e6 / n}')
    block[rss]=$(awk -v k="$rss_max" 'BEGIN {printf "%.1f", k / 1024}')
    block[hwm]=$(awk -v k="$hwm" 'BEGIN {printf "%.1f", k / 1024}')
  fi

  # Latency at 1 connection x 1 stream; h2load appends to --log-file, so start it empty.
  local log_file="$work_dir/latency.log"
  rm -f "$log_file"
  ticks_before=$(process_cpu_ticks "$server_pid")
  run_h2load "$work_dir/latency.txt" "$latency_requests" 1 --log-file="$log_file"
  ticks_after=$(process_cpu_ticks "$server_pid")
  succeeded=$(h2load_succeeded "$work_dir/latency.txt")
  succeeded=${succeeded:-0}
  if ((succeeded < latency_requests)); then
    warn "$name round $round: $succeeded of $latency_requests requests succeeded at 1x1"
  fi
  if ((succeeded > 0)); then
    block[mean1]=$(h2load_mean_us "$work_dir/latency.txt")
    block[p50]=$(log_percentile "$log_file" 0.50)
    block[p99]=$(log_percentile "$log_file" 0.99)
    block[rps1]=$(h2load_rate "$work_dir/latency.txt")
    block[cpu1]=$(awk -v t=$((ticks_after - ticks_before)) -v hz="$clock_ticks" -v n="$succeeded" \
      'BEGIN {printf "%.2f", t / hz * 1e6 / n}')
  fi
  rm -f "$log_file"

  # Other work during both runs. On the server CPU it is the CPU's busy time minus the
  # server's. On the client CPU it is the busy time minus that of this script and h2load.
  local elapsed server_own client_own server_other client_other harness_after
  elapsed=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN {print e - s}')
  record_harness_cpu harness_after
  server_own=$(awk -v t=$(($(process_cpu_ticks "$server_pid") - block_ticks_before)) -v hz="$clock_ticks" \
    'BEGIN {print t / hz}')
  client_own=$(awk -v a="$harness_before" -v b="$harness_after" 'BEGIN {print b - a}')
  server_other=$(other_percent $(($(cpu_busy_ticks "$server_cpu") - server_busy_before)) "$server_own" "$elapsed")
  client_other=$(other_percent $(($(cpu_busy_ticks "$client_cpu") - client_busy_before)) "$client_own" "$elapsed")
  if [[ $server_cpu == "$client_cpu" ]]; then
    # Same core: one CPU carries both, so subtract both from it once.
    server_other=$(other_percent $(($(cpu_busy_ticks "$server_cpu") - server_busy_before)) \
      "$(awk -v a="$server_own" -v b="$client_own" 'BEGIN {print a + b}')" "$elapsed")
    client_other=$server_other
  fi
  block_noise=$(awk -v a="$server_other" -v b="$client_other" 'BEGIN {print (a > b) ? a : b}')

  stop_server
  note "$name round $round: ${block[rps]:-n/a} req/s at 1x$streams, p50 ${block[p50]:-n/a} us at 1x1;" \
    "other work: $server_other% of CPU $server_cpu, $client_other% of CPU $client_cpu"
}

# ---------------------------------------------------------------------------
# Rounds. A block in which other work used more than 5% of either CPU is run again, up to
# --retries times. When every attempt was noisy, the least noisy one is kept and reported.

run_date=$(date -u '+%Y-%m-%d %H:%M UTC')
noisy_blocks=0
check_quiet "before the runs"
for ((round = 1; round <= rounds; round++)); do
  for name in "${server_list[@]}"; do
    best_noise=""
    for ((attempt = 0; ; attempt++)); do
      measure_server "$name" "$round"
      if [[ -z $best_noise ]] || awk -v n="$block_noise" -v b="$best_noise" 'BEGIN {exit !(n < b)}'; then
        best_noise=$block_noise
        best_block=()
        for metric in "${!block[@]}"; do best_block[$metric]=${block[$metric]}; done
      fi
      if awk -v n="$block_noise" 'BEGIN {exit !(n <= 5)}'; then
        break
      fi
      if ((attempt >= retries)); then
        warn "$name round $round: every attempt was noisy; kept the one with other work at" \
          "$best_noise% of a CPU, after $retries retries"
        noisy_blocks=$((noisy_blocks + 1))
        break
      fi
      note "$name round $round: other work used $block_noise% of a CPU, running the block again"
    done
    block=()
    for metric in "${!best_block[@]}"; do block[$metric]=${best_block[$metric]}; done
    record_block "$name"
  done
done
check_quiet "after the runs"

# ---------------------------------------------------------------------------
# Report

median() {  # values... -> median, or "n/a"
  printf '%s\n' "$@" | awk 'NF' | sort -g | awk '
    { v[NR] = $1 }
    END {
      if (NR == 0) { print "n/a"; exit }
      if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
      print m
    }'
}

format_number() {  # VALUE DECIMALS
  [[ $1 == n/a ]] && { echo "n/a"; return; }
  awk -v v="$1" -v d="$2" 'BEGIN {printf "%.*f", d, v}'
}

ratio() {  # A B
  [[ $1 == n/a || $2 == n/a ]] && { echo "n/a"; return; }
  awk -v a="$1" -v b="$2" 'BEGIN {if (b == 0) print "n/a"; else printf "%.2f", a / b}'
}

metric_rows=(
  "rps|Unary throughput, 1 conn x $streams streams (req/s, higher is better)|0"
  "cpu64|Server CPU per call at 1 x $streams (us, lower is better)|2"
  "rss|Server VmRSS under load, max sampled (MiB)|1"
  "hwm|Server VmHWM, peak (MiB)|1"
  "mean1|Mean latency, 1 conn x 1 stream (us, h2load)|0"
  "p50|p50 latency at 1 x 1 (us, --log-file)|0"
  "p99|p99 latency at 1 x 1 (us, --log-file)|0"
  "rps1|Throughput at 1 x 1 (req/s)|0"
  "cpu1|Server CPU per call at 1 x 1 (us)|2"
)

report() {
  local same_core=""
  [[ $server_cpu == "$client_cpu" ]] && same_core=" (same core)"
  echo "## Unary echo.v1.Echo/Get over h2c: Tandem vs gRPC C++ ($run_date)"
  echo
  echo "- Host: $cpu_count CPUs, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), kernel $(uname -r)"
  echo "- Servers pinned to CPU $server_cpu, h2load $(h2load --version 2>/dev/null | awk '{print $2; exit}') pinned to CPU $client_cpu$same_core"
  echo "- Rounds: $rounds, alternating ${server_list[*]}; each value is the median over the rounds;" \
    "blocks with more than 5% other work on either CPU were run again up to $retries times;" \
    "noisy blocks kept: $noisy_blocks"
  echo "- Requests per run: $throughput_requests at 1 x $streams, $latency_requests at 1 x 1;" \
    "request: 5-byte prefix + EchoRequest{text: \"hello\", payload: 10 bytes}"
  if wants tandem; then
    echo "- Tandem: $tandem_bin --transport tcp --plaintext $tandem_args"
  fi
  if wants cpp; then
    echo "- gRPC C++ $(pkg-config --modversion grpc++ 2>/dev/null || echo '?'): Benchmarks/cpp/echo_server.cc, async, one completion-queue thread"
  fi
  echo "- Command: Benchmarks/run.sh --rounds $rounds --requests $throughput_requests" \
    "--latency-requests $latency_requests --retries $retries --servers $(IFS=,; echo "${server_list[*]}")" \
    "--server-cpu $server_cpu --client-cpu $client_cpu"
  echo
  echo "| Metric | Tandem | gRPC C++ | Tandem / C++ |"
  echo "|---|---:|---:|---:|"
  local row key label decimals ours theirs
  for row in "${metric_rows[@]}"; do
    IFS='|' read -r key label decimals <<<"$row"
    # shellcheck disable=SC2086
    ours=$(median ${results[tandem,$key]:-})
    # shellcheck disable=SC2086
    theirs=$(median ${results[cpp,$key]:-})
    echo "| $label | $(format_number "$ours" "$decimals") | $(format_number "$theirs" "$decimals") | $(ratio "$ours" "$theirs") |"
  done
  echo
  echo "Per round (values in round order):"
  echo
  echo "| Metric | Server | Values |"
  echo "|---|---|---|"
  for row in "${metric_rows[@]}"; do
    IFS='|' read -r key label decimals <<<"$row"
    for name in "${server_list[@]}"; do
      echo "| $key | $name |${results[$name,$key]:- n/a} |"
    done
  done
  if ((${#warnings[@]} > 0)); then
    echo
    echo "Warnings:"
    local line
    for line in "${warnings[@]}"; do echo "- $line"; done
  fi
}

if [[ -n $out_file ]]; then
  report | tee -a "$out_file"
else
  report
fi
