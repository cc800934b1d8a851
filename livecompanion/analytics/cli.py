"""`livecompanion report --events FILE [--script FILE] [--format json|html|csv] [-o OUT]`.

The report from an event log alone, no server. The log is NDJSON (one event a line) or a JSON array.
A malformed line is skipped and reported on stderr as `FILE:LINE: error: REASON`; the exit code is 0
when any line was valid, 1 when none was, the file cannot be read or the script is invalid.
Events without `ts` are rejected: a log read after the fact has no receive time to fall back on.

Formats: json (default, to stdout or OUT), html (the dashboard, one self-contained file), csv (two
tables: without -o both go to stdout as sections headed `# minutes` and `# segments`; with -o OUT
they go to OUT-minutes.csv and OUT-segments.csv, a `.csv` suffix of OUT dropped first).

Also runnable as `python -m livecompanion.analytics.cli ...` (same options).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson

from livecompanion.analytics.collect import EventTable, gc_paused
from livecompanion.analytics.eventlog import read_event_log
from livecompanion.analytics.pseudonym import Pseudonymizer, default_pseudonymizer
from livecompanion.analytics.report import report_from_table

FORMATS = ("json", "html", "csv")
_PROGRESS_MIN_BYTES = 8 << 20  # below this a run is too short for a progress bar


class ReportError(Exception):
    """A problem that stops the report (exit 1), already phrased for the user."""


def load_script(path: Path) -> Any:
    """The script of a file, or ReportError with its findings (FILE:LINE:COL: error: ...)."""
    from livecompanion.scripts import load_script_file

    result = load_script_file(path)
    if not result.ok or result.script is None:
        lines = [f.format() for f in result.findings if f.severity == "error"]
        raise ReportError("\n".join(lines) or f"{path}: error: not a valid live script")
    return result.script


def build_report_from_file(
    events: Path,
    script: Any | None = None,
    *,
    pseudonymizer: Pseudonymizer | None = None,
    on_error: Callable[[int, str], None] | None = None,
    progress: bool = False,
    flash_sales: Iterable[dict[str, Any]] | None = None,
    lotteries: Iterable[dict[str, Any]] | None = None,
    history: Iterable[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Read the log and compute its report. `on_error(line, reason)` hears of each bad line.
    Raises ReportError when no line was valid."""
    errors = 0

    def note(line: int, reason: str) -> None:
        nonlocal errors
        errors += 1
        if on_error is not None:
            on_error(line, reason)

    with gc_paused():  # for the whole build: see report.compute_report
        table = _read_with_progress(events, note) if progress else read_event_log(events, note)
        if not len(table):
            raise ReportError(f"{events}: error: no valid event in the file"
                              + (f" ({errors} bad)" if errors else " (it is empty)"))
        return report_from_table(table, script, flash_sales=flash_sales, lotteries=lotteries,
                                 pseudonymizer=pseudonymizer, history=history)


def _read_with_progress(path: Path, note: Callable[[int, str], None]) -> EventTable:
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    total = path.stat().st_size
    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                  TimeRemainingColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("reading events", total=total)
        return read_event_log(path, note, lambda done: bar.update(task, completed=done))


def write_output(report: dict[str, Any], format: str, output: Path | None) -> None:
    if format == "json":
        data = orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n"
        _write_bytes(data, output)
    elif format == "html":
        from livecompanion.analytics.dashboard import render_dashboard_html

        _write_bytes(render_dashboard_html(report).encode("utf-8"), output)
    elif format == "csv":
        from livecompanion.analytics.exports import minutes_csv, segments_csv

        if output is None:
            text = "# minutes\n" + minutes_csv(report) + "\n# segments\n" + segments_csv(report)
            _write_bytes(text.encode("utf-8"), None)
        else:
            for path, text in csv_paths(output, report):
                # utf-8-sig: spreadsheet programs then read the Chinese headers correctly.
                path.write_text(text, encoding="utf-8-sig", newline="")
    else:
        raise ReportError(f"error: unknown format {format!r} (one of: {', '.join(FORMATS)})")


def csv_paths(output: Path, report: dict[str, Any]) -> list[tuple[Path, str]]:
    from livecompanion.analytics.exports import minutes_csv, segments_csv

    stem = output.with_suffix("") if output.suffix.lower() == ".csv" else output
    return [(stem.with_name(stem.name + "-minutes.csv"), minutes_csv(report)),
            (stem.with_name(stem.name + "-segments.csv"), segments_csv(report))]


def _write_bytes(data: bytes, output: Path | None) -> None:
    if output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        output.write_bytes(data)


def run_report(events: Path, script: Path | None, format: str = "json", output: Path | None = None,
               *, pseudonym_key: str | None = None, history: Iterable[Path] = ()) -> int:
    """The `report` command; returns the exit code. `history`: logs of earlier streams (their bad
    lines are skipped silently: they are reported when those logs are reported themselves)."""
    label = str(events)

    def on_error(line: int, reason: str) -> None:
        print(f"{label}:{line}: error: {reason}", file=sys.stderr)

    try:
        if format not in FORMATS:
            raise ReportError(f"error: unknown format {format!r} (one of: {', '.join(FORMATS)})")
        if not events.is_file():
            raise ReportError(f"{label}: error: no such file")
        loaded = load_script(script) if script is not None else None
        progress = sys.stderr.isatty() and events.stat().st_size >= _PROGRESS_MIN_BYTES
        alias = default_pseudonymizer(pseudonym_key)
        earlier = []
        for path in history:
            if not path.is_file():
                raise ReportError(f"{path}: error: no such file (--history)")
            earlier.append(build_report_from_file(path, None, pseudonymizer=alias))
        report = build_report_from_file(events, loaded, pseudonymizer=alias, on_error=on_error, progress=progress,
                                        history=earlier)
        write_output(report, format, output)
    except ReportError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc.filename or label}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="livecompanion report", description=__doc__.split("\n\n")[1])
    ap.add_argument("--events", type=Path, required=True, help="event log: NDJSON or a JSON array")
    ap.add_argument("--script", type=Path, help="the stream's live script (YAML)")
    ap.add_argument("--format", choices=FORMATS, default="json")
    ap.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    ap.add_argument("--history", type=Path, action="append", default=[], metavar="FILE",
                    help="event log of an earlier stream to compare with (repeat for each)")
    ap.add_argument("--pseudonym-key", help="key of the viewer pseudonyms (default: "
                                            "$LIVECOMPANION_PSEUDONYM_KEY, else the install's key)")
    args = ap.parse_args(argv)
    return run_report(args.events, args.script, args.format, args.output, pseudonym_key=args.pseudonym_key,
                      history=args.history)


if __name__ == "__main__":
    raise SystemExit(main())
