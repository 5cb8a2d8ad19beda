#!/usr/bin/env python3
"""An echo.v1.Echo server written with grpcio, used as an interop peer for Tandem.

Behaviour of the four methods:
- Get returns the request's text and payload unchanged.
- Expand sends one response per space-separated word of the text (empty words between
  repeated spaces are skipped), each with an empty payload.
- Collect returns the texts of all requests joined with single spaces, with an empty payload.
- Update sends one response per request as soon as that request arrives, with the
  request's text and payload.

Every method copies the request metadata whose key starts with `x-echo-` (text and
`-bin` keys) into both the initial and the trailing response metadata.

Run with the project's venv, for example:
    .venv/bin/python Tests/Interop/echo_server.py --port 0
It prints `listening on PORT` on stdout once it accepts calls, and stops on SIGINT or
SIGTERM (or after --exit-after seconds).
"""

import argparse
import signal
import sys
import threading
from concurrent import futures
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import grpc  # noqa: E402 - after the path set-up above

import echo_proto  # noqa: E402

ECHO_PREFIX = "x-echo-"


def echoed_metadata(context):
    """Return the request metadata entries whose key starts with `x-echo-`."""
    return tuple(
        (entry.key, entry.value)
        for entry in context.invocation_metadata()
        if entry.key.startswith(ECHO_PREFIX)
    )


def make_servicer(pb2, pb2_grpc, log_calls):
    def log_call(method):
        if log_calls:
            print(f"call echo.v1.Echo/{method}", flush=True)

    class EchoServicer(pb2_grpc.EchoServicer):
        def Get(self, request, context):
            log_call("Get")
            metadata = echoed_metadata(context)
            context.send_initial_metadata(metadata)
            context.set_trailing_metadata(metadata)
            return pb2.EchoResponse(text=request.text, payload=request.payload)

        def Expand(self, request, context):
            log_call("Expand")
            metadata = echoed_metadata(context)
            context.send_initial_metadata(metadata)
            context.set_trailing_metadata(metadata)
            for word in request.text.split(" "):
                if word:
                    yield pb2.EchoResponse(text=word)

        def Collect(self, request_iterator, context):
            log_call("Collect")
            metadata = echoed_metadata(context)
            context.send_initial_metadata(metadata)
            context.set_trailing_metadata(metadata)
            texts = [request.text for request in request_iterator]
            return pb2.EchoResponse(text=" ".join(texts))

        def Update(self, request_iterator, context):
            log_call("Update")
            metadata = echoed_metadata(context)
            context.send_initial_metadata(metadata)
            context.set_trailing_metadata(metadata)
            for request in request_iterator:
                yield pb2.EchoResponse(text=request.text, payload=request.payload)

    return EchoServicer()


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description="echo.v1.Echo server on grpcio (interop peer)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one (default 0)")
    parser.add_argument("--tls-cert", help="PEM certificate chain; enables TLS together with --tls-key")
    parser.add_argument("--tls-key", help="PEM private key for --tls-cert")
    parser.add_argument("--proto", help="path to echo.proto (default Protos/echo/v1/echo.proto)")
    parser.add_argument(
        "--log-calls", action="store_true", help="print 'call echo.v1.Echo/METHOD' for each call"
    )
    parser.add_argument("--workers", type=int, default=8, help="handler threads (default 8)")
    parser.add_argument(
        "--exit-after",
        type=float,
        default=0,
        help="stop by itself after this many seconds; 0 runs until a signal (default 0)",
    )
    arguments = parser.parse_args(argv)
    if bool(arguments.tls_cert) != bool(arguments.tls_key):
        parser.error("--tls-cert and --tls-key must be given together")
    if not 0 <= arguments.port <= 65535:
        parser.error(f"invalid --port {arguments.port}: must be 0...65535")
    if arguments.workers < 1:
        parser.error(f"invalid --workers {arguments.workers}: must be at least 1")
    return arguments


def main(argv=None):
    arguments = parse_arguments(argv)
    pb2, pb2_grpc = echo_proto.load(arguments.proto)

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=arguments.workers))
    pb2_grpc.add_EchoServicer_to_server(make_servicer(pb2, pb2_grpc, arguments.log_calls), server)

    address = f"{arguments.host}:{arguments.port}"
    if arguments.tls_cert:
        key = Path(arguments.tls_key).read_bytes()
        chain = Path(arguments.tls_cert).read_bytes()
        port = server.add_secure_port(address, grpc.ssl_server_credentials([(key, chain)]))
    else:
        port = server.add_insecure_port(address)
    if port == 0:
        print(f"error: failed to bind {address}", file=sys.stderr)
        return 1

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    server.start()
    mode = "tls" if arguments.tls_cert else "plaintext"
    print(f"listening on {port} ({mode})", flush=True)

    stop.wait(arguments.exit_after or None)
    server.stop(grace=1).wait()
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
