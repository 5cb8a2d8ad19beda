#!/usr/bin/env bash
# Run the HTTP/3 interop checks between peers Tandem did not write (aioquic and Debian's
# ngtcp2 example programs), then against Tandem's echo-server and echo-client over QUIC when
# their binaries exist and accept `--transport quic`.
#
# Usage: Tests/Interop/h3/run.sh [--bin-dir DIR] [--only-reference] [--lossy]
#   --bin-dir DIR       directory with echo-server and echo-client
#                       (default: the first of .build/release and .build/debug that has them)
#   --only-reference    run only the checks between aioquic and the ngtcp2 examples
#   --lossy             also run the aioquic pair and the gtls pair through quic-relay, which
#                       drops 5% and reorders 5% of the datagrams in each direction. The relay
#                       is built with Benchmarks/quic/build_relay.sh, about 30 s the first time.
# Needs scripts/setup.sh (aioquic in .venv, packages ngtcp2-client and ngtcp2-server). Every
# peer is bound to 127.0.0.1 and every step has a time limit. Prints "N passed, N failed"
# last and exits non-zero when a check failed.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
h3_dir="$repo_root/Tests/Interop/h3"
python="$repo_root/.venv/bin/python"
bin_dir=""
only_reference=0
lossy=0

while (($# > 0)); do
  case $1 in
    --bin-dir) bin_dir=${2:?missing value for --bin-dir}; shift 2 ;;
    --only-reference) only_reference=1; shift ;;
    --lossy) lossy=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: error: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

[[ -x $python ]] || { echo "run.sh: error: $python not found; run scripts/setup.sh first" >&2; exit 2; }
for tool in gtlsclient gtlsserver; do
  command -v "$tool" >/dev/null || { echo "run.sh: error: $tool not found; run scripts/setup.sh first" >&2; exit 2; }
done

mkdir -p "$repo_root/.build"
work_dir=$(mktemp -d "$repo_root/.build/interop-h3.XXXXXX")
server_pid=""
relay_pid=""
cleanup() {
  stop_server
  stop_relay
  rm -rf "$work_dir"
}
trap cleanup EXIT

passed=0
failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail_check() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

bash "$repo_root/Tests/Interop/make_certs.sh" "$work_dir/certs" >/dev/null
certs="$work_dir/certs"
mkdir -p "$work_dir/htdocs"
echo "hello from gtlsserver" >"$work_dir/htdocs/index.html"

