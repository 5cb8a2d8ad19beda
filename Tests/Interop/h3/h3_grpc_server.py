#!/usr/bin/env python3
"""An echo.v1.Echo gRPC server over HTTP/3, on aioquic's H3Connection.

It implements the four Echo methods as Tests/Interop/echo_server.py does over HTTP/2:
- Get returns the request's text and payload unchanged.
- Expand sends one response per space-separated word of the text (empty words are skipped),
  each with an empty payload.
- Collect returns the texts of all requests joined with single spaces.
- Update sends one response per request as soon as that request arrives.
Every method copies the request headers whose name starts with `x-echo-` into the initial
and the trailing response headers. An unknown path gets a trailers-only response with
grpc-status 12 (UNIMPLEMENTED). A GET of any path returns a short text/plain page with
status 200, so plain HTTP/3 clients such as gtlsclient can check the connection.

A response is a HEADERS frame, DATA frames with length-prefixed messages, and the trailers as
a second HEADERS frame that ends the stream. When the request carries grpc-timeout and the
response is not complete in time, the server ends the call with grpc-status 4
(DEADLINE_EXCEEDED) and sends STOP_SENDING(H3_REQUEST_CANCELLED) if the request is still open.
The timer runs on the asyncio loop, so the deadline is kept to within a few milliseconds.

Run with the project's venv (scripts/setup.sh installs aioquic):
    .venv/bin/python Tests/Interop/h3/h3_grpc_server.py --cert server-chain.pem --key server.key --port 0
It prints `LISTENING <port>` on stdout once it accepts connections, and stops on SIGINT,
SIGTERM or after --exit-after seconds.
"""

import argparse
import asyncio
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# No __pycache__ next to the sources, because .gitignore does not list it.
sys.dont_write_bytecode = True

from aioquic.asyncio import QuicConnectionProtocol, serve  # noqa: E402
from aioquic.h3.connection import H3_ALPN, H3Connection  # noqa: E402
from aioquic.h3.events import DataReceived, HeadersReceived  # noqa: E402
from aioquic.quic.configuration import QuicConfiguration  # noqa: E402
from aioquic.quic.events import StopSendingReceived, StreamReset  # noqa: E402

import grpc_wire as wire  # noqa: E402

SERVICE_PREFIX = "/echo.v1.Echo/"
METHODS = ("Get", "Expand", "Collect", "Update")


def log(message):
    print(message, file=sys.stderr, flush=True)


