"""The report's shortcuts give exactly what the plain way gives: many lines decoded in one call,
the file mapped or read in blocks, the loop's own order check, columns kept in ts order as events
arrive, repeats dropped in the loop or at the end."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livecompanion.analytics import columns, eventlog
from livecompanion.analytics.collect import Collector
from livecompanion.analytics.decode import NotJSON, decode_line, decode_piece
from livecompanion.events import parse_event

RECEIVED = 1_700_000_000_000

# Lines and bits of lines chosen to break a decoder that joins lines: values that only parse
# together with their neighbours, two values on one line, strings and arrays across lines.
FRAGMENTS = [
    b'{"a":1}', b'{"b":[2,{"c":3}]}', b'{"t":"[x]"}', b'{"q":"\\"]"}', b'{"u":"\\u00e9\\ud83d\\ude00"}', b'',
    b' ', b'\r', b'{"a":1}\r', b' {"a":1} ', b'{"a":[{}', b'{}]}', b'{},{}', b'{"a":"}', b'{","y":1}',
    b'{"z":1},{"w":2}', b'1,2', b'[1', b'2]', b'1', b'"s"', b'null', b'[]', b']', b'{', b'}', b',', b'0,',
    b'{"a":1,', b'"b":2}', b'{"a":1}}', b'{"k":1 2}', b'{},0,{}', b'0', b'\xff',
    b'{"d":' * 1024 + b'1' + b'}' * 1024,
]
LINES = st.lists(st.one_of(st.sampled_from(FRAGMENTS),
                           st.lists(st.sampled_from(FRAGMENTS), min_size=2, max_size=3).map(b"".join),
                           st.text(alphabet='{}[],:"\\ 01a\r\t', max_size=12).map(str.encode)),
                 min_size=1, max_size=12)


def _plain(values: list[Any]) -> list[Any]:
    return [("not JSON", v.reason) if isinstance(v, NotJSON) else v for v in values]


@settings(max_examples=600, deadline=None)
@given(LINES)
def test_a_piece_decodes_as_its_lines_one_by_one(lines: list[bytes]) -> None:
    assert _plain(decode_piece(b"\n".join(lines))) == _plain([decode_line(line) for line in lines])


@pytest.mark.parametrize("lines", [
    [b'{"a":[{}', b'{}]}', b'{},0,{}'],  # two lines one value, one line three: the count would agree
    [b'{"a":[{}', b'{}]}', b'{},{}'],
    [b'{"a":"}', b'{","y":1}', b'{"z":1},{"w":2}'],
    [b'{"a":1', b'"b":2}', b'{"c":3}'],
    [b'1', b'0', b'2'],
])
def test_lines_that_only_parse_together_are_not_taken_together(lines: list[bytes]) -> None:
    assert _plain(decode_piece(b"\n".join(lines))) == _plain([decode_line(line) for line in lines])


@pytest.mark.parametrize("data", [
    b"", b"\n", b"\n\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\n", b'\xef\xbb\xbf{"a":1}', b'{"a":1}', b'{"a":1}\n',
    b'{"a":1}\r\n{"b":2}', b'[1]\n{"a":[1]}\n\n{"x":"["}\n  {"y":1} \nnull\n"s"\n{bad\n',
    b"\n".join(b'{"i":%d,"t":"%s"}' % (i, b"[" if i % 7 == 0 else b"") for i in range(300)) + b"\nx",
])
def test_a_file_mapped_or_read_in_blocks_gives_its_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         data: bytes) -> None:
    monkeypatch.setattr(eventlog, "BLOCK", 97)  # small blocks and pieces: many boundaries
    monkeypatch.setattr(eventlog, "PIECE", 41)
    path = tmp_path / "log.ndjson"
    path.write_bytes(data)
    with path.open("rb") as f:
        want = _plain([decode_line(line) for block in eventlog.line_blocks(f) for line in block])
    with path.open("rb") as f:
        mapped = _plain([v for piece in eventlog.decoded_pieces(f) for v in piece])
    read = _plain([v for piece in eventlog.decoded_pieces(io.BytesIO(data)) for v in piece])  # no file number
    assert mapped == want
    assert read == want


def _order(**fields: Any) -> dict[str, Any]:
    return {"type": "order", "ts": RECEIVED + 1, "id": "o-1", "user_id": "u1", "order_id": "A1", "sku": "S",
            "qty": 1, "amount": "9.90", "status": "paid", **fields}


AMOUNTS = st.one_of(
    st.from_regex(r"[-+ ]?[0-9]{0,15}(\.[0-9]{0,3})?[ ]?", fullmatch=True),
    st.integers(-5, 10**15), st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none(),
    st.sampled_from(["1e2", "٣.٥", "0x10", "1_000", "NaN", "-0", "00.10", ".5", "5.", "3.14159"]))


@settings(max_examples=800, deadline=None)
@given(amount=AMOUNTS,
       order_id=st.one_of(st.sampled_from(["A1", " A1", "", "x" * 201]), st.integers(0, 9)),
       qty=st.one_of(st.integers(-1, 1_000_001), st.booleans(), st.just("2")),
       status=st.sampled_from(["paid", "created", "cancelled", "refunded", "Paid", "paid ", "", 1]))
def test_orders_are_taken_as_parse_event_takes_them(amount: Any, order_id: Any, qty: Any,
                                                    status: Any) -> None:
    raw = _order(amount=amount, order_id=order_id, qty=qty, status=status)
    errors: list[tuple[int, str]] = []
    fast = Collector(RECEIVED)
    fast.add_values([raw], lambda i, r: errors.append((i, r)))
    table = fast.finish()
    try:
        event = parse_event(raw, RECEIVED)
    except ValueError as exc:
        assert errors == [(0, str(exc))]
        assert len(table) == 0
        return
    typed = Collector(RECEIVED)
    typed.add_values([event], lambda i, r: None)
    assert errors == []
    assert table == typed.finish()


EVENTS = st.lists(st.tuples(st.sampled_from(["comment", "share", "like", "segment", "bad"]),
                            st.integers(0, 12),  # ts: few values, many ties
                            st.sampled_from([None, "a", "b", "c", "d"]),  # id
                            st.booleans()),  # sent twice in a row
                  max_size=40)


def _raw(kind: str, ts: int, eid: str | None, n: int) -> dict[str, Any]:
    raw: dict[str, Any] = {"type": kind, "ts": RECEIVED + ts, "user_id": f"u{n}"}  # n: tells ties apart
    if kind == "comment":
        raw["text"] = f"t{ts}"
    elif kind == "segment":
        raw = {"type": "segment", "ts": RECEIVED + ts, "segment": f"s{ts}"}
    elif kind == "bad":
        raw = {"type": "comment", "ts": RECEIVED + ts, "user_id": "u", "text": ""}  # rejected
    if eid is not None:
        raw["id"] = eid
    return raw


@settings(max_examples=400, deadline=None)
@given(EVENTS, st.integers(1, 5))
def test_columns_are_in_ts_order_without_repeats(events: list[tuple[str, int, str | None, bool]],
                                                  max_shift: int) -> None:
    raws: list[dict[str, Any]] = []
    for n, (kind, ts, eid, twice) in enumerate(events):
        raws += [_raw(kind, ts, eid, n)] * (2 if twice else 1)
    # The rule, the slow way: valid events in ts order (ties: input order), each id once.
    valid = [(event.ts, i, event) for i, event in enumerate(_parsed(raws)) if event is not None]
    seen: set[str] = set()
    kept = []
    for _, _, event in sorted(valid, key=lambda v: (v[0], v[1])):
        if event.id is None or event.id not in seen:
            kept.append(event)
            if event.id is not None:
                seen.add(event.id)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(columns, "MAX_SHIFT", max_shift)  # small: some columns get sorted at the end
        collector = Collector(RECEIVED)
        collector.add_lines([orjson.dumps(r) for r in raws], lambda i, r: None)
        table = collector.finish()
    assert table.duplicates == len(valid) - len(kept)
    assert table.comments == [(e.ts, e.user_id, e.text) for e in kept if e.type == "comment"]
    assert table.likes == [(e.ts, e.user_id, e.count) for e in kept if e.type == "like"]
    assert table.shares == [(e.ts, e.user_id) for e in kept if e.type == "share"]
    assert table.segments == [(e.ts, e.segment) for e in kept if e.type == "segment"]


def _parsed(raws: list[dict[str, Any]]) -> list[Any]:
    out = []
    for raw in raws:
        try:
            out.append(parse_event(raw, RECEIVED))
        except ValueError:
            out.append(None)
    return out
