"""Python side of the JSON differential test between Tandem and Python protobuf's json_format.

Every file contains one message of tandem.jsontest.Root per line: "<hex binary encoding>\t<JSON>".
Commands:
  generate OUT COUNT SEED   write COUNT random messages: Python's binary encoding and json_format output
  check IN                  for every line, parse the JSON with json_format and the binary with
                            ParseFromString, and exit 1 if any pair differs or any JSON is rejected

The generated Python modules are built at run time from ../Protos with grpc_tools.protoc into a
temporary directory, so nothing generated is checked in on this side.
"""

import importlib
import math
import os
import random
import struct
import subprocess
import sys
import tempfile

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor

PROTOS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Protos")


def load_module():
    # grpc_tools.protoc runs in a child process so that its bundled compiler stays out of this one.
    out = tempfile.mkdtemp(prefix="tandem-json-differential-")
    command = [sys.executable, "-m", "grpc_tools.protoc", "-I" + PROTOS, "--python_out=" + out,
               "json_test.proto", "json_test_proto2.proto"]
    status = subprocess.call(command)
    if status != 0:
        sys.exit("grpc_tools.protoc failed with status %d" % status)
    sys.path.insert(0, out)
    importlib.import_module("json_test_proto2_pb2")
    return importlib.import_module("json_test_pb2")


MODULE = load_module()
Root = MODULE.Root

INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}


def random_int(rng, low, high):
    choice = rng.random()
    if choice < 0.25:
        return rng.choice([low, high, 0, 1, 2])
    if choice < 0.5:
        return max(low, min(high, rng.randint(-300, 300)))
    return rng.randint(low, high)


def random_text(rng):
    alphabet = "abcXYZ019 _-\"\\/\u00e9\u4e2d\U0001f600\u0000\n\t\u2028"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))


def random_scalar(rng, field):
    kind = field.type
    if kind in INT_RANGES:
        return random_int(rng, *INT_RANGES[kind])
    if kind == FieldDescriptor.TYPE_BOOL:
        return rng.random() < 0.5
    if kind == FieldDescriptor.TYPE_FLOAT:
        value = rng.choice([0.0, -0.0, 1.5, -2.25, 3.4e38, 1e-30, 1e-45, rng.uniform(-1e6, 1e6),
                            float("inf"), float("-inf")])
        return struct.unpack("<f", struct.pack("<f", value))[0]
    if kind == FieldDescriptor.TYPE_DOUBLE:
        return rng.choice([0.0, -0.0, 0.1, -1e300, 5e-324, 1.7976931348623157e308, rng.uniform(-1e9, 1e9),
                           float("inf"), float("-inf")])
    if kind == FieldDescriptor.TYPE_STRING:
        return random_text(rng)
    if kind == FieldDescriptor.TYPE_BYTES:
        return bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 9)))
    if kind == FieldDescriptor.TYPE_ENUM:
        numbers = [value.number for value in field.enum_type.values]
        # JSON writes every NullValue as null, which reads back as 0, so only 0 round-trips.
        if field.enum_type.full_name == "google.protobuf.NullValue":
            return 0
        if not field.enum_type.is_closed and rng.random() < 0.15:
            return rng.choice([99, -5])
        return rng.choice(numbers)
    raise ValueError("not a scalar field: " + field.full_name)


def random_value(rng, depth):
    """A google.protobuf.Value as plain Python data, with finite numbers only."""
    choice = rng.randint(0, 5 if depth > 0 else 3)
    if choice == 0:
        return None
    if choice == 1:
        return rng.random() < 0.5
    if choice == 2:
        return rng.choice([0.0, -1.5, 1e21, 12345.0, rng.uniform(-1e6, 1e6)])
    if choice == 3:
        return random_text(rng)
    if choice == 4:
        return [random_value(rng, depth - 1) for _ in range(rng.randint(0, 3))]
    return {random_text(rng): random_value(rng, depth - 1) for _ in range(rng.randint(0, 3))}


