#!/usr/bin/env bash
# QUIC benchmarks on loopback, in three sections; see Benchmarks/quic/README.md for the method.
#
#   rpc       Tandem's echo over QUIC against Tandem's echo over HTTP/2 (TLS on both), same
#             client: unary calls per second at 1 and 64 concurrent calls, streaming throughput
#             with 1 MiB messages, handshakes per second (full and 0-RTT), CPU time per call.
#   bulk      Debian's gtlsserver serving a file of --bulk-mib MiB to gtlsclient, and the same
#             byte count through Tandem's QUIC; MB/s per run, median of --repeats. Both with
#             their defaults, and both with the same datagram size (1,452 and 65,507 bytes).
#   zero-rtt  time to the first response through an added one-way delay: gtlsclient with a
#             full handshake and with 0-RTT (--session-file, --tp-file), and Tandem's first call
#             with a full handshake, a resumed session and 0-RTT. The delay comes from a network
#             namespace with `tc netem` when that works, otherwise from the UDP relay (quic-relay).
# The Tandem parts need the load client tandem-bench (Benchmarks/tandem-bench, built with
# `swift build -c release --product tandem-bench`) and are skipped with a warning without it.
#
# Usage: Benchmarks/quic/run.sh [options]
#   --sections LIST       comma-separated subset of rpc,bulk,zero-rtt (default all three)
#   --repeats N           runs per measurement; the report shows the median (default 3)
#   --bulk-mib N          size of the bulk file in MiB, 1...1024 (default 64)
#   --delay-ms N          one-way delay for the zero-rtt section, 1...1000 ms (default 25)
#   --delay-method M      auto, netns or relay (default auto: netns when root and netem works)
#   --rpc-calls N         unary calls per rpc run (default 20000)
#   --stream-mib N        MiB sent as 1 MiB messages per streaming run (default 64)
#   --handshakes N        new channels (one call each) per handshake run (default 500)
#   --timeout SECONDS     limit for every client run (default 60)
#   --server-cpu N        CPU for the servers (default 1)
#   --client-cpu N        CPU for the clients (default 0)
#   --tandem-bench PATH   load client (default .build/release/tandem-bench)
#   --echo-server PATH    Tandem echo-server (default .build/release/echo-server)
#   --out FILE            also append the report to FILE
# The report (Markdown) goes to stdout; progress and warnings go to stderr. All traffic stays
# on 127.0.0.1 (or inside a namespace this script creates and deletes), every client run has
# a time limit, and every server is stopped by its process id.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

sections=rpc,bulk,zero-rtt
repeats=3
bulk_mib=64
delay_ms=25
delay_method=auto
rpc_calls=20000
handshake_count=500
stream_mib=64
run_timeout=60
server_cpu=1
client_cpu=0
tandem_bench="$repo_root/.build/release/tandem-bench"
echo_server="$repo_root/.build/release/echo-server"
out_file=""

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}
fail() {
  echo "run.sh: error: $*" >&2
  exit 1
}
warnings=()
warn() {
  echo "run.sh: WARNING: $*" >&2
  warnings+=("$*")
}
note() { echo "run.sh: $*" >&2; }

require_integer() {  # NAME VALUE MIN MAX
  [[ $2 =~ ^[0-9]+$ ]] && (($2 >= $3 && $2 <= $4)) || fail "invalid $1 '$2': must be an integer in $3...$4"
}

while (($# > 0)); do
  [[ $1 == -h || $1 == --help ]] && usage
  (($# >= 2)) || fail "missing value for $1"
  case $1 in
    --sections) sections=$2 ;;
    --repeats) repeats=$2 ;;
    --bulk-mib) bulk_mib=$2 ;;
    --delay-ms) delay_ms=$2 ;;
    --delay-method) delay_method=$2 ;;
    --rpc-calls) rpc_calls=$2 ;;
    --stream-mib) stream_mib=$2 ;;
    --handshakes) handshake_count=$2 ;;
    --timeout) run_timeout=$2 ;;
    --server-cpu) server_cpu=$2 ;;
    --client-cpu) client_cpu=$2 ;;
    --tandem-bench) tandem_bench=$2 ;;
    --echo-server) echo_server=$2 ;;
    --out) out_file=$2 ;;
    *) fail "unknown option $1 (see --help)" ;;
  esac
  shift 2
done

require_integer --repeats "$repeats" 1 100
require_integer --bulk-mib "$bulk_mib" 1 1024
require_integer --delay-ms "$delay_ms" 1 1000
require_integer --rpc-calls "$rpc_calls" 100 10000000
require_integer --stream-mib "$stream_mib" 1 4096
require_integer --handshakes "$handshake_count" 1 100000
require_integer --timeout "$run_timeout" 1 3600
cpu_count=$(getconf _NPROCESSORS_ONLN)
require_integer --server-cpu "$server_cpu" 0 $((cpu_count - 1))
require_integer --client-cpu "$client_cpu" 0 $((cpu_count - 1))
case $delay_method in
  auto | netns | relay) ;;
  *) fail "invalid --delay-method '$delay_method': expected auto, netns or relay" ;;
