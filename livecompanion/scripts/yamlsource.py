"""Load a live script's YAML safely, keeping the line and column of every node.

Hosts write these files by hand, and platform bridges post them over HTTP: the loader must say where
a mistake is, and must not be turned against the service. So: a size cap before anything is read, a
strict UTF-8 decode with the position of the first bad byte, a streaming pre-pass over the parser's
events that refuses tags, anchors and aliases (billion laughs) and deep nesting before the recursive
composer runs, and a cap on the number of nodes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

MAX_BYTES = 1_000_000  # a three-hour script with every word the host says is well under 200 KB
MAX_DEPTH = 32
MAX_NODES = 200_000

Path = tuple[str | int, ...]


class SourceError(Exception):
    """The text cannot be read as a script at all; `line`/`col` are 1-based."""

    def __init__(self, message: str, line: int = 1, col: int = 1) -> None:
        super().__init__(message)
        self.message, self.line, self.col = message, line, col


@dataclass(frozen=True, slots=True)
class ScalarSpan:
    """Where a scalar's text starts and how it is written, to point at characters inside it."""

    line: int  # 0-based, as yaml marks
    col: int
    style: str | None  # None plain, "'" or '"' quoted, "|" literal, ">" folded


@dataclass
class Located:
    """Plain Python data and, for each path into it, where its node (and key) stands."""

    data: Any
    nodes: dict[Path, tuple[int, int]] = field(default_factory=dict)  # path -> (line, col), 1-based
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)  # path -> position of its key
    scalars: dict[Path, ScalarSpan] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def position(self, path: Path, key: bool = False) -> tuple[int, int]:
        """The position of the node at `path`, or of its nearest ancestor that exists."""
        path = tuple(path)
        while path:
            if key and path in self.keys:
                return self.keys[path]
            if path in self.nodes:
                return self.nodes[path]
            path = path[:-1]
        return self.nodes.get((), (1, 1))


def decode(raw: bytes) -> str:
    if len(raw) > MAX_BYTES:
        raise SourceError(f"the file is {len(raw):,} bytes; a live script may be at most {MAX_BYTES:,} bytes")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before) - (before.rfind(b"\n") + 1) + 1
        raise SourceError(f"not UTF-8: byte 0x{raw[exc.start]:02x} cannot be decoded", line, col) from None


# What hand-written scripts get wrong most, said in the host's terms.
_FULLWIDTH_COLON = re.compile(r"^[ \t]*(?:-[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*：", re.M)
_HINTS = (
    ("found character '\\t'", "indent with spaces, not tabs"),
    ("expected <block end>", "the indentation does not line up: keys of one item start in the same column"),
    ("mapping values are not allowed", "a ':' in a value: put the value in quotes, or check the indentation"),
)


def _lint_source(text: str) -> None:
    """Mistakes that make YAML read something else than the host meant, caught before parsing."""
    match = _FULLWIDTH_COLON.search(text)
    if match:
        line = text.count("\n", 0, match.start(1)) + 1
        col = match.end() - (text.rfind("\n", 0, match.end()) + 1)
        raise SourceError(f"'{match.group(1)}：' uses a full-width colon; write '{match.group(1)}:'", line, col)
    for number, line_text in enumerate(text.splitlines(), start=1):
        stripped = line_text.lstrip(" ")
        if stripped.startswith("\u3000"):
            col = len(line_text) - len(stripped) + 1
            raise SourceError("indented with a full-width space (　); indent with ordinary spaces", number, col)


def _mark_error(exc: yaml.MarkedYAMLError) -> SourceError:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "not valid YAML"
    for needle, hint in _HINTS:
        if needle in str(exc):
            problem = f"{problem} ({hint})"
            break
    if mark is None:
        return SourceError(f"not YAML: {problem}")
    return SourceError(f"not YAML: {problem}", mark.line + 1, mark.column + 1)


def _prescan(text: str) -> None:
    depth = 0
    nodes = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            mark = event.start_mark
            where = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
            if isinstance(event, yaml.AliasEvent):
                raise SourceError("YAML aliases (*name) are not allowed in a live script", *where)
            if isinstance(event, yaml.NodeEvent):
                if event.anchor is not None:
                    raise SourceError("YAML anchors (&name) are not allowed in a live script", *where)
                tag = getattr(event, "tag", None)
                implicit = getattr(event, "implicit", True)
                explicit = tag is not None and (
                    not any(implicit) if isinstance(implicit, tuple) else not implicit
                )
                if explicit and tag not in ("!", None):
                    raise SourceError(f"YAML tags ({tag}) are not allowed in a live script", *where)
                nodes += 1
                if nodes > MAX_NODES:
                    raise SourceError(f"more than {MAX_NODES:,} YAML nodes; this is not a live script", *where)
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise SourceError(f"nested more than {MAX_DEPTH} levels deep", *where)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
            elif isinstance(event, yaml.DocumentStartEvent) and event.explicit and nodes:
                raise SourceError("a live script file holds one YAML document", *where)
    except yaml.MarkedYAMLError as exc:
        raise _mark_error(exc) from None
    except yaml.YAMLError as exc:
        raise SourceError(f"not YAML: {exc}") from None


def _build(node: yaml.Node, path: Path, out: Located, constructor: yaml.SafeLoader) -> Any:
    out.nodes[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                mark = key_node.start_mark
                raise SourceError("a mapping key must be plain text", mark.line + 1, mark.column + 1)
            key = str(key_node.value)
            if key in result:
                mark = key_node.start_mark
                raise SourceError(f"duplicate key '{key}'", mark.line + 1, mark.column + 1)
            child = (*path, key)
            out.keys[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = _build(value_node, child, out, constructor)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), out, constructor) for i, item in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)  # mappings and sequences are handled above
    out.scalars[path] = ScalarSpan(node.start_mark.line, node.start_mark.column, node.style)
    try:
        return constructor.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, OverflowError):
        # e.g. an impossible timestamp such as 2026-13-45: keep the text, validation will say more.
        return node.value


def load_yaml(text: str) -> Located:
    """Parse one YAML document into plain data with positions. Raises SourceError."""
    _lint_source(text)
    _prescan(text)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise _mark_error(exc) from None
    out = Located(data=None, lines=text.splitlines())
    if root is None:
        raise SourceError("the file is empty")
    constructor = yaml.SafeLoader("")
    out.data = _build(root, (), out, constructor)
    return out


def text_position(located: Located, path: Path, offset: int) -> tuple[int, int]:
    """1-based line and column of character `offset` inside the string scalar at `path`.

    Exact for single-line scalars and literal blocks (|); other multi-line forms fall back to the
    scalar's first line.
    """
    span = located.scalars.get(tuple(path))
    if span is None:
        return located.position(path)
    value = located.data
    for part in path:
        value = value[part]
    if not isinstance(value, str):
        return span.line + 1, span.col + 1
    if span.style in ("|", ">"):
        # The content starts on the line after the indicator; its indent is that of the first
        # non-blank content line.
        first = span.line + 1
        indent = 0
        for line in located.lines[first:]:
            if line.strip():
                indent = len(line) - len(line.lstrip(" "))
                break
        if span.style == "|":
            line_no = value.count("\n", 0, offset)
            col = offset - (value.rfind("\n", 0, offset) + 1)
            return first + line_no + 1, indent + col + 1
        return first + 1, indent + 1
    if "\n" in value:
        return span.line + 1, span.col + 1
    quote = 1 if span.style in ("'", '"') else 0
    return span.line + 1, span.col + quote + offset + 1
