"""gRPC wire pieces shared by the HTTP/3 peers: message framing, echo.v1 protobuf, timeouts.

The echo.v1 messages (Protos/echo/v1/echo.proto) have two fields, `string text = 1` and
`bytes payload = 2`, so they are encoded by hand here: the peers then need only aioquic and
no generated code. The decoder skips unknown fields of every wire type, as protobuf does.

Framing is the same as in gRPC over HTTP/2: each message is a 1-byte compressed flag (always
0 here), a 4-byte big-endian length and the message bytes.
"""

import base64
import struct

from aioquic.h3.connection import ErrorCode

# grpc-status codes used by the peers (names as in the gRPC status code list).
OK = 0
DEADLINE_EXCEEDED = 4
UNIMPLEMENTED = 12
INTERNAL = 13

# HTTP/3 error codes (RFC 9114), as aioquic defines them.
H3_NO_ERROR = ErrorCode.H3_NO_ERROR
H3_REQUEST_CANCELLED = ErrorCode.H3_REQUEST_CANCELLED

# The largest message either peer accepts, in bytes.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024

ECHO_PREFIX = "x-echo-"


class WireError(Exception):
    """Bytes that are not a valid gRPC frame, protobuf message or header value."""


# ---------------------------------------------------------------------------
# Protobuf: echo.v1.EchoRequest and echo.v1.EchoResponse


def _encode_varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _decode_varint(data, offset):
    value = 0
    shift = 0
    while True:
        if offset >= len(data):
            raise WireError(f"truncated varint at byte {offset}")
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, offset
        shift += 7
        if shift >= 64:
            raise WireError(f"varint longer than 10 bytes at byte {offset}")


def encode_echo(text="", payload=b""):
    """Encode an EchoRequest or EchoResponse; proto3 omits empty fields."""
    out = bytearray()
    encoded_text = text.encode("utf-8")
    if encoded_text:
        out += b"\x0a" + _encode_varint(len(encoded_text)) + encoded_text
    if payload:
        out += b"\x12" + _encode_varint(len(payload)) + bytes(payload)
    return bytes(out)


def decode_echo(data):
    """Decode an EchoRequest or EchoResponse into `(text, payload)`.

    Raises WireError for truncated input, a bad wire type or text that is not UTF-8.
    """
    text = ""
    payload = b""
    offset = 0
    while offset < len(data):
        key, offset = _decode_varint(data, offset)
        field, wire_type = key >> 3, key & 7
        if wire_type == 0:
            _, offset = _decode_varint(data, offset)
            continue
        if wire_type == 1:
            offset += 8
        elif wire_type == 5:
            offset += 4
        elif wire_type == 2:
            length, offset = _decode_varint(data, offset)
            end = offset + length
            if end > len(data):
                raise WireError(f"field {field}: length {length} runs past the end ({len(data)} bytes)")
            value = bytes(data[offset:end])
            offset = end
            if field == 1:
                try:
                    text = value.decode("utf-8")
                except UnicodeDecodeError as error:
                    raise WireError(f"field 1 (text) is not valid UTF-8: {error}") from error
            elif field == 2:
                payload = value
            continue
        else:
            raise WireError(f"field {field}: unsupported wire type {wire_type}")
        if offset > len(data):
            raise WireError(f"field {field}: fixed-size value runs past the end ({len(data)} bytes)")
    return text, payload


# ---------------------------------------------------------------------------
# Length-prefixed messages


def frame_message(message):
    """Prefix one serialized message with the uncompressed flag and its length."""
    return struct.pack(">BI", 0, len(message)) + message