class ServerCall:
    """One gRPC call on one request stream."""

    def __init__(self, connection, stream_id, method, request_headers):
        self.connection = connection
        self.stream_id = stream_id
        self.method = method
        self.echoed = wire.echoed_headers(request_headers)
        self.reader = wire.MessageReader()
        self.requests = []
        self.request_ended = False
        self.headers_sent = False
        self.finished = False
        self.deadline_timer = None

    # Sending

    def send_initial_headers(self):
        if self.headers_sent:
            return
        headers = [(b":status", b"200"), (b"content-type", b"application/grpc")] + self.echoed
        self.connection.h3.send_headers(self.stream_id, headers)
        self.headers_sent = True

    def send_response(self, text, payload=b""):
        self.send_initial_headers()
        message = wire.frame_message(wire.encode_echo(text, payload))
        self.connection.h3.send_data(self.stream_id, message, end_stream=False)

    def finish(self, status, message="", echo=True):
        """Send the status: as trailers after a response, or as a trailers-only response."""
        if self.finished:
            return
        self.finished = True
        if self.deadline_timer is not None:
            self.deadline_timer.cancel()
        status_headers = [(b"grpc-status", str(status).encode())]
        if message:
            status_headers.append((b"grpc-message", wire.percent_encode_message(message).encode("ascii")))
        if echo:
            status_headers += self.echoed
        if self.headers_sent:
            self.connection.h3.send_headers(self.stream_id, status_headers, end_stream=True)
        else:
            leading = [(b":status", b"200"), (b"content-type", b"application/grpc")]
            self.connection.h3.send_headers(self.stream_id, leading + status_headers, end_stream=True)
        if not self.request_ended:
            # The response is complete, so the rest of the request is not needed.
            code = wire.H3_REQUEST_CANCELLED if status == wire.DEADLINE_EXCEEDED else wire.H3_NO_ERROR
            self.connection.stop_receiving(self.stream_id, code)
        self.connection.forget(self.stream_id)

    def abandon(self, reason):
        """Drop the call without sending anything more, after the peer reset or stopped it."""
        if self.finished:
            return
        self.finished = True
        if self.deadline_timer is not None:
            self.deadline_timer.cancel()
        self.connection.forget(self.stream_id)
        log(f"call {self.method} on stream {self.stream_id} ended early: {reason}")

    def expire(self, seconds):
        self.deadline_timer = None
        if self.finished:
            return
        log(f"call {self.method} on stream {self.stream_id}: deadline of {seconds:.3f} s exceeded")
        self.finish(wire.DEADLINE_EXCEEDED, f"deadline of {seconds:.3f} s exceeded")
        self.connection.transmit()

    # Receiving

    def receive_data(self, data):
        if self.finished:
            return
        try:
            messages = self.reader.feed(data)
            decoded = [wire.decode_echo(message) for message in messages]
        except wire.WireError as error:
            self.finish(wire.INTERNAL, f"invalid request message: {error}")
            return
        if self.method == "Update":
            for text, payload in decoded:
                self.send_response(text, payload)
        else:
            self.requests += decoded

    def receive_end(self):
        self.request_ended = True
        if self.finished:
            return
        if self.reader.pending_bytes:
            self.finish(wire.INTERNAL, f"request stream ended inside a message ({self.reader.pending_bytes} bytes left)")
            return
        if self.method == "Update":
            self.send_initial_headers()
            self.finish(wire.OK)
            return
        if self.method == "Collect":
            self.send_response(" ".join(text for text, _ in self.requests))
            self.finish(wire.OK)
            return
        if len(self.requests) != 1:
            self.finish(wire.INTERNAL, f"{self.method} expects exactly 1 request message, received {len(self.requests)}")
            return
        text, payload = self.requests[0]
        if self.method == "Get":
            self.send_response(text, payload)
        else:
            self.send_initial_headers()
            for word in text.split(" "):
                if word:
                    self.send_response(word)
        self.finish(wire.OK)