esac
IFS=',' read -r -a section_list <<<"$sections"
for section in "${section_list[@]}"; do
  case $section in
    rpc | bulk | zero-rtt) ;;
    *) fail "invalid section '$section' in --sections: expected rpc, bulk or zero-rtt" ;;
  esac
done
wants() { [[ ",$sections," == *",$1,"* ]]; }

for tool in gtlsserver gtlsclient taskset openssl; do
  command -v "$tool" >/dev/null || fail "$tool not found; run scripts/setup.sh (gtlsserver and gtlsclient are in ngtcp2-server and ngtcp2-client)"
done

mkdir -p "$repo_root/.build"
work_dir=$(mktemp -d "$repo_root/.build/quic-bench.XXXXXX")
server_pids=()
namespace=""
cleanup() {
  local pid
  for pid in "${server_pids[@]}"; do
    stop_process "$pid"
  done
  if [[ -n $namespace ]]; then
    ip netns delete "$namespace" 2>/dev/null || true
  fi
  rm -rf "$work_dir"
}
trap cleanup EXIT

# Stops one process that this script started: SIGTERM, then SIGKILL after 5 s.
stop_process() {  # PID
  kill -TERM "$1" 2>/dev/null || return 0
  local waited=0
  while kill -0 "$1" 2>/dev/null && ((waited++ < 50)); do sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

stop_servers() {
  local pid
  for pid in "${server_pids[@]}"; do
    stop_process "$pid"
  done
  server_pids=()
  watched_pid=""
}

bash "$repo_root/Tests/Interop/make_certs.sh" "$work_dir/certs" >/dev/null
certs="$work_dir/certs"
clock_ticks=$(getconf CLK_TCK)

free_udp_port() {
  python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# utime + stime of a process in clock ticks, from /proc/PID/stat.
process_cpu_ticks() {
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

median() {  # values... -> median, or "n/a"
  printf '%s\n' "$@" | awk 'NF && $1 != "n/a"' | sort -g | awk '
    { v[NR] = $1 }
    END {
      if (NR == 0) { print "n/a"; exit }
      if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
      print m
    }'
}

ratio() {  # A B -> A / B with 2 decimals, or n/a
  [[ $1 == n/a || $2 == n/a ]] && { echo "n/a"; return; }
  awk -v a="$1" -v b="$2" 'BEGIN {if (b == 0) print "n/a"; else printf "%.2f", a / b}'
}

# Busy time of all CPUs in clock ticks (user, nice, system, irq, softirq, steal) from /proc/stat.
all_cpus_busy_ticks() {
  awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

# Runs a command with the time limit and sets elapsed (s), cpu (s, user + system of the
# command and its children) and run_status. When watched_pid is set (a server), it also
# compares the busy time of all CPUs with the time of the command and that server. The rest
# is work of other processes on the machine, stored in other_work as percent of one CPU.
# A run with more than 10% is listed as a warning, and max_other_work keeps the largest value.
watched_pid=""
max_other_work=0
timed_run() {  # OUTPUT_FILE COMMAND...
  local output=$1
  shift
  local TIMEFORMAT='%R %U %S' timing busy_before busy_after server_before=0 server_after=0
  busy_before=$(all_cpus_busy_ticks)
  [[ -n $watched_pid ]] && server_before=$(process_cpu_ticks "$watched_pid" 2>/dev/null || echo 0)
  run_status=0
  timing=$({ time timeout "$run_timeout" "$@" >"$output" 2>&1; } 2>&1) || run_status=$?
  busy_after=$(all_cpus_busy_ticks)
  [[ -n $watched_pid ]] && server_after=$(process_cpu_ticks "$watched_pid" 2>/dev/null || echo 0)
  # `time` reports on its last line; a failing command leaves the status in run_status.
  read -r elapsed user system <<<"$(tail -1 <<<"$timing")"
  cpu=$(awk -v u="$user" -v s="$system" 'BEGIN {printf "%.3f", u + s}')
  other_work=$(awk -v b=$((busy_after - busy_before)) -v sv=$((server_after - server_before)) -v hz="$clock_ticks" \
    -v c="$cpu" -v e="$elapsed" 'BEGIN { o = (b - sv) / hz - c; if (o < 0) o = 0; printf "%.0f", (e > 0 ? o / e * 100 : 0) }')
  if ((other_work > max_other_work)); then max_other_work=$other_work; fi
  if ((other_work > 10)); then
    warn "other processes used about ${other_work}% of a CPU during: ${*: -6}"
  fi
}

declare -A report_rows=()
report_order=()
add_row() {  # SECTION LABEL VALUE...
  local key="$1|$2"
  shift 2
  report_rows[$key]=$(IFS=';'; echo "$*")
  report_order+=("$key")
}

# ===========================================================================
# Tandem's load client, tandem-bench (Benchmarks/tandem-bench; `tandem-bench --help`).
#
# run_tandem_bench OUTPUT TRANSPORT PORT WORKLOAD ARGS... runs it once, pinned to the client
# CPU, against a server on 127.0.0.1:PORT. TRANSPORT is tcp (HTTP/2 over TLS) or quic (HTTP/3).
# It prints one line "RESULT key=value ...":
#   unary --concurrency N --calls N  -> calls_per_s p50_us p99_us server_cpu_us_per_call ...
#   stream --message-bytes N --messages N -> bytes seconds mb_per_s
#   bulk --bytes N                   -> bytes seconds mb_per_s
#   handshakes --count N [--zero-rtt] -> handshakes_per_s with_ticket server_cpu_us_per_handshake
#   first-call --rounds N            -> full_ms resumed_ms zero_rtt_ms (medians) and *_runs
# With --server-pid the client reads the server's /proc/PID/stat before and after the
# measured part, so warm-up calls and the first handshake are not counted.
# Set bench_prefix (an array) to run the client inside a network namespace.
# ===========================================================================
bench_prefix=()
run_tandem_bench() {  # OUTPUT_FILE TRANSPORT PORT WORKLOAD [ARGS...]
  local output=$1 transport=$2 port=$3 workload=$4
  shift 4
  timed_run "$output" "${bench_prefix[@]}" taskset -c "$client_cpu" "$tandem_bench" --target "127.0.0.1:$port" \
    --transport "$transport" --ca "$certs/ca.pem" --server-name localhost --time-limit "$run_timeout" \
    --workload "$workload" "$@"
}

# Reads KEY from the RESULT line of FILE, or prints n/a.
result_value() {  # FILE KEY
  local value
  value=$(awk -v key="$2" '/^RESULT / { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) print kv[2] } }' "$1" | tail -1)
  echo "${value:-n/a}"
}

tandem_bench_ready() {
  [[ -x $tandem_bench ]]
}

# Starts Tandem's echo-server for TRANSPORT and sets server_port and server_pid; returns 1
# when it cannot. Set server_prefix (an array) to start it inside a network namespace.
server_prefix=()
start_echo_server() {  # TRANSPORT
  local transport=$1 log="$work_dir/echo-server-$1.log"
  server_port=$(free_udp_port)
  "${server_prefix[@]}" taskset -c "$server_cpu" "$echo_server" --host 127.0.0.1 --port "$server_port" --transport "$transport" \
    --tls-cert "$certs/server-chain.pem" --tls-key "$certs/server.key" >"$log" 2>&1 &
  local pid=$!
  server_pids+=("$pid")
  server_pid=$pid
  watched_pid=$pid
  local waited=0
  until grep -q listening "$log"; do
    if ! kill -0 "$pid" 2>/dev/null || ((waited++ >= 150)); then
      warn "echo-server --transport $transport did not start: $(tail -2 "$log" | tr '\n' ' ')"
      stop_servers
      return 1
    fi
    sleep 0.1
  done
}

# ===========================================================================
# Section rpc: the same client against echo-server over HTTP/2 and over QUIC.

section_rpc() {
  if ! tandem_bench_ready; then
    warn "rpc: skipped: no load client at $tandem_bench (build it with swift build -c release --product tandem-bench)"
    add_row rpc "Unary calls/s at 1 and 64 concurrent, streaming MB/s, server CPU per call" "skipped: no tandem-bench"
    return
  fi
  local transport round workload
  declare -A values=()
  for ((round = 1; round <= repeats; round++)); do
    for transport in tcp quic; do
      start_echo_server "$transport" || continue
      for workload in unary1 unary64 stream handshakes zero-rtt-handshakes; do
        local output="$work_dir/rpc-$transport-$workload.txt"
        local pid_args=(--server-pid "$server_pid")
        case $workload in
          unary1) run_tandem_bench "$output" "$transport" "$server_port" unary --concurrency 1 --calls "$rpc_calls" "${pid_args[@]}" ;;
          unary64) run_tandem_bench "$output" "$transport" "$server_port" unary --concurrency 64 --calls "$rpc_calls" "${pid_args[@]}" ;;
          stream) run_tandem_bench "$output" "$transport" "$server_port" stream --message-bytes 1048576 --messages "$stream_mib" "${pid_args[@]}" ;;
          handshakes) run_tandem_bench "$output" "$transport" "$server_port" handshakes --count "$handshake_count" "${pid_args[@]}" ;;
          zero-rtt-handshakes)
            [[ $transport == quic ]] || continue
            run_tandem_bench "$output" "$transport" "$server_port" handshakes --count "$handshake_count" --zero-rtt "${pid_args[@]}" ;;
        esac
        if ((run_status != 0)); then
          warn "rpc: $transport $workload round $round: tandem-bench exited with $run_status: $(tail -2 "$output" | tr '\n' ' ')"
          continue
        fi
        note "rpc: $transport $workload round $round: $(grep "^RESULT" "$output" | cut -c 8-), other work ${other_work}% of a CPU"
        case $workload in
          unary1 | unary64)
            values[$transport,$workload]+=" $(result_value "$output" calls_per_s)"
            values[$transport,mean_$workload]+=" $(result_value "$output" mean_us)"
            values[$transport,p50_$workload]+=" $(result_value "$output" p50_us)"
            values[$transport,slow_$workload]+=" $(result_value "$output" calls_over_10ms)"
            values[$transport,p99_$workload]+=" $(result_value "$output" p99_us)"
            values[$transport,cpu_$workload]+=" $(result_value "$output" server_cpu_us_per_call)"
            values[$transport,client_$workload]+=" $(result_value "$output" client_cpu_us_per_call)"
            ;;
          stream)
            values[$transport,stream]+=" $(result_value "$output" mb_per_s)"
            values[$transport,cpu_stream]+=" $(result_value "$output" server_cpu_us_per_message)"
            ;;
          handshakes | zero-rtt-handshakes)
            values[$transport,$workload]+=" $(result_value "$output" handshakes_per_s)"
            values[$transport,cpu_$workload]+=" $(result_value "$output" server_cpu_us_per_handshake)"
            if [[ $workload == zero-rtt-handshakes ]]; then
              values[$transport,ticket_$workload]+=" $(result_value "$output" with_ticket)"
            fi
            ;;
        esac
      done
      stop_servers
    done
  done
  local metric key label h2 h3
  for metric in "unary1|Unary calls/s, 1 concurrent" "unary64|Unary calls/s, 64 concurrent" \
    "mean_unary1|Mean latency at 1 concurrent (µs)" "slow_unary1|Calls slower than 10 ms at 1 concurrent (of --rpc-calls)" \
    "p50_unary1|p50 latency at 1 concurrent (µs)" "p99_unary1|p99 latency at 1 concurrent (µs)" \
    "p50_unary64|p50 latency at 64 concurrent (µs)" "p99_unary64|p99 latency at 64 concurrent (µs)" \
    "cpu_unary1|Server CPU per call at 1 (µs)" "cpu_unary64|Server CPU per call at 64 (µs)" \
    "client_unary1|Client CPU per call at 1 (µs)" "client_unary64|Client CPU per call at 64 (µs)" \
    "stream|Streaming, 1 MiB messages echoed on one call (MB/s, one direction)" \
    "cpu_stream|Server CPU per 1 MiB message echoed (µs)" \
    "handshakes|Handshakes/s, full (new channel per call, $handshake_count calls)" \
    "cpu_handshakes|Server CPU per full handshake and call (µs)" \
    "zero-rtt-handshakes|Handshakes/s, 0-RTT (QUIC; HTTP/2 column: full TLS)" \
    "cpu_zero-rtt-handshakes|Server CPU per 0-RTT handshake and call (µs)"; do
    IFS='|' read -r key label <<<"$metric"
    # shellcheck disable=SC2086
    h2=$(median ${values[tcp,$key]:-})
    # shellcheck disable=SC2086
    h3=$(median ${values[quic,$key]:-})
    case $key in
      zero-rtt-handshakes) h2=$(median ${values[tcp,handshakes]:-}) ;;
      cpu_zero-rtt-handshakes) h2=$(median ${values[tcp,cpu_handshakes]:-}) ;;
    esac
    add_row rpc "$label" "$h3" "$h2" "$(ratio "$h3" "$h2")"
  done
  add_row rpc "0-RTT handshake runs: calls made with a cached ticket (runs: ${values[quic,ticket_zero-rtt-handshakes]:-none})" "" "" ""
}