class MessageReader:
    """Collects DATA bytes and splits them into gRPC messages."""

    def __init__(self, max_message_bytes=MAX_MESSAGE_BYTES):
        self._buffer = bytearray()
        self._max = max_message_bytes

    def feed(self, data):
        """Add bytes and return the list of messages completed by them.

        Raises WireError for a compressed message (no compression was negotiated) or one
        longer than the limit.
        """
        self._buffer += data
        messages = []
        while len(self._buffer) >= 5:
            flag, length = struct.unpack_from(">BI", self._buffer)
            if flag != 0:
                raise WireError(f"message has compressed flag {flag}, but no grpc-encoding was negotiated")
            if length > self._max:
                raise WireError(f"message of {length} bytes exceeds the limit of {self._max} bytes")
            if len(self._buffer) < 5 + length:
                break
            messages.append(bytes(self._buffer[5 : 5 + length]))
            del self._buffer[: 5 + length]
        return messages

    @property
    def pending_bytes(self):
        """Bytes of an incomplete message; nonzero at the end of the stream is an error."""
        return len(self._buffer)


# ---------------------------------------------------------------------------
# grpc-timeout: 1 to 8 digits and a unit

_TIMEOUT_UNITS = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}


def parse_timeout(value):
    """Return a grpc-timeout header value in seconds. Raises WireError when it is invalid."""
    digits, unit = value[:-1], value[-1:]
    if unit not in _TIMEOUT_UNITS or not digits.isdigit() or len(digits) > 8:
        raise WireError(f"invalid grpc-timeout {value!r}: expected 1 to 8 digits and one of H M S m u n")
    return int(digits) * _TIMEOUT_UNITS[unit]


def format_timeout(seconds):
    """Format seconds as a grpc-timeout value in the finest unit that fits in 8 digits."""
    for unit, scale in (("n", 1e-9), ("u", 1e-6), ("m", 1e-3), ("S", 1.0), ("M", 60.0), ("H", 3600.0)):
        amount = int(round(seconds / scale))
        if amount < 100_000_000:
            return f"{max(amount, 1)}{unit}"
    raise WireError(f"timeout of {seconds} s is too long for grpc-timeout")


# ---------------------------------------------------------------------------
# Header and metadata helpers


def header_dict(headers):
    """Map each header name (str) to the list of its values (str), in order."""
    fields = {}
    for name, value in headers:
        fields.setdefault(name.decode("ascii", "replace"), []).append(value.decode("utf-8", "replace"))
    return fields


def first_header(fields, name, default=None):
    values = fields.get(name)
    return values[0] if values else default


def encode_metadata(entries):
    """Turn `(key, value)` pairs into HTTP/3 headers; `-bin` values are bytes sent as base64."""
    headers = []
    for key, value in entries:
        if key.endswith("-bin"):
            value = base64.b64encode(value).decode("ascii")
        headers.append((key.encode("ascii"), value.encode("utf-8")))
    return headers


def decode_metadata_value(key, value):
    """Decode one header value: base64 (padded or not) for `-bin` keys, text otherwise."""
    if not key.endswith("-bin"):
        return value
    try:
        return base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except ValueError as error:
        raise WireError(f"metadata {key}: invalid base64 value {value!r}") from error


def echoed_headers(request_headers):
    """Return the request headers whose name starts with `x-echo-`, unchanged and in order."""
    return [(name, value) for name, value in request_headers if name.decode("ascii", "replace").startswith(ECHO_PREFIX)]


def percent_encode_message(text):
    """Percent-encode a grpc-message value: printable ASCII except `%` stays, the rest is %XX."""
    out = []
    for byte in text.encode("utf-8"):
        if 0x20 <= byte <= 0x7E and byte != 0x25:
            out.append(chr(byte))
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


def percent_decode_message(text):
    """Decode a grpc-message value; invalid escapes stay as they are."""
    raw = text.encode("ascii", "replace")
    out = bytearray()
    index = 0
    while index < len(raw):
        if raw[index] == 0x25 and index + 2 < len(raw) and _is_hex(raw[index + 1 : index + 3]):
            out.append(int(raw[index + 1 : index + 3], 16))
            index += 3
        else:
            out.append(raw[index])
            index += 1
    return out.decode("utf-8", "replace")


def _is_hex(pair):
    return len(pair) == 2 and all(chr(c) in "0123456789abcdefABCDEF" for c in pair)
