"""`livecompanion serve` with two diagnostic signals, for scripts/memory_parts.py and bench_streams.py.

    python scripts/serve_probed.py [serve options]     MEMORY_PARTS_OUT=figures.jsonl in the environment

SIGUSR2 appends one JSON line of figures to $MEMORY_PARTS_OUT, SIGRTMIN the same and then glibc's
`malloc_trim(0)` with the resident memory after it: RSS, Python's live small-object blocks and its
arenas (held, used, free inside, from `sys._debugmallocstats`), glibc's bytes in use and free
(`mallinfo2`), gc-tracked objects, open fds, asyncio tasks, the tracemalloc total when tracing. A
diagnostic, never in the service; it imports nothing but the service and the standard library, so
the figures are the service's own.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def _pymalloc() -> dict[str, float]:
    """Python's small-object allocator: MB of arenas held, of blocks in use, of free room inside them
    (`sys._debugmallocstats`, which writes to the C stderr: caught through a temporary file)."""
    import tempfile

    with tempfile.TemporaryFile() as caught:
        saved = os.dup(2)
        try:
            os.dup2(caught.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        caught.seek(0)
        text = caught.read().decode(errors="replace")
    found: dict[str, float] = {}
    for line in text.splitlines():
        name, _, value = line.partition("=")
        number = value.strip().replace(",", "")
        if not number.isdigit():
            continue
        if "bytes/arena" in name:  # "N arenas * 1048576 bytes/arena = total"
            found["py_arena_mb"] = round(int(number) / 2**20, 1)
        elif name.startswith("# bytes in allocated blocks"):
            found["py_used_mb"] = round(int(number) / 2**20, 1)
        elif name.startswith("# bytes in available blocks") or "unused pools" in name:
            found["py_free_mb"] = round(found.get("py_free_mb", 0) + int(number) / 2**20, 1)
    return found


def _figures(out: Path, trim: bool) -> None:
    import gc
    import tracemalloc

    def rss() -> float:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    info = libc.mallinfo2()
    try:
        tasks = len(asyncio.all_tasks())
    except RuntimeError:
        tasks = -1
    line = {"t": time.time(), "rss": round(rss(), 1), "blocks": sys.getallocatedblocks(),
            "gc_objects": len(gc.get_objects()), "fds": len(os.listdir("/proc/self/fd")), "tasks": tasks,
            "malloc_used_mb": round((info.uordblks + info.hblkhd) / 2**20, 1),
            "malloc_free_mb": round(info.fordblks / 2**20, 1), "malloc_arena_mb": round(info.arena / 2**20, 1),
            "traced_mb": round(tracemalloc.get_traced_memory()[0] / 2**20, 1) if tracemalloc.is_tracing() else None,
            **_pymalloc()}
    if trim:
        libc.malloc_trim(0)
        line["rss_trimmed"] = round(rss(), 1)
    with out.open("a") as f:
        f.write(json.dumps(line) + "\n")


def serve_with_probe(argv: list[str]) -> None:
    """`livecompanion serve ARGV` with the two diagnostic signals (a handler never raises)."""
    out = Path(os.environ["MEMORY_PARTS_OUT"])

    def handler(trim: bool):  # type: ignore[no-untyped-def]
        def handle(_signum: int, _frame: object) -> None:
            try:
                _figures(out, trim)
            except Exception as exc:  # noqa: BLE001 - a diagnostic: say so, serve on
                print(f"memory figures failed: {exc!r}", file=sys.stderr)
        return handle

    signal.signal(signal.SIGUSR2, handler(False))
    signal.signal(signal.SIGRTMIN, handler(True))
    from livecompanion.cli import app

    sys.argv = ["livecompanion", "serve", *argv]
    app()


def ask(server: subprocess.Popen[bytes], out: Path, trim: bool) -> dict[str, float]:
    seen = len(out.read_text().splitlines()) if out.exists() else 0
    server.send_signal(signal.SIGRTMIN if trim else signal.SIGUSR2)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        lines = out.read_text().splitlines() if out.exists() else []
        if len(lines) > seen:
            return dict(json.loads(lines[-1]))
        time.sleep(0.05)
    raise SystemExit("the instance did not answer the memory signal")


if __name__ == "__main__":
    serve_with_probe(sys.argv[1:])