# ===========================================================================
# Section bulk: gtlsserver -> gtlsclient, and Tandem's QUIC moving the same bytes.
#
# Tandem sends loopback-sized datagrams by default (HTTP3Configuration.loopbackUDPPayloadSize,
# 65,507 bytes), the example pair sends at most 1,444 bytes without --max-udp-payload-size. Besides the
# bar (both with their defaults) each round therefore also runs both with the same datagram
# size: Tandem with --quic-loopback-payload off against the pair's defaults, and the pair with
# --max-udp-payload-size=65507 against Tandem's default.

# Downloads bulk.bin from the gtlsserver on PORT once and appends MB/s, client CPU and the
# server's CPU to the arrays named by the prefix PREFIX (PREFIX_rates, PREFIX_cpus, PREFIX_server_cpus).
run_gtls_download() {  # PREFIX PORT SERVER_PID ROUND [EXTRA_CLIENT_ARGS...]
  local prefix=$1 port=$2 pid=$3 round=$4
  shift 4
  local -n rates_ref="${prefix}_rates" cpus_ref="${prefix}_cpus" server_ref="${prefix}_server_cpus"
  local ticks_before ticks_after
  watched_pid=$pid
  ticks_before=$(process_cpu_ticks "$pid")
  timed_run "$work_dir/bulk.log" taskset -c "$client_cpu" gtlsclient -q --no-http-dump \
    --exit-on-all-streams-close "$@" 127.0.0.1 "$port" "https://localhost:$port/bulk.bin"
  ticks_after=$(process_cpu_ticks "$pid")
  if ((run_status != 0)); then
    warn "bulk: gtlsclient ($prefix) run $round exited with $run_status after $elapsed s; not counted"
    return
  fi
  rates_ref+=("$(awk -v b="$bytes" -v s="$elapsed" 'BEGIN {printf "%.1f", b / s / 1e6}')")
  cpus_ref+=("$cpu")
  server_ref+=("$(awk -v t=$((ticks_after - ticks_before)) -v hz="$clock_ticks" 'BEGIN {printf "%.2f", t / hz}')")
  note "bulk: gtlsclient ($prefix) run $round: $elapsed s, ${rates_ref[-1]} MB/s, other work ${other_work}% of a CPU"
}

