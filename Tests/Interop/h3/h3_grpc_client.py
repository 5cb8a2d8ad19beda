#!/usr/bin/env python3
"""An echo.v1.Echo gRPC client over HTTP/3, on aioquic's H3Connection, that checks a server.

The cases mirror Tests/Interop/echo_client.py, which runs the same checks over HTTP/2 with
grpcio. Each call sends `x-echo-*` metadata (a text key and a `-bin` key) plus one key that
the server must not echo. The client checks the responses, the trailers (the second HEADERS
frame, which ends the stream) and the echoed metadata in the initial and trailing headers.

Cases (default: all, in this order):
  get             unary call; text and a 1 KiB binary payload come back unchanged
  get-large       unary call with a 256 KiB payload
  get-concurrent  64 unary calls in flight at once on one connection
  expand          server streaming; one response per space-separated word
  collect         client streaming; texts joined with single spaces
  update          bidirectional ping-pong; each response must arrive before the next request
  metadata        repeated text values and a binary value come back in order, in the
                  initial and the trailing headers, and the other key does not
  unimplemented   an unknown method and an unknown service get a trailers-only response
                  with grpc-status 12 (UNIMPLEMENTED)
  deadline        a Collect with grpc-timeout 100m whose requests stall must end with
                  grpc-status 4 (DEADLINE_EXCEEDED) or a stream reset with
                  H3_REQUEST_CANCELLED from the server, and a Get on the same connection
                  must still succeed

With --get PATH it makes one plain HTTP/3 GET instead, which checks the connection to any
HTTP/3 server, for example gtlsserver.

It prints one line per case, `PASS name: detail` or `FAIL name: reason`. The exit code is
0 when every case passed, 1 when any failed, and 2 on bad usage or when the connection
could not be made.

Run with the project's venv, for example:
    .venv/bin/python Tests/Interop/h3/h3_grpc_client.py 127.0.0.1 4433 --ca-file ca.pem
    .venv/bin/python Tests/Interop/h3/h3_grpc_client.py 127.0.0.1 4433 --insecure --case get
"""

import argparse
import asyncio
import ssl
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# No __pycache__ next to the sources, because .gitignore does not list it.
sys.dont_write_bytecode = True

from aioquic.asyncio import QuicConnectionProtocol, connect  # noqa: E402
from aioquic.h3.connection import H3_ALPN, H3Connection  # noqa: E402
from aioquic.h3.events import DataReceived, HeadersReceived  # noqa: E402
from aioquic.quic.configuration import QuicConfiguration  # noqa: E402
from aioquic.quic.events import ConnectionTerminated, StreamReset  # noqa: E402

import grpc_wire as wire  # noqa: E402

CASES = (
    "get",
    "get-large",
    "get-concurrent",
    "expand",
    "collect",
    "update",
    "metadata",
    "unimplemented",
    "deadline",
)

ECHO_TEXT_KEY = "x-echo-text"
ECHO_TEXT_VALUE = "interop text value"
ECHO_BINARY_KEY = "x-echo-trace-bin"
ECHO_BINARY_VALUE = bytes([0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF])
NOT_ECHOED_KEY = "x-not-echoed"

REQUEST_METADATA = (
    (ECHO_TEXT_KEY, ECHO_TEXT_VALUE),
    (ECHO_BINARY_KEY, ECHO_BINARY_VALUE),
    (NOT_ECHOED_KEY, "must not come back"),
)


class Mismatch(Exception):
    """A response, status or header that differs from the contract."""


def expect_equal(subject, expected, actual):
    if expected != actual:
        raise Mismatch(f"{subject}: expected {shorten(expected)}, got {shorten(actual)}")


def shorten(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(value)} items or bytes)"