class EchoServerProtocol(QuicConnectionProtocol):
    """One QUIC connection: routes HTTP/3 request streams to ServerCall objects."""

    log_calls = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.h3 = H3Connection(self._quic)
        self.calls = {}

    def forget(self, stream_id):
        self.calls.pop(stream_id, None)

    def stop_receiving(self, stream_id, code):
        try:
            self._quic.stop_stream(stream_id, code)
        except ValueError as error:
            log(f"stream {stream_id}: STOP_SENDING not sent: {error}")

    def quic_event_received(self, event):
        if isinstance(event, StreamReset):
            call = self.calls.get(event.stream_id)
            if call is not None:
                call.abandon(f"client reset the stream with error code 0x{event.error_code:x}")
        elif isinstance(event, StopSendingReceived):
            call = self.calls.get(event.stream_id)
            if call is not None:
                call.abandon(f"client sent STOP_SENDING with error code 0x{event.error_code:x}")
        for h3_event in self.h3.handle_event(event):
            self.handle_h3_event(h3_event)

    def handle_h3_event(self, event):
        if isinstance(event, HeadersReceived):
            call = self.calls.get(event.stream_id)
            if call is None:
                call = self.start_call(event)
                if call is None:
                    return
            # A second HEADERS frame on a request is a trailer block; gRPC clients send none.
            if event.stream_ended:
                call.receive_end()
        elif isinstance(event, DataReceived):
            call = self.calls.get(event.stream_id)
            if call is None:
                return
            if event.data:
                call.receive_data(event.data)
            if event.stream_ended:
                call.receive_end()

    def start_call(self, event):
        fields = wire.header_dict(event.headers)
        stream_id = event.stream_id
        method = wire.first_header(fields, ":method")
        content_type = wire.first_header(fields, "content-type", "")
        path = wire.first_header(fields, ":path", "")
        if method in ("GET", "HEAD"):
            # A plain page, so that HTTP/3 clients that are not gRPC clients (gtlsclient)
            # can check the connection.
            body = b"echo.v1.Echo gRPC server over HTTP/3 (aioquic)\n"
            headers = [(b":status", b"200"), (b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
            if method == "HEAD":
                self.h3.send_headers(stream_id, headers, end_stream=True)
            else:
                self.h3.send_headers(stream_id, headers)
                self.h3.send_data(stream_id, body, end_stream=True)
            if self.log_calls:
                print(f"get {path}", flush=True)
            return None
        if method != "POST":
            log(f"stream {stream_id}: rejected {method} {path}: gRPC needs POST")
            self.h3.send_headers(stream_id, [(b":status", b"405"), (b"allow", b"GET, HEAD, POST")], end_stream=True)
            return None
        if not content_type.startswith("application/grpc"):
            log(f"stream {stream_id}: rejected content-type {content_type!r}")
            self.h3.send_headers(stream_id, [(b":status", b"415")], end_stream=True)
            return None

        name = path[len(SERVICE_PREFIX) :] if path.startswith(SERVICE_PREFIX) else None
        if self.log_calls:
            print(f"call {path}", flush=True)
        call = ServerCall(self, stream_id, name or path, event.headers)
        self.calls[stream_id] = call
        if name not in METHODS:
            call.finish(wire.UNIMPLEMENTED, f"method {path} not found", echo=False)
            return call

        timeout = wire.first_header(fields, "grpc-timeout")
        if timeout is not None:
            try:
                seconds = wire.parse_timeout(timeout)
            except wire.WireError as error:
                call.finish(wire.INTERNAL, str(error))
                return call
            call.deadline_timer = self._loop.call_later(seconds, call.expire, seconds)
        return call


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description="echo.v1.Echo gRPC server over HTTP/3 (aioquic interop peer)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="UDP port; 0 picks a free one (default 0)")
    parser.add_argument("--cert", required=True, help="PEM certificate chain, server certificate first")
    parser.add_argument("--key", required=True, help="PEM private key for --cert")
    parser.add_argument("--log-calls", action="store_true", help="print 'call PATH' on stdout for each call")
    parser.add_argument(
        "--exit-after",
        type=float,
        default=0,
        help="stop by itself after this many seconds; 0 runs until a signal (default 0)",
    )
    arguments = parser.parse_args(argv)
    if not 0 <= arguments.port <= 65535:
        parser.error(f"invalid --port {arguments.port}: must be 0...65535")
    if arguments.exit_after < 0:
        parser.error(f"invalid --exit-after {arguments.exit_after}: must be 0 or more")
    return arguments


async def run(arguments):
    configuration = QuicConfiguration(is_client=False, alpn_protocols=H3_ALPN)
    configuration.load_cert_chain(arguments.cert, arguments.key)
    EchoServerProtocol.log_calls = arguments.log_calls

    server = await serve(
        arguments.host, arguments.port, configuration=configuration, create_protocol=EchoServerProtocol
    )
    port = server._transport.get_extra_info("sockname")[1]
    print(f"LISTENING {port}", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), timeout=arguments.exit_after or None)
    except asyncio.TimeoutError:
        log(f"stopping after --exit-after {arguments.exit_after} s")
    server.close()
    print("stopped", flush=True)


def main(argv=None):
    arguments = parse_arguments(argv)
    for path in (arguments.cert, arguments.key):
        if not Path(path).is_file():
            print(f"error: file not found: {path}", file=sys.stderr)
            return 2
    asyncio.run(run(arguments))
    return 0


if __name__ == "__main__":
    sys.exit(main())