# Runs tandem-bench's bulk workload once and appends MB/s, client CPU and server CPU to the
# arrays named by PREFIX.
run_tandem_bulk() {  # PREFIX PORT SERVER_PID ROUND [EXTRA_BENCH_ARGS...]
  local prefix=$1 port=$2 pid=$3 round=$4
  shift 4
  local -n rates_ref="${prefix}_rates" cpus_ref="${prefix}_cpus" server_ref="${prefix}_server_cpus"
  watched_pid=$pid
  run_tandem_bench "$work_dir/bulk-tandem.txt" quic "$port" bulk --bytes "$bytes" --server-pid "$pid" "$@"
  if ((run_status != 0)); then
    warn "bulk: tandem-bench ($prefix) run $round exited with $run_status: $(tail -2 "$work_dir/bulk-tandem.txt" | tr '\n' ' ')"
    return
  fi
  rates_ref+=("$(result_value "$work_dir/bulk-tandem.txt" mb_per_s)")
  cpus_ref+=("$(result_value "$work_dir/bulk-tandem.txt" client_cpu_s)")
  server_ref+=("$(result_value "$work_dir/bulk-tandem.txt" server_cpu_s)")
  note "bulk: tandem-bench ($prefix) run $round: $(grep '^RESULT' "$work_dir/bulk-tandem.txt" | cut -c 8-), other work ${other_work}% of a CPU"
}

