#!/usr/bin/env bash
# Builds the Echo example, starts echo-server with a self-signed certificate on a free
# port of 127.0.0.1, makes each kind of call with echo-client over HTTP/2 with TLS, over
# HTTP/3 on QUIC and over plaintext HTTP/2, shows a hybrid client racing QUIC against TCP,
# prints what happened, and stops the server.
# Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

echo "==> building echo-server and echo-client (release)"
swift build -c release --product echo-server
swift build -c release --product echo-client
bin="$(swift build -c release --show-bin-path)"

workdir="$(mktemp -d /tmp/tandem-demo-XXXXXX)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT

# Starts echo-server with the given arguments and sets $port once it prints "listening".
start_server() {
  "$bin/echo-server" --host 127.0.0.1 --port 0 "$@" >"$workdir/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    if grep -q "listening on" "$workdir/server.log"; then
      port="$(grep -o 'listening on [^ ]*' "$workdir/server.log" | head -n1 | sed 's/.*://')"
      return 0
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "echo-server exited early:" >&2
      cat "$workdir/server.log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "echo-server did not print 'listening' within 10 seconds:" >&2
  cat "$workdir/server.log" >&2
  return 1
}

stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" || true
  server_pid=""
}

echo
echo "==> echo-server with a self-signed certificate (TLS, HTTP/2)"
start_server
cat "$workdir/server.log"
ca="$(grep -o '/tmp/tandem-echo-[^ ]*/server.crt' "$workdir/server.log" | head -n1)"
client=("$bin/echo-client" --target "127.0.0.1:$port" --ca "$ca" --server-name localhost
  --metadata x-echo-greeting=hello --metadata x-echo-token-bin=secret)

echo
echo "--- unary"
"${client[@]}" get "hello tandem"
echo "--- server streaming"
"${client[@]}" expand "one two three"
echo "--- client streaming"
"${client[@]}" collect alpha beta gamma
echo "--- bidirectional streaming"
"${client[@]}" update ping pong
echo "--- a certificate the client does not trust is rejected"
"$bin/echo-client" --target "127.0.0.1:$port" get "no trust" || true
echo "--- a hybrid client races QUIC against TCP; this server has no QUIC, so TCP carries the call"
"${client[@]}" --transport hybrid get "hello after falling back"
stop_server

echo
echo "==> echo-server on TCP and QUIC at the same port number (HTTP/2 and HTTP/3)"
start_server --transport both
cat "$workdir/server.log"
ca="$(grep -o '/tmp/tandem-echo-[^ ]*/server.crt' "$workdir/server.log" | head -n1)"
quic_client=("$bin/echo-client" --target "127.0.0.1:$port" --ca "$ca" --server-name localhost --transport quic
  --metadata x-echo-greeting=hello)
echo "--- unary over HTTP/3"
"${quic_client[@]}" get "hello over quic"
echo "--- server streaming over HTTP/3"
"${quic_client[@]}" expand "each call on its own QUIC stream"
echo "--- client streaming over HTTP/3"
"${quic_client[@]}" collect alpha beta gamma
echo "--- bidirectional streaming over HTTP/3"
"${quic_client[@]}" update ping pong
echo "--- the same server over HTTP/2 on TCP"
"$bin/echo-client" --target "127.0.0.1:$port" --ca "$ca" --server-name localhost get "hello over tcp"
echo "--- a hybrid client races QUIC against TCP; QUIC wins here"
"$bin/echo-client" --target "127.0.0.1:$port" --ca "$ca" --server-name localhost --transport hybrid get "hello over the winner"
stop_server

echo
echo "==> echo-server in plaintext (h2c)"
start_server --plaintext
"$bin/echo-client" --target "127.0.0.1:$port" --plaintext get "hello over h2c"
"$bin/echo-client" --target "127.0.0.1:$port" --plaintext --timeout 2 expand "a b c"
stop_server
echo
echo "demo finished"
