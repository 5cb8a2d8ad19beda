"""Python side of the differential test between Tandem's protobuf runtime and Python protobuf (upb).

Commands (every file contains one message per line: "<full message name> <hex bytes>"):
  generate OUT COUNT SEED   write COUNT random messages encoded by Python
  reencode IN OUT           parse every message of IN and write it re-encoded by Python
  compare EXPECTED ACTUAL   parse both files and exit 1 if any message pair differs

The generated Python modules are built at run time from ../Protos with grpc_tools.protoc into a
temporary directory, so nothing generated is checked in on this side.
"""

import importlib
import os
import random
import struct
import subprocess
import sys
import tempfile

from google.protobuf.descriptor import FieldDescriptor

PROTOS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Protos")


def load_modules():
    # grpc_tools.protoc runs in a child process so that its bundled compiler stays out of this one.
    out = tempfile.mkdtemp(prefix="tandem-differential-")
    for name in ("tandem_test.proto", "tandem_test_proto2.proto"):
        command = [sys.executable, "-m", "grpc_tools.protoc", "-I" + PROTOS, "--python_out=" + out, name]
        status = subprocess.call(command)
        if status != 0:
            sys.exit("grpc_tools.protoc failed for %s with status %d" % (name, status))
    sys.path.insert(0, out)
    return [importlib.import_module("tandem_test_pb2"), importlib.import_module("tandem_test_proto2_pb2")]


MODULES = load_modules()


def message_class(full_name):
    for module in MODULES:
        for name, descriptor in module.DESCRIPTOR.message_types_by_name.items():
            if descriptor.full_name == full_name:
                return getattr(module, name)
    sys.exit("unknown message type " + full_name)


ROOT_TYPES = ["tandem.test.Everything", "tandem.test2.Proto2"]

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
    if choice < 0.2:
        return rng.choice([low, high, 0, 1, -1 if low < 0 else 2])
    if choice < 0.6:
        return max(low, min(high, rng.randint(-300, 300)))
    return rng.randint(low, high)


def random_text(rng):
    alphabet = "abcXYZ019 _-é中😀\u0000\n"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))


def random_scalar(rng, field):
    kind = field.type
    if kind in INT_RANGES:
        return random_int(rng, *INT_RANGES[kind])
    if kind == FieldDescriptor.TYPE_BOOL:
        return rng.random() < 0.5
    if kind == FieldDescriptor.TYPE_FLOAT:
        value = rng.choice([0.0, -0.0, 1.5, -2.25, 3.4e38, 1e-30, rng.uniform(-1e6, 1e6), float("inf")])
        return struct.unpack("<f", struct.pack("<f", value))[0]
    if kind == FieldDescriptor.TYPE_DOUBLE:
        return rng.choice([0.0, -0.0, 1.5, -1e300, 5e-324, rng.uniform(-1e9, 1e9), float("-inf")])
    if kind == FieldDescriptor.TYPE_STRING:
        return random_text(rng)
    if kind == FieldDescriptor.TYPE_BYTES:
        return bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 8)))
    if kind == FieldDescriptor.TYPE_ENUM:
        numbers = [value.number for value in field.enum_type.values]
        # Open (proto3) enums keep numbers that the schema does not define.
        if not field.enum_type.is_closed and rng.random() < 0.2:
            return rng.choice([99, -5, 2**31 - 1])
        return rng.choice(numbers)
    raise ValueError("not a scalar field: " + field.full_name)


def is_repeated(field):
    # protobuf 6 and later replace `label` with `is_repeated`.
    if hasattr(field, "is_repeated"):
        return field.is_repeated
    return field.label == FieldDescriptor.LABEL_REPEATED


def fill(rng, message, depth):
    """Sets random fields of `message`, nesting at most `depth` more levels; a negative depth sets
    only the required field, which every Proto2 needs to serialize."""
    descriptor = message.DESCRIPTOR
    if descriptor.full_name == "tandem.test2.Proto2":
        message.id = random_int(rng, -(2**31), 2**31 - 1)
    message.SetInParent()
    if depth < 0:
        return
    chosen_oneofs = set()
    for field in descriptor.fields:
        if field.full_name == "tandem.test2.Proto2.id":
            continue
        if rng.random() < 0.45:
            continue
        oneof = field.containing_oneof
        if oneof is not None and not getattr(oneof, "is_synthetic", False) and len(oneof.fields) > 1:
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
        elif is_repeated(field):
            target = getattr(message, field.name)
            for _ in range(rng.randint(0, 4)):
                if is_message:
                    fill(rng, target.add(), depth - 1)
                else:
                    target.append(random_scalar(rng, field))
        elif is_message:
            fill(rng, getattr(message, field.name), depth - 1)
        else:
            setattr(message, field.name, random_scalar(rng, field))


def read_lines(path):
    with open(path) as handle:
        for line in handle:
            line = line.strip()
            if line:
                name, _, payload = line.partition(" ")
                yield name, bytes.fromhex(payload)


def write_lines(path, entries):
    with open(path, "w") as handle:
        for name, payload in entries:
            handle.write("%s %s\n" % (name, payload.hex()))


def command_generate(out, count, seed):
    rng = random.Random(int(seed))
    entries = []
    for index in range(int(count)):
        name = ROOT_TYPES[index % len(ROOT_TYPES)]
        message = message_class(name)()
        fill(rng, message, 3)
        entries.append((name, message.SerializeToString(deterministic=True)))
    write_lines(out, entries)


def command_reencode(source, out):
    entries = []
    for name, payload in read_lines(source):
        message = message_class(name)()
        message.ParseFromString(payload)
        entries.append((name, message.SerializeToString(deterministic=True)))
    write_lines(out, entries)


def command_compare(expected_path, actual_path):
    expected = list(read_lines(expected_path))
    actual = list(read_lines(actual_path))
    if len(expected) != len(actual):
        sys.exit("expected %d messages, got %d" % (len(expected), len(actual)))
    failures = 0
    for index, ((name, left), (other_name, right)) in enumerate(zip(expected, actual)):
        first = message_class(name)()
        first.ParseFromString(left)
        second = message_class(other_name)()
        second.ParseFromString(right)
        if name != other_name or first != second:
            failures += 1
            print("message %d (%s) differs:\nexpected %s\nactual   %s" % (index, name, left.hex(), right.hex()))
    if failures:
        sys.exit("%d of %d messages differ" % (failures, len(expected)))
    print("%d messages equal" % len(expected))


if __name__ == "__main__":
    commands = {"generate": command_generate, "reencode": command_reencode, "compare": command_compare}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](*sys.argv[2:])
