"""`livecompanion lint` and `livecompanion comments` (contract section 3): the ad-law lint and the
comment understanding of the live path, on files, without a script or a stream.

lint: `FILE:LINE:COL: warning[ad-law]: 'TERM': REASON` per finding (`ad-law-risk` for a risk
worth a look; `--no-risk` leaves those out). Exit 0 when nothing was found, 1 when something
was, 2 when a file (or the terms file) cannot be read.

comments: one NDJSON line `{"text", "kind", "group"}` per comment, in order, exactly as
`CommentTriage` sees them live: `kind` is question, intent, spam or chat; `group` is the key
of the comment's question group. `"chant"` is added when the comment is part of a chant (needs
`ts` and `user_id` in NDJSON input). Input lines are plain text, or JSON objects with `text`
(and optionally `user_id`, `ts` in epoch ms or ISO 8601).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import typer


def _read(path: Path) -> str:
    if str(path) == "-":
        return sys.stdin.read()
    return path.read_text(encoding="utf-8-sig")


def lint(
    files: list[Path] = typer.Argument(..., help="Plain-text files (話術, product copy); - reads stdin."),
    no_risk: bool = typer.Option(False, "--no-risk", help="Only clear violations (rule ad-law)."),
    terms: Path | None = typer.Option(None, "--terms", help="An extra terms file (adlaw_terms.yaml format)."),
) -> None:
    """Check plain text for advertising-law terms: exit 0 none found, 1 some found, 2 a file unreadable."""
    from livecompanion.scripts.adlaw import AdLawTermsError, find_ad_law_terms

    found = unreadable = False
    for path in files:
        try:
            text = _read(path)
        except (OSError, UnicodeDecodeError) as exc:
            print(f"{path}: error: cannot read: {exc}", file=sys.stderr)
            unreadable = True
            continue
        for lineno, line in enumerate(text.splitlines(), start=1):
            try:
                hits = find_ad_law_terms(line, terms)
            except AdLawTermsError as exc:
                print(f"error: {exc}", file=sys.stderr)
                raise typer.Exit(2) from None
            for hit in hits:
                if no_risk and hit.level != "violation":
                    continue
                found = True
                print(f"{path}:{lineno}:{hit.start + 1}: warning[{hit.rule}]: '{hit.term}': {hit.reason}")
    raise typer.Exit(2 if unreadable else 1 if found else 0)


def _ts_ms(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        try:
            return int(datetime.fromisoformat(value).timestamp() * 1000)
        except ValueError:
            return None
    return None


def comments(
    file: Path = typer.Argument(..., help="Comments: plain text one a line, or NDJSON with `text`; - reads stdin."),
    selling: bool = typer.Option(False, "--selling", help="Read as a selling room (扣1, 想要 count as intent)."),
    products: list[str] = typer.Option([], "--product", help="A product name or sku of the show (repeatable)."),
    script: Path | None = typer.Option(
        None, "--script",
        help="The show's script: its products' names, skus and link numbers (1..n), as the live path reads them.",
    ),
) -> None:
    """Classify chat comments as the live path does and print one NDJSON line each."""
    from livecompanion.ingest.comments import CommentTriage, question_key
    from livecompanion.scripts import load_script_file

    links = 0
    if script is not None:
        loaded = load_script_file(script)
        if not loaded.ok or loaded.script is None:
            for finding in loaded.findings:
                if finding.severity == "error":
                    print(finding.format(), file=sys.stderr)
            raise typer.Exit(2)
        products = [*products, *(w for p in loaded.script.products for w in (p.name, p.sku))]
        links = len(loaded.script.products)

    try:
        text = _read(file)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{file}: error: cannot read: {exc}", file=sys.stderr)
        raise typer.Exit(2) from None
    triage = CommentTriage()
    triage.selling(selling)
    if products:
        triage.products(products, links=links)
    keys: dict[int, str] = {}
    out = sys.stdout
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        body, user, ts = line, None, None
        if line.lstrip().startswith("{"):
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                print(f"{file}:{lineno}: error: not JSON: {exc.msg}", file=sys.stderr)
                continue
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                print(f"{file}:{lineno}: error: a JSON line needs a string `text`", file=sys.stderr)
                continue
            body, ts = row["text"], _ts_ms(row.get("ts"))
            user = row.get("user_id") if isinstance(row.get("user_id"), str) else None
        # Without a time, comments are a minute apart: no chant can be told from them.
        result = triage.handle(body, user, ts if ts is not None else lineno * 60_000)
        kind = result.analysis.kind
        group = None
        if result.question_group is not None:
            found = triage.questions.get(result.question_group)
            group = keys.setdefault(result.question_group, question_key(found.text) if found else "")
        record: dict[str, Any] = {"text": body, "kind": "chat" if kind == "chitchat" else kind, "group": group}
        if result.chant is not None:
            record["chant"] = result.chant
        out.write(json.dumps(record, ensure_ascii=False) + "\n")


def register(app: typer.Typer) -> None:
    """Add `lint` and `comments` to the `livecompanion` command."""
    app.command()(lint)
    app.command()(comments)
