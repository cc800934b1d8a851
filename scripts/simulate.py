"""The simulated audience from the command line: an event log, or load on a running service.

    # an NDJSON event log of a whole simulated stream (segment events included), for `livecompanion report`
    .venv/bin/python scripts/simulate.py log -o stream.ndjson [--room 600] [--seed 7] [--script FILE]

    # the first million events of a big room, as fast as they can be made (benchmark input)
    .venv/bin/python scripts/simulate.py log -o big.ndjson --room 50000 --events 1000000

    # play a show against a running service at 60x: segments, cues, claims and events over HTTP
    .venv/bin/python scripts/simulate.py drive --url http://127.0.0.1:8000 --speed 60 \\
        --operator-token OP --ingest-token IN [--stream ID] [--room 2000] [--audience-only]

`log` prints how many events it made and how fast to stderr. `drive` makes a new stream from the
script unless `--stream` names one, prints progress like `livecompanion demo`, and exits 0 when the
show is over (1 when the service refused too much). Tokens also come from LIVECOMPANION_OPERATOR_TOKEN
and LIVECOMPANION_INGEST_TOKEN.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import sys
import time
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from livecompanion.clock import now_ms  # noqa: E402
from livecompanion.demo import SAMPLE_SCRIPT, load_script  # noqa: E402
from livecompanion.demo.show import ShowPlayer  # noqa: E402
from livecompanion.demo.simulator import DEFAULT_START_MS, Simulator  # noqa: E402


def write_log(args: argparse.Namespace) -> int:
    script = load_script(args.script)
    sim = Simulator(script, seed=args.seed, room_size=args.room, start_ms=args.start_ms, speed=args.time_scale,
                    platform_like=args.platform_like)
    events = sim.events()
    if args.events:
        events = itertools.islice(events, args.events)
    dumps, started, count = orjson.dumps, time.perf_counter(), 0
    with contextlib.ExitStack() as stack:
        out = sys.stdout.buffer if args.output == "-" else stack.enter_context(open(args.output, "wb"))
        chunk: list[bytes] = []
        for event in events:
            chunk.append(dumps(event))
            if len(chunk) == 10_000:
                out.write(b"\n".join(chunk) + b"\n")
                count += len(chunk)
                chunk.clear()
        if chunk:
            out.write(b"\n".join(chunk) + b"\n")
            count += len(chunk)
    seconds = time.perf_counter() - started
    print(f"{count:,} events in {seconds:.2f}s ({count / seconds:,.0f} events/s) -> {args.output}", file=sys.stderr)
    return 0


async def drive(args: argparse.Namespace) -> int:
    tokens = {"operator": args.operator_token, "ingest": args.ingest_token}
    if not all(tokens.values()):
        print("drive needs --operator-token and --ingest-token (or LIVECOMPANION_*_TOKEN)", file=sys.stderr)
        return 2
    script = load_script(args.script)
    async with httpx.AsyncClient(base_url=args.url.rstrip("/"), timeout=60) as client:
        stream_id = args.stream
        if stream_id is None:
            response = await client.post("/api/streams", content=Path(args.script).read_bytes(), headers={
                "Authorization": f"Bearer {tokens['operator']}", "Content-Type": "application/yaml"})
            if response.status_code != 201:
                print(f"could not create a stream: {response.status_code} {response.text[:300]}", file=sys.stderr)
                return 1
            stream_id = response.json()["id"]
        print(f"stream {stream_id}", flush=True)
        sim = Simulator(script, seed=args.seed, room_size=args.room, start_ms=now_ms() + 200, speed=args.speed,
                        segments=False, platform_like=args.platform_like)
        player = ShowPlayer(client, stream_id, sim, tokens, lambda line: print(line, flush=True),
                            operate=not args.audience_only)
        started = time.perf_counter()
        await player.run()
        seconds = time.perf_counter() - started
    t = player.tally
    print(f"sent {t.sent:,} events in {seconds:.1f}s ({t.sent / seconds:,.0f}/s): {t.accepted:,} accepted,"
          f" {t.duplicates:,} duplicates, {t.rejected:,} rejected; claims {t.claims:,}"
          f" ({t.claims_refused:,} refused)", flush=True)
    return 1 if t.sent and t.rejected > t.sent // 100 else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("log", "drive"):
        p = sub.add_parser(name)
        p.add_argument("--script", type=Path, default=SAMPLE_SCRIPT, help="live script (default: the demo's)")
        p.add_argument("--seed", type=int, default=7)
        p.add_argument("--room", type=int, default=600, help="viewers in the room at the peak (100 to 50,000)")
        p.add_argument("--platform-like", action="store_true",
                       help="no leave events, online counts at irregular times, as platform feeds send")
        if name == "log":
            p.add_argument("-o", "--output", default="-", help="NDJSON file, '-' for stdout")
            p.add_argument("--events", type=int, default=0, help="stop after this many events (0: the whole show)")
            p.add_argument("--start-ms", type=int, default=DEFAULT_START_MS, help="epoch ms of the show's start")
            p.add_argument("--time-scale", type=float, default=1.0, help="show time per unit of event time")
        else:
            p.add_argument("--url", default="http://127.0.0.1:8000")
            p.add_argument("--stream", help="an existing stream id (default: make one from --script)")
            p.add_argument("--speed", type=float, default=60.0, help="how much faster than real time")
            p.add_argument("--operator-token", default=os.environ.get("LIVECOMPANION_OPERATOR_TOKEN"))
            p.add_argument("--ingest-token", default=os.environ.get("LIVECOMPANION_INGEST_TOKEN"))
            p.add_argument("--audience-only", action="store_true",
                           help="send only the audience's events and claims; leave the show to an operator")
    args = parser.parse_args(argv)
    try:
        if args.command == "log":
            return write_log(args)
        return asyncio.run(drive(args))
    except ValueError as exc:  # a bad script or option: say what, not a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except httpx.HTTPError as exc:
        print(f"error: the service at {args.url} stopped answering: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
