#!/usr/bin/env bash
# Run the grpcio interop checks: grpcio against itself, and against Tandem's echo-server and
# echo-client when their binaries exist.
#
# Usage: Tests/Interop/run.sh [--bin-dir DIR] [--proto PATH] [--only-python]
#   --bin-dir DIR   directory with echo-server and echo-client
#                   (default: the first of .build/release and .build/debug that has them)
#   --proto PATH    echo.proto to generate the Python code from (default Protos/echo/v1/echo.proto)
#   --only-python   run only grpcio client against grpcio server
# Needs the venv from scripts/setup.sh. Every peer is bound to 127.0.0.1 and every step has
# a time limit. Prints "N passed, N failed" last and exits non-zero when a check failed.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
interop_dir="$repo_root/Tests/Interop"
python="$repo_root/.venv/bin/python"
bin_dir=""
proto="$repo_root/Protos/echo/v1/echo.proto"
only_python=0

while (($# > 0)); do
  case $1 in
    --bin-dir) bin_dir=${2:?missing value for --bin-dir}; shift 2 ;;
    --proto) proto=${2:?missing value for --proto}; shift 2 ;;
    --only-python) only_python=1; shift ;;
    *) echo "run.sh: error: unknown option $1" >&2; exit 2 ;;
  esac
done

[[ -x $python ]] || { echo "run.sh: error: $python not found; run scripts/setup.sh first" >&2; exit 2; }
[[ -f $proto ]] || { echo "run.sh: error: proto not found: $proto (see --proto)" >&2; exit 2; }

mkdir -p "$repo_root/.build"
work_dir=$(mktemp -d "$repo_root/.build/interop-run.XXXXXX")
server_pid=""
cleanup() {
  [[ -n $server_pid ]] && kill -TERM "$server_pid" 2>/dev/null || true
  rm -rf "$work_dir"
}
trap cleanup EXIT

passed=0
failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail_check() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

bash "$interop_dir/make_certs.sh" "$work_dir/certs" >/dev/null
certs="$work_dir/certs"

free_port() {
  "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts a server command in the background and waits for its "listening" line.
start_server() {  # LOG COMMAND...
  local log=$1
  shift
  : >"$log"  # Empty it first, so an old "listening" line cannot match.
  "$@" >"$log" 2>&1 &
  server_pid=$!
  local waited=0
  until grep -q listening "$log"; do
    if ! kill -0 "$server_pid" 2>/dev/null || ((waited++ >= 200)); then
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

# Runs echo_client.py and counts it as one check.
run_python_client() {  # NAME CLIENT_ARGS...
  local name=$1
  shift
  local output="$work_dir/client.json" status=0
  timeout 120 "$python" "$interop_dir/echo_client.py" --proto "$proto" "$@" >"$output" 2>"$work_dir/client.err" \
    || status=$?
  if ((status == 0)); then
    pass "$name ($("$python" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["passed"], "cases")' "$output"))"
  else
    fail_check "$name" "exit code $status; $(tr '\n' ' ' <"$output" | cut -c1-2000)"
  fi
}

# Sets python_server_command to the grpcio server command line for PORT and MODE.
python_server() {  # PORT MODE
  python_server_command=("$python" "$interop_dir/echo_server.py" --proto "$proto"
    --host 127.0.0.1 --port "$1" --exit-after 300 --log-calls)
  if [[ $2 == tls ]]; then
    python_server_command+=(--tls-cert "$certs/server-chain.pem" --tls-key "$certs/server.key")
  fi
}

# 1. grpcio client against grpcio server: proves the peers before Tandem is involved.
for mode in plaintext tls; do
  port=$(free_port)
  python_server "$port" "$mode"
  if start_server "$work_dir/python-server.log" "${python_server_command[@]}"; then
    if [[ $mode == tls ]]; then
      run_python_client "grpcio client -> grpcio server ($mode)" --target "127.0.0.1:$port" \
        --ca "$certs/ca.pem" --server-name localhost
    else
      run_python_client "grpcio client -> grpcio server ($mode)" --target "127.0.0.1:$port"
    fi
    stop_server
  else
    fail_check "grpcio server ($mode)" "did not start"
  fi
done

if ((only_python)); then
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

# 2. grpcio client against Tandem's echo-server, over TCP.
if [[ -n $bin_dir && -x $bin_dir/echo-server ]]; then
  for mode in plaintext tls; do
    port=$(free_port)
    server_arguments=(--host 127.0.0.1 --port "$port" --transport tcp)
    if [[ $mode == tls ]]; then
      server_arguments+=(--tls-cert "$certs/server-chain.pem" --tls-key "$certs/server.key")
    else
      server_arguments+=(--plaintext)
    fi
    if start_server "$work_dir/tandem-server.log" "$bin_dir/echo-server" "${server_arguments[@]}"; then
      if [[ $mode == tls ]]; then
        run_python_client "grpcio client -> Tandem echo-server ($mode)" --target "127.0.0.1:$port" \
          --ca "$certs/ca.pem" --server-name localhost
      else
        run_python_client "grpcio client -> Tandem echo-server ($mode)" --target "127.0.0.1:$port"
      fi
      stop_server
    else
      fail_check "Tandem echo-server ($mode)" "did not start: $(tail -3 "$work_dir/tandem-server.log")"
    fi
  done
else
  echo "SKIP grpcio client -> Tandem echo-server: no echo-server binary (build it or pass --bin-dir)"
fi

# 3. Tandem's echo-client against the grpcio server, over TCP. The client's output format is
# its own, so this checks the exit code, that every expected text appears in the output and
# that the server logged a call of the expected method.
if [[ -n $bin_dir && -x $bin_dir/echo-client ]]; then
  for mode in plaintext tls; do
    port=$(free_port)
    python_server "$port" "$mode"
    if ! start_server "$work_dir/python-server.log" "${python_server_command[@]}"; then
      fail_check "grpcio server ($mode)" "did not start"
      continue
    fi
    if [[ $mode == tls ]]; then
      client_arguments=(--target "127.0.0.1:$port" --transport tcp --ca "$certs/ca.pem"
        --server-name localhost --timeout 10)
    else
      client_arguments=(--target "127.0.0.1:$port" --transport tcp --plaintext --timeout 10)
    fi
    for kind in get expand collect update; do
      method=${kind^}
      calls_before=$(grep -c "^call echo.v1.Echo/$method\$" "$work_dir/python-server.log" || true)
      status=0
      output=$(timeout 30 "$bin_dir/echo-client" "${client_arguments[@]}" "$kind" alpha beta gamma 2>&1) \
        || status=$?
      missing=""
      for word in alpha beta gamma; do
        grep -q "$word" <<<"$output" || missing+=" $word"
      done
      calls_after=$(grep -c "^call echo.v1.Echo/$method\$" "$work_dir/python-server.log" || true)
      ((calls_after > calls_before)) || missing+=" (no $method call reached the server)"
      if ((status == 0)) && [[ -z $missing ]]; then
        pass "Tandem echo-client $kind -> grpcio server ($mode)"
      else
        fail_check "Tandem echo-client $kind -> grpcio server ($mode)" \
          "exit code $status, missing:${missing:- none}; output: $(head -c 1000 <<<"$output")"
      fi
    done
    stop_server
  done
else
  echo "SKIP Tandem echo-client -> grpcio server: no echo-client binary (build it or pass --bin-dir)"
fi

echo "$passed passed, $failed failed"
((failed == 0))
