"""`livecompanion rehearse`: a recorded stream played into a new stream of a running service.

    livecompanion rehearse --events LOG --script FILE [--speed N] [--url URL --token OPERATOR]

The stream is made from the script (`POST /api/streams`), the log's events go in through the
ingest API (HTTP batches, or `--via ws` the ingest socket) on the schedule of `pacing.plan`, and
each recorded segment change moves the show (`POST .../segments/goto` with the recorded time, so
the console, teleprompter and overlays move as they did and the log holds the segment event at its
recorded time); `--operator-moves` leaves the segments to the operator's console instead. When the
log is played the stream is ended (`--keep-live` leaves it on air), and the service's report is
compared with the offline one (`livecompanion report --events LOG --script FILE`, computed here):
equal figure for figure, or each difference listed (exit 1).

Without `--url` the service runs in this process on `--port`, as `livecompanion serve` would (same
environment: database, Redis, tokens), prints its URLs, and keeps serving after the rehearsal until
Ctrl-C (`--exit` stops it at once): the dashboard of what was rehearsed stays to be looked at.

A segment change that re-announces the live segment (the show cannot move to where it is) is sent
as a recorded `segment` event through ingest instead, at its time, so the log still holds it.
"""

from __future__ import annotations

import asyncio
import io
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from livecompanion.clock import now_ms
from livecompanion.ingest.answers import IngestCounts
from livecompanion.rehearsal.compare import compare_reports
from livecompanion.rehearsal.pacing import Log, Step, plan, read_log
from livecompanion.scripts.durations import format_seconds

MAX_SPEED = 1000.0
PROGRESS_EVERY_S = 5.0
REPORT_WAIT_S = 120.0


def say(line: str) -> None:
    print(line, flush=True)


@dataclass
class Tally(IngestCounts):
    moves: int = 0
    behind_ms: float = 0.0


class RehearsalError(Exception):
    """Stops the rehearsal; already phrased for the operator."""