class ClientCall:
    """One gRPC call on one HTTP/3 request stream.

    Responses arrive in `responses` as `(text, payload)` tuples, and `None` after the
    trailers. `done` resolves once the call has ended: by trailers, by a reset from the
    server, or by the connection closing.
    """

    def __init__(self, connection, stream_id, plain=False):
        self.connection = connection
        self.stream_id = stream_id
        # A plain HTTP request: the body is collected as bytes, and no trailers are expected.
        self.plain = plain
        self.body = bytearray()
        self.reader = wire.MessageReader()
        self.responses = asyncio.Queue()
        self.initial_headers = None
        self.trailers = None
        self.trailers_only = False
        self.reset_code = None
        self.error = None
        self.done = asyncio.get_running_loop().create_future()

    # Sending

    def send(self, text="", payload=b"", end=False):
        message = wire.frame_message(wire.encode_echo(text, payload))
        self.connection.h3.send_data(self.stream_id, message, end_stream=end)
        self.connection.transmit()

    def send_raw(self, message, end=False):
        self.connection.h3.send_data(self.stream_id, wire.frame_message(message), end_stream=end)
        self.connection.transmit()

    def end_requests(self):
        self.connection.h3.send_data(self.stream_id, b"", end_stream=True)
        self.connection.transmit()

    def cancel(self):
        """Reset the stream and stop reading it with H3_REQUEST_CANCELLED, which cancels a gRPC call over HTTP/3."""
        if self.done.done():
            return
        self.connection.quic.reset_stream(self.stream_id, wire.H3_REQUEST_CANCELLED)
        self.connection.quic.stop_stream(self.stream_id, wire.H3_REQUEST_CANCELLED)
        self.connection.transmit()
        self.end(error="cancelled by the client")

    # Receiving (called by the connection)

    def receive_headers(self, headers, ended):
        fields = wire.header_dict(headers)
        if self.initial_headers is None:
            self.initial_headers = fields
            if ended:
                self.trailers_only = True
                self.trailers = fields
                self.end()
            return
        if not ended:
            self.end(error="a second HEADERS frame did not end the stream")
            return
        self.trailers = fields
        self.end()

    def receive_data(self, data, ended):
        if self.initial_headers is None:
            self.end(error="DATA arrived before the response headers")
            return
        if self.plain:
            self.body += data
            if ended:
                self.end()
            return
        try:
            for message in self.reader.feed(data):
                self.responses.put_nowait(wire.decode_echo(message))
        except wire.WireError as error:
            self.end(error=f"invalid response: {error}")
            return
        if ended:
            self.end(error="the stream ended without trailers")

    def receive_reset(self, code):
        self.reset_code = code
        self.end(error=f"the server reset the stream with error code 0x{code:x}")

    def end(self, error=None):
        if self.done.done():
            return
        if error is not None:
            self.error = error
        self.responses.put_nowait(None)
        self.done.set_result(None)
        self.connection.calls.pop(self.stream_id, None)

    # Results

    async def next_response(self, timeout):
        """Return the next `(text, payload)`, or None once the call has ended."""
        return await asyncio.wait_for(self.responses.get(), timeout)

    async def all_responses(self, timeout):
        """Return every response until the end of the call."""
        collected = []
        deadline = time.monotonic() + timeout
        while True:
            item = await asyncio.wait_for(self.responses.get(), max(deadline - time.monotonic(), 0.001))
            if item is None:
                return collected
            collected.append(item)

    def status(self):
        """Return `(grpc-status, grpc-message)` from the trailers; raise Mismatch without them."""
        if self.error is not None:
            raise Mismatch(self.error)
        if self.trailers is None:
            raise Mismatch("the call ended without trailers")
        expect_equal(":status", ["200"], self.initial_headers.get(":status"))
        code = wire.first_header(self.trailers, "grpc-status")
        if code is None or not code.isdigit():
            raise Mismatch(f"trailers have no valid grpc-status: {self.trailers}")
        message = wire.percent_decode_message(wire.first_header(self.trailers, "grpc-message", ""))
        return int(code), message

    def check_ok(self):
        code, message = self.status()
        if code != wire.OK:
            raise Mismatch(f"expected grpc-status 0 (OK), got {code}: {message}")
        content_type = wire.first_header(self.initial_headers, "content-type", "")
        if not content_type.startswith("application/grpc"):
            raise Mismatch(f"content-type: expected application/grpc, got {content_type!r}")