section_bulk() {
  local htdocs="$work_dir/htdocs"
  bytes=$((bulk_mib * 1024 * 1024))
  mkdir -p "$htdocs" "$work_dir/download"
  head -c "$bytes" /dev/urandom >"$htdocs/bulk.bin"
  local port large_port
  port=$(free_udp_port)
  taskset -c "$server_cpu" gtlsserver -q -d "$htdocs" 127.0.0.1 "$port" "$certs/server.key" "$certs/server-chain.pem" \
    >"$work_dir/gtlsserver-bulk.log" 2>&1 &
  local gtls_pid=$!
  server_pids+=("$gtls_pid")
  large_port=$(free_udp_port)
  taskset -c "$server_cpu" gtlsserver -q --max-udp-payload-size=65507 -d "$htdocs" 127.0.0.1 "$large_port" \
    "$certs/server.key" "$certs/server-chain.pem" >"$work_dir/gtlsserver-bulk-large.log" 2>&1 &
  local gtls_large_pid=$!
  server_pids+=("$gtls_large_pid")
  sleep 0.3  # gtlsserver prints nothing when ready

  # One checked download from each first: the file must arrive complete and unchanged.
  local check_port
  for check_port in "$port" "$large_port"; do
    timed_run "$work_dir/bulk-check.log" taskset -c "$client_cpu" gtlsclient -q --no-http-dump \
      --exit-on-all-streams-close --max-udp-payload-size=65507 --download="$work_dir/download" 127.0.0.1 "$check_port" \
      "https://localhost:$check_port/bulk.bin"
    if ((run_status != 0)) || ! cmp -s "$htdocs/bulk.bin" "$work_dir/download/bulk.bin"; then
      warn "bulk: the checked download from port $check_port failed (exit code $run_status) or differs from the served file"
    fi
    rm -f "$work_dir/download/bulk.bin"
  done

  # Tandem's echo-server runs next to the gtlsservers (all idle between runs, all on the server
  # CPU), so that the peers alternate in every round and share the machine's drift.
  local tandem_pid="" tandem_port=""
  if ! tandem_bench_ready; then
    warn "bulk: Tandem's QUIC bulk skipped: no tandem-bench at $tandem_bench"
  elif start_echo_server quic; then
    tandem_pid=$server_pid
    tandem_port=$server_port
  else
    warn "bulk: Tandem's QUIC bulk skipped: echo-server --transport quic did not start"
  fi

  local gtls_rates=() gtls_cpus=() gtls_server_cpus=()
  local gtlslarge_rates=() gtlslarge_cpus=() gtlslarge_server_cpus=()
  local tandem_rates=() tandem_cpus=() tandem_server_cpus=()
  local tandemsmall_rates=() tandemsmall_cpus=() tandemsmall_server_cpus=()
  local round
  for ((round = 1; round <= repeats; round++)); do
    run_gtls_download gtls "$port" "$gtls_pid" "$round"
    [[ -n $tandem_pid ]] && run_tandem_bulk tandem "$tandem_port" "$tandem_pid" "$round"
    run_gtls_download gtlslarge "$large_port" "$gtls_large_pid" "$round" --max-udp-payload-size=65507
    [[ -n $tandem_pid ]] && run_tandem_bulk tandemsmall "$tandem_port" "$tandem_pid" "$round" --quic-loopback-payload off
  done
  stop_servers

  local ours theirs
  ours=$(median "${tandem_rates[@]}")
  theirs=$(median "${gtls_rates[@]}")
  add_row bulk "Bulk $bulk_mib MiB, MB/s, both with defaults (the bar; Tandem runs: ${tandem_rates[*]:-none}; gtls runs: ${gtls_rates[*]:-none})" "$ours" "$theirs" "$(ratio "$ours" "$theirs")"
  ours=$(median "${tandemsmall_rates[@]}")
  add_row bulk "Same datagram size, at most 1,452 bytes: Tandem --quic-loopback-payload off vs the pair's defaults, MB/s (Tandem runs: ${tandemsmall_rates[*]:-none})" "$ours" "$theirs" "$(ratio "$ours" "$theirs")"
  ours=$(median "${tandem_rates[@]}")
  theirs=$(median "${gtlslarge_rates[@]}")
  add_row bulk "Same datagram size, 65,507 bytes: Tandem's default vs the pair with --max-udp-payload-size=65507, MB/s (gtls runs: ${gtlslarge_rates[*]:-none})" "$ours" "$theirs" "$(ratio "$ours" "$theirs")"
  add_row bulk "Client CPU per run, s, defaults (Tandem: ${tandem_cpus[*]:-none}; gtls: ${gtls_cpus[*]:-none})" "$(median "${tandem_cpus[@]}")" "$(median "${gtls_cpus[@]}")" ""
  add_row bulk "Server CPU per run, s, defaults (Tandem: ${tandem_server_cpus[*]:-none}; gtls: ${gtls_server_cpus[*]:-none})" "$(median "${tandem_server_cpus[@]}")" "$(median "${gtls_server_cpus[@]}")" ""
  add_row bulk "Client CPU per run, s, at most 1,452 bytes (Tandem: ${tandemsmall_cpus[*]:-none})" "$(median "${tandemsmall_cpus[@]}")" "$(median "${gtls_cpus[@]}")" ""
  add_row bulk "Server CPU per run, s, at most 1,452 bytes (Tandem: ${tandemsmall_server_cpus[*]:-none})" "$(median "${tandemsmall_server_cpus[@]}")" "$(median "${gtls_server_cpus[@]}")" ""
  add_row bulk "Client CPU per run, s, 65,507 bytes (gtls: ${gtlslarge_cpus[*]:-none})" "$(median "${tandem_cpus[@]}")" "$(median "${gtlslarge_cpus[@]}")" ""
  add_row bulk "Server CPU per run, s, 65,507 bytes (gtls: ${gtlslarge_server_cpus[*]:-none})" "$(median "${tandem_server_cpus[@]}")" "$(median "${gtlslarge_server_cpus[@]}")" ""
}

