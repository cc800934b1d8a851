"""The bridge's backlog: order kept across memory and disk, bounded, and saved for the next run."""

from __future__ import annotations

from pathlib import Path

import orjson

from livecompanion.bridge.backlog import Backlog, Batch
from livecompanion.bridge.pusher import MAX_BATCH_BYTES, encode_batches


def batch(first: int, n: int = 10) -> Batch:
    return Batch.of([orjson.dumps({"id": f"e{first + i}"}) for i in range(n)], first)


def ids(b: Batch) -> list[str]:
    return [e["id"] for e in orjson.loads(b"[" + b.body + b"]")]


def drain(backlog: Backlog) -> list[str]:
    out: list[str] = []
    while (b := backlog.pop()) is not None:
        out += ids(b)
    return out


def test_overflow_goes_to_disk_and_comes_back_in_order(tmp_path: Path) -> None:
    backlog = Backlog(directory=tmp_path, memory_events=30, segment_events=20)
    for first in range(0, 100, 10):
        backlog.push(batch(first))
    assert backlog.events == 100 and backlog.on_disk == 70
    assert len(list(tmp_path.glob("*.ndjson"))) == 4  # 70 events in segments of 20
    first = backlog.pop()
    assert first is not None
    backlog.push_front([first])  # sent, connection lost before the ack: first again
    backlog.push(batch(100))  # still behind what is on disk
    assert drain(backlog) == [f"e{i}" for i in range(110)]
    assert not list(tmp_path.glob("*.ndjson"))


def test_disk_is_bounded_and_what_is_dropped_is_counted(tmp_path: Path) -> None:
    line = len(batch(10).encode()) + 1  # the spooled batches (ids e10 ... e99) have this size
    backlog = Backlog(directory=tmp_path, memory_events=10, disk_bytes=3 * line)
    for first in range(0, 100, 10):
        backlog.push(batch(first))
    assert backlog.events == 40 and backlog.dropped_events == 60
    without_disk = Backlog(memory_events=25)
    for first in range(0, 50, 10):
        without_disk.push(batch(first))
    assert without_disk.events == 20 and without_disk.dropped_events == 30


def test_close_saves_memory_before_the_disk_part_and_the_next_run_sends_it_first(tmp_path: Path) -> None:
    backlog = Backlog(directory=tmp_path, memory_events=20, segment_events=20)
    for first in range(0, 60, 10):
        backlog.push(batch(first))
    assert backlog.close() == 20
    again = Backlog(directory=tmp_path)
    assert again.events == 60
    assert drain(again) == [f"e{i}" for i in range(60)]
    # A second interrupted run: what it had taken out of the spool goes back before the rest.
    for first in range(0, 60, 10):
        again.push(batch(first))
    taken = again.pop()
    assert taken is not None
    again.push_front([taken])
    again.close()
    assert drain(Backlog(directory=tmp_path)) == [f"e{i}" for i in range(60)]


def test_a_spooled_batch_reads_back_byte_for_byte_and_an_older_form_is_encoded_again(tmp_path: Path) -> None:
    sent = Batch.of([orjson.dumps({"id": "e1", "text": 'a"]} \\'}), orjson.dumps({"id": "e2", "n": [1, 2]})], 7)
    back = Batch.decode(sent.encode() + b"\n")
    assert (back.body, back.count, back.first_read_ms) == (sent.body, 2, 7)
    other = Batch.decode(b'{"e":[{"id":"e3"}],"t":9}')  # keys in another order: not sliced, re-encoded
    assert (ids(other), other.count, other.first_read_ms) == (["e3"], 1, 9)


def test_events_are_encoded_once_a_batch_and_split_under_the_size_bound() -> None:
    events = [{"id": f"e{i}", "text": "x" * 1000} for i in range(2000)]  # about 2 MB as one batch
    batches = encode_batches(events, 5)
    assert len(batches) > 1 and all(len(b.body) <= MAX_BATCH_BYTES for b in batches)
    assert [i for b in batches for i in ids(b)] == [f"e{i}" for i in range(2000)]
    assert sum(b.count for b in batches) == 2000 and {b.first_read_ms for b in batches} == {5}
    assert encode_batches([{"id": "a"}, {"id": "b"}], 1)[0].body == b'{"id":"a"},{"id":"b"}'


def test_an_event_json_cannot_carry_is_left_out_with_its_reason_and_the_rest_go() -> None:
    refused: list[str] = []
    batches = encode_batches([{"id": "a"}, {"id": "big", "count": 10**30}, {"id": "c"}], 1, refused)
    assert [i for b in batches for i in ids(b)] == ["a", "c"]
    assert len(refused) == 1 and refused[0].startswith("event big: cannot be sent as JSON")
