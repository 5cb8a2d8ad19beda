#!/usr/bin/env bash
# Builds the Echo example, starts echo-server with a self-signed certificate on a free
# port of 127.0.0.1, makes each kind of call with echo-client over HTTP/2 with TLS, over
# HTTP/3 on QUIC and over plaintext HTTP/2, shows a hybrid client racing QUIC against TCP and
# falling back to TCP when UDP gets blocked, prints what happened, and stops the servers.
# UDP is blocked by an nft rule in a network namespace when the script runs as root with nft,
# and otherwise by a relay on 127.0.0.1. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

echo "==> building echo-server and echo-client (release)"
swift build -c release --product echo-server
swift build -c release --product echo-client
bin="$(swift build -c release --show-bin-path)"

workdir="$(mktemp -d /tmp/tandem-demo-XXXXXX)"
server_pid=""
extra_pids=()
# The network namespace of the UDP-blocking section, while this script has one.
netns=""
# The command prefix that start_server runs echo-server with, which is empty or `ip netns exec NAME`.
server_prefix=()
cleanup() {
  for pid in "$server_pid" "${extra_pids[@]}"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [ -n "$netns" ]; then
    # A namespace lives on while a process runs in it, so whatever is left there is killed first.
    for pid in $(ip netns pids "$netns" 2>/dev/null); do
      kill -KILL "$pid" 2>/dev/null || true
    done
    ip netns delete "$netns" 2>/dev/null || true
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT

# Starts echo-server with the given arguments and sets $port once it prints "listening".
start_server() {
  "${server_prefix[@]}" "$bin/echo-server" --host 127.0.0.1 --port 0 "$@" >"$workdir/server.log" 2>&1 &
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
echo "==> a hybrid client while the network starts blocking UDP"

# Prints why UDP cannot be blocked in a network namespace here, or nothing when it can.
namespace_unavailable_reason() {
  if [ "$EUID" -ne 0 ]; then
    echo "this script does not run as root, which ip netns and nft need"
  elif ! command -v ip >/dev/null; then
    echo "ip is missing (Debian package iproute2; scripts/setup.sh installs it when run as root)"
  elif ! command -v nft >/dev/null; then
    echo "nft is missing (Debian package nftables; scripts/setup.sh installs it when run as root)"
  fi
}

# Runs echo-server on TCP and QUIC in the namespace $netns, and a hybrid echo-client there that
# makes 12 calls 400 ms apart. About 2 seconds after the client starts, an nft rule in the
# namespace drops every UDP datagram to and from the server's port, while TCP still passes.
block_udp_in_namespace() {
  ip netns exec "$netns" ip link set lo up
  server_prefix=(ip netns exec "$netns")
  start_server --transport both --tls-cert "$workdir/demo.crt" --tls-key "$workdir/demo.key"
  cat "$workdir/server.log"
  printf '%s\n' \
    "table inet tandem_demo {" \
    "  chain input {" \
    "    type filter hook input priority filter; policy accept;" \
    "    udp dport $port drop" \
    "    udp sport $port drop" \
    "  }" \
    "}" >"$workdir/block-udp.nft"
  echo "--- 12 calls, 400 ms apart: over QUIC first; after 2 s nft drops UDP and the calls move to TCP"
  (
    sleep 2
    ip netns exec "$netns" nft -f "$workdir/block-udp.nft"
    echo "--- nft now drops UDP to and from port $port in namespace $netns"
  ) &
  extra_pids+=("$!")
  # --line-buffered keeps the client's lines in order with the line the rule's subshell prints.
  ip netns exec "$netns" "$bin/echo-client" --target "127.0.0.1:$port" --ca "$workdir/demo.crt" \
    --server-name localhost --transport hybrid --quic-idle-timeout 1 --repeat 12 --interval-ms 400 \
    --print-metrics get "hello" |
    grep --line-buffered -v '_bucket{'  # leaves out the histogram buckets, but not their sums and counts
  stop_server
  server_prefix=()
}

# QUIC reaches the server through quic-relay, which drops every datagram after 2 seconds;
# TCP at the relay's port number reaches a second server with the same certificate.
block_udp_with_relay() {
  relay="$(Benchmarks/quic/build_relay.sh)"
  start_server --transport quic --tls-cert "$workdir/demo.crt" --tls-key "$workdir/demo.key"
  "$relay" --target "127.0.0.1:$port" --black-hole-after-ms 2000 --exit-after 120 >"$workdir/relay.out" 2>"$workdir/relay.err" &
  extra_pids+=("$!")
  for _ in $(seq 1 100); do
    grep -q '^LISTENING' "$workdir/relay.out" && break
    sleep 0.1
  done
  relay_port="$(awk '/^LISTENING/ {print $2; exit}' "$workdir/relay.out")"
  "$bin/echo-server" --host 127.0.0.1 --port "$relay_port" --transport tcp --tls-cert "$workdir/demo.crt" \
    --tls-key "$workdir/demo.key" >"$workdir/tcp-server.log" 2>&1 &
  extra_pids+=("$!")
  for _ in $(seq 1 100); do
    grep -q "listening on" "$workdir/tcp-server.log" && break
    sleep 0.1
  done
  echo "--- 12 calls, 400 ms apart: over QUIC first, then UDP is blocked and the calls move to TCP"
  "$bin/echo-client" --target "127.0.0.1:$relay_port" --ca "$workdir/demo.crt" --server-name localhost \
    --transport hybrid --quic-idle-timeout 1 --repeat 12 --interval-ms 400 --print-metrics get "hello" |
    grep -v '_bucket{'  # the histogram buckets are left out here; the sums and counts remain
  cat "$workdir/relay.err"
  stop_server
}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$workdir/demo.key" -out "$workdir/demo.crt" 2>/dev/null
reason="$(namespace_unavailable_reason)"
if [ -z "$reason" ]; then
  netns="tandem-demo-$$"
  if ! netns_error="$(ip netns add "$netns" 2>&1)"; then
    netns=""
    reason="ip netns add failed: $netns_error"
  fi
fi
if [ -z "$reason" ]; then
  echo "--- variant: network namespace $netns, where nft blocks UDP"
  block_udp_in_namespace
  ip netns delete "$netns"
  netns=""
else
  echo "--- variant: quic-relay on 127.0.0.1, because $reason"
  block_udp_with_relay
fi

echo
echo "==> echo-server in plaintext (h2c)"
start_server --plaintext
"$bin/echo-client" --target "127.0.0.1:$port" --plaintext get "hello over h2c"
"$bin/echo-client" --target "127.0.0.1:$port" --plaintext --timeout 2 expand "a b c"
stop_server
echo
echo "demo finished"