# ===========================================================================
# Section zero-rtt: time to the first response, full handshake against 0-RTT, through a delay.

# Prints the ngtcp2 log time (ms since the connection started) of the last log line before
# the response status of gtlsclient's first stream, or n/a.
first_response_ms() {  # LOG
  awk '/^I[0-9]+ / { t = substr($1, 2) + 0 } /^http: stream 0x0 \[:status: 200\]/ { print t; found = 1; exit }
    END { if (!found) print "n/a" }' "$1"
}

netem_works() {
  [[ $(id -u) == 0 ]] || return 1
  command -v ip >/dev/null && command -v tc >/dev/null || return 1
  local probe="tandem-netem-probe-$$"
  ip netns add "$probe" 2>/dev/null || return 1
  local status=0
  ip netns exec "$probe" ip link set lo up 2>/dev/null \
    && ip netns exec "$probe" tc qdisc add dev lo root netem delay 1ms 2>/dev/null || status=1
  ip netns delete "$probe" 2>/dev/null || true
  return $status
}

# Builds quic-relay (see build_relay.sh) and prints its path.
build_relay() {
  note "building quic-relay with Benchmarks/quic/build_relay.sh"
  "$repo_root/Benchmarks/quic/build_relay.sh" || fail "quic-relay build failed"
}