class Rehearsal:
    def __init__(self, client: httpx.AsyncClient, log: Log, script_text: bytes, *, speed: float,
                 operator_token: str, ingest_token: str, via: str = "http", move_segments: bool = True,
                 ws_url: str | None = None) -> None:
        self.client = client
        self.log = log
        self.script_text = script_text
        self.speed = speed
        self.operator = {"Authorization": f"Bearer {operator_token}"}
        self.ingest = {"Authorization": f"Bearer {ingest_token}", "Content-Type": "application/json"}
        self.ingest_token = ingest_token
        self.via = via
        self.move_segments = move_segments
        self.ws_url = ws_url
        self.tally = Tally()
        self.stream_id = ""
        self.shift_ms = 0
        self._ws: Any = None
        self._seq = 0

    async def create(self) -> str:
        r = await self.client.post("/api/streams", content=self.script_text,
                                   headers={**self.operator, "Content-Type": "application/yaml"})
        if r.status_code != 201:
            raise RehearsalError(f"the service refused the script ({r.status_code}): {r.text[:500]}")
        self.stream_id = r.json()["id"]
        return self.stream_id

    async def play(self) -> None:
        """Every step at its time (or as soon as the service lets, when behind)."""
        start = time.monotonic()
        self.shift_ms = now_ms() - self.log.first_ts
        last_said = start
        if self.via == "ws":
            from websockets.asyncio.client import connect

            self._ws = await connect(f"{self.ws_url}/ws/streams/{self.stream_id}/ingest?token={self.ingest_token}",
                                     max_size=None)
        try:
            for step in plan(self.log, self.speed, self.shift_ms, move_segments=self.move_segments):
                wait = start + step.due_ms / 1000 - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                self.tally.behind_ms = max(0.0, -wait * 1000)
                await (self._move(step) if step.segment is not None else self._send(list(step.events)))
                if time.monotonic() - last_said >= PROGRESS_EVERY_S:
                    last_said = time.monotonic()
                    self._progress(step)
        finally:
            if self._ws is not None:
                await self._ws.close()

    def _progress(self, step: Step) -> None:
        t = self.tally
        say(f"  ·{format_seconds(int(step.due_ms * self.speed / 1000)):>9} of "
            f"{format_seconds(self.log.span_ms // 1000)}  events {t.sent:,} sent, {t.accepted:,} accepted, "
            f"{t.rejected:,} rejected  segment moves {t.moves}  behind {t.behind_ms / 1000:.1f}s")

    async def _send(self, events: list[dict[str, Any]]) -> None:
        self.tally.sent += len(events)
        if self._ws is not None:
            self._seq += 1
            await self._ws.send(orjson.dumps({"seq": self._seq, "events": events}).decode())
            answer = orjson.loads(await self._ws.recv())
            while answer.get("type") == "error" and answer.get("status") == 503:
                await asyncio.sleep(float(answer.get("retry_after") or 1))
                await self._ws.send(orjson.dumps({"seq": self._seq, "events": events}).decode())
                answer = orjson.loads(await self._ws.recv())
            if answer.get("type") == "error":
                raise RehearsalError(f"the ingest socket refused a batch: {answer}")
            self.tally.add(answer)
            return
        body = orjson.dumps(events)
        for _ in range(30):
            r = await self.client.post(f"/api/streams/{self.stream_id}/events", content=body, headers=self.ingest)
            if r.status_code != 503:
                break
            await asyncio.sleep(float(r.headers.get("retry-after", "1")))
        if r.status_code != 200:
            raise RehearsalError(f"ingest refused a batch ({r.status_code}): {r.text[:300]}")
        self.tally.add(r.json())

    async def _move(self, step: Step) -> None:
        r = await self.client.post(f"/api/streams/{self.stream_id}/segments/goto",
                                   json={"id": step.segment, "ts": step.ts, "event_id": step.event_id},
                                   headers=self.operator)
        if r.status_code == 200:
            self.tally.moves += 1
            into = (step.ts - self.shift_ms - self.log.first_ts) // 1000
            say(f"▶ {step.segment} ({format_seconds(into)} into the recording)")
            return
        if r.status_code == 409 and "already live" in r.text:
            again = {"type": "segment", "segment": step.segment, "ts": step.ts}
            await self._send([again if step.event_id is None else {**again, "id": step.event_id}])
            return
        raise RehearsalError(f"moving the show to segment '{step.segment}' failed ({r.status_code}): {r.text[:300]}")

    async def end(self) -> None:
        r = await self.client.post(f"/api/streams/{self.stream_id}/end", headers=self.operator)
        if r.status_code not in (200, 409):  # 409: never started (a log without segments), or ended
            raise RehearsalError(f"ending the stream failed ({r.status_code}): {r.text[:300]}")

    async def report(self) -> dict[str, Any]:
        """The service's report of the rehearsal (it may answer 503 while a big one is built)."""
        deadline = time.monotonic() + REPORT_WAIT_S
        while True:
            r = await self.client.get(f"/api/streams/{self.stream_id}/report", headers=self.operator, timeout=60)
            if r.status_code == 200:
                report: dict[str, Any] = r.json()
                return report
            if r.status_code != 503 or time.monotonic() > deadline:
                raise RehearsalError(f"the service's report failed ({r.status_code}): {r.text[:300]}")
            await asyncio.sleep(float(r.headers.get("retry-after", "2")))


def load_log(events: Path, platform: str | None) -> tuple[Log, Path]:
    """The log to play, and the file its offline report is made of (a raw `bridge --record` file is
    mapped first, as `bridge PLATFORM --from FILE --print` would: that output is the log)."""
    data = events.read_bytes()
    source = events
    if platform is not None:
        import tempfile

        from livecompanion.bridge.runner import print_recording

        out = io.StringIO()
        print_recording(platform, io.BytesIO(data), out, sys.stderr)
        data = out.getvalue().encode()
        with tempfile.NamedTemporaryFile("wb", suffix=".ndjson", prefix="rehearsal-", delete=False) as handle:
            handle.write(data)
        source = Path(handle.name)

    def on_error(line: int, reason: str) -> None:
        print(f"{events}:{line}: error: {reason}", file=sys.stderr)

    return read_log(data, on_error), source


def offline_report(events: Path, script: Path) -> dict[str, Any]:
    """`livecompanion report --events EVENTS --script SCRIPT`, as that command computes it."""
    from livecompanion.analytics.cli import build_report_from_file, load_script
    from livecompanion.analytics.pseudonym import default_pseudonymizer

    return build_report_from_file(events, load_script(script), pseudonymizer=default_pseudonymizer(None))


