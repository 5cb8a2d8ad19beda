#!/usr/bin/env python3
"""An echo.v1.Echo client written with grpcio, used to check a server against the contract.

Each case sends `x-echo-*` metadata (a text key and a `-bin` key) plus one key that the
server must not echo, then checks the responses, the status, and the echoed metadata in
both the initial and the trailing response metadata. The result is a JSON summary on
stdout. The exit code is 0 when every case passed and 1 when any failed. It is 2 on bad
usage or when the target could not be reached.

Cases (default: all, in this order):
  get             unary call; text and a 1 KiB binary payload come back unchanged
  get-large       unary call with a 256 KiB payload, larger than the default HTTP/2 window
  get-concurrent  64 unary calls in flight at once on one channel
  expand          server streaming; one response per space-separated word
  collect         client streaming; texts joined with single spaces
  update          bidirectional ping-pong; each response must arrive before the next request
  unimplemented   an unknown method and an unknown service must fail with UNIMPLEMENTED
  deadline        a client stream stalled past a 1 ms deadline must fail with
                  DEADLINE_EXCEEDED, and a Get on the same channel must still succeed

Run with the project's venv, for example:
    .venv/bin/python Tests/Interop/echo_client.py --target 127.0.0.1:50051
    .venv/bin/python Tests/Interop/echo_client.py --target 127.0.0.1:50051 \
        --ca ca.pem --server-name localhost --case get --case update
"""

import argparse
import json
import queue
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import grpc  # noqa: E402 - after the path set-up above

import echo_proto  # noqa: E402

CASES = (
    "get",
    "get-large",
    "get-concurrent",
    "expand",
    "collect",
    "update",
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
    """A response, status or metadata entry that differs from the contract."""


def expect_equal(subject, expected, actual):
    if expected != actual:
        raise Mismatch(f"{subject}: expected {shorten(expected)}, got {shorten(actual)}")


def shorten(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(value)} items or bytes)"


def check_echoed_metadata(where, metadata):
    """Check that `metadata` contains both x-echo-* entries and not the other key."""
    entries = list(metadata or ())
    by_key = {}
    for key, value in entries:
        by_key.setdefault(key, []).append(value)
    expect_equal(f"{where} metadata {ECHO_TEXT_KEY}", [ECHO_TEXT_VALUE], by_key.get(ECHO_TEXT_KEY))
    expect_equal(
        f"{where} metadata {ECHO_BINARY_KEY}", [ECHO_BINARY_VALUE], by_key.get(ECHO_BINARY_KEY)
    )
    if NOT_ECHOED_KEY in by_key:
        raise Mismatch(f"{where} metadata contains {NOT_ECHOED_KEY}, which must not be echoed")


def check_call_metadata(call):
    check_echoed_metadata("initial", call.initial_metadata())
    check_echoed_metadata("trailing", call.trailing_metadata())


def expect_status(subject, expected_code, action):
    """Run `action` and check that it raises grpc.RpcError with `expected_code`."""
    try:
        action()
    except grpc.RpcError as error:
        expect_equal(f"{subject} status", expected_code, error.code())
        return
    raise Mismatch(f"{subject}: expected status {expected_code.name}, but the call succeeded")