section_zero_rtt() {
  local method=$delay_method
  if [[ $method == auto ]]; then
    if netem_works; then method=netns; else method=relay; fi
  fi
  local run_prefix=() server_port client_port
  local htdocs="$work_dir/htdocs-0rtt"
  mkdir -p "$htdocs"
  echo "first response" >"$htdocs/index.html"
  server_port=$(free_udp_port)

  if [[ $method == netns ]]; then
    # NOTE: this path needs the sch_netem kernel module. The machine this script was written
    # on lacks it, so this path has never run. Only the relay path has.
    namespace="tandem-quic-bench-$$"
    ip netns add "$namespace" || fail "ip netns add $namespace failed"
    ip netns exec "$namespace" ip link set lo up
    # netem on lo delays every packet once, so each direction gets the delay.
    ip netns exec "$namespace" tc qdisc add dev lo root netem delay "${delay_ms}ms" \
      || fail "tc netem in namespace $namespace failed; use --delay-method relay"
    run_prefix=(ip netns exec "$namespace")
    client_port=$server_port
    "${run_prefix[@]}" gtlsserver -q -d "$htdocs" 127.0.0.1 "$server_port" "$certs/server.key" \
      "$certs/server-chain.pem" >"$work_dir/gtlsserver-0rtt.log" 2>&1 &
    server_pids+=("$!")
    sleep 0.3
    delay_note="tc netem delay ${delay_ms}ms on lo in network namespace $namespace"
  else
    local relay
    relay=$(build_relay)
    gtlsserver -q -d "$htdocs" 127.0.0.1 "$server_port" "$certs/server.key" "$certs/server-chain.pem" \
      >"$work_dir/gtlsserver-0rtt.log" 2>&1 &
    server_pids+=("$!")
    "$relay" --target "127.0.0.1:$server_port" --delay-ms "$delay_ms" --exit-after 3600 \
      >"$work_dir/relay.out" 2>"$work_dir/relay.err" &
    server_pids+=("$!")
    local waited=0
    until grep -q '^LISTENING' "$work_dir/relay.out"; do
      ((waited++ < 100)) || fail "quic-relay did not start: $(tail -3 "$work_dir/relay.err")"
      sleep 0.1
    done
    client_port=$(awk '/^LISTENING/ {print $2; exit}' "$work_dir/relay.out")
    sleep 0.3
    delay_note="quic-relay (Tests/TandemTestSupport/UDPRelay.swift) adding ${delay_ms} ms in each direction"
  fi
  local url="https://localhost:$client_port/index.html"
  local session="$work_dir/session.pem" parameters="$work_dir/tp.txt"

  # A first full handshake stores the session ticket and the transport parameters.
  timed_run "$work_dir/0rtt-seed.log" "${run_prefix[@]}" gtlsclient --exit-on-all-streams-close \
    --session-file="$session" --tp-file="$parameters" 127.0.0.1 "$client_port" "$url"
  [[ -s $session && -s $parameters ]] || fail "zero-rtt: gtlsclient stored no session ticket or transport parameters"

  local full=() early=() round value rejected=0
  for ((round = 1; round <= repeats; round++)); do
    timed_run "$work_dir/0rtt-full.log" "${run_prefix[@]}" gtlsclient --exit-on-all-streams-close \
      127.0.0.1 "$client_port" "$url"
    value=$(first_response_ms "$work_dir/0rtt-full.log")
    ((run_status == 0)) || warn "zero-rtt: full handshake run $round exited with $run_status"
    full+=("$value")

    timed_run "$work_dir/0rtt-early.log" "${run_prefix[@]}" gtlsclient --exit-on-all-streams-close \
      --session-file="$session" --tp-file="$parameters" 127.0.0.1 "$client_port" "$url"
    value=$(first_response_ms "$work_dir/0rtt-early.log")
    ((run_status == 0)) || warn "zero-rtt: 0-RTT run $round exited with $run_status"
    # The request must have gone out in a 0-RTT packet: the STREAM frame of stream 0.
    if ! grep -q -E '0RTT STREAM\(0x0b\) id=0x0 ' "$work_dir/0rtt-early.log"; then
      warn "zero-rtt: run $round sent no request in 0-RTT; not counted"
      value=n/a
    elif grep -q -i 'early data was rejected\|0-RTT.*rejected' "$work_dir/0rtt-early.log"; then
      rejected=$((rejected + 1))
      warn "zero-rtt: the server rejected early data in run $round; not counted"
      value=n/a
    fi
    early+=("$value")
    note "zero-rtt: run $round: full handshake ${full[-1]} ms, 0-RTT $value ms to the first response"
  done
  stop_servers
  if [[ -n $namespace ]]; then
    ip netns delete "$namespace" 2>/dev/null || true
    namespace=""
  fi

  local full_median early_median rtt saved
  full_median=$(median "${full[@]}")
  early_median=$(median "${early[@]}")
  rtt=$((2 * delay_ms))
  saved=$(awk -v f="$full_median" -v e="$early_median" -v r="$rtt" \
    'BEGIN {if (f == "n/a" || e == "n/a") print "n/a"; else printf "%.2f", (f - e) / r}')
  zero_rtt_method="$delay_note; added round-trip time $rtt ms"
  add_row zero-rtt "gtlsclient full handshake, first response (ms; runs: ${full[*]})" "$full_median" "" ""
  add_row zero-rtt "gtlsclient 0-RTT, first response (ms; runs: ${early[*]})" "$early_median" "" ""
  add_row zero-rtt "0-RTT / full" "$(ratio "$early_median" "$full_median")" "" ""
  add_row zero-rtt "Time saved by 0-RTT, in added round trips (bar: >= 1 round trip, within timer resolution)" "$saved" "" ""

  # Tandem's first call through the same delay: echo-server over QUIC behind the same kind of
  # delay, and tandem-bench timing full handshakes, resumed sessions and 0-RTT calls.
  if ! tandem_bench_ready; then
    warn "zero-rtt: Tandem's first call skipped: no tandem-bench at $tandem_bench"
    return
  fi
  local tandem_port output="$work_dir/first-call.txt"
  if [[ $method == netns ]]; then
    namespace="tandem-quic-bench-$$"
    ip netns add "$namespace" || fail "ip netns add $namespace failed"
    ip netns exec "$namespace" ip link set lo up
    ip netns exec "$namespace" tc qdisc add dev lo root netem delay "${delay_ms}ms" \
      || fail "tc netem in namespace $namespace failed; use --delay-method relay"
    server_prefix=(ip netns exec "$namespace")
    bench_prefix=(ip netns exec "$namespace")
    start_echo_server quic || { server_prefix=(); bench_prefix=(); return; }
    tandem_port=$server_port
  else
    start_echo_server quic || return
    "$relay" --target "127.0.0.1:$server_port" --delay-ms "$delay_ms" --exit-after 3600 \
      >"$work_dir/relay-tandem.out" 2>"$work_dir/relay-tandem.err" &
    server_pids+=("$!")
    local waited=0
    until grep -q '^LISTENING' "$work_dir/relay-tandem.out"; do
      ((waited++ < 100)) || fail "quic-relay did not start: $(tail -3 "$work_dir/relay-tandem.err")"
      sleep 0.1
    done
    tandem_port=$(awk '/^LISTENING/ {print $2; exit}' "$work_dir/relay-tandem.out")
  fi
  run_tandem_bench "$output" quic "$tandem_port" first-call --rounds "$repeats"
  stop_servers
  server_prefix=()
  bench_prefix=()
  if [[ -n $namespace ]]; then
    ip netns delete "$namespace" 2>/dev/null || true
    namespace=""
  fi
  if ((run_status != 0)); then
    warn "zero-rtt: tandem-bench first-call exited with $run_status: $(tail -2 "$output" | tr '\n' ' ')"
    return
  fi
  note "zero-rtt: tandem-bench: $(grep '^RESULT' "$output" | cut -c 8-)"
  local ours_full ours_resumed ours_early
  ours_full=$(result_value "$output" full_ms)
  ours_resumed=$(result_value "$output" resumed_ms)
  ours_early=$(result_value "$output" zero_rtt_ms)
  add_row zero-rtt "Tandem full handshake, first response (ms; runs: $(result_value "$output" full_runs))" "$ours_full" "" ""
  add_row zero-rtt "Tandem resumed session without early data (ms; runs: $(result_value "$output" resumed_runs))" "$ours_resumed" "" ""
  add_row zero-rtt "Tandem 0-RTT, first response (ms; runs: $(result_value "$output" zero_rtt_runs); with a cached ticket: $(result_value "$output" zero_rtt_with_ticket))" "$ours_early" "" ""
  add_row zero-rtt "Tandem time saved by 0-RTT, in added round trips (bar: >= 1)" \
    "$(awk -v f="$ours_full" -v e="$ours_early" -v r="$rtt" 'BEGIN {if (f == "n/a" || e == "n/a") print "n/a"; else printf "%.2f", (f - e) / r}')" "" ""
}