free_udp_port() {
  "$python" -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts a server in the background and waits until a line of its output matches PATTERN.
start_server() {  # LOG PATTERN COMMAND...
  local log=$1 pattern=$2
  shift 2
  : >"$log"
  "$@" >"$log" 2>&1 &
  server_pid=$!
  local waited=0
  until grep -q -E "$pattern" "$log"; do
    if ! kill -0 "$server_pid" 2>/dev/null || ((waited++ >= 150)); then
      echo "server did not start: $* ; output: $(tail -5 "$log")" >&2
      stop_server
      return 1
    fi
    sleep 0.1
  done
}

stop_server() {
  [[ -n $server_pid ]] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  local waited=0
  while kill -0 "$server_pid" 2>/dev/null && ((waited++ < 50)); do sleep 0.1; done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# Runs a check command with a time limit; its PASS/FAIL lines are shown indented.
run_check() {  # NAME SECONDS COMMAND...
  local name=$1 limit=$2
  shift 2
  local status=0
  timeout "$limit" "$@" >"$work_dir/check.out" 2>&1 || status=$?
  sed 's/^/    /' "$work_dir/check.out"
  if ((status == 0)); then
    pass "$name"
  elif ((status == 124)); then
    fail_check "$name" "timed out after $limit s"
  else
    fail_check "$name" "exit code $status"
  fi
}

h3_client=("$python" "$h3_dir/h3_grpc_client.py")

relay_bin=""
if ((lossy)); then
  relay_bin=$("$repo_root/Benchmarks/quic/build_relay.sh") || { echo "run.sh: error: quic-relay build failed" >&2; exit 2; }
fi

# Starts quic-relay in front of 127.0.0.1:PORT with loss and reordering; sets relay_port.
start_relay() {  # PORT
  : >"$work_dir/relay.out"
  "$relay_bin" --target "127.0.0.1:$1" --drop 0.05 --reorder 0.05 --seed 7 --exit-after 300 \
    >"$work_dir/relay.out" 2>"$work_dir/relay.err" &
  relay_pid=$!
  local waited=0
  until grep -q '^LISTENING' "$work_dir/relay.out"; do
    if ! kill -0 "$relay_pid" 2>/dev/null || ((waited++ >= 100)); then
      echo "quic-relay did not start: $(tail -3 "$work_dir/relay.err")" >&2
      stop_relay
      return 1
    fi
    sleep 0.1
  done
  relay_port=$(awk '/^LISTENING/ {print $2; exit}' "$work_dir/relay.out")
}

# Stops the relay and shows its counters, which prove that datagrams were dropped.
stop_relay() {
  [[ -n $relay_pid ]] || return 0
  kill -TERM "$relay_pid" 2>/dev/null || true
  local waited=0
  while kill -0 "$relay_pid" 2>/dev/null && ((waited++ < 50)); do sleep 0.1; done
  kill -KILL "$relay_pid" 2>/dev/null || true
  wait "$relay_pid" 2>/dev/null || true
  relay_pid=""
  grep -E 'received' "$work_dir/relay.err" | sed 's/^/    /' || true
}

# 1. aioquic gRPC client against aioquic gRPC server: proves the peers before Tandem is involved.
if start_server "$work_dir/aioquic-server.log" '^LISTENING [0-9]+' \
  "$python" "$h3_dir/h3_grpc_server.py" --cert "$certs/server-chain.pem" --key "$certs/server.key" \
  --port 0 --exit-after 300; then
  port=$(awk '/^LISTENING/ {print $2; exit}' "$work_dir/aioquic-server.log")
  run_check "aioquic gRPC client -> aioquic gRPC server (CA verified)" 180 \
    "${h3_client[@]}" 127.0.0.1 "$port" --ca-file "$certs/ca.pem"
  run_check "aioquic gRPC client -> aioquic gRPC server (--insecure, get)" 60 \
    "${h3_client[@]}" 127.0.0.1 "$port" --insecure --case get
  run_check "gtlsclient GET -> aioquic server" 30 "$h3_dir/gtls_get.sh" 127.0.0.1 "$port" /
  if ((lossy)) && start_relay "$port"; then
    run_check "aioquic gRPC client -> quic-relay (5% loss, 5% reorder) -> aioquic gRPC server" 180 \
      "${h3_client[@]}" 127.0.0.1 "$relay_port" --ca-file "$certs/ca.pem"
    stop_relay
  fi
  stop_server
else
  fail_check "aioquic gRPC server" "did not start"
fi

# 2. The ngtcp2 example pair, and aioquic against it.
port=$(free_udp_port)
if start_server "$work_dir/gtlsserver.log" '.' \
  sh -c 'echo started; exec timeout 300 gtlsserver -q -d "$1" 127.0.0.1 "$2" "$3" "$4"' sh \
  "$work_dir/htdocs" "$port" "$certs/server.key" "$certs/server-chain.pem"; then
  sleep 0.3  # gtlsserver prints nothing when it is ready; give it time to bind
  run_check "gtlsclient GET -> gtlsserver" 30 "$h3_dir/gtls_get.sh" --expect-body-bytes 22 127.0.0.1 "$port" /index.html
  run_check "aioquic GET -> gtlsserver (CA verified)" 30 "${h3_client[@]}" 127.0.0.1 "$port" --ca-file "$certs/ca.pem" --get /index.html
  if ((lossy)) && start_relay "$port"; then
    for attempt in 1 2 3 4 5; do
      run_check "gtlsclient GET -> quic-relay (5% loss, 5% reorder) -> gtlsserver, run $attempt" 30 \
        "$h3_dir/gtls_get.sh" --expect-body-bytes 22 127.0.0.1 "$relay_port" /index.html
    done
    stop_relay
  fi
  stop_server
else
  fail_check "gtlsserver" "did not start"
fi

if ((only_reference)); then
  echo "$passed passed, $failed failed"
  ((failed == 0))
  exit
fi

if [[ -z $bin_dir ]]; then
  for candidate in "$repo_root/.build/release" "$repo_root/.build/debug"; do
    if [[ -x $candidate/echo-server || -x $candidate/echo-client ]]; then
      bin_dir=$candidate
      break
    fi
  done
fi

supports_quic() {  # BINARY
  [[ -x $1 ]] && "$1" --help 2>&1 | grep -q quic
}

# 3. aioquic gRPC client and gtlsclient against Tandem's echo-server over QUIC.
if [[ -n $bin_dir ]] && supports_quic "$bin_dir/echo-server"; then
  port=$(free_udp_port)
  if start_server "$work_dir/tandem-server.log" listening "$bin_dir/echo-server" --host 127.0.0.1 --port "$port" \
    --transport quic --tls-cert "$certs/server-chain.pem" --tls-key "$certs/server.key"; then
    run_check "aioquic gRPC client -> Tandem echo-server (quic)" 180 "${h3_client[@]}" 127.0.0.1 "$port" --ca-file "$certs/ca.pem"
    # A gRPC server rejects a plain GET with 405 and grpc-status 13, a complete HTTP/3 response.
    run_check "gtlsclient GET -> Tandem echo-server (quic)" 30 "$h3_dir/gtls_get.sh" --expect-status 405 127.0.0.1 "$port" /
    # The server must keep serving after the plain GET.
    run_check "aioquic gRPC client -> Tandem echo-server after the GET" 60 \
      "${h3_client[@]}" 127.0.0.1 "$port" --ca-file "$certs/ca.pem" --case get
    stop_server
  else
    fail_check "Tandem echo-server (quic)" "did not start: $(tail -3 "$work_dir/tandem-server.log")"
  fi
else
  echo "SKIP clients -> Tandem echo-server over QUIC: no echo-server binary with --transport quic"
fi

# 4. Tandem's echo-client over QUIC against the aioquic server. The client's output format is
# its own, so this checks the exit code, the texts in its output and the server's call log.
if [[ -n $bin_dir ]] && supports_quic "$bin_dir/echo-client"; then
  if start_server "$work_dir/aioquic-server.log" '^LISTENING [0-9]+' \
    "$python" "$h3_dir/h3_grpc_server.py" --cert "$certs/server-chain.pem" --key "$certs/server.key" \
    --port 0 --exit-after 300 --log-calls; then
    port=$(awk '/^LISTENING/ {print $2; exit}' "$work_dir/aioquic-server.log")
    for kind in get expand collect update; do
      method=${kind^}
      calls_before=$(grep -c "^call /echo.v1.Echo/$method\$" "$work_dir/aioquic-server.log" || true)
      status=0
      output=$(timeout 30 "$bin_dir/echo-client" --target "127.0.0.1:$port" --transport quic \
        --ca "$certs/ca.pem" --server-name localhost --timeout 10 "$kind" alpha beta gamma 2>&1) || status=$?
      missing=""
      for word in alpha beta gamma; do
        grep -q "$word" <<<"$output" || missing+=" $word"
      done
      calls_after=$(grep -c "^call /echo.v1.Echo/$method\$" "$work_dir/aioquic-server.log" || true)
      ((calls_after > calls_before)) || missing+=" (no $method call reached the server)"
      if ((status == 0)) && [[ -z $missing ]]; then
        pass "Tandem echo-client $kind -> aioquic server (quic)"
      else
        fail_check "Tandem echo-client $kind -> aioquic server (quic)" \
          "exit code $status, missing:${missing:- none}; output: $(head -c 1000 <<<"$output")"
      fi
    done
    stop_server
  else
    fail_check "aioquic gRPC server" "did not start"
  fi
else
  echo "SKIP Tandem echo-client over QUIC -> aioquic server: no echo-client binary with --transport quic"
fi

echo "$passed passed, $failed failed"
((failed == 0))
