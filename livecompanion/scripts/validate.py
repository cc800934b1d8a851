"""Check a live script: every finding at once, each at the node it is about.

Order of work: read the bytes (yamlsource), validate the shape with pydantic (models), then the
checks that need the whole script (ids, skus, cue offsets), then the warnings (ad-law, lengths).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from pydantic import ValidationError

from livecompanion.scripts import checks
from livecompanion.scripts.findings import Finding
from livecompanion.scripts.models import CUE_ACTIONS, SEGMENT_KINDS, Script
from livecompanion.scripts.yamlsource import Located, Path, SourceError, decode, load_yaml
from livecompanion.text import first_refused


@dataclass
class LoadResult:
    file: str
    script: Script | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.script is not None and not any(f.severity == "error" for f in self.findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]


def _path_text(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# Plain words for the type errors hosts actually make.
_FRIENDLY = {
    "decimal_parsing": "'{input}' is not a number",
    "decimal_type": "'{input}' is not a number",
    "int_parsing": "'{input}' is not a whole number",
    "int_type": "'{input}' is not a whole number",
    "int_from_float": "'{input}' is not a whole number",
    "float_parsing": "'{input}' is not a number",
    "float_type": "'{input}' is not a number",
    "string_type": "expected text, got {input!r} (quote it if it is meant as text)",
    "list_type": "expected a list (- item lines)",
    "dict_type": "expected a mapping (key: value lines)",
    "model_type": "expected a mapping (key: value lines)",
    "model_attributes_type": "expected a mapping (key: value lines)",
    "too_short": "{msg}",
}


def _strip_tags(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    # Discriminated unions put the chosen tag into the location: segments.0.cues.1.countdown.seconds.
    out: list[Any] = []
    for i, part in enumerate(loc):
        if isinstance(part, str) and part in CUE_ACTIONS and i >= 2 and loc[i - 2] == "cues":
            continue
        out.append(part)
    return tuple(out)


def _pydantic_findings(exc: ValidationError, located: Located, file: str) -> list[Finding]:
    findings = []
    for err in exc.errors(include_url=False):
        loc = _strip_tags(tuple(err["loc"]))
        kind = err["type"]
        message = str(err["msg"]).removeprefix("Value error, ")
        if kind == "missing":
            parent, name = loc[:-1], loc[-1]
            line, col = located.position(parent)
            where = _path_text(parent)
            message = f"{where}: missing key '{name}'" if where else f"missing key '{name}'"
        elif kind == "extra_forbidden":
            line, col = located.position(loc, key=True)
            where = _path_text(loc[:-1])
            message = f"{where + ': ' if where else ''}unknown key '{loc[-1]}'"
        elif kind == "union_tag_invalid":
            line, col = located.position((*loc, "action"))
            message = f"{_path_text(loc)}.action: must be one of {', '.join(CUE_ACTIONS)}"
        elif kind == "union_tag_not_found":
            line, col = located.position(loc)
            message = f"{_path_text(loc)}: missing key 'action' ({', '.join(CUE_ACTIONS)})"
        elif kind == "literal_error" and loc[-1] == "kind":
            line, col = located.position(loc)
            value = err.get("input")
            message = f"{_path_text(loc)}: segment kind '{value}' is not one of {', '.join(SEGMENT_KINDS)}"
        else:
            line, col = located.position(loc)
            message = _FRIENDLY.get(kind, message).format(input=err.get("input"), msg=message)
            message = f"{_path_text(loc)}: {message}" if loc else message
        findings.append(Finding(file, line, col, "error", message))
    return findings


def check_text(source: str | bytes, file: str = "<script>") -> LoadResult:
    """Validate a script given as text (YAML, or JSON which is YAML too)."""
    result = LoadResult(file)
    try:
        text = decode(source) if isinstance(source, bytes) else source
        if len(text) > 1_000_000:
            raise SourceError("the script is larger than 1,000,000 characters")
        at = first_refused(text)  # the raw text is stored as sent: the text rule holds for all of it
        if at is not None:
            line, col = text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1
            raise SourceError(f"U+{ord(text[at]):04X} is refused: a script holds no control characters "
                              "other than tab and line breaks", line, col)
        located = load_yaml(text)
    except SourceError as exc:
        result.findings.append(Finding(file, exc.line, exc.col, "error", exc.message))
        return result
    if not isinstance(located.data, dict):
        line, col = located.position(())
        result.findings.append(Finding(file, line, col, "error", "a live script is a mapping with title and segments"))
        return result
    try:
        script = Script.model_validate(located.data)
    except ValidationError as exc:
        result.findings.extend(_pydantic_findings(exc, located, file))
        # Whole-script checks still run on what can be read, so one pass shows every mistake.
        result.findings.extend(checks.cross_checks(located, file))
    else:
        result.findings.extend(checks.cross_checks(located, file))
        if not any(f.severity == "error" for f in result.findings):
            result.script = script
    result.findings.extend(checks.warnings(located, file))
    result.findings.sort(key=lambda f: (f.line, f.col, f.severity != "error"))
    return result


def check_file(path: str | FsPath) -> LoadResult:
    path = FsPath(path)
    name = str(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(2_000_001)  # never read more than the cap (and a little to know it's over)
    except OSError as exc:
        return LoadResult(name, findings=[Finding(name, 1, 1, "error", f"cannot read: {exc.strerror}")])
    return check_text(raw, name)