def fill_well_known(rng, message):
    name = message.DESCRIPTOR.full_name
    if name == "google.protobuf.Timestamp":
        message.seconds = rng.choice([-62135596800, 253402300799, 0, rng.randint(-62135596800, 253402300799)])
        message.nanos = rng.choice([0, 1000000, 1000, 1, 999999999, rng.randint(0, 999999999)])
        return True
    if name == "google.protobuf.Duration":
        seconds = rng.choice([0, 315576000000, rng.randint(0, 315576000000)])
        nanos = rng.choice([0, 500000000, 1000, 7, rng.randint(0, 999999999)])
        sign = rng.choice([1, -1])
        message.seconds = sign * seconds
        message.nanos = sign * nanos
        return True
    if name == "google.protobuf.FieldMask":
        message.paths.extend(rng.choice(["a", "foo_bar", "foo_bar.baz_qux", "x1.y2"]) for _ in range(rng.randint(0, 3)))
        return True
    if name == "google.protobuf.Any":
        inner = rng.randint(0, 3)
        if inner == 0:
            payload = MODULE.Inner(id=random_int(rng, -(2**31), 2**31 - 1), note=random_text(rng))
        elif inner == 1:
            payload = MODULE.google_dot_protobuf_dot_timestamp__pb2.Timestamp(seconds=rng.randint(0, 10**10))
        elif inner == 2:
            payload = MODULE.google_dot_protobuf_dot_struct__pb2.Value()
            payload.string_value = random_text(rng)
        else:
            payload = MODULE.google_dot_protobuf_dot_wrappers__pb2.Int64Value(value=random_int(rng, -(2**63), 2**63 - 1))
        message.Pack(payload)
        return True
    if name in ("google.protobuf.Struct", "google.protobuf.ListValue", "google.protobuf.Value"):
        if name == "google.protobuf.Struct":
            message.update({random_text(rng): random_value(rng, 2) for _ in range(rng.randint(0, 3))})
        elif name == "google.protobuf.ListValue":
            message.extend([random_value(rng, 2) for _ in range(rng.randint(0, 3))])
        else:
            json_format.ParseDict(random_value(rng, 2), message)
        return True
    if message.DESCRIPTOR.file.name == "google/protobuf/wrappers.proto":
        message.value = random_scalar(rng, message.DESCRIPTOR.fields_by_name["value"])
        return True
    return name == "google.protobuf.Empty"


def fill(rng, message, depth):
    message.SetInParent()
    if fill_well_known(rng, message) or depth < 0:
        return
    chosen_oneofs = set()
    for field in message.DESCRIPTOR.fields:
        if rng.random() < 0.4:
            continue
        oneof = field.containing_oneof
        if oneof is not None and not getattr(oneof, "is_synthetic", False):
            if oneof.name in chosen_oneofs:
                continue
            chosen_oneofs.add(oneof.name)
        is_message = field.type in (FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_GROUP)
        if is_message and field.message_type.GetOptions().map_entry:
            key_field = field.message_type.fields_by_name["key"]
            value_field = field.message_type.fields_by_name["value"]
            target = getattr(message, field.name)
            for _ in range(rng.randint(0, 3)):
                key = random_scalar(rng, key_field)
                if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                    fill(rng, target[key], depth - 1)
                else:
                    target[key] = random_scalar(rng, value_field)
        elif field.is_repeated:
            target = getattr(message, field.name)
            for _ in range(rng.randint(0, 3)):
                if is_message:
                    fill(rng, target.add(), depth - 1)
                else:
                    target.append(random_scalar(rng, field))
        elif is_message:
            fill(rng, getattr(message, field.name), depth - 1)
        else:
            setattr(message, field.name, random_scalar(rng, field))


def command_generate(out, count, seed):
    rng = random.Random(int(seed))
    with open(out, "w") as handle:
        for _ in range(int(count)):
            message = Root()
            fill(rng, message, 3)
            text = json_format.MessageToJson(message, indent=None)
            handle.write("%s\t%s\n" % (message.SerializeToString(deterministic=True).hex(), text))


def command_check(source):
    failures = 0
    total = 0
    with open(source) as handle:
        for index, line in enumerate(handle):
            line = line.rstrip("\n")
            if not line:
                continue
            total += 1
            payload, _, text = line.partition("\t")
            expected = Root()
            expected.ParseFromString(bytes.fromhex(payload))
            try:
                actual = json_format.Parse(text, Root())
            except json_format.ParseError as error:
                failures += 1
                print("message %d: json_format rejects %s: %s" % (index, text, error))
                continue
            if actual != expected:
                failures += 1
                print("message %d differs:\nJSON   %s\nbinary %s" % (index, json_format.MessageToJson(actual, indent=None),
                                                                     json_format.MessageToJson(expected, indent=None)))
    if failures:
        sys.exit("%d of %d messages differ" % (failures, total))
    print("%d messages equal" % total)


if __name__ == "__main__":
    commands = {"generate": command_generate, "check": command_check}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](*sys.argv[2:])
