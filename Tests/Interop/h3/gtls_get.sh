#!/usr/bin/env bash
# Make one HTTP/3 GET with Debian's ngtcp2 example client (gtlsclient, package ngtcp2-client)
# and check that the response status is 200.
#
# Usage: Tests/Interop/h3/gtls_get.sh [options] HOST PORT PATH
#   HOST              server address; a numeric address makes gtlsclient send SNI "localhost"
#   PORT              server UDP port
#   PATH              request path, for example /index.html
#   --authority NAME  host part of the request URI (default localhost)
#   --timeout SECONDS limit for the whole run (default 15)
#   --log FILE        keep gtlsclient's output in FILE (default: a temporary file, removed)
#   --expect-body-bytes N
#   --expect-status CODE   the :status expected (default 200)
#                     also require that the response body had exactly N bytes
# gtlsclient 0.12.1 does not verify the server certificate, so any certificate works.
# Exit code: 0 when a response with :status 200 arrived, 1 when it did not (the reason and
# the end of gtlsclient's output go to stderr), 2 on bad usage.
set -euo pipefail

authority=localhost
run_timeout=15
log_file=""
expect_body=""
expect_status=200

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

positional=()
while (($# > 0)); do
  case $1 in
    -h | --help) usage ;;
    --authority) authority=${2:?missing value for --authority}; shift 2 ;;
    --timeout) run_timeout=${2:?missing value for --timeout}; shift 2 ;;
    --log) log_file=${2:?missing value for --log}; shift 2 ;;
    --expect-body-bytes) expect_body=${2:?missing value for --expect-body-bytes}; shift 2 ;;
    --expect-status) expect_status=${2:?missing value for --expect-status}; shift 2 ;;
    -*) echo "gtls_get.sh: error: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) positional+=("$1"); shift ;;
  esac
done
((${#positional[@]} == 3)) || usage
host=${positional[0]}
port=${positional[1]}
path=${positional[2]}

[[ $port =~ ^[0-9]+$ ]] && ((port >= 1 && port <= 65535)) \
  || { echo "gtls_get.sh: error: invalid PORT '$port': must be 1...65535" >&2; exit 2; }
[[ $run_timeout =~ ^[0-9]+$ ]] && ((run_timeout >= 1)) \
  || { echo "gtls_get.sh: error: invalid --timeout '$run_timeout': must be a whole number of seconds >= 1" >&2; exit 2; }
[[ -z $expect_body || $expect_body =~ ^[0-9]+$ ]] \
  || { echo "gtls_get.sh: error: invalid --expect-body-bytes '$expect_body': must be a number" >&2; exit 2; }
[[ $path == /* ]] || path="/$path"
command -v gtlsclient >/dev/null \
  || { echo "gtls_get.sh: error: gtlsclient not found; run scripts/setup.sh (package ngtcp2-client)" >&2; exit 2; }

remove_log=0
if [[ -z $log_file ]]; then
  log_file=$(mktemp "${TMPDIR:-/tmp}/gtls_get.XXXXXX")
  remove_log=1
fi
cleanup() { if ((remove_log)); then rm -f "$log_file"; fi; }
trap cleanup EXIT

url="https://$authority:$port$path"
status=0
# --timeout sets gtlsclient's idle timeout; the outer timeout bounds the whole run.
timeout "$run_timeout" gtlsclient --exit-on-all-streams-close --no-quic-dump --timeout="${run_timeout}s" \
  "$host" "$port" "$url" >"$log_file" 2>&1 || status=$?

fail() {
  echo "gtls_get.sh: GET $url via $host:$port failed: $*" >&2
  echo "gtls_get.sh: last lines of gtlsclient output:" >&2
  tail -15 "$log_file" | sed 's/^/  /' >&2
  exit 1
}

((status != 124)) || fail "gtlsclient did not finish within $run_timeout s"
response_status=$(sed -n 's/^http: stream 0x[0-9a-f]* \[:status: \([0-9]*\)\]$/\1/p' "$log_file" | head -1)
[[ -n $response_status ]] || fail "no response headers arrived (gtlsclient exit code $status)"
[[ $response_status == "$expect_status" ]] || fail ":status is $response_status, expected $expect_status"
((status == 0)) || fail "gtlsclient exited with $status after a $expect_status response"

body_bytes=$(awk '/^http: stream 0x[0-9a-f]* body [0-9]+ bytes$/ {total += $5} END {print total + 0}' "$log_file")
if [[ -n $expect_body ]] && ((body_bytes != expect_body)); then
  fail "the body had $body_bytes bytes, expected $expect_body"
fi
echo "PASS GET $url: :status $response_status, $body_bytes body bytes"