# ===========================================================================
# Run and report

run_date=$(date -u '+%Y-%m-%d %H:%M UTC')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
zero_rtt_method=""
if wants bulk; then section_bulk; fi
if wants zero-rtt; then section_zero_rtt; fi
if wants rpc; then section_rpc; fi

report() {
  echo "## QUIC benchmarks ($run_date)"
  echo

  echo "- Host: $cpu_count CPUs, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), kernel $(uname -r)"
  echo "- Servers pinned to CPU $server_cpu, clients to CPU $client_cpu; loopback; medians of $repeats runs"
  echo "- gtlsserver/gtlsclient: $(dpkg-query -W -f='ngtcp2-server ${Version}' ngtcp2-server 2>/dev/null || echo '?')," \
    "$(dpkg-query -W -f='ngtcp2-client ${Version}' ngtcp2-client 2>/dev/null || echo '?')"
  [[ -n $zero_rtt_method ]] && echo "- zero-rtt delay: $zero_rtt_method"
  echo "- Load average (1, 5, 15 min) before: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- Other processes used at most ${max_other_work}% of one CPU during a measured run (busy time in /proc/stat minus client and server)"
  echo "- Qdiscs on lo: $(tc qdisc show dev lo 2>/dev/null | tr '\n' ';' || echo unknown)"
  echo "- Command: Benchmarks/quic/run.sh --sections $sections --repeats $repeats --bulk-mib $bulk_mib" \
    "--delay-ms $delay_ms --delay-method $delay_method --rpc-calls $rpc_calls --stream-mib $stream_mib --handshakes $handshake_count"
  echo

  local section key label values
  for section in bulk zero-rtt rpc; do
    wants "$section" || continue
    case $section in
      rpc) echo "### rpc: Tandem echo, QUIC vs HTTP/2 (same client)"; echo; echo "| Metric | QUIC | HTTP/2 | QUIC / HTTP/2 |"; echo "|---|---:|---:|---:|" ;;
      bulk) echo "### bulk: Tandem QUIC vs gtlsserver -> gtlsclient"; echo; echo "| Metric | Tandem | gtls pair | Tandem / gtls |"; echo "|---|---:|---:|---:|" ;;
      zero-rtt) echo "### zero-rtt: first response through an added delay"; echo; echo "| Metric | Value | | |"; echo "|---|---:|---:|---:|" ;;
    esac
    for key in "${report_order[@]}"; do
      [[ $key == "$section|"* ]] || continue
      label=${key#*|}
      IFS=';' read -r -a values <<<"${report_rows[$key]}"
      echo "| $label | ${values[0]:-} | ${values[1]:-} | ${values[2]:-} |"
    done
    echo
  done

  if ((${#warnings[@]} > 0)); then
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