async def rehearse(base_url: str, log: Log, log_file: Path, script: Path, *, speed: float,
                   operator_token: str, ingest_token: str, via: str, move_segments: bool,
                   keep_live: bool, compare: bool = True,
                   on_created: Callable[[str], None] | None = None, label: str | None = None) -> tuple[int, str]:
    """Play the log into a new stream of the service at `base_url`; (exit code, stream id).
    `on_created(stream id)` is told before the first event (to print the screens' URLs)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        text = await asyncio.to_thread(script.read_bytes)
        run = Rehearsal(client, log, text, speed=speed, operator_token=operator_token, ingest_token=ingest_token,
                        via=via, move_segments=move_segments, ws_url=base_url.replace("http", "ws", 1))
        sid = await run.create()
        if on_created is not None:
            on_created(sid)
        else:
            say(f"Console: {base_url}/streams/{sid}/console (the operator token), "
                f"dashboard: {base_url}/streams/{sid}/dashboard")
        say(f"Rehearsal of {label or log_file.name}: {len(log.events):,} events over "
            f"{format_seconds(log.span_ms // 1000)}, {len(log.segments)} segment changes"
            f"{' (left to the operator)' if not move_segments else ''}, at {speed:g}x "
            f"(about {format_seconds(max(1, round(log.span_ms / 1000 / speed)))}) into stream {sid}"
            + (f"; {log.skipped_alerts} recorded alerts not sent (the service raises its own)"
               if log.skipped_alerts else ""))
        started = time.monotonic()
        await run.play()
        if not keep_live:
            await run.end()
        t = run.tally
        say(f"Played in {time.monotonic() - started:.1f} s: {t.sent:,} events sent, {t.accepted:,} accepted, "
            f"{t.duplicates:,} duplicates, {t.rejected:,} rejected; {t.moves} segment moves; every ts moved by "
            f"{run.shift_ms:,} ms")
        for reason, n in sorted(t.reasons.items(), key=lambda kv: -kv[1])[:10]:
            say(f"  {n:>6} x rejected: {reason}")
        if not compare:
            return 0, sid
        expected = await asyncio.to_thread(offline_report, log_file, script)
        refused = t.rejected + log.skipped_bad + log.skipped_no_ts
        differences = compare_reports(expected, await run.report(), run.shift_ms, t.duplicates, refused)
        if differences:
            say(f"The rehearsal's report differs from `livecompanion report --events {log_file} --script {script}`:")
            for line in differences:
                say(f"  {line}")
            return 1, sid
        say("The rehearsal's report equals `livecompanion report` on the log, figure for figure "
            "(times moved by the shift).")
        return 0, sid


def run_rehearse(events: Path, script: Path, *, speed: float = 1.0, url: str | None = None,
                 token: str | None = None, ingest_token: str | None = None, via: str = "http",
                 operator_moves: bool = False, keep_live: bool = False, platform: str | None = None,
                 port: int | None = None, exit_when_done: bool = False) -> int:
    """The `rehearse` command; the exit code."""
    if not 0 < speed <= MAX_SPEED:
        print(f"--speed must be above 0 and at most {MAX_SPEED:g}, got {speed:g}", file=sys.stderr)
        return 2
    for path, what in ((events, "--events"), (script, "--script")):
        if not path.is_file():
            print(f"{path}: error: no such file ({what})", file=sys.stderr)
            return 2
    log, log_file = load_log(events, platform)
    if not log.events:
        print(f"{events}: error: no event with a time to play", file=sys.stderr)
        return 1
    label = events.name if platform is None else f"{events.name} ({platform} messages mapped into {log_file})"
    kw: dict[str, Any] = dict(speed=speed, via=via, move_segments=not operator_moves, keep_live=keep_live,
                              label=label)
    if url is not None:
        if not token:
            print("--url needs --token (the operator token: a rehearsal makes a stream and moves its segments)",
                  file=sys.stderr)
            return 2
        try:
            code, _ = asyncio.run(rehearse(url.rstrip("/"), log, log_file, script, operator_token=token,
                                           ingest_token=ingest_token or token, **kw))
        except (RehearsalError, httpx.HTTPError) as exc:
            print(f"rehearsal stopped: {exc}", file=sys.stderr)
            return 1
        return code
    from livecompanion.rehearsal.embedded import serve_and_rehearse

    return serve_and_rehearse(log, log_file, script, port=port, exit_when_done=exit_when_done, **kw)