class EchoClientProtocol(QuicConnectionProtocol):
    """One QUIC connection that carries gRPC calls, each on its own request stream."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.h3 = H3Connection(self._quic)
        self.calls = {}

    @property
    def quic(self):
        return self._quic

    def start_call(self, path, metadata=(), timeout=None):
        stream_id = self._quic.get_next_available_stream_id()
        call = ClientCall(self, stream_id)
        self.calls[stream_id] = call
        headers = [
            (b":method", b"POST"),
            (b":scheme", b"https"),
            (b":authority", self.authority.encode()),
            (b":path", path.encode()),
            (b"content-type", b"application/grpc"),
            (b"te", b"trailers"),
            (b"user-agent", b"tandem-h3-interop-client"),
        ]
        if timeout is not None:
            headers.append((b"grpc-timeout", wire.format_timeout(timeout).encode()))
        headers += wire.encode_metadata(metadata)
        self.h3.send_headers(stream_id, headers)
        self.transmit()
        return call

    def start_get(self, path):
        """Send a plain HTTP/3 GET and return its ClientCall; the body arrives in `body`."""
        stream_id = self._quic.get_next_available_stream_id()
        call = ClientCall(self, stream_id, plain=True)
        self.calls[stream_id] = call
        headers = [
            (b":method", b"GET"),
            (b":scheme", b"https"),
            (b":authority", self.authority.encode()),
            (b":path", path.encode()),
            (b"user-agent", b"tandem-h3-interop-client"),
        ]
        self.h3.send_headers(stream_id, headers, end_stream=True)
        self.transmit()
        return call

    def quic_event_received(self, event):
        if isinstance(event, StreamReset):
            call = self.calls.get(event.stream_id)
            if call is not None:
                call.receive_reset(event.error_code)
        elif isinstance(event, ConnectionTerminated):
            for call in list(self.calls.values()):
                call.end(error=f"the connection closed: error code 0x{event.error_code:x} {event.reason_phrase}")
        for h3_event in self.h3.handle_event(event):
            call = self.calls.get(h3_event.stream_id)
            if call is None:
                continue
            if isinstance(h3_event, HeadersReceived):
                call.receive_headers(h3_event.headers, h3_event.stream_ended)
            elif isinstance(h3_event, DataReceived):
                call.receive_data(h3_event.data, h3_event.stream_ended)


# ---------------------------------------------------------------------------
# Cases


def check_echoed_metadata(where, fields):
    """Check that `fields` contains both x-echo-* entries and not the other key."""
    expect_equal(f"{where} metadata {ECHO_TEXT_KEY}", [ECHO_TEXT_VALUE], fields.get(ECHO_TEXT_KEY))
    binary = [wire.decode_metadata_value(ECHO_BINARY_KEY, value) for value in fields.get(ECHO_BINARY_KEY, [])]
    expect_equal(f"{where} metadata {ECHO_BINARY_KEY}", [ECHO_BINARY_VALUE], binary)
    if NOT_ECHOED_KEY in fields:
        raise Mismatch(f"{where} metadata contains {NOT_ECHOED_KEY}, which must not be echoed")


def check_call_metadata(call):
    check_echoed_metadata("initial", call.initial_headers)
    check_echoed_metadata("trailing", call.trailers)


class EchoChecks:
    def __init__(self, connection, timeout):
        self.connection = connection
        self.timeout = timeout

    async def unary(self, path, text="", payload=b"", metadata=REQUEST_METADATA):
        call = self.connection.start_call(path, metadata, timeout=self.timeout)
        call.send(text, payload, end=True)
        responses = await call.all_responses(self.timeout)
        return call, responses

    async def expect_single_echo(self, text, payload):
        call, responses = await self.unary("/echo.v1.Echo/Get", text, payload)
        call.check_ok()
        expect_equal("response count", 1, len(responses))
        expect_equal("text", text, responses[0][0])
        expect_equal("payload length", len(payload), len(responses[0][1]))
        expect_equal("payload", payload, responses[0][1])
        check_call_metadata(call)

    async def case_get(self):
        payload = bytes(range(256)) * 4
        await self.expect_single_echo("hello tandem ✓", payload)
        return f"{len(payload)} payload bytes echoed"

    async def case_get_large(self):
        payload = bytes(index % 251 for index in range(256 * 1024))
        await self.expect_single_echo("large", payload)
        return f"{len(payload)} payload bytes echoed"

    async def case_get_concurrent(self):
        count = 64
        started = []
        for index in range(count):
            text, payload = f"call {index}", index.to_bytes(2, "big")
            call = self.connection.start_call("/echo.v1.Echo/Get", REQUEST_METADATA, timeout=self.timeout)
            call.send(text, payload, end=True)
            started.append((text, payload, call))
        for text, payload, call in started:
            responses = await call.all_responses(self.timeout)
            call.check_ok()
            expect_equal(f"responses to '{text}'", [(text, payload)], responses)
            check_call_metadata(call)
        return f"{count} calls in flight at once"

    async def case_expand(self):
        text = "the quick brown fox héllo wörld"
        call, responses = await self.unary("/echo.v1.Echo/Expand", text)
        call.check_ok()
        expect_equal("response texts", text.split(" "), [item[0] for item in responses])
        expect_equal("response payloads", [b""] * len(responses), [item[1] for item in responses])
        check_call_metadata(call)
        return f"{len(responses)} responses"

    async def case_collect(self):
        texts = ["alpha", "beta", "gamma", "δέλτα", "epsilon"]
        call = self.connection.start_call("/echo.v1.Echo/Collect", REQUEST_METADATA, timeout=self.timeout)
        for text in texts:
            call.send(text)
        call.end_requests()
        responses = await call.all_responses(self.timeout)
        call.check_ok()
        expect_equal("responses", [(" ".join(texts), b"")], responses)
        check_call_metadata(call)
        return f"{len(texts)} requests joined"

    async def case_update(self):
        # Each request goes out only after the response to the previous one has arrived,
        # so a server that waits for the end of the request stream fails this case.
        texts = ["one", "two", "three", "four", "five"]
        call = self.connection.start_call("/echo.v1.Echo/Update", REQUEST_METADATA, timeout=self.timeout)
        try:
            for text in texts:
                call.send(text, text.encode())
                try:
                    response = await call.next_response(self.timeout)
                except asyncio.TimeoutError as error:
                    raise Mismatch(
                        f"no response to '{text}' within {self.timeout} s; the server may wait"
                        " for the end of the request stream"
                    ) from error
                if response is None:
                    raise Mismatch(f"response to '{text}': the call ended early ({call.error or 'trailers'})")
                expect_equal(f"response to '{text}'", (text, text.encode()), response)
        except Exception:
            call.cancel()
            raise
        call.end_requests()
        leftover = await call.all_responses(self.timeout)
        expect_equal("responses after the last request", [], leftover)
        call.check_ok()
        check_call_metadata(call)
        return f"{len(texts)} request/response round trips"

    async def case_metadata(self):
        metadata = (
            (ECHO_TEXT_KEY, "first"),
            (ECHO_TEXT_KEY, "second"),
            (ECHO_BINARY_KEY, ECHO_BINARY_VALUE),
            ("x-echo-empty-bin", b""),
            (NOT_ECHOED_KEY, "must not come back"),
        )
        call, responses = await self.unary("/echo.v1.Echo/Get", "metadata", metadata=metadata)
        call.check_ok()
        expect_equal("response count", 1, len(responses))
        for where, fields in (("initial", call.initial_headers), ("trailing", call.trailers)):
            expect_equal(f"{where} {ECHO_TEXT_KEY} values", ["first", "second"], fields.get(ECHO_TEXT_KEY))
            binary = [wire.decode_metadata_value(ECHO_BINARY_KEY, v) for v in fields.get(ECHO_BINARY_KEY, [])]
            expect_equal(f"{where} {ECHO_BINARY_KEY} values", [ECHO_BINARY_VALUE], binary)
            empty = [wire.decode_metadata_value("x-echo-empty-bin", v) for v in fields.get("x-echo-empty-bin", [])]
            expect_equal(f"{where} x-echo-empty-bin values", [b""], empty)
            if NOT_ECHOED_KEY in fields:
                raise Mismatch(f"{where} headers contain {NOT_ECHOED_KEY}, which must not be echoed")
        return "repeated, binary and empty values echoed in order"

    async def case_unimplemented(self):
        for path in ("/echo.v1.Echo/DoesNotExist", "/echo.v1.NoSuchService/Get"):
            call = self.connection.start_call(path, REQUEST_METADATA, timeout=self.timeout)
            call.send_raw(b"", end=True)
            responses = await call.all_responses(self.timeout)
            code, message = call.status()
            expect_equal(f"{path} grpc-status", wire.UNIMPLEMENTED, code)
            expect_equal(f"{path} responses", [], responses)
            if not call.trailers_only:
                raise Mismatch(f"{path}: expected a trailers-only response, got HEADERS then trailers")
        return "unknown method and unknown service rejected with trailers-only"

    async def case_deadline(self):
        deadline = 0.1
        call = self.connection.start_call("/echo.v1.Echo/Collect", REQUEST_METADATA, timeout=deadline)
        call.send("first")
        # The request stream stays open: only the server's deadline can end this call.
        # Wait well past the deadline, but bounded in case the server ignores it.
        try:
            await asyncio.wait_for(asyncio.shield(call.done), deadline + 5.0)
        except asyncio.TimeoutError as error:
            call.cancel()
            raise Mismatch(f"the server did not end the call within 5 s after grpc-timeout {deadline} s") from error
        if call.reset_code is not None:
            expect_equal("reset error code", hex(wire.H3_REQUEST_CANCELLED), hex(call.reset_code))
            outcome = "stream reset with H3_REQUEST_CANCELLED"
        else:
            code, message = call.status()
            expect_equal("grpc-status", wire.DEADLINE_EXCEEDED, code)
            outcome = f"grpc-status 4 ({message or 'no message'})"
        if call.reset_code is None and not call.done.done():
            call.cancel()
        call, responses = await self.unary("/echo.v1.Echo/Get", "after deadline")
        call.check_ok()
        expect_equal("Get after the deadline", [("after deadline", b"")], responses)
        return f"{outcome}, then the connection still works"


# ---------------------------------------------------------------------------


async def run_get(connection, path, timeout):
    """Make one GET; print a PASS or FAIL line and return the number of failures."""
    call = connection.start_get(path)
    try:
        await asyncio.wait_for(asyncio.shield(call.done), timeout)
    except asyncio.TimeoutError:
        print(f"FAIL get {path}: no complete response within {timeout} s", flush=True)
        return 1
    if call.error is not None:
        print(f"FAIL get {path}: {call.error}", flush=True)
        return 1
    status = wire.first_header(call.initial_headers, ":status")
    if status != "200":
        print(f"FAIL get {path}: :status is {status}, expected 200", flush=True)
        return 1
    print(f"PASS get {path}: :status 200, {len(call.body)} body bytes", flush=True)
    return 0


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        description="check an echo.v1.Echo server over HTTP/3 with aioquic; prints PASS/FAIL lines",
        epilog="cases: " + ", ".join(CASES),
    )
    parser.add_argument("host", help="server address, for example 127.0.0.1")
    parser.add_argument("port", type=int, help="server UDP port")
    trust = parser.add_mutually_exclusive_group(required=True)
    trust.add_argument("--ca-file", help="PEM CA certificate that must have signed the server certificate")
    trust.add_argument("--insecure", action="store_true", help="skip verification of the server certificate")
    parser.add_argument("--server-name", default="localhost", help="TLS server name to send and verify (default localhost)")
    parser.add_argument("--case", action="append", choices=CASES, help="case to run; repeatable (default all)")
    parser.add_argument(
        "--get",
        metavar="PATH",
        help="instead of the gRPC cases, make one plain GET of PATH and pass on status 200",
    )
    # get-large (256 KiB) usually takes 0.25 s but took 5 s at times on a shared VM, hence 30 s.
    parser.add_argument("--timeout", type=float, default=30.0, help="deadline per call in seconds (default 30)")
    parser.add_argument(
        "--connect-timeout", type=float, default=10.0, help="seconds to wait for the handshake (default 10)"
    )
    arguments = parser.parse_args(argv)
    if arguments.timeout <= 0:
        parser.error(f"invalid --timeout {arguments.timeout}: must be greater than 0")
    if not 1 <= arguments.port <= 65535:
        parser.error(f"invalid port {arguments.port}: must be 1...65535")
    if arguments.ca_file and not Path(arguments.ca_file).is_file():
        parser.error(f"--ca-file not found: {arguments.ca_file}")
    return arguments


async def run(arguments):
    configuration = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, server_name=arguments.server_name)
    if arguments.insecure:
        configuration.verify_mode = ssl.CERT_NONE
    else:
        configuration.verify_mode = ssl.CERT_REQUIRED
        configuration.load_verify_locations(cafile=arguments.ca_file)

    try:
        connecting = connect(
            arguments.host, arguments.port, configuration=configuration, create_protocol=EchoClientProtocol
        )
        connection = await asyncio.wait_for(connecting.__aenter__(), arguments.connect_timeout)
    except (asyncio.TimeoutError, ConnectionError, OSError) as error:
        print(
            f"FAIL connect: no QUIC connection to {arguments.host}:{arguments.port} within"
            f" {arguments.connect_timeout} s: {error or type(error).__name__}",
            flush=True,
        )
        return 2
    connection.authority = f"{arguments.server_name}:{arguments.port}"

    checks = EchoChecks(connection, arguments.timeout)
    failed = 0
    try:
        if arguments.get:
            failed = await run_get(connection, arguments.get, arguments.timeout)
            return 1 if failed else 0
        for name in arguments.case or CASES:
            started = time.monotonic()
            try:
                detail = await getattr(checks, "case_" + name.replace("-", "_"))()
                print(f"PASS {name}: {detail} ({time.monotonic() - started:.3f} s)", flush=True)
            except Mismatch as mismatch:
                failed += 1
                print(f"FAIL {name}: {mismatch}", flush=True)
            except asyncio.TimeoutError:
                failed += 1
                print(f"FAIL {name}: timed out after {arguments.timeout} s", flush=True)
            except wire.WireError as error:
                failed += 1
                print(f"FAIL {name}: {error}", flush=True)
    finally:
        await connecting.__aexit__(None, None, None)
    return 1 if failed else 0


def main(argv=None):
    return asyncio.run(run(parse_arguments(argv)))


if __name__ == "__main__":
    sys.exit(main())