class EchoChecks:
    def __init__(self, channel, pb2, pb2_grpc, timeout):
        self.channel = channel
        self.pb2 = pb2
        self.stub = pb2_grpc.EchoStub(channel)
        self.timeout = timeout

    def case_get(self):
        payload = bytes(range(256)) * 4
        request = self.pb2.EchoRequest(text="hello tandem ✓", payload=payload)
        response, call = self.stub.Get.with_call(
            request, metadata=REQUEST_METADATA, timeout=self.timeout
        )
        expect_equal("text", request.text, response.text)
        expect_equal("payload", payload, response.payload)
        check_call_metadata(call)
        return f"{len(payload)} payload bytes echoed"

    def case_get_large(self):
        payload = bytes(index % 251 for index in range(256 * 1024))
        request = self.pb2.EchoRequest(text="large", payload=payload)
        response, call = self.stub.Get.with_call(
            request, metadata=REQUEST_METADATA, timeout=self.timeout
        )
        expect_equal("text", "large", response.text)
        expect_equal("payload length", len(payload), len(response.payload))
        expect_equal("payload", payload, response.payload)
        check_call_metadata(call)
        return f"{len(payload)} payload bytes echoed"

    def case_get_concurrent(self):
        count = 64
        calls = []
        for index in range(count):
            request = self.pb2.EchoRequest(text=f"call {index}", payload=index.to_bytes(2, "big"))
            calls.append(
                (request, self.stub.Get.future(request, metadata=REQUEST_METADATA, timeout=self.timeout))
            )
        for request, future in calls:
            response = future.result()
            expect_equal(f"text of '{request.text}'", request.text, response.text)
            expect_equal(f"payload of '{request.text}'", request.payload, response.payload)
            check_call_metadata(future)
        return f"{count} calls in flight at once"

    def case_expand(self):
        text = "the quick brown fox héllo wörld"
        call = self.stub.Expand(
            self.pb2.EchoRequest(text=text), metadata=REQUEST_METADATA, timeout=self.timeout
        )
        responses = list(call)
        expect_equal("response texts", text.split(" "), [response.text for response in responses])
        expect_equal("response payloads", [b""] * len(responses), [r.payload for r in responses])
        check_call_metadata(call)
        return f"{len(responses)} responses"

    def case_collect(self):
        texts = ["alpha", "beta", "gamma", "δέλτα", "epsilon"]
        requests = iter([self.pb2.EchoRequest(text=text) for text in texts])
        response, call = self.stub.Collect.with_call(
            requests, metadata=REQUEST_METADATA, timeout=self.timeout
        )
        expect_equal("text", " ".join(texts), response.text)
        check_call_metadata(call)
        return f"{len(texts)} requests joined"

    def case_update(self):
        # Each request is sent only after the response to the previous one has arrived,
        # so a server that waits for the end of the request stream fails by deadline.
        texts = ["one", "two", "three", "four", "five"]
        outgoing = queue.Queue()
        end_of_requests = object()

        def request_stream():
            while True:
                item = outgoing.get()
                if item is end_of_requests:
                    return
                yield item

        call = self.stub.Update(request_stream(), metadata=REQUEST_METADATA, timeout=self.timeout)
        responses = iter(call)
        try:
            for text in texts:
                outgoing.put(self.pb2.EchoRequest(text=text))
                try:
                    response = next(responses, None)
                except grpc.RpcError as error:
                    if error.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
                        raise
                    raise Mismatch(
                        f"no response to '{text}' before the deadline; the server may wait"
                        " for the end of the request stream"
                    ) from error
                if response is None:
                    raise Mismatch(f"response to '{text}': the stream ended early")
                expect_equal(f"response to '{text}'", text, response.text)
        finally:
            outgoing.put(end_of_requests)
        leftover = list(responses)
        expect_equal("responses after the last request", [], [r.text for r in leftover])
        expect_equal("status", grpc.StatusCode.OK, call.code())
        check_call_metadata(call)
        return f"{len(texts)} request/response round trips"

    def case_unimplemented(self):
        for path in ("/echo.v1.Echo/DoesNotExist", "/echo.v1.NoSuchService/Get"):
            method = self.channel.unary_unary(path)
            expect_status(
                path,
                grpc.StatusCode.UNIMPLEMENTED,
                lambda: method(b"", metadata=REQUEST_METADATA, timeout=self.timeout),
            )
        return "unknown method and unknown service rejected"

    def case_deadline(self):
        stalled = threading.Event()

        def slow_requests():
            yield self.pb2.EchoRequest(text="first")
            stalled.wait(0.5)  # far past the 1 ms deadline; bounded in case it is ignored
            yield self.pb2.EchoRequest(text="late")

        expect_status(
            "Collect with a 1 ms deadline",
            grpc.StatusCode.DEADLINE_EXCEEDED,
            lambda: self.stub.Collect(slow_requests(), metadata=REQUEST_METADATA, timeout=0.001),
        )
        stalled.set()
        response = self.stub.Get(self.pb2.EchoRequest(text="after deadline"), timeout=self.timeout)
        expect_equal("Get after the deadline", "after deadline", response.text)
        return "DEADLINE_EXCEEDED, then the channel still works"


def make_channel(arguments):
    options = [
        ("grpc.max_receive_message_length", 8 * 1024 * 1024),
        ("grpc.max_send_message_length", 8 * 1024 * 1024),
    ]
    if not arguments.ca:
        return grpc.insecure_channel(arguments.target, options=options)
    credentials = grpc.ssl_channel_credentials(root_certificates=Path(arguments.ca).read_bytes())
    if arguments.server_name:
        options.append(("grpc.ssl_target_name_override", arguments.server_name))
    return grpc.secure_channel(arguments.target, credentials, options=options)


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        description="check an echo.v1.Echo server with grpcio; prints a JSON summary",
        epilog="cases: " + ", ".join(CASES),
    )
    parser.add_argument("--target", required=True, help="HOST:PORT of the server")
    parser.add_argument("--ca", help="PEM CA certificate; enables TLS (default plaintext)")
    parser.add_argument("--server-name", help="TLS server name to verify instead of the target host")
    parser.add_argument(
        "--case", action="append", choices=CASES, help="case to run; repeatable (default all)"
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="deadline per call in seconds (default 10)")
    parser.add_argument("--connect-timeout", type=float, default=10.0, help="seconds to wait for the connection (default 10)")
    parser.add_argument("--proto", help="path to echo.proto (default Protos/echo/v1/echo.proto)")
    arguments = parser.parse_args(argv)
    if arguments.server_name and not arguments.ca:
        parser.error("--server-name needs --ca")
    if arguments.timeout <= 0:
        parser.error(f"invalid --timeout {arguments.timeout}: must be greater than 0")
    return arguments


def main(argv=None):
    arguments = parse_arguments(argv)
    pb2, pb2_grpc = echo_proto.load(arguments.proto)
    channel = make_channel(arguments)
    summary = {
        "target": arguments.target,
        "tls": bool(arguments.ca),
        "grpcio": grpc.__version__,
        "cases": [],
    }

    try:
        grpc.channel_ready_future(channel).result(timeout=arguments.connect_timeout)
    except grpc.FutureTimeoutError:
        summary["error"] = f"failed to connect to {arguments.target} within {arguments.connect_timeout} s"
        print(json.dumps(summary, indent=2))
        return 2

    checks = EchoChecks(channel, pb2, pb2_grpc, arguments.timeout)
    for name in arguments.case or CASES:
        started = time.monotonic()
        result = {"name": name}
        try:
            result["detail"] = getattr(checks, "case_" + name.replace("-", "_"))()
            result["ok"] = True
        except Mismatch as mismatch:
            result["ok"] = False
            result["detail"] = str(mismatch)
        except grpc.RpcError as error:
            result["ok"] = False
            result["detail"] = f"unexpected status {error.code().name}: {error.details()}"
        result["seconds"] = round(time.monotonic() - started, 4)
        summary["cases"].append(result)

    channel.close()
    summary["passed"] = sum(1 for case in summary["cases"] if case["ok"])
    summary["failed"] = len(summary["cases"]) - summary["passed"]
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 0 if summary["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
