"""Generate and import the Python code for echo.v1 with grpcio-tools.

The code is generated at run time with `python -m grpc_tools.protoc` into
`<repo>/.build/interop-python/<key>/`, where the key is a hash of the .proto text
and the grpcio-tools version, so a changed proto or tool gives a fresh directory.
Nothing generated here is checked in.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PROTO = REPO_ROOT / "Protos" / "echo" / "v1" / "echo.proto"
CACHE_ROOT = REPO_ROOT / ".build" / "interop-python"


def _tools_version() -> str:
    try:
        from importlib.metadata import version

        return version("grpcio-tools")
    except Exception:  # noqa: BLE001 - any failure only weakens the cache key
        return "unknown"


def load(proto_path=None):
    """Generate (once) and import the echo.v1 modules.

    `proto_path` must point at a file named `echo.proto` whose package is echo.v1.
    Returns `(echo_pb2, echo_pb2_grpc)`. Raises FileNotFoundError when the proto is
    missing and RuntimeError when protoc fails.
    """
    proto = Path(proto_path) if proto_path else DEFAULT_PROTO
    if not proto.is_file():
        raise FileNotFoundError(
            f"proto file not found: {proto}; pass --proto PATH to an echo.v1 echo.proto"
        )
    text = proto.read_bytes()
    key = hashlib.sha256(text + _tools_version().encode()).hexdigest()[:16]
    out_dir = CACHE_ROOT / key

    if not (out_dir / "echo" / "v1" / "echo_pb2_grpc.py").is_file():
        _generate(text, out_dir)

    if str(out_dir) not in sys.path:
        sys.path.insert(0, str(out_dir))
    from echo.v1 import echo_pb2, echo_pb2_grpc  # noqa: E402 - path set just above

    return echo_pb2, echo_pb2_grpc


def _generate(proto_text: bytes, out_dir: Path) -> None:
    # Generate into a private directory, then rename it into place, so two peers
    # starting at the same time never import a half-written module.
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="gen-", dir=CACHE_ROOT))
    try:
        include = work / "include"
        (include / "echo" / "v1").mkdir(parents=True)
        (include / "echo" / "v1" / "echo.proto").write_bytes(proto_text)
        generated = work / "out"
        generated.mkdir()
        command = [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{include}",
            f"--python_out={generated}",
            f"--grpc_python_out={generated}",
            "echo/v1/echo.proto",
        ]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(
                f"grpc_tools.protoc failed with exit code {result.returncode}: "
                f"{result.stderr.strip()}"
            )
        try:
            os.rename(generated, out_dir)
        except OSError:
            # Another process renamed its copy first; that copy is identical.
            if not out_dir.is_dir():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
