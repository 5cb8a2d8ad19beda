"""Python side of the extension and required-field checks against Python protobuf (upb).

Commands:
  encode                print the hex encoding of the fixed Extendable message built below
  check HEX             exit 1 unless HEX parses to that same message
  missing               print the path of the required field that a fixed incomplete Outer lacks

The Python module is built at run time from ../Protos/tandem_test_required.proto with
grpc_tools.protoc into a temporary directory.
"""

import importlib
import os
import subprocess
import sys
import tempfile

PROTOS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Protos")


def load_module():
    out = tempfile.mkdtemp(prefix="tandem-extensions-")
    command = [sys.executable, "-m", "grpc_tools.protoc", "-I" + PROTOS, "--python_out=" + out,
               "tandem_test_required.proto"]
    status = subprocess.call(command)
    if status != 0:
        sys.exit("grpc_tools.protoc failed with status %d" % status)
    sys.path.insert(0, out)
    return importlib.import_module("tandem_test_required_pb2")


pb = load_module()


def fixed_message():
    """Every extension kind of tandem_test_required.proto; ExtensionDifferentialTests builds the same."""
    message = pb.Extendable()
    message.plain = 7
    message.Extensions[pb.count] = -3
    message.Extensions[pb.name] = "n"
    message.Extensions[pb.color] = pb.COLOR_BLUE
    message.Extensions[pb.numbers].extend([1, 2])
    message.Extensions[pb.packed_numbers].extend([3, 400])
    message.Extensions[pb.colors].extend([pb.COLOR_RED, pb.COLOR_GREEN])
    message.Extensions[pb.inner].id = 9
    message.Extensions[pb.inners].add().id = 1
    second = message.Extensions[pb.inners].add()
    second.id = 2
    second.label = "x"
    message.Extensions[pb.grouped].a = 4
    message.Extensions[pb.signed].extend([-1, -(2**63)])
    message.Extensions[pb.blob] = b"\x00\xff"
    message.Extensions[pb.ratio] = 0.5
    message.Extensions[pb.Scope.scoped].value = 3
    message.Extensions[pb.Scope.scoped_names].extend(["a", "b"])
    return message


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "encode":
        print(fixed_message().SerializeToString().hex())
    elif command == "check" and len(sys.argv) == 3:
        parsed = pb.Extendable()
        parsed.ParseFromString(bytes.fromhex(sys.argv[2]))
        if parsed != fixed_message():
            sys.exit("parsed message differs from the expected one:\n%s" % parsed)
    elif command == "missing":
        outer = pb.Outer()
        outer.middle.items.add()
        outer.middle.inner.label = "x"
        print(",".join(sorted(outer.FindInitializationErrors())))
    else:
        sys.exit(__doc__)


main()
